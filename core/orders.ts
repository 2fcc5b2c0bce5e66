// Client order commands: new order, cancel, cancel/replace, and time-driven expiry. Each handler validates
// completely, then mutates, then emits; a reject is emitted before anything changes.

import {
  CxlRejReason, CxlRejResponseTo, ExecType, OrdStatus, RejectCode, TickKind, TimeInForce, VenueRequestKind,
  WorkflowState,
} from '../schemas/generated/oms_generated.js';
import type { CancelOrderCmd, NewOrderCmd, ReplaceOrderCmd } from '../schemas/commands.js';
import type { Reject, Terms } from './checks.js';
import {
  checkAccountLimits, checkChild, checkInstrument, checkKillSwitch, checkOrderLimits, checkTerms, grossLimitApplies,
  mayTrade, orderMoney, reject, valuationPx,
} from './checks.js';
import type { ExecDetail, ResultWriter } from './events.js';
import type { Instrument, Order, PendingRequest, User } from './model.js';
import { isClosedForReplace, isTerminal, leavesQty, PendingKind } from './model.js';
import { closeIfDone, countNewOrder, reopen, syncOrderRisk } from './risk.js';
import type { CoreState } from './state.js';

export interface OrderContext {
  state: CoreState;
  out: ResultWriter;
  user: User;
  nowUs: number;
  seq: number;
}

const EMPTY_DETAIL = { lastQty: 0, lastPx: 0, venueExecId: '', text: '' };
/** Report details without execution data, one constant per ExecType the order commands emit. */
const DETAIL_NEW: ExecDetail = { execType: ExecType.New, ...EMPTY_DETAIL };
const DETAIL_PENDING_NEW: ExecDetail = { execType: ExecType.PendingNew, ...EMPTY_DETAIL };

// ---- new order --------------------------------------------------------------------------------------------

export function newOrder(ctx: OrderContext, c: NewOrderCmd): void {
  const { state } = ctx;
  const instrument = state.instruments.get(c.instrumentId);
  const found = validateNewOrder(ctx, c, instrument);
  if (found.rejectValue !== null) {
    ctx.out.orderRejected(c.clOrdId, c.accountId, c.instrumentId, found.rejectValue.code, found.rejectValue.text);
    return;
  }
  if (instrument === undefined) throw new Error('invariant: validated order has an instrument');
  const order = createOrder(ctx, c, found.parent);
  state.orders.set(order.orderId, order);
  state.ordersByClOrdId.set(order.clOrdId, order);
  countNewOrder(state, order, ctx.nowUs);
  syncOrderRisk(state, instrument, order);
  if (found.parent !== null) commitToParent(found.parent, order);
  if (order.venueId === 0) {
    ctx.out.executionReport(order, DETAIL_NEW);
  } else {
    ctx.out.executionReport(order, DETAIL_PENDING_NEW);
    ctx.out.venueRequest(VenueRequestKind.New, order, null);
  }
}

interface NewOrderValidation {
  rejectValue: Reject | null;
  parent: Order | null;
}

/** Reused result of validateNewOrder: one writer, consumed before the next command. */
const VALIDATION: NewOrderValidation = { rejectValue: null, parent: null };

function validated(rejectValue: Reject | null, parent: Order | null): NewOrderValidation {
  VALIDATION.rejectValue = rejectValue;
  VALIDATION.parent = parent;
  return VALIDATION;
}

