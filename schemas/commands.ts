// Commands as plain data (the shape the core decodes into) and their FlatBuffers encoding. Used by the
// gateway, the venue adapters, the tests and the benchmarks; the core itself only decodes (core/decode.ts).

import * as flatbuffers from 'flatbuffers';
import {
  AssetClass, CancelOrder, Command, CommandEnvelope, CxlRejReason, CxlRejResponseTo, DefineAccount,
  DefineInstrument, DefineUser, DefineVenue, ExecType, KillScope, KillSwitch, LimitScope, NewOrder, OrdStatus,
  OrdType, PutCall, ReplaceOrder, Role, SetLimits, SetMark, Side, Tick, TickKind, TimeInForce,
  VenueCancelReject, VenueExecReport,
} from './generated/oms_generated.js';
import { addI64, FILE_IDENTIFIER } from './wire.js';

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

/** Encodes one envelope; the builder is reset first so that callers can reuse one per thread. */
export function encodeCommand(builder: flatbuffers.Builder, envelope: CommandEnvelopeData): Uint8Array {
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

/** Encodes and copies, for callers that keep the bytes (the builder's buffer is reused). */
export function encodeCommandCopy(builder: flatbuffers.Builder, envelope: CommandEnvelopeData): Uint8Array {
  return encodeCommand(builder, envelope).slice();
}

function optString(builder: flatbuffers.Builder, value: string): number {
  return value.length === 0 ? 0 : builder.createString(value);
}

function encodeBody(b: flatbuffers.Builder, c: CommandBody): number {
  switch (c.type) {
    case Command.NewOrder: return encodeNewOrder(b, c);
    case Command.CancelOrder: {
      const cl = b.createString(c.clOrdId);
      const orig = b.createString(c.origClOrdId);
      return CancelOrder.createCancelOrder(b, cl, orig, c.accountId);
    }
    case Command.ReplaceOrder: return encodeReplace(b, c);
    case Command.VenueExecReport: return encodeExecReport(b, c);
    case Command.VenueCancelReject: {
      const cl = b.createString(c.clOrdId);
      const orig = b.createString(c.origClOrdId);
      const text = optString(b, c.text);
      return VenueCancelReject.createVenueCancelReject(b, c.venueId, cl, orig, c.cxlRejResponseTo, c.cxlRejReason, text);
    }
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

function encodeNewOrder(b: flatbuffers.Builder, c: NewOrderCmd): number {
  const cl = b.createString(c.clOrdId);
  const parent = optString(b, c.parentClOrdId);
  const text = optString(b, c.text);
  NewOrder.startNewOrder(b);
  NewOrder.addClOrdId(b, cl);
  NewOrder.addAccountId(b, c.accountId);
  NewOrder.addInstrumentId(b, c.instrumentId);
  NewOrder.addSide(b, c.side);
  NewOrder.addOrdType(b, c.ordType);
  NewOrder.addTimeInForce(b, c.timeInForce);
  addI64(b, 6, c.orderQty);
  addI64(b, 7, c.price);
  addI64(b, 8, c.stopPx);
  addI64(b, 9, c.expireTimeUs);
  if (parent !== 0) NewOrder.addParentClOrdId(b, parent);
  NewOrder.addVenueId(b, c.venueId);
  if (text !== 0) NewOrder.addText(b, text);
  return NewOrder.endNewOrder(b);
}

function encodeReplace(b: flatbuffers.Builder, c: ReplaceOrderCmd): number {
  const cl = b.createString(c.clOrdId);
  const orig = b.createString(c.origClOrdId);
  ReplaceOrder.startReplaceOrder(b);
  ReplaceOrder.addClOrdId(b, cl);
  ReplaceOrder.addOrigClOrdId(b, orig);
  ReplaceOrder.addAccountId(b, c.accountId);
  addI64(b, 3, c.orderQty);
  addI64(b, 4, c.price);
  addI64(b, 5, c.stopPx);
  ReplaceOrder.addTimeInForce(b, c.timeInForce);
  addI64(b, 7, c.expireTimeUs);
  return ReplaceOrder.endReplaceOrder(b);
}

function encodeExecReport(b: flatbuffers.Builder, c: VenueExecReportCmd): number {
  const execId = b.createString(c.execId);
  const cl = b.createString(c.clOrdId);
  const orig = optString(b, c.origClOrdId);
  const venueOrderId = optString(b, c.venueOrderId);
  const text = optString(b, c.text);
  VenueExecReport.startVenueExecReport(b);
  VenueExecReport.addVenueId(b, c.venueId);
  VenueExecReport.addExecId(b, execId);
  VenueExecReport.addClOrdId(b, cl);
  if (orig !== 0) VenueExecReport.addOrigClOrdId(b, orig);
  VenueExecReport.addExecType(b, c.execType);
  VenueExecReport.addOrdStatus(b, c.ordStatus);
  addI64(b, 6, c.lastQty);
  addI64(b, 7, c.lastPx);
  addI64(b, 8, c.leavesQty);
  VenueExecReport.addOrdRejReason(b, c.ordRejReason);
  if (venueOrderId !== 0) VenueExecReport.addVenueOrderId(b, venueOrderId);
  if (text !== 0) VenueExecReport.addText(b, text);
  return VenueExecReport.endVenueExecReport(b);
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
