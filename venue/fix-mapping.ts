// FIX 4.4 <-> the core's venue commands, as pure functions. Outbound: a VenueRequest becomes the body of a
// NewOrderSingle (D), OrderCancelRequest (F) or OrderCancelReplaceRequest (G), with every decimal written
// from the scaled integer as exact text. Inbound: an ExecutionReport (8), OrderCancelReject (9), session
// Reject (3) or BusinessMessageReject (j) becomes a VenueExecReport / VenueCancelReject command, or is
// refused with a reason (then nothing reaches the core and the adapter flags it).
//
// Inbound values are read as the text on the wire (getString), never as parsed floats: a price with more
// decimals than the instrument's precision is refused, never rounded.

import { createHash } from 'node:crypto';
import {
  AssetClass, Command, CxlRejReason, CxlRejResponseTo, ExecType, OrdStatus, OrdType, PutCall, RejectCode, TimeInForce, VenueRequestKind,
} from '../schemas/generated/oms_generated.js';
import type { VenueCancelRejectCmd, VenueExecReportCmd } from '../schemas/commands.js';
import type { VenueRequestData } from '../schemas/results.js';
import { formatScaled, parseScaledNumber } from '../core/fixed.js';
import type { Instrument, Order } from '../core/model.js';
import { isTerminal, PendingKind } from '../core/model.js';
import type { CoreState } from '../core/state.js';
import { findVenueOrder } from '../core/venue-reports.js';
import { assert } from '../core/assert.js';

/** The FIX tags read here (FIX 4.4 numbers). */
export const TAG = Object.freeze({
  Account: 1, AvgPx: 6, ClOrdID: 11, CumQty: 14, ExecID: 17, LastPx: 31, LastQty: 32, MsgSeqNum: 34, MsgType: 35,
  OrderID: 37, OrdStatus: 39, OrigClOrdID: 41, PossDupFlag: 43, RefSeqNum: 45, Text: 58, CxlRejReason: 102,
  OrdRejReason: 103, ExecType: 150, LeavesQty: 151, RefTagID: 371, RefMsgType: 372, SessionRejectReason: 373,
  BusinessRejectRefID: 379, BusinessRejectReason: 380, CxlRejResponseTo: 434, PossResend: 97, NewSeqNo: 36,
  GapFillFlag: 123, ExecTransType: 20,
});

export const MSG_TYPE = Object.freeze({
  NewOrderSingle: 'D', OrderCancelRequest: 'F', OrderCancelReplaceRequest: 'G', OrderStatusRequest: 'H',
  ExecutionReport: '8', OrderCancelReject: '9', Reject: '3', BusinessMessageReject: 'j', SequenceReset: '4', Logout: '5', Logon: 'A',
});

/** What the adapter reads an inbound message through: jspurefix's MsgView has exactly this method. */
export interface FixFields {
  getString(tag: number): string | null;
}

/** The core's id limit (core/decode.ts id_bytes_max): an ExecID key longer than this is hashed. */
const EXEC_KEY_CHARS_MAX = 64;
const TEXT_CHARS_MAX = 200;
const ORD_REJ_REASON_NONE = 0xffff;

// ---- outbound ----------------------------------------------------------------------------------------------

/** A FIX message body in jspurefix's field names; decimals are strings so that no float ever formats them. */
export type FixBody = Record<string, unknown>;

export interface OutboundMessage {
  msgType: string;
  body: FixBody;
}

const charOf = (code: number): string => String.fromCharCode(code);

/** FIX 4.4 SecurityType (167) of an asset class; digital assets have none in 4.4. */
function securityType(assetClass: AssetClass): string | undefined {
  switch (assetClass) {
    case AssetClass.Equity: return 'CS';
    case AssetClass.Future: return 'FUT';
    case AssetClass.Option: return 'OPT';
    case AssetClass.FxSpot: case AssetClass.FxForward: return 'FOR';
    default: return undefined;
  }
}

/** The Instrument component: enough for a broker to identify a listed contract without a security id. */
export function instrumentBlock(instrument: Instrument): FixBody {
  const block: FixBody = { Symbol: instrument.symbol };
  const type = securityType(instrument.assetClass);
  if (type !== undefined) block.SecurityType = type;
  if (instrument.expiryYyyymmdd !== 0) block.MaturityMonthYear = String(instrument.expiryYyyymmdd);
  if (instrument.assetClass === AssetClass.Option) {
    block.StrikePrice = formatScaled(instrument.strike, instrument.pricePrecision);
    if (instrument.putCall === PutCall.Put) block.PutOrCall = 0;
    if (instrument.putCall === PutCall.Call) block.PutOrCall = 1;
  }
  if (instrument.multiplier !== 1) block.ContractMultiplier = String(instrument.multiplier);
  return block;
}

