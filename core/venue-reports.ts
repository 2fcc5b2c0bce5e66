// What venues tell the OMS: acknowledgements, fills, cancels, replaces, rejects, restatements and cancel
// rejects, applied to the order they name. A venue is the authority on what traded, so a fill is applied
// even to an order the OMS already considers done, unless it would overfill.

import {
  CxlRejReason, CxlRejResponseTo, ExecType, OrdStatus, RejectCode, Side,
} from '../schemas/generated/oms_generated.js';
import type { VenueCancelRejectCmd, VenueExecReportCmd } from '../schemas/commands.js';
import type { Reject } from './checks.js';
import { checkChild, checkOpenQtyFits, reject } from './checks.js';
import type { ResultWriter } from './events.js';
import { AVG_PX_EXTRA_DIGITS, notional } from './fixed.js';
import type { Order } from './model.js';
import { isTerminal, PendingKind, positionKey } from './model.js';
import { applyReplace, finishCancel, settle } from './orders.js';
import { applyFillToPosition, statusAfterFill } from './risk.js';
import type { CoreState } from './state.js';

/** The highest fill price whose AvgPx (price x 10^AVG_PX_EXTRA_DIGITS) is still a safe integer. */
export const FILL_PX_MAX = Math.floor(Number.MAX_SAFE_INTEGER / 10 ** AVG_PX_EXTRA_DIGITS);

export interface VenueContext {
  state: CoreState;
  out: ResultWriter;
}

/** Resolves the order a venue message names: by its ClOrdID, else by the OrigClOrdID it answers. */
export function findVenueOrder(state: CoreState, venueId: number, clOrdId: string, origClOrdId: string): Order | null {
  const order = state.ordersByClOrdId.get(clOrdId) ?? (origClOrdId.length > 0 ? state.ordersByClOrdId.get(origClOrdId) : undefined);
  return order !== undefined && order.venueId === venueId ? order : null;
}

export function venueExecReport(ctx: VenueContext, c: VenueExecReportCmd): void {
  const { state, out } = ctx;
  // Looked up once: the checks and the apply below share the key and the order.
  const execKey = `${c.venueId}:${c.execId}`;
  const order = findVenueOrder(state, c.venueId, c.clOrdId, c.origClOrdId);
  const failure = precheck(state, c, execKey, order);
  if (failure !== null) {
    out.commandReject(failure.code, failure.text);
    return;
  }
  if (order === null) throw new Error('invariant: precheck found the order');
  const outcome = applyExecType(ctx, order, c);
  if (outcome !== null) {
    out.commandReject(outcome.code, outcome.text);
    return;
  }
  state.venueExecIds.set(execKey, true);
}

function precheck(state: CoreState, c: VenueExecReportCmd, execKey: string, order: Order | null): Reject | null {
  if (!state.venues.has(c.venueId)) return reject(RejectCode.UnknownVenue, `unknown venue ${c.venueId}`);
  if (state.venueExecIds.has(execKey)) {
    return reject(RejectCode.DuplicateExecId, `execution ${c.execId} was already applied`);
  }
  if (order === null) {
    return reject(RejectCode.UnknownOrder, `venue ${c.venueId} has no order ${c.clOrdId}`);
  }
  if (c.lastQty < 0 || c.lastPx < 0 || c.leavesQty < 0) return reject(RejectCode.ValueOutOfRange, 'negative quantity or price');
  return null;
}

/** Applies one execution; returns a Reject when it must not be applied (the state is then untouched). */
function applyExecType(ctx: VenueContext, order: Order, c: VenueExecReportCmd): Reject | null {
  switch (c.execType) {
    case ExecType.New: return acknowledge(ctx, order, c);
    case ExecType.Trade: return fill(ctx, order, c);
    case ExecType.Canceled: return cancelled(ctx, order, c, ExecType.Canceled);
    case ExecType.Expired: return cancelled(ctx, order, c, ExecType.Expired);
    case ExecType.DoneForDay: return cancelled(ctx, order, c, ExecType.DoneForDay);
    case ExecType.Replaced: return replaced(ctx, order, c);
    case ExecType.Rejected: return rejected(ctx, order, c);
    case ExecType.Restated: return restated(ctx, order, c);
    // Acknowledgements of our own pending requests and status answers change nothing here.
    case ExecType.PendingNew: case ExecType.PendingCancel: case ExecType.PendingReplace: case ExecType.OrderStatus:
    case ExecType.Calculated: case ExecType.Stopped: case ExecType.Suspended:
      return null;
    default:
      return reject(RejectCode.UnsupportedOrderCharacteristic, `ExecType ${ExecType[c.execType]} is not supported; flagged for operations`);
  }
}

