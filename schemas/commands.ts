// Commands as plain data (the shape the core decodes into) and their FlatBuffers encoding. Used by the
// gateway, the venue adapters, the tests and the benchmarks; the core itself only decodes (core/decode.ts).

import * as flatbuffers from 'flatbuffers';
import {
  AssetClass, Command, CommandEnvelope, CxlRejReason, CxlRejResponseTo, DefineAccount, DefineInstrument,
  DefineUser, DefineVenue, ExecType, KillScope, KillSwitch, LimitScope, OrdStatus, OrdType, PutCall, Role,
  SetLimits, SetMark, Side, Tick, TickKind, TimeInForce,
} from './generated/oms_generated.js';
import { FlatWriter, TableLayout } from './flat-writer.js';
import { addI64, FILE_IDENTIFIER, STAMPED_FILE_IDENTIFIER } from './wire.js';

/** The terms of an order, shared by new orders, the core's order state and requests to venues. */
export interface OrderTerms {
  side: Side;
  ordType: OrdType;
  timeInForce: TimeInForce;
  orderQty: number;
  price: number;
  stopPx: number;
  /** GTD only: microseconds since the Unix epoch, UTC. */
  expireTimeUs: number;
}

export interface NewOrderCmd extends OrderTerms {
  type: Command.NewOrder;
  clOrdId: string;
  accountId: number;
  instrumentId: number;
  parentClOrdId: string;
  venueId: number;
  text: string;
}

export interface CancelOrderCmd {
  type: Command.CancelOrder;
  clOrdId: string;
  origClOrdId: string;
  accountId: number;
}

export interface ReplaceOrderCmd {
  type: Command.ReplaceOrder;
  clOrdId: string;
  origClOrdId: string;
  accountId: number;
  orderQty: number;
  price: number;
  stopPx: number;
  timeInForce: TimeInForce;
  expireTimeUs: number;
}

export interface VenueExecReportCmd {
  type: Command.VenueExecReport;
  venueId: number;
  execId: string;
  clOrdId: string;
  origClOrdId: string;
  execType: ExecType;
  ordStatus: OrdStatus;
  lastQty: number;
  lastPx: number;
  leavesQty: number;
  /** RejectCode value; 0xFFFF = none. */
  ordRejReason: number;
  venueOrderId: string;
  text: string;
}

export interface VenueCancelRejectCmd {
  type: Command.VenueCancelReject;
  venueId: number;
  clOrdId: string;
  origClOrdId: string;
  cxlRejResponseTo: CxlRejResponseTo;
  cxlRejReason: CxlRejReason;
  text: string;
}

export interface DefineInstrumentCmd {
  type: Command.DefineInstrument;
  instrumentId: number;
  symbol: string;
  assetClass: AssetClass;
  currency: string;
  pricePrecision: number;
  qtyPrecision: number;
  tickSize: number;
  lotSize: number;
  multiplier: number;
  expiryYyyymmdd: number;
  strike: number;
  putCall: PutCall;
  baseCurrency: string;
  quoteCurrency: string;
  settleYyyymmdd: number;
  tradable: boolean;
  restricted: boolean;
}

export interface DefineAccountCmd {
  type: Command.DefineAccount;
  accountId: number;
  name: string;
  portfolio: string;
}

export interface DefineUserCmd {
  type: Command.DefineUser;
  userId: number;
  name: string;
  role: Role;
  accountIds: number[];
  allAccounts: boolean;
}

export interface DefineVenueCmd {
  type: Command.DefineVenue;
  venueId: number;
  name: string;
}

export interface SetLimitsCmd {
  type: Command.SetLimits;
  scope: LimitScope;
  scopeId: number;
  maxOrderQty: number;
  maxOrderNotional: number;
  priceCollarBps: number;
  maxPosition: number;
  maxGrossExposure: number;
  maxOpenOrders: number;
  maxOrdersPerSecond: number;
}