/** An FX forward's value date (SettlDate, 64): without it a broker could not tell it from spot. */
function settlement(instrument: Instrument): FixBody {
  return instrument.assetClass === AssetClass.FxForward && instrument.settleYyyymmdd !== 0 ? { SettlDate: String(instrument.settleYyyymmdd) } : {};
}

function termsBlock(request: VenueRequestData, instrument: Instrument): FixBody {
  const body: FixBody = {
    Side: charOf(request.side),
    OrderQtyData: { OrderQty: formatScaled(request.orderQty, instrument.qtyPrecision) },
    OrdType: charOf(request.ordType),
    TimeInForce: charOf(request.timeInForce),
  };
  if (request.ordType === OrdType.Limit || request.ordType === OrdType.StopLimit) body.Price = formatScaled(request.price, instrument.pricePrecision);
  if (request.ordType === OrdType.Stop || request.ordType === OrdType.StopLimit) body.StopPx = formatScaled(request.stopPx, instrument.pricePrecision);
  if (request.timeInForce === TimeInForce.GTD) body.ExpireTime = new Date(Math.floor(request.expireTimeUs / 1000));
  return body;
}

/** The FIX message for a core VenueRequest; `accountName` goes in Account (1), as brokers book by it. */
export function outboundFor(request: VenueRequestData, instrument: Instrument, accountName: string, now: Date): OutboundMessage {
  const common: FixBody = { ClOrdID: request.clOrdId, Account: accountName, Instrument: instrumentBlock(instrument), TransactTime: now };
  // Currency (15) belongs to D and G in FIX 4.4, not to F.
  const currency: FixBody = { Currency: instrument.currency };
  switch (request.requestKind) {
    case VenueRequestKind.New:
      return { msgType: MSG_TYPE.NewOrderSingle, body: { ...common, ...currency, ...termsBlock(request, instrument), ...settlement(instrument) } };
    case VenueRequestKind.Cancel:
      return {
        msgType: MSG_TYPE.OrderCancelRequest,
        body: { ...common, OrigClOrdID: request.origClOrdId, Side: charOf(request.side), OrderQtyData: { OrderQty: formatScaled(request.orderQty, instrument.qtyPrecision) } },
      };
    case VenueRequestKind.Replace:
      return { msgType: MSG_TYPE.OrderCancelReplaceRequest, body: { ...common, ...currency, OrigClOrdID: request.origClOrdId, ...termsBlock(request, instrument), ...settlement(instrument) } };
    default:
      assert(false, `VenueRequestKind ${request.requestKind} has no FIX message`);
  }
}

/** OrderStatusRequest (H) for an order whose outcome is unknown after a reconnect. */
export function statusRequestFor(order: Order, instrument: Instrument): OutboundMessage {
  return { msgType: MSG_TYPE.OrderStatusRequest, body: { ClOrdID: order.clOrdId, Side: charOf(order.side), Instrument: { Symbol: instrument.symbol } } };
}

// ---- inbound ------------------------------------------------------------------------------------------------

export type Inbound =
  | { kind: 'command'; command: VenueExecReportCmd | VenueCancelRejectCmd; note?: string }
  /** Nothing to tell the core (e.g. a status answer that agrees with what it knows). */
  | { kind: 'ignored'; why: string }
  /** Refused: nothing reaches the core; the adapter counts and logs it for operations. */
  | { kind: 'refused'; reason: string; why: string };

const refused = (reason: string, why: string): Inbound => ({ kind: 'refused', reason, why });

/**
 * The order a venue message names, as the core will resolve it, and also by a cancel/replace ClOrdID still
 * pending: the venue may answer a replace and fill under the new ClOrdID before the core has applied the
 * Replaced (commands are journaled asynchronously), and the fill's command must be built all the same. The
 * scan of working orders runs only when the two lookups miss.
 */
export function findOrder(state: CoreState, venueId: number, clOrdId: string, origClOrdId: string): Order | undefined {
  const order = findVenueOrder(state, venueId, clOrdId, origClOrdId);
  if (order !== null) return order;
  for (const open of state.openOrders) if (open.venueId === venueId && open.pending?.clOrdId === clOrdId) return open;
  return undefined;
}

/**
 * The key the core de-duplicates fills by. FIX makes ExecID unique per venue and day, but some venues
 * (QuickFIX's executor) restart their counter with the process; qualified by our order id, a resent
 * duplicate still has the same key while a restarted counter no longer collides with another order's fill.
 */