function validateNewOrder(ctx: OrderContext, c: NewOrderCmd, instrument: Instrument | undefined): NewOrderValidation {
  const { state } = ctx;
  const isVenue = c.venueId !== 0;
  if (instrument === undefined) return validated(reject(RejectCode.UnknownSymbol, `unknown instrument ${c.instrumentId}`), null);
  if (!state.accounts.has(c.accountId)) return validated(reject(RejectCode.UnknownAccount, `unknown account ${c.accountId}`), null);
  const authReject = mayTrade(ctx.user, c.accountId, isVenue);
  if (authReject !== null) return validated(authReject, null);
  if (isVenue && !state.venues.has(c.venueId)) return validated(reject(RejectCode.UnknownVenue, `unknown venue ${c.venueId}`), null);
  if (state.ordersByClOrdId.has(c.clOrdId)) return validated(reject(RejectCode.DuplicateOrder, `duplicate ClOrdID ${c.clOrdId}`), null);
  const first = checkKillSwitch(state, c.accountId, ctx.user.userId) ?? checkInstrument(instrument) ??
    checkTerms(instrument, c, ctx.nowUs) ?? checkOrderLimits(state, instrument, c.accountId, c);
  if (first !== null) return validated(first, null);
  let parent: Order | null = null;
  if (c.parentClOrdId.length > 0) {
    parent = state.ordersByClOrdId.get(c.parentClOrdId) ?? null;
    if (parent === null || isTerminal(parent.baseStatus)) {
      return validated(reject(RejectCode.UnknownParent, `no working parent order ${c.parentClOrdId}`), null);
    }
    if (!isVenue) return validated(reject(RejectCode.InvalidField, 'a child placement must name a venue'), null);
    const childReject = checkChild(parent, c.accountId, c.instrumentId, c.side, c.orderQty);
    if (childReject !== null) return validated(childReject, null);
  }
  const px = valuationPx(instrument, c.price, c.stopPx);
  const money = isVenue && px !== 0 && grossLimitApplies(state, c.accountId, c.instrumentId) ? orderMoney(instrument, c.orderQty, px) : 0n;
  const accountReject = checkAccountLimits(state, instrument, c.accountId, c.side, isVenue ? c.orderQty : 0, money,
    ctx.nowUs, true);
  return validated(accountReject, accountReject === null ? parent : null);
}

function createOrder(ctx: OrderContext, c: NewOrderCmd, parent: Order | null): Order {
  const orderId = ctx.state.nextOrderId;
  ctx.state.nextOrderId += 1;
  return {
    orderId, clOrdId: c.clOrdId, origClOrdId: '', accountId: c.accountId, instrumentId: c.instrumentId,
    side: c.side, ordType: c.ordType, timeInForce: c.timeInForce, orderQty: c.orderQty, price: c.price,
    stopPx: c.stopPx, expireTimeUs: c.expireTimeUs, cumQty: 0, cumNotional: 0n,
    baseStatus: c.venueId === 0 ? OrdStatus.New : OrdStatus.PendingNew, pending: null, venueId: c.venueId,
    parentOrderId: parent === null ? 0 : parent.orderId, childCommittedQty: 0, openChildCount: 0,
    workflowState: WorkflowState.Working, userId: ctx.user.userId, createdSeq: ctx.seq, transactTimeUs: ctx.nowUs,
    exposureMoney: 0n, riskLeavesQty: 0, parentCommittedQty: 0, openSlot: -1,
  };
}

// ---- parent bookkeeping -----------------------------------------------------------------------------------

/** What a child holds of its parent: everything it may still fill, or what it did fill once done. */
function childCommitment(child: Order): number {
  if (isTerminal(child.baseStatus)) return child.cumQty;
  const pendingQty = child.pending !== null && child.pending.kind === PendingKind.Replace ? child.pending.orderQty : 0;
  return Math.max(child.orderQty, pendingQty);
}

/** Counts a new child against its parent. */
export function commitToParent(parent: Order, child: Order): void {
  const committed = childCommitment(child);
  parent.childCommittedQty += committed;
  parent.openChildCount += 1;
  child.parentCommittedQty = committed;
  if (parent.childCommittedQty > parent.orderQty) throw new Error('invariant: children exceed their parent');
}

// ---- cancel -------------------------------------------------------------------------------------------------