export interface SetMarkCmd {
  type: Command.SetMark;
  instrumentId: number;
  price: number;
}

export interface KillSwitchCmd {
  type: Command.KillSwitch;
  scope: KillScope;
  scopeId: number;
  engaged: boolean;
  text: string;
}

export interface TickCmd {
  type: Command.Tick;
  kind: TickKind;
}

export type CommandBody =
  | NewOrderCmd | CancelOrderCmd | ReplaceOrderCmd | VenueExecReportCmd | VenueCancelRejectCmd
  | DefineInstrumentCmd | DefineAccountCmd | DefineUserCmd | DefineVenueCmd | SetLimitsCmd | SetMarkCmd
  | KillSwitchCmd | TickCmd;

/** Envelope fields the gateway stamps; the core trusts them only because no client can write them. */
export interface EnvelopeHeader {
  requestId: number;
  timeUs: number;
  userId: number;
  sessionId: number;
}

export interface CommandEnvelopeData extends EnvelopeHeader {
  command: CommandBody;
}

/** Field indices of CommandEnvelope (the union takes two slots: its type, then its value). */
export const ENVELOPE_FIELDS = { requestId: 0, timeUs: 1, userId: 2, sessionId: 3, commandType: 4, command: 5 } as const;

/** What the gateway vouches for about a client's frame (schemas/stamped.fbs). */
export interface CommandStamp {
  timeUs: number;
  userId: number;
  sessionId: number;
}

/** Field indices of StampedCommand. */
export const STAMPED_FIELDS = { timeUs: 0, userId: 1, sessionId: 2, envelope: 3 } as const;
export const STAMPED_FIELD_COUNT = 4;

/**
 * Encodes one envelope. Order-flow commands (new, cancel, replace, venue reports) are written with fixed
 * layouts (schemas/flat-writer.ts) and come back as a fresh copy; the rare reference-data commands go through
 * `builder`, reset first so that callers can reuse one per thread, and come back as a view of its buffer.
 */
export function encodeCommand(builder: flatbuffers.Builder, envelope: CommandEnvelopeData): Uint8Array {
  return writeOrderFlowCommand(envelope) ?? encodeWithBuilder(builder, envelope);
}

/** Encodes and copies, for callers that keep the bytes (the builder's buffer is reused). */
export function encodeCommandCopy(builder: flatbuffers.Builder, envelope: CommandEnvelopeData): Uint8Array {
  return writeOrderFlowCommand(envelope) ?? encodeWithBuilder(builder, envelope).slice();
}

/** Reference-data commands, through the generic Builder; a view of its buffer. */
function encodeWithBuilder(builder: flatbuffers.Builder, envelope: CommandEnvelopeData): Uint8Array {
  builder.clear();
  const body = encodeBody(builder, envelope.command);
  CommandEnvelope.startCommandEnvelope(builder);
  addI64(builder, ENVELOPE_FIELDS.requestId, envelope.requestId);
  addI64(builder, ENVELOPE_FIELDS.timeUs, envelope.timeUs);
  CommandEnvelope.addUserId(builder, envelope.userId);
  CommandEnvelope.addSessionId(builder, envelope.sessionId);
  CommandEnvelope.addCommandType(builder, envelope.command.type);
  CommandEnvelope.addCommand(builder, body);
  const root = CommandEnvelope.endCommandEnvelope(builder);
  builder.finish(root, FILE_IDENTIFIER);
  return builder.asUint8Array();
}

// ---- order flow, fixed layouts --------------------------------------------------------------------------
// The gateway re-encodes every client command and every simulated venue report: through the generic Builder
// (and its TextEncoder per string) that was a fifth of the gateway thread under the open-loop benchmark.