export function execKey(orderId: number, execId: string): string {
  const key = `${orderId}:${execId}`;
  return key.length <= EXEC_KEY_CHARS_MAX ? key : `${orderId}:h${createHash('sha256').update(execId).digest('hex').slice(0, 40)}`;
}

function text(fields: FixFields): string {
  const value = fields.getString(TAG.Text) ?? '';
  return value.length > TEXT_CHARS_MAX ? value.slice(0, TEXT_CHARS_MAX) : value;
}

/** A single FIX char enum value as the core's enum (they share the FIX character codes). */
function charEnum<E extends Record<string, string | number>>(values: E, raw: string | null): number | null {
  if (raw === null || raw.length !== 1) return null;
  const code = raw.charCodeAt(0);
  return typeof (values as Record<number, unknown>)[code] === 'string' && code !== 0 ? code : null;
}

/** An exact decimal at `digits`, or null when absent; throws RangeError when it does not fit exactly. */
function decimal(fields: FixFields, tag: number, digits: number): number | null {
  const raw = fields.getString(tag);
  if (raw === null || raw === '') return null;
  if (raw.startsWith('-')) throw new RangeError(`tag ${tag} "${raw}" is negative`);
  return parseScaledNumber(raw, digits);
}

export function fromExecutionReport(state: CoreState, venueId: number, fields: FixFields): Inbound {
  const clOrdId = fields.getString(TAG.ClOrdID) ?? '';
  const origClOrdId = fields.getString(TAG.OrigClOrdID) ?? '';
  const execId = fields.getString(TAG.ExecID) ?? '';
  if (clOrdId === '' || execId === '') return refused('missing_field', 'ExecutionReport without ClOrdID or ExecID');
  const order = findOrder(state, venueId, clOrdId, origClOrdId);
  if (order === undefined) return refused('unknown_order', `ExecutionReport for unknown ClOrdID ${clOrdId}`);
  const instrument = state.instruments.get(order.instrumentId);
  assert(instrument !== undefined, `order ${order.clOrdId} of an unknown instrument`);
  const rawExecType = fields.getString(TAG.ExecType);
  // FIX 4.2 trade busts and corrections (ExecTransType 1/2) carry a new ExecID: taken as fills they would
  // double the position. The OMS does not apply them automatically.
  const execTransType = fields.getString(TAG.ExecTransType);
  if (execTransType !== null && execTransType !== '0') return refused('unsupported', `ExecTransType ${execTransType} (cancel/correct) on ${clOrdId}: flagged for operations`);
  // FIX 4.2 venues still say Partial fill (1) / Fill (2) where 4.4 says Trade (F).
  const execType = rawExecType === '1' || rawExecType === '2' ? ExecType.Trade : charEnum(ExecType, rawExecType);
  const ordStatus = charEnum(OrdStatus, fields.getString(TAG.OrdStatus));
  if (execType === null) return refused('bad_value', `ExecType ${JSON.stringify(rawExecType)} is not a FIX 4.4 ExecType`);
  if (ordStatus === null) return refused('bad_value', `OrdStatus ${JSON.stringify(fields.getString(TAG.OrdStatus))} is not a FIX 4.4 OrdStatus`);
  let lastQty: number | null, lastPx: number | null, leavesQty: number | null, cumQty: number | null;
  try {
    lastQty = decimal(fields, TAG.LastQty, instrument.qtyPrecision);
    lastPx = decimal(fields, TAG.LastPx, instrument.pricePrecision);
    leavesQty = decimal(fields, TAG.LeavesQty, instrument.qtyPrecision);
    cumQty = decimal(fields, TAG.CumQty, instrument.qtyPrecision);
  } catch (error) {
    return refused('bad_value', `${clOrdId}: ${error instanceof Error ? error.message : String(error)} (instrument ${instrument.symbol})`);
  }
  if (execType === ExecType.OrderStatus) return fromStatus(order, ordStatus, cumQty, execId, venueId, fields);
  if (execType === ExecType.Trade && (lastQty === null || lastPx === null)) return refused('missing_field', `fill ${execId} without LastQty or LastPx`);
  // A restatement's new size is its LeavesQty: without it the order would be shrunk to nothing.
  if (execType === ExecType.Restated && leavesQty === null) return refused('missing_field', `restatement ${execId} without LeavesQty`);
  const rejReason = fields.getString(TAG.OrdRejReason);
  const command: VenueExecReportCmd = {
    type: Command.VenueExecReport, venueId, execId: execKey(order.orderId, execId), clOrdId, origClOrdId, execType, ordStatus,
    lastQty: lastQty ?? 0, lastPx: lastPx ?? 0, leavesQty: leavesQty ?? 0,
    ordRejReason: rejReason !== null && /^\d{1,4}$/.test(rejReason) ? Number(rejReason) : ORD_REJ_REASON_NONE,
    venueOrderId: (fields.getString(TAG.OrderID) ?? '').slice(0, EXEC_KEY_CHARS_MAX), text: text(fields),
  };
  return { kind: 'command', command };
}