function acknowledge(ctx: VenueContext, order: Order, c: VenueExecReportCmd): Reject | null {
  if (order.baseStatus !== OrdStatus.PendingNew) return null;
  order.baseStatus = OrdStatus.New;
  settle(ctx.state, order);
  ctx.out.executionReport(order, { execType: ExecType.New, lastQty: 0, lastPx: 0, venueExecId: c.execId, text: c.text });
  return null;
}

function fill(ctx: VenueContext, order: Order, c: VenueExecReportCmd): Reject | null {
  const { state } = ctx;
  if (c.lastQty <= 0 || c.lastPx <= 0) return reject(RejectCode.ValueOutOfRange, 'a fill needs last_qty and last_px > 0');
  if (order.baseStatus === OrdStatus.Rejected) return reject(RejectCode.InvalidStateTransition, 'fill for a rejected order');
  // AvgPx carries AVG_PX_EXTRA_DIGITS more digits than the price; an average never exceeds the highest fill
  // price, so bounding each fill price keeps every AvgPx (order and parent) a safe integer.
  if (c.lastPx > FILL_PX_MAX) return reject(RejectCode.ValueOutOfRange, `last_px ${c.lastPx} exceeds ${FILL_PX_MAX}`);
  // Fills while a replace is pending apply to the terms in force, i.e. the original quantity.
  if (order.cumQty + c.lastQty > order.orderQty) {
    return reject(RejectCode.Overfill, `fill of ${c.lastQty} would overfill ${order.clOrdId} (${order.cumQty}/${order.orderQty}); refused and flagged`);
  }
  if (order.parentOrderId !== 0 && isTerminal(order.baseStatus)) {
    // A late fill on a done child grows what it holds of its parent (its CumQty): refused and flagged, like
    // an overfill, when the parent has no room left, or the children's fills could overfill the parent.
    const parent = state.orders.get(order.parentOrderId);
    if (parent === undefined) throw new Error('invariant: child of an unknown parent');
    const childReject = checkChild(parent, order.accountId, order.instrumentId, order.side, order.cumQty + c.lastQty - order.parentCommittedQty);
    if (childReject !== null) return childReject;
  }
  const positionQty = (state.positions.get(positionKey(order.accountId, order.instrumentId))?.qty ?? 0) +
    (order.side === Side.Buy ? c.lastQty : -c.lastQty);
  if (!Number.isSafeInteger(positionQty)) return reject(RejectCode.ValueOutOfRange, 'the position would exceed a safe integer');
  const instrument = state.instruments.get(order.instrumentId);
  if (instrument === undefined) throw new Error('invariant: order of an unknown instrument');
  order.cumQty += c.lastQty;
  order.cumNotional += notional(c.lastQty, c.lastPx, 1);
  order.baseStatus = statusAfterFill(order);
  applyFillToPosition(state, instrument, order.accountId, order.side, c.lastQty, c.lastPx);
  settle(state, order);
  const detail = { execType: ExecType.Trade, lastQty: c.lastQty, lastPx: c.lastPx, venueExecId: c.execId, text: c.text };
  ctx.out.executionReport(order, detail);
  if (order.parentOrderId !== 0) rollUpFill(ctx, order.parentOrderId, detail);
  return null;
}

/** A child's fill is also the parent's: its CumQty and AvgPx are the sums over its children. */
function rollUpFill(ctx: VenueContext, parentOrderId: number, detail: { execType: ExecType; lastQty: number; lastPx: number; venueExecId: string; text: string }): void {
  const parent = ctx.state.orders.get(parentOrderId);
  if (parent === undefined) throw new Error('invariant: child of an unknown parent');
  if (parent.cumQty + detail.lastQty > parent.orderQty) throw new Error('invariant: children overfilled their parent');
  parent.cumQty += detail.lastQty;
  parent.cumNotional += notional(detail.lastQty, detail.lastPx, 1);
  parent.baseStatus = statusAfterFill(parent);
  settle(ctx.state, parent);
  ctx.out.executionReport(parent, detail);
}

function cancelled(ctx: VenueContext, order: Order, c: VenueExecReportCmd, execType: ExecType): Reject | null {
  if (isTerminal(order.baseStatus) && order.baseStatus !== OrdStatus.Filled) return null;
  if (order.baseStatus === OrdStatus.Filled) {
    // Filled outranks Canceled (FIX OrdStatus precedence): the fill stands, and a cancel still pending is
    // answered as too late rather than turning a complete order into a canceled one.
    const pending = order.pending;
    if (pending === null) return reject(RejectCode.InvalidStateTransition, `${ExecType[execType]} for a filled order`);
    order.pending = null;
    settle(ctx.state, order);
    const responseTo = pending.kind === PendingKind.Cancel ? CxlRejResponseTo.Cancel : CxlRejResponseTo.Replace;
    ctx.out.cancelReject(order, pending.clOrdId, order.clOrdId, responseTo, CxlRejReason.TooLateToCancel, RejectCode.TooLateToEnter, 'order filled');
    return null;
  }
  const pending = order.pending;
  const answersCancel = pending !== null && pending.kind === PendingKind.Cancel && execType === ExecType.Canceled;
  const priorClOrdId = order.clOrdId;
  finishCancel(ctx, order, answersCancel ? pending.clOrdId : order.clOrdId, execType);
  if (pending !== null && !answersCancel) {
    // The venue ended the order on its own (IOC remainder, expiry) while a request was in flight: answer the
    // request as too late now, or the client would wait for ever for a reply the venue will not send.
    const responseTo = pending.kind === PendingKind.Cancel ? CxlRejResponseTo.Cancel : CxlRejResponseTo.Replace;
    ctx.out.cancelReject(order, pending.clOrdId, priorClOrdId, responseTo, CxlRejReason.TooLateToCancel, RejectCode.TooLateToEnter,
      `order ${ExecType[execType]} by the venue`);
  }
  return null;
}