const W8 = 8 as const;
const W4 = 4 as const;
const ENVELOPE = new TableLayout('CommandEnvelope', 6, [
  { index: ENVELOPE_FIELDS.requestId, width: W8 }, { index: ENVELOPE_FIELDS.timeUs, width: W8 },
  { index: ENVELOPE_FIELDS.userId, width: W4 }, { index: ENVELOPE_FIELDS.sessionId, width: W4 },
  { index: ENVELOPE_FIELDS.command, width: W4 }, { index: ENVELOPE_FIELDS.commandType, width: 1 },
]);
const NO = { clOrdId: 0, accountId: 1, instrumentId: 2, side: 3, ordType: 4, timeInForce: 5, orderQty: 6, price: 7, stopPx: 8, expireTimeUs: 9, parentClOrdId: 10, venueId: 11, text: 12 } as const;
const NEW_ORDER = new TableLayout('NewOrder', 13, [
  ...[NO.orderQty, NO.price, NO.stopPx, NO.expireTimeUs].map((index) => ({ index, width: W8 })),
  ...[NO.clOrdId, NO.accountId, NO.instrumentId, NO.venueId].map((index) => ({ index, width: W4 })),
  { index: NO.parentClOrdId, width: W4, optional: true }, { index: NO.text, width: W4, optional: true },
  ...[NO.side, NO.ordType, NO.timeInForce].map((index) => ({ index, width: 1 as const })),
]);
const CANCEL_ORDER = new TableLayout('CancelOrder', 3, [0, 1, 2].map((index) => ({ index, width: W4 })));
const RO = { clOrdId: 0, origClOrdId: 1, accountId: 2, orderQty: 3, price: 4, stopPx: 5, timeInForce: 6, expireTimeUs: 7 } as const;
const REPLACE_ORDER = new TableLayout('ReplaceOrder', 8, [
  ...[RO.orderQty, RO.price, RO.stopPx, RO.expireTimeUs].map((index) => ({ index, width: W8 })),
  ...[RO.clOrdId, RO.origClOrdId, RO.accountId].map((index) => ({ index, width: W4 })),
  { index: RO.timeInForce, width: 1 },
]);
const VER = { venueId: 0, execId: 1, clOrdId: 2, origClOrdId: 3, execType: 4, ordStatus: 5, lastQty: 6, lastPx: 7, leavesQty: 8, ordRejReason: 9, venueOrderId: 10, text: 11 } as const;
const VENUE_EXEC_REPORT = new TableLayout('VenueExecReport', 12, [
  ...[VER.lastQty, VER.lastPx, VER.leavesQty].map((index) => ({ index, width: W8 })),
  ...[VER.venueId, VER.execId, VER.clOrdId].map((index) => ({ index, width: W4 })),
  ...[VER.origClOrdId, VER.venueOrderId, VER.text].map((index) => ({ index, width: W4, optional: true })),
  { index: VER.ordRejReason, width: 2 }, { index: VER.execType, width: 1 }, { index: VER.ordStatus, width: 1 },
]);
const VCR = { venueId: 0, clOrdId: 1, origClOrdId: 2, responseTo: 3, reason: 4, text: 5 } as const;
const VENUE_CANCEL_REJECT = new TableLayout('VenueCancelReject', 6, [
  ...[VCR.venueId, VCR.clOrdId, VCR.origClOrdId].map((index) => ({ index, width: W4 })),
  { index: VCR.text, width: W4, optional: true }, { index: VCR.responseTo, width: 1 }, { index: VCR.reason, width: 1 },
]);

const NO_PARENT = NEW_ORDER.bit(NO.parentClOrdId);
const NO_TEXT = NEW_ORDER.bit(NO.text);
const VER_ORIG = VENUE_EXEC_REPORT.bit(VER.origClOrdId);
const VER_VENUE_ORDER_ID = VENUE_EXEC_REPORT.bit(VER.venueOrderId);
const VER_TEXT = VENUE_EXEC_REPORT.bit(VER.text);
const VCR_TEXT = VENUE_CANCEL_REJECT.bit(VCR.text);