/**
 * An order status answer (ExecType I) after a reconnect: settles an order whose outcome was unknown, never
 * guessing. A venue CumQty ahead of ours means fills we have not seen yet (they come by resend): the status
 * is then not applied, and the mismatch is flagged.
 */
function fromStatus(order: Order, ordStatus: OrdStatus, cumQty: number | null, execId: string, venueId: number, fields: FixFields): Inbound {
  const venueCum = cumQty ?? 0;
  if (venueCum > order.cumQty) return refused('status_mismatch', `${order.clOrdId}: venue CumQty ${venueCum} > ours ${order.cumQty}; waiting for the fills`);
  const statusKey = execKey(order.orderId, `status-${charOf(ordStatus)}-${venueCum}-${execId}`);
  const base: VenueExecReportCmd = {
    type: Command.VenueExecReport, venueId, execId: statusKey, clOrdId: order.clOrdId, origClOrdId: '', execType: ExecType.New, ordStatus,
    lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: ORD_REJ_REASON_NONE, venueOrderId: (fields.getString(TAG.OrderID) ?? '').slice(0, EXEC_KEY_CHARS_MAX),
    text: `order status: ${text(fields)}`.slice(0, TEXT_CHARS_MAX),
  };
  const pendingNew = order.baseStatus === OrdStatus.PendingNew;
  const pending = order.pending;
  const working = ordStatus === OrdStatus.New || ordStatus === OrdStatus.PartiallyFilled;
  if (!pendingNew && pending !== null && working && venueCum === order.cumQty) {
    // Asked after every resent message was applied: a venue still working the order under its current
    // ClOrdID never received our cancel/replace. It is answered now, so that the trader can send it again.
    return {
      kind: 'command',
      command: {
        type: Command.VenueCancelReject, venueId, clOrdId: pending.clOrdId, origClOrdId: order.clOrdId,
        cxlRejResponseTo: pending.kind === PendingKind.Cancel ? CxlRejResponseTo.Cancel : CxlRejResponseTo.Replace,
        cxlRejReason: CxlRejReason.UnknownOrder, text: `the venue has no record of request ${pending.clOrdId} (lost with the connection); send it again`.slice(0, TEXT_CHARS_MAX),
      },
    };
  }
  switch (ordStatus) {
    case OrdStatus.New: case OrdStatus.PartiallyFilled: case OrdStatus.Filled:
      return pendingNew ? { kind: 'command', command: base } : { kind: 'ignored', why: 'status agrees' };
    case OrdStatus.Rejected: {
      if (!pendingNew) return refused('status_mismatch', `${order.clOrdId}: venue says Rejected, we have ${OrdStatus[order.baseStatus]}`);
      const rejReason = fields.getString(TAG.OrdRejReason);
      return { kind: 'command', command: { ...base, execType: ExecType.Rejected, ordRejReason: rejReason !== null && /^\d{1,4}$/.test(rejReason) ? Number(rejReason) : RejectCode.UnknownOrder } };
    }
    case OrdStatus.Canceled: case OrdStatus.Expired: case OrdStatus.DoneForDay:
      if (isTerminal(order.baseStatus)) return { kind: 'ignored', why: 'status agrees' };
      return { kind: 'command', command: { ...base, execType: ordStatus === OrdStatus.Canceled ? ExecType.Canceled : ordStatus === OrdStatus.Expired ? ExecType.Expired : ExecType.DoneForDay } };
    default:
      return { kind: 'ignored', why: `status ${OrdStatus[ordStatus]} changes nothing` };
  }
}