/** Shared lookups of cancel and replace: the order the request names, and whether this user may touch it. */
function findTarget(
  ctx: OrderContext, clOrdId: string, origClOrdId: string, accountId: number,
): { order: Order | null; reason: CxlRejReason; rejectValue: Reject | null } {
  const order = ctx.state.ordersByClOrdId.get(origClOrdId) ?? null;
  if (order === null || (accountId !== 0 && order.accountId !== accountId)) {
    return { order: null, reason: CxlRejReason.UnknownOrder, rejectValue: reject(RejectCode.UnknownOrder, `unknown order ${origClOrdId}`) };
  }
  const auth = mayTrade(ctx.user, order.accountId, order.venueId !== 0);
  if (auth !== null) return { order, reason: CxlRejReason.Other, rejectValue: auth };
  if (order.clOrdId !== origClOrdId) {
    return { order, reason: CxlRejReason.Other, rejectValue: reject(RejectCode.StaleOrder, `OrigClOrdID must be the current ClOrdID ${order.clOrdId}`) };
  }
  if (ctx.state.ordersByClOrdId.has(clOrdId)) {
    return { order, reason: CxlRejReason.DuplicateClOrdId, rejectValue: reject(RejectCode.DuplicateOrder, `duplicate ClOrdID ${clOrdId}`) };
  }
  if (order.pending !== null) {
    return { order, reason: CxlRejReason.AlreadyPending, rejectValue: reject(RejectCode.OrderPending, `a ${order.pending.kind === PendingKind.Cancel ? 'cancel' : 'replace'} is already pending`) };
  }
  return { order, reason: CxlRejReason.Other, rejectValue: null };
}

export function cancelOrder(ctx: OrderContext, c: CancelOrderCmd): void {
  const target = findTarget(ctx, c.clOrdId, c.origClOrdId, c.accountId);
  let { rejectValue, reason } = target;
  const order = target.order;
  if (rejectValue === null && order !== null && isTerminal(order.baseStatus)) {
    reason = CxlRejReason.TooLateToCancel;
    rejectValue = reject(RejectCode.TooLateToEnter, `order is ${OrdStatus[order.baseStatus]}`);
  }
  if (rejectValue === null && order !== null && order.venueId === 0 && order.openChildCount > 0) {
    rejectValue = reject(RejectCode.OrderPending, `cancel the ${order.openChildCount} open child placements first`);
  }
  if (rejectValue !== null || order === null) {
    const r = rejectValue ?? reject(RejectCode.UnknownOrder, 'unknown order');
    ctx.out.cancelReject(order, c.clOrdId, c.origClOrdId, CxlRejResponseTo.Cancel, reason, r.code, r.text);
    return;
  }
  const pending = pendingRequest(ctx, PendingKind.Cancel, c.clOrdId, order);
  ctx.state.ordersByClOrdId.set(c.clOrdId, order);
  if (order.venueId === 0) {
    finishCancel(ctx, order, pending.clOrdId, ExecType.Canceled);
    return;
  }
  order.pending = pending;
  settle(ctx.state, order);
  ctx.out.executionReport(order, { execType: ExecType.PendingCancel, ...EMPTY_DETAIL });
  ctx.out.venueRequest(VenueRequestKind.Cancel, order, pending);
}

function pendingRequest(ctx: OrderContext, kind: PendingKind, clOrdId: string, order: Order, terms?: Terms): PendingRequest {
  return {
    kind, clOrdId, userId: ctx.user.userId,
    orderQty: terms?.orderQty ?? order.orderQty, price: terms?.price ?? order.price, stopPx: terms?.stopPx ?? order.stopPx,
    timeInForce: terms?.timeInForce ?? order.timeInForce, expireTimeUs: terms?.expireTimeUs ?? order.expireTimeUs,
  };
}

/**
 * A confirmed cancel takes the cancel request's ClOrdID (FIX: ClOrdID = the cancel's, OrigClOrdID = the prior);
 * an unsolicited one (venue expiry, IOC remainder) keeps the order's own.
 */