/** One per thread: writes are synchronous and finish() returns a copy. */
const commandWriter = new FlatWriter(4096);

/** The envelope of an order-flow command as a fresh buffer, or null for a command the Builder encodes. */
function writeOrderFlowCommand(envelope: CommandEnvelopeData): Uint8Array | null {
  const w = commandWriter;
  const c = envelope.command;
  w.clear();
  let body: number;
  switch (c.type) {
    case Command.NewOrder: body = writeNewOrder(w, c); break;
    case Command.CancelOrder: {
      const cl = w.string(c.clOrdId);
      const orig = w.string(c.origClOrdId);
      w.beginTable(CANCEL_ORDER);
      w.ref(CANCEL_ORDER, 0, cl);
      w.ref(CANCEL_ORDER, 1, orig);
      w.u32(CANCEL_ORDER, 2, c.accountId);
      body = w.endTable(CANCEL_ORDER, 0);
      break;
    }
    case Command.ReplaceOrder: body = writeReplace(w, c); break;
    case Command.VenueExecReport: body = writeExecReport(w, c); break;
    case Command.VenueCancelReject: body = writeVenueCancelReject(w, c); break;
    default: return null;
  }
  w.beginTable(ENVELOPE);
  w.i64(ENVELOPE, ENVELOPE_FIELDS.requestId, envelope.requestId);
  w.i64(ENVELOPE, ENVELOPE_FIELDS.timeUs, envelope.timeUs);
  w.u32(ENVELOPE, ENVELOPE_FIELDS.userId, envelope.userId);
  w.u32(ENVELOPE, ENVELOPE_FIELDS.sessionId, envelope.sessionId);
  w.u8(ENVELOPE, ENVELOPE_FIELDS.commandType, c.type);
  w.ref(ENVELOPE, ENVELOPE_FIELDS.command, body);
  return w.finish(w.endTable(ENVELOPE, 0), FILE_IDENTIFIER);
}

const STAMPED = new TableLayout('StampedCommand', STAMPED_FIELD_COUNT, [
  { index: STAMPED_FIELDS.timeUs, width: W8 }, { index: STAMPED_FIELDS.userId, width: W4 },
  { index: STAMPED_FIELDS.sessionId, width: W4 }, { index: STAMPED_FIELDS.envelope, width: W4 },
]);
/** One per thread, apart from commandWriter: a stamped view stays valid while other commands are encoded. */
const stampWriter = new FlatWriter(8192);

/**
 * A client's frame wrapped with the gateway's stamp, without decoding it (the core validates it). Returns a
 * view of this thread's stamp writer, valid until the next stampCommandView call: copy it before then
 * (CoreHost.submit does, into its batch).
 */
export function stampCommandView(stamp: CommandStamp, envelope: Uint8Array): Uint8Array {
  const w = stampWriter;
  w.clear();
  const inner = w.nestedBuffer(envelope);
  w.beginTable(STAMPED);
  w.i64(STAMPED, STAMPED_FIELDS.timeUs, stamp.timeUs);
  w.u32(STAMPED, STAMPED_FIELDS.userId, stamp.userId);
  w.u32(STAMPED, STAMPED_FIELDS.sessionId, stamp.sessionId);
  w.ref(STAMPED, STAMPED_FIELDS.envelope, inner);
  return w.finishView(w.endTable(STAMPED, 0), STAMPED_FILE_IDENTIFIER);
}