function replaced(ctx: VenueContext, order: Order, c: VenueExecReportCmd): Reject | null {
  const pending = order.pending;
  if (pending === null || pending.kind !== PendingKind.Replace || pending.clOrdId !== c.clOrdId) {
    return reject(RejectCode.InvalidStateTransition, `no pending replace ${c.clOrdId} on this order`);
  }
  applyReplace(ctx, order, pending);
  return null;
}

function rejected(ctx: VenueContext, order: Order, c: VenueExecReportCmd): Reject | null {
  if (order.baseStatus !== OrdStatus.PendingNew) {
    return reject(RejectCode.InvalidStateTransition, 'the venue rejected an order it had accepted; use a cancel');
  }
  order.baseStatus = OrdStatus.Rejected;
  order.pending = null;
  settle(ctx.state, order);
  ctx.out.executionReport(order, { execType: ExecType.Rejected, lastQty: 0, lastPx: 0, venueExecId: c.execId, text: c.text, ordRejReason: c.ordRejReason });
  return null;
}

/** The venue changed the order's size on its own (FIX Restated): LeavesQty is the venue's new figure. */
function restated(ctx: VenueContext, order: Order, c: VenueExecReportCmd): Reject | null {
  if (isTerminal(order.baseStatus)) return reject(RejectCode.InvalidStateTransition, 'restatement of a done order');
  const orderQty = order.cumQty + c.leavesQty;
  if (order.parentOrderId !== 0 && orderQty > order.parentCommittedQty) {
    // A child may not grow past what its parent has unplaced, or the children's fills could overfill the
    // parent: refused and flagged, like an overfill.
    const parent = ctx.state.orders.get(order.parentOrderId);
    if (parent === undefined) throw new Error('invariant: child of an unknown parent');
    const childReject = checkChild(parent, order.accountId, order.instrumentId, order.side, orderQty - order.parentCommittedQty);
    if (childReject !== null) return childReject;
  }
  const grownQty = orderQty - order.orderQty;
  if (grownQty > 0 && order.venueId !== 0) {
    const overflow = checkOpenQtyFits(ctx.state, order.accountId, order.instrumentId, order.side, grownQty);
    if (overflow !== null) return overflow;
  }
  order.orderQty = orderQty;
  if (c.leavesQty === 0) order.baseStatus = order.cumQty > 0 ? OrdStatus.Filled : OrdStatus.Canceled;
  settle(ctx.state, order);
  ctx.out.executionReport(order, { execType: ExecType.Restated, lastQty: 0, lastPx: 0, venueExecId: c.execId, text: c.text });
  return null;
}

export function venueCancelReject(ctx: VenueContext, c: VenueCancelRejectCmd): void {
  const { state, out } = ctx;
  if (!state.venues.has(c.venueId)) {
    out.commandReject(RejectCode.UnknownVenue, `unknown venue ${c.venueId}`);
    return;
  }
  const order = findVenueOrder(state, c.venueId, c.clOrdId, c.origClOrdId);
  const pending = order?.pending ?? null;
  if (order !== null && pending === null && isTerminal(order.baseStatus) && state.ordersByClOrdId.get(c.clOrdId) === order) {
    // The order ended while the request crossed the venue's reply, and the request was answered then: the
    // venue's late reject of a request we know is expected and changes nothing.
    return;
  }
  if (order === null || pending === null || pending.clOrdId !== c.clOrdId) {
    out.commandReject(RejectCode.InvalidStateTransition, `no pending request ${c.clOrdId}`);
    return;
  }
  order.pending = null;
  settle(state, order);
  const responseTo = pending.kind === PendingKind.Cancel ? CxlRejResponseTo.Cancel : CxlRejResponseTo.Replace;
  const reason = c.cxlRejReason ?? CxlRejReason.Other;
  out.cancelReject(order, c.clOrdId, order.clOrdId, responseTo, reason, RejectCode.None, c.text);
}