export function finishCancel(ctx: { state: CoreState; out: ResultWriter }, order: Order, clOrdId: string, execType: ExecType): void {
  if (clOrdId !== order.clOrdId) {
    order.origClOrdId = order.clOrdId;
    order.clOrdId = clOrdId;
  }
  order.pending = null;
  order.baseStatus = execType === ExecType.Expired ? OrdStatus.Expired
    : execType === ExecType.DoneForDay ? OrdStatus.DoneForDay : OrdStatus.Canceled;
  settle(ctx.state, order);
  ctx.out.executionReport(order, { execType, ...EMPTY_DETAIL });
}

/** After any change to an order: risk totals, working set and parent commitments follow. */
export function settle(state: CoreState, order: Order): void {
  const instrument = state.instruments.get(order.instrumentId);
  if (instrument === undefined) throw new Error('invariant: order of an unknown instrument');
  syncOrderRisk(state, instrument, order);
  const wasOpen = state.openOrders.has(order);
  if (isTerminal(order.baseStatus)) closeIfDone(state, order);
  else reopen(state, order);
  if (order.parentOrderId !== 0) {
    const parent = state.orders.get(order.parentOrderId);
    if (parent === undefined) throw new Error('invariant: child of an unknown parent');
    const openDelta = (state.openOrders.has(order) ? 1 : 0) - (wasOpen ? 1 : 0);
    const committed = childCommitment(order);
    parent.childCommittedQty += committed - order.parentCommittedQty;
    parent.openChildCount += openDelta;
    order.parentCommittedQty = committed;
    if (parent.childCommittedQty < 0 || parent.openChildCount < 0) throw new Error('invariant: parent commitments negative');
  }
}

// ---- replace ------------------------------------------------------------------------------------------------

export function replaceOrder(ctx: OrderContext, c: ReplaceOrderCmd): void {
  const target = findTarget(ctx, c.clOrdId, c.origClOrdId, c.accountId);
  const order = target.order;
  const rejectValue = target.rejectValue ?? (order === null ? null : validateReplace(ctx, order, c));
  if (rejectValue !== null || order === null) {
    const r = rejectValue ?? reject(RejectCode.UnknownOrder, 'unknown order');
    const reason = target.rejectValue === null && r.code === RejectCode.TooLateToEnter ? CxlRejReason.TooLateToCancel : target.reason;
    ctx.out.cancelReject(order, c.clOrdId, c.origClOrdId, CxlRejResponseTo.Replace, reason, r.code, r.text);
    return;
  }
  const terms: Terms = { ...c, side: order.side, ordType: order.ordType };
  const pending = pendingRequest(ctx, PendingKind.Replace, c.clOrdId, order, terms);
  ctx.state.ordersByClOrdId.set(c.clOrdId, order);
  if (order.venueId === 0) {
    applyReplace(ctx, order, pending);
    return;
  }
  order.pending = pending;
  settle(ctx.state, order);
  ctx.out.executionReport(order, { execType: ExecType.PendingReplace, ...EMPTY_DETAIL });
  ctx.out.venueRequest(VenueRequestKind.Replace, order, pending);
}