function writeNewOrder(w: FlatWriter, c: NewOrderCmd): number {
  const cl = w.string(c.clOrdId);
  const parent = c.parentClOrdId.length > 0 ? w.string(c.parentClOrdId) : 0;
  const text = c.text.length > 0 ? w.string(c.text) : 0;
  const t = NEW_ORDER;
  w.beginTable(t);
  w.ref(t, NO.clOrdId, cl);
  w.u32(t, NO.accountId, c.accountId);
  w.u32(t, NO.instrumentId, c.instrumentId);
  w.u8(t, NO.side, c.side);
  w.u8(t, NO.ordType, c.ordType);
  w.u8(t, NO.timeInForce, c.timeInForce);
  w.i64(t, NO.orderQty, c.orderQty);
  w.i64(t, NO.price, c.price);
  w.i64(t, NO.stopPx, c.stopPx);
  w.i64(t, NO.expireTimeUs, c.expireTimeUs);
  if (parent !== 0) w.ref(t, NO.parentClOrdId, parent);
  w.u32(t, NO.venueId, c.venueId);
  if (text !== 0) w.ref(t, NO.text, text);
  return w.endTable(t, (parent !== 0 ? NO_PARENT : 0) | (text !== 0 ? NO_TEXT : 0));
}

function writeReplace(w: FlatWriter, c: ReplaceOrderCmd): number {
  const cl = w.string(c.clOrdId);
  const orig = w.string(c.origClOrdId);
  const t = REPLACE_ORDER;
  w.beginTable(t);
  w.ref(t, RO.clOrdId, cl);
  w.ref(t, RO.origClOrdId, orig);
  w.u32(t, RO.accountId, c.accountId);
  w.i64(t, RO.orderQty, c.orderQty);
  w.i64(t, RO.price, c.price);
  w.i64(t, RO.stopPx, c.stopPx);
  w.u8(t, RO.timeInForce, c.timeInForce);
  w.i64(t, RO.expireTimeUs, c.expireTimeUs);
  return w.endTable(t, 0);
}

function writeExecReport(w: FlatWriter, c: VenueExecReportCmd): number {
  const execId = w.string(c.execId);
  const cl = w.string(c.clOrdId);
  const orig = c.origClOrdId.length > 0 ? w.string(c.origClOrdId) : 0;
  const venueOrderId = c.venueOrderId.length > 0 ? w.string(c.venueOrderId) : 0;
  const text = c.text.length > 0 ? w.string(c.text) : 0;
  const t = VENUE_EXEC_REPORT;
  w.beginTable(t);
  w.u32(t, VER.venueId, c.venueId);
  w.ref(t, VER.execId, execId);
  w.ref(t, VER.clOrdId, cl);
  if (orig !== 0) w.ref(t, VER.origClOrdId, orig);
  w.u8(t, VER.execType, c.execType);
  w.u8(t, VER.ordStatus, c.ordStatus);
  w.i64(t, VER.lastQty, c.lastQty);
  w.i64(t, VER.lastPx, c.lastPx);
  w.i64(t, VER.leavesQty, c.leavesQty);
  w.u16(t, VER.ordRejReason, c.ordRejReason);
  if (venueOrderId !== 0) w.ref(t, VER.venueOrderId, venueOrderId);
  if (text !== 0) w.ref(t, VER.text, text);
  return w.endTable(t, (orig !== 0 ? VER_ORIG : 0) | (venueOrderId !== 0 ? VER_VENUE_ORDER_ID : 0) | (text !== 0 ? VER_TEXT : 0));
}

function writeVenueCancelReject(w: FlatWriter, c: VenueCancelRejectCmd): number {
  const cl = w.string(c.clOrdId);
  const orig = w.string(c.origClOrdId);
  const text = c.text.length > 0 ? w.string(c.text) : 0;
  const t = VENUE_CANCEL_REJECT;
  w.beginTable(t);
  w.u32(t, VCR.venueId, c.venueId);
  w.ref(t, VCR.clOrdId, cl);
  w.ref(t, VCR.origClOrdId, orig);
  w.u8(t, VCR.responseTo, c.cxlRejResponseTo);
  w.u8(t, VCR.reason, c.cxlRejReason);
  if (text !== 0) w.ref(t, VCR.text, text);
  return w.endTable(t, text !== 0 ? VCR_TEXT : 0);
}