export function fromOrderCancelReject(state: CoreState, venueId: number, fields: FixFields): Inbound {
  const clOrdId = fields.getString(TAG.ClOrdID) ?? '';
  const origClOrdId = fields.getString(TAG.OrigClOrdID) ?? '';
  if (clOrdId === '') return refused('missing_field', 'OrderCancelReject without ClOrdID');
  if (findOrder(state, venueId, clOrdId, origClOrdId) === undefined) return refused('unknown_order', `OrderCancelReject for unknown ClOrdID ${clOrdId}`);
  const responseTo = fields.getString(TAG.CxlRejResponseTo) === '2' ? CxlRejResponseTo.Replace : CxlRejResponseTo.Cancel;
  const rawReason = fields.getString(TAG.CxlRejReason);
  const reasonCode = rawReason !== null && /^\d{1,3}$/.test(rawReason) ? Number(rawReason) : CxlRejReason.Other;
  const reason = typeof (CxlRejReason as Record<number, unknown>)[reasonCode] === 'string' ? reasonCode as CxlRejReason : CxlRejReason.Other;
  return {
    kind: 'command',
    command: { type: Command.VenueCancelReject, venueId, clOrdId, origClOrdId: origClOrdId !== '' ? origClOrdId : clOrdId, cxlRejResponseTo: responseTo, cxlRejReason: reason, text: text(fields) },
  };
}

/** What we sent, remembered until answered, so that a reject naming only our MsgSeqNum finds its order. */
export interface SentRequest {
  msgType: string;
  clOrdId: string;
  origClOrdId: string;
}

/**
 * A session Reject (3) or BusinessMessageReject (j) of one of our requests: the order request it refused is
 * answered as the venue's reject, with the venue's text, so that the client hears why.
 */
export function fromRequestReject(state: CoreState, venueId: number, sent: SentRequest, fields: FixFields, msgType: string): Inbound {
  const order = findOrder(state, venueId, sent.clOrdId, sent.origClOrdId);
  if (order === undefined) return refused('unknown_order', `reject of ${sent.clOrdId}, which is not an order of this venue`);
  const why = `${msgType === MSG_TYPE.Reject ? 'venue session reject' : 'venue business reject'}: ${text(fields) || 'no text'}`.slice(0, TEXT_CHARS_MAX);
  const refSeq = fields.getString(TAG.RefSeqNum) ?? '?';
  switch (sent.msgType) {
    case MSG_TYPE.NewOrderSingle: {
      if (order.baseStatus !== OrdStatus.PendingNew) return { kind: 'ignored', why: `${order.clOrdId} is no longer pending new` };
      const unsupported = fields.getString(TAG.RefTagID) === '40' || fields.getString(TAG.SessionRejectReason) === '5' || fields.getString(TAG.BusinessRejectReason) === '3';
      return {
        kind: 'command',
        command: {
          type: Command.VenueExecReport, venueId, execId: execKey(order.orderId, `reject-${msgType}-${refSeq}`), clOrdId: sent.clOrdId, origClOrdId: '',
          execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, lastQty: 0, lastPx: 0, leavesQty: 0,
          ordRejReason: unsupported ? RejectCode.UnsupportedOrderCharacteristic : RejectCode.BrokerOption, venueOrderId: '', text: why,
        },
      };
    }
    case MSG_TYPE.OrderCancelRequest: case MSG_TYPE.OrderCancelReplaceRequest:
      return {
        kind: 'command',
        command: {
          type: Command.VenueCancelReject, venueId, clOrdId: sent.clOrdId, origClOrdId: sent.origClOrdId,
          cxlRejResponseTo: sent.msgType === MSG_TYPE.OrderCancelRequest ? CxlRejResponseTo.Cancel : CxlRejResponseTo.Replace, cxlRejReason: CxlRejReason.Other, text: why,
        },
      };
    default:
      return refused('status_unsupported', `${sent.clOrdId}: the venue refused ${sent.msgType} (${why}); the order stays as it is until the venue reports`);
  }
}

/** A VenueRequest that cannot be sent (session down, unknown instrument): answered as the venue's refusal. */
export function unsentAnswer(request: VenueRequestData, orderId: number, why: string): VenueExecReportCmd | VenueCancelRejectCmd {
  if (request.requestKind === VenueRequestKind.New) {
    return {
      type: Command.VenueExecReport, venueId: request.venueId, execId: execKey(orderId, `unsent-${request.clOrdId}`), clOrdId: request.clOrdId, origClOrdId: '',
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: RejectCode.ExchangeClosed, venueOrderId: '', text: why.slice(0, TEXT_CHARS_MAX),
    };
  }
  return {
    type: Command.VenueCancelReject, venueId: request.venueId, clOrdId: request.clOrdId, origClOrdId: request.origClOrdId,
    cxlRejResponseTo: request.requestKind === VenueRequestKind.Cancel ? CxlRejResponseTo.Cancel : CxlRejResponseTo.Replace, cxlRejReason: CxlRejReason.Other,
    text: why.slice(0, TEXT_CHARS_MAX),
  };
}