function validateReplace(ctx: OrderContext, order: Order, c: ReplaceOrderCmd): Reject | null {
  const { state } = ctx;
  const instrument = state.instruments.get(order.instrumentId);
  if (instrument === undefined) throw new Error('invariant: order of an unknown instrument');
  if (isClosedForReplace(order.baseStatus)) return reject(RejectCode.TooLateToEnter, `order is ${OrdStatus[order.baseStatus]}`);
  if (order.baseStatus === OrdStatus.Filled && c.orderQty <= order.cumQty) {
    return reject(RejectCode.TooLateToEnter, 'a filled order can only be replaced up');
  }
  if (c.orderQty < order.cumQty) {
    return reject(RejectCode.IncorrectQuantity, `order_qty ${c.orderQty} is below the filled ${order.cumQty}`);
  }
  const terms: Terms = { ...c, side: order.side, ordType: order.ordType };
  const addedQty = Math.max(0, c.orderQty - order.orderQty);
  const firstReject = (addedQty > 0 ? checkKillSwitch(state, order.accountId, ctx.user.userId) : null) ??
    checkTerms(instrument, terms, ctx.nowUs) ?? checkOrderLimits(state, instrument, order.accountId, terms);
  if (firstReject !== null) return firstReject;
  if (order.venueId === 0 && c.orderQty < order.childCommittedQty) {
    return reject(RejectCode.IncorrectQuantity, `order_qty is below the ${order.childCommittedQty} placed with children`);
  }
  if (order.parentOrderId !== 0) {
    const parent = state.orders.get(order.parentOrderId);
    if (parent === undefined) throw new Error('invariant: child of an unknown parent');
    const childReject = checkChild(parent, order.accountId, order.instrumentId, order.side, Math.max(0, c.orderQty - order.parentCommittedQty));
    if (childReject !== null) return childReject;
  }
  if (order.venueId === 0) return null;
  const px = valuationPx(instrument, c.price, c.stopPx);
  const newLeaves = c.orderQty - order.cumQty;
  const addedMoney = px === 0 || !grossLimitApplies(state, order.accountId, order.instrumentId) ? 0n
    : orderMoney(instrument, newLeaves, px) - order.exposureMoney;
  return checkAccountLimits(state, instrument, order.accountId, order.side, Math.max(0, newLeaves - leavesQty(order)),
    addedMoney > 0n ? addedMoney : 0n, ctx.nowUs, false);
}

/** Takes the pending replace's terms; fills received meanwhile stay on the order. */
export function applyReplace(ctx: { state: CoreState; out: ResultWriter }, order: Order, pending: PendingRequest): void {
  order.origClOrdId = order.clOrdId;
  order.clOrdId = pending.clOrdId;
  // A venue that replaced below fills it sent meanwhile still cannot make leaves negative.
  order.orderQty = Math.max(pending.orderQty, order.cumQty);
  order.price = pending.price;
  order.stopPx = pending.stopPx;
  order.timeInForce = pending.timeInForce;
  order.expireTimeUs = pending.expireTimeUs;
  order.pending = null;
  if (order.cumQty === order.orderQty) order.baseStatus = OrdStatus.Filled;
  else if (order.cumQty > 0) order.baseStatus = OrdStatus.PartiallyFilled;
  else if (order.baseStatus !== OrdStatus.PendingNew) order.baseStatus = OrdStatus.New;
  settle(ctx.state, order);
  ctx.out.executionReport(order, { execType: ExecType.Replaced, ...EMPTY_DETAIL });
}

// ---- expiry -------------------------------------------------------------------------------------------------

/** Upper bound on orders expired by one Tick, so one command never stalls the core for long. */
export const EXPIRIES_PER_TICK_MAX = 10_000;

/**
 * Time passes through Tick commands only. The OMS expires the orders it holds (parents); placements at a
 * venue expire when the venue says so, because the venue is the authority on whether they traded.
 */
export function expireOrders(ctx: { state: CoreState; out: ResultWriter }, kind: TickKind, nowUs: number): number {
  const due: Order[] = [];
  const endOfDay = kind === TickKind.EndOfDay;
  ctx.state.openOrders.scan((order) => {
    if (order.venueId !== 0) return true;
    const gtdDue = order.timeInForce === TimeInForce.GTD && order.expireTimeUs <= nowUs;
    const dayDue = endOfDay && order.timeInForce === TimeInForce.Day;
    if (gtdDue || dayDue) due.push(order);
    return due.length < EXPIRIES_PER_TICK_MAX;
  });
  for (const order of due) {
    order.baseStatus = OrdStatus.Expired;
    order.pending = null;
    settle(ctx.state, order);
    ctx.out.executionReport(order, { execType: ExecType.Expired, ...EMPTY_DETAIL });
  }
  return due.length;
}