function optString(builder: flatbuffers.Builder, value: string): number {
  return value.length === 0 ? 0 : builder.createString(value);
}

function encodeBody(b: flatbuffers.Builder, c: CommandBody): number {
  switch (c.type) {
    case Command.NewOrder:
    case Command.CancelOrder:
    case Command.ReplaceOrder:
    case Command.VenueExecReport:
    case Command.VenueCancelReject:
      throw new Error('invariant: order-flow commands are written by writeOrderFlowCommand');
    case Command.DefineInstrument: return encodeInstrument(b, c);
    case Command.DefineAccount: {
      const name = b.createString(c.name);
      const portfolio = optString(b, c.portfolio);
      return DefineAccount.createDefineAccount(b, c.accountId, name, portfolio);
    }
    case Command.DefineUser: {
      const name = b.createString(c.name);
      const accounts = DefineUser.createAccountIdsVector(b, c.accountIds);
      return DefineUser.createDefineUser(b, c.userId, name, c.role, accounts, c.allAccounts);
    }
    case Command.DefineVenue: {
      const name = b.createString(c.name);
      return DefineVenue.createDefineVenue(b, c.venueId, name);
    }
    case Command.SetLimits: return encodeLimits(b, c);
    case Command.SetMark: {
      SetMark.startSetMark(b);
      SetMark.addInstrumentId(b, c.instrumentId);
      addI64(b, 1, c.price);
      return SetMark.endSetMark(b);
    }
    case Command.KillSwitch: {
      const text = optString(b, c.text);
      return KillSwitch.createKillSwitch(b, c.scope, c.scopeId, c.engaged, text);
    }
    case Command.Tick: return Tick.createTick(b, c.kind);
  }
}

function encodeInstrument(b: flatbuffers.Builder, c: DefineInstrumentCmd): number {
  const symbol = b.createString(c.symbol);
  const currency = b.createString(c.currency);
  const base = optString(b, c.baseCurrency);
  const quote = optString(b, c.quoteCurrency);
  DefineInstrument.startDefineInstrument(b);
  DefineInstrument.addInstrumentId(b, c.instrumentId);
  DefineInstrument.addSymbol(b, symbol);
  DefineInstrument.addAssetClass(b, c.assetClass);
  DefineInstrument.addCurrency(b, currency);
  DefineInstrument.addPricePrecision(b, c.pricePrecision);
  DefineInstrument.addQtyPrecision(b, c.qtyPrecision);
  addI64(b, 6, c.tickSize);
  addI64(b, 7, c.lotSize);
  addI64(b, 8, c.multiplier, 1);
  DefineInstrument.addExpiryYyyymmdd(b, c.expiryYyyymmdd);
  addI64(b, 10, c.strike);
  DefineInstrument.addPutCall(b, c.putCall);
  if (base !== 0) DefineInstrument.addBaseCurrency(b, base);
  if (quote !== 0) DefineInstrument.addQuoteCurrency(b, quote);
  DefineInstrument.addSettleYyyymmdd(b, c.settleYyyymmdd);
  DefineInstrument.addTradable(b, c.tradable);
  DefineInstrument.addRestricted(b, c.restricted);
  return DefineInstrument.endDefineInstrument(b);
}

function encodeLimits(b: flatbuffers.Builder, c: SetLimitsCmd): number {
  SetLimits.startSetLimits(b);
  SetLimits.addScope(b, c.scope);
  SetLimits.addScopeId(b, c.scopeId);
  addI64(b, 2, c.maxOrderQty, -1);
  addI64(b, 3, c.maxOrderNotional, -1);
  addI64(b, 4, c.priceCollarBps, -1);
  addI64(b, 5, c.maxPosition, -1);
  addI64(b, 6, c.maxGrossExposure, -1);
  addI64(b, 7, c.maxOpenOrders, -1);
  addI64(b, 8, c.maxOrdersPerSecond, -1);
  return SetLimits.endSetLimits(b);
}
