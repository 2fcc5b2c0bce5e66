// Order lifecycle scenarios after the FIX 4.4 order state change matrices (Volume 4, appendix D): every step
// checks ExecType, OrdStatus, CumQty, LeavesQty and AvgPx of the report it produced, and every scenario
// ends by rebuilding the core from its journal and comparing state hashes.

import { describe, expect, it } from 'vitest';
import {
  Command, CxlRejReason, CxlRejResponseTo, ExecType, OrdStatus, RejectCode, Side, TickKind, TimeInForce,
  VenueRequestKind,
} from '../schemas/generated/oms_generated.js';
import type { ReplaceOrderCmd } from '../schemas/commands.js';
import type {
  CommandResultData, ExecutionReportData, OrderCancelRejectData, VenueRequestData,
} from '../schemas/results.js';
import type { Core } from '../core/core.js';
import { DEMO } from '../core/demo.js';
import { AVG_PX_EXTRA_DIGITS } from '../core/fixed.js';
import type { Order } from '../core/model.js';
import { positionKey } from '../core/model.js';
import { stateHash } from '../core/state.js';
import { CoreHarness } from './support/core-harness.js';

const U = DEMO.users;
const SIM = DEMO.venues.SIM;
const GROWTH = DEMO.accounts.GROWTH;
const AAPL = DEMO.instruments.AAPL;

/** AvgPx of a price in AAPL cents, on the report's scale (price units x 10^AVG_PX_EXTRA_DIGITS). */
const avg = (cents: number): number => cents * 10 ** AVG_PX_EXTRA_DIGITS;

// ---- assertions -------------------------------------------------------------------------------------------

interface ExpectedReport {
  execType: ExecType;
  ordStatus: OrdStatus;
  cumQty: number;
  leavesQty: number;
  avgPx: number;
  /** Selects the report of this order when a command produced several (parent roll-ups). */
  orderId?: number;
  orderQty?: number;
  price?: number;
  clOrdId?: string;
  origClOrdId?: string;
  lastQty?: number;
  lastPx?: number;
  timeInForce?: TimeInForce;
  ordRejReason?: RejectCode;
}

function named(report: Partial<ExpectedReport>): Record<string, unknown> {
  return {
    ...report,
    execType: report.execType === undefined ? undefined : ExecType[report.execType],
    ordStatus: report.ordStatus === undefined ? undefined : OrdStatus[report.ordStatus],
  };
}

/** The one execution report of `result` (of `expected.orderId` if given), checked field by field. */
function expectReport(result: CommandResultData, expected: ExpectedReport): ExecutionReportData {
  expect(result.events.filter((e) => e.kind === 'command_reject' || e.kind === 'cancel_reject')).toEqual([]);
  const reports = CoreHarness.reports(result).filter((r) => expected.orderId === undefined || r.orderId === expected.orderId);
  expect(reports).toHaveLength(1);
  const report = reports[0];
  const actual: Partial<ExpectedReport> = {};
  for (const key of Object.keys(expected) as Array<keyof ExpectedReport>) {
    (actual as Record<string, unknown>)[key] = report[key];
  }
  expect(named(actual)).toEqual(named(expected));
  // FIX: LeavesQty = OrderQty - CumQty while the order works, 0 once it is done; never negative.
  expect(report.leavesQty).toBeGreaterThanOrEqual(0);
  if (report.leavesQty !== 0) expect(report.leavesQty).toBe(report.orderQty - report.cumQty);
  expect(report.cumQty).toBeLessThanOrEqual(report.orderQty);
  return report;
}

interface ExpectedCancelReject {
  clOrdId: string;
  origClOrdId: string;
  ordStatus: OrdStatus;
  cxlRejResponseTo: CxlRejResponseTo;
  cxlRejReason: CxlRejReason;
  rejectCode?: RejectCode;
}

function expectCancelReject(result: CommandResultData, expected: ExpectedCancelReject): OrderCancelRejectData {
  expect(CoreHarness.reports(result)).toEqual([]);
  expect(result.events.filter((e) => e.kind === 'venue_request' || e.kind === 'command_reject')).toEqual([]);
  const rejects = result.events.filter((e): e is OrderCancelRejectData => e.kind === 'cancel_reject');
  expect(rejects).toHaveLength(1);
  const r = rejects[0];
  expect({
    clOrdId: r.clOrdId, origClOrdId: r.origClOrdId, ordStatus: OrdStatus[r.ordStatus],
    cxlRejResponseTo: CxlRejResponseTo[r.cxlRejResponseTo], cxlRejReason: CxlRejReason[r.cxlRejReason],
    ...(expected.rejectCode === undefined ? {} : { rejectCode: RejectCode[r.rejectCode] }),
  }).toEqual({
    clOrdId: expected.clOrdId, origClOrdId: expected.origClOrdId, ordStatus: OrdStatus[expected.ordStatus],
    cxlRejResponseTo: CxlRejResponseTo[expected.cxlRejResponseTo], cxlRejReason: CxlRejReason[expected.cxlRejReason],
    ...(expected.rejectCode === undefined ? {} : { rejectCode: RejectCode[expected.rejectCode] }),
  });
  return r;
}

function expectCommandReject(result: CommandResultData, code: RejectCode): void {
  expect(result.events.map((e) => e.kind)).toEqual(['command_reject']);
  const event = result.events[0];
  if (event.kind !== 'command_reject') throw new Error('unreachable');
  expect(RejectCode[event.rejectCode]).toBe(RejectCode[code]);
}

function venueRequests(result: CommandResultData): VenueRequestData[] {
  return result.events.filter((e): e is VenueRequestData => e.kind === 'venue_request');
}

/** Everything but the journal position: what a refused command must leave exactly as it was. */
function hashExceptSeq(core: Core): string {
  return stateHash({ ...core.state, lastSeq: 0 });
}

function expectReplayMatches(h: CoreHarness): void {
  expect(h.replayed().hash()).toBe(h.core.hash());
}

// ---- commands ---------------------------------------------------------------------------------------------

function cancel(h: CoreHarness, clOrdId: string, origClOrdId: string, userId: number = U.trader, accountId = 0): CommandResultData {
  return h.send(userId, { type: Command.CancelOrder, clOrdId, origClOrdId, accountId });
}

function replace(
  h: CoreHarness, clOrdId: string, origClOrdId: string, orderQty: number, terms: Partial<ReplaceOrderCmd> = {},
  userId: number = U.trader,
): CommandResultData {
  return h.send(userId, {
    type: Command.ReplaceOrder, clOrdId, origClOrdId, accountId: 0, orderQty, price: 19_000, stopPx: 0,
    timeInForce: TimeInForce.Day, expireTimeUs: 0, ...terms,
  });
}

function venueCancelReject(
  h: CoreHarness, clOrdId: string, origClOrdId: string, responseTo: CxlRejResponseTo, reason: CxlRejReason,
): CommandResultData {
  return h.send(U.venue, {
    type: Command.VenueCancelReject, venueId: SIM, clOrdId, origClOrdId, cxlRejResponseTo: responseTo,
    cxlRejReason: reason, text: '',
  });
}

function tick(h: CoreHarness, kind: TickKind, timeUs: number): CommandResultData {
  return h.send(0, { type: Command.Tick, kind }, timeUs);
}

/** A venue order for `qty` AAPL at 190.00, acknowledged by the venue. */
function workingOrder(h: CoreHarness, clOrdId: string, qty = 1000, timeInForce = TimeInForce.Day): ExecutionReportData {
  expectReport(h.newOrder({ clOrdId, orderQty: qty, timeInForce }), {
    execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew, cumQty: 0, leavesQty: qty, avgPx: 0,
  });
  return expectReport(h.venue(clOrdId, ExecType.New), {
    execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: qty, avgPx: 0, orderQty: qty, clOrdId,
  });
}

/** A child placement of `parentClOrdId` for `qty` AAPL at 190.00, acknowledged by the venue. */
function workingChild(h: CoreHarness, clOrdId: string, parentClOrdId: string, qty: number): ExecutionReportData {
  expectReport(h.newOrder({ clOrdId, orderQty: qty, parentClOrdId }), {
    execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew, cumQty: 0, leavesQty: qty, avgPx: 0,
  });
  return expectReport(h.venue(clOrdId, ExecType.New), {
    execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: qty, avgPx: 0,
  });
}

function orderOf(h: CoreHarness, clOrdId: string): Order {
  const order = h.core.state.ordersByClOrdId.get(clOrdId);
  if (order === undefined) throw new Error(`no order ${clOrdId}`);
  return order;
}

/** Working-set bookkeeping of the GROWTH account in AAPL, which every scenario here trades. */
function growthBook(h: CoreHarness): { openOrders: number; openBuyQty: number; positionQty: number } {
  const position = h.core.state.positions.get(positionKey(GROWTH, AAPL));
  return {
    openOrders: h.core.state.accountRisk.get(GROWTH)?.openOrders ?? 0,
    openBuyQty: position?.openBuyQty ?? 0,
    positionQty: position?.qty ?? 0,
  };
}

// ---- scenarios --------------------------------------------------------------------------------------------

describe('FIX order lifecycle', () => {
  it('1. new, acknowledged, partly filled twice, filled: AvgPx is exact at every step', () => {
    const h = CoreHarness.withDemoData();
    const pendingNew = h.newOrder({ clOrdId: 'A1', orderQty: 1000, price: 19_010 });
    expectReport(pendingNew, {
      execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew, cumQty: 0, leavesQty: 1000, avgPx: 0,
      orderQty: 1000, price: 19_010, clOrdId: 'A1', origClOrdId: '',
    });
    expect(venueRequests(pendingNew).map((r) => [r.requestKind, r.clOrdId, r.orderQty])).toEqual([[VenueRequestKind.New, 'A1', 1000]]);
    expectReport(h.venue('A1', ExecType.New), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 1000, avgPx: 0,
    });
    expectReport(h.fill('A1', 400, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 400, leavesQty: 600,
      avgPx: avg(19_000), lastQty: 400, lastPx: 19_000,
    });
    // (400 x 190.00 + 300 x 190.10) / 700 = 190.042857142857... -> 19004.285714 cents, rounded half-up.
    expectReport(h.fill('A1', 300, 19_010), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 700, leavesQty: 300,
      avgPx: 19_004_285_714, lastQty: 300, lastPx: 19_010,
    });
    // (400 x 190.00 + 600 x 190.10) / 1000 = 190.06 exactly.
    expectReport(h.fill('A1', 300, 19_010), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 1000, leavesQty: 0, avgPx: avg(19_006),
      lastQty: 300, lastPx: 19_010,
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 1000 });
    expectReplayMatches(h);
  });

  it('1b. AvgPx rounds half-up at the sixth extra digit', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'R1', 128);
    workingOrder(h, 'R2', 3);
    expectReport(h.fill('R1', 127, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 127, leavesQty: 1, avgPx: avg(19_000),
    });
    // 2,432,001 / 128 = 19000.0078125 cents: the 7th digit is an exact half, rounded up.
    expectReport(h.fill('R1', 1, 19_001), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 128, leavesQty: 0, avgPx: 19_000_007_813,
    });
    expectReport(h.fill('R2', 2, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 2, leavesQty: 1, avgPx: avg(19_000),
    });
    // 57,001 / 3 = 19000.333333... cents: rounded down.
    expectReport(h.fill('R2', 1, 19_001), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 3, leavesQty: 0, avgPx: 19_000_333_333,
    });
    expectReplayMatches(h);
  });

  it('2. the venue rejects a pending-new order: terminal, a later cancel is too late', () => {
    const h = CoreHarness.withDemoData();
    expectReport(h.newOrder({ clOrdId: 'X1' }), {
      execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew, cumQty: 0, leavesQty: 1000, avgPx: 0,
    });
    expect(growthBook(h)).toEqual({ openOrders: 1, openBuyQty: 1000, positionQty: 0 });
    expectReport(h.venue('X1', ExecType.Rejected, { ordRejReason: RejectCode.ExchangeClosed, text: 'closed' }), {
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, cumQty: 0, leavesQty: 0, avgPx: 0, clOrdId: 'X1',
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 0 });
    expectCancelReject(cancel(h, 'X1-C', 'X1'), {
      clOrdId: 'X1-C', origClOrdId: 'X1', ordStatus: OrdStatus.Rejected, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    expectCancelReject(replace(h, 'X1-R', 'X1', 500), {
      clOrdId: 'X1-R', origClOrdId: 'X1', ordStatus: OrdStatus.Rejected, cxlRejResponseTo: CxlRejResponseTo.Replace,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    // A fill for an order the venue itself rejected is refused and changes nothing.
    const before = hashExceptSeq(h.core);
    expectCommandReject(h.fill('X1', 100, 19_000), RejectCode.InvalidStateTransition);
    expect(hashExceptSeq(h.core)).toBe(before);
    expectReplayMatches(h);
  });

  it('3. cancel of an unfilled order: PendingCancel (Y,X), then Canceled (Y,X)', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'C1');
    const pending = cancel(h, 'C1-X', 'C1');
    expectReport(pending, {
      execType: ExecType.PendingCancel, ordStatus: OrdStatus.PendingCancel, cumQty: 0, leavesQty: 1000, avgPx: 0,
      clOrdId: 'C1-X', origClOrdId: 'C1',
    });
    expect(venueRequests(pending).map((r) => [r.requestKind, r.clOrdId, r.origClOrdId])).toEqual([[VenueRequestKind.Cancel, 'C1-X', 'C1']]);
    // A second cancel while the first is pending: CxlRejReason AlreadyPending, ClOrdID still the original's.
    expectCancelReject(cancel(h, 'C1-X2', 'C1'), {
      clOrdId: 'C1-X2', origClOrdId: 'C1', ordStatus: OrdStatus.PendingCancel, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.AlreadyPending, rejectCode: RejectCode.OrderPending,
    });
    expectReport(h.venue('C1-X', ExecType.Canceled, { origClOrdId: 'C1' }), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 0, leavesQty: 0, avgPx: 0,
      clOrdId: 'C1-X', origClOrdId: 'C1', orderQty: 1000,
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 0 });
    expectCancelReject(cancel(h, 'C1-X3', 'C1-X'), {
      clOrdId: 'C1-X3', origClOrdId: 'C1-X', ordStatus: OrdStatus.Canceled, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    expectReplayMatches(h);
  });

  it('4. cancel of a partly filled order with a fill while the cancel is pending (D4)', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'P1');
    expectReport(h.fill('P1', 200, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 200, leavesQty: 800, avgPx: avg(19_000),
    });
    expectReport(cancel(h, 'P1-X', 'P1'), {
      execType: ExecType.PendingCancel, ordStatus: OrdStatus.PendingCancel, cumQty: 200, leavesQty: 800,
      avgPx: avg(19_000), clOrdId: 'P1-X', origClOrdId: 'P1',
    });
    // The fill applies; "pending cancel" takes precedence over "partially filled". Reported on the order's ClOrdID.
    expectReport(h.fill('P1', 300, 19_020), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PendingCancel, cumQty: 500, leavesQty: 500,
      avgPx: avg(19_012), lastQty: 300, lastPx: 19_020, clOrdId: 'P1',
    });
    expectReport(h.venue('P1-X', ExecType.Canceled, { origClOrdId: 'P1' }), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 500, leavesQty: 0, avgPx: avg(19_012),
      clOrdId: 'P1-X', origClOrdId: 'P1',
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 500 });
    expectReplayMatches(h);
  });

  it('4b. a fill after the cancel was confirmed still applies; the order stays Canceled (D35)', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'L1');
    expectReport(h.fill('L1', 100, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 100, leavesQty: 900, avgPx: avg(19_000),
    });
    expectReport(cancel(h, 'L1-X', 'L1'), {
      execType: ExecType.PendingCancel, ordStatus: OrdStatus.PendingCancel, cumQty: 100, leavesQty: 900,
      avgPx: avg(19_000), clOrdId: 'L1-X', origClOrdId: 'L1',
    });
    expectReport(h.venue('L1-X', ExecType.Canceled, { origClOrdId: 'L1' }), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 100, leavesQty: 0, avgPx: avg(19_000),
    });
    // The venue is the authority on what traded: "canceled" takes precedence over "partially filled".
    expectReport(h.fill('L1-X', 200, 19_030), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Canceled, cumQty: 300, leavesQty: 0, avgPx: avg(19_020),
      clOrdId: 'L1-X', lastQty: 200, lastPx: 19_030,
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 300 });
    expectReplayMatches(h);
  });

  it('5. the order fills before the cancel is accepted: cancel rejected too late, order Filled', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'F1');
    expectReport(h.fill('F1', 400, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 400, leavesQty: 600, avgPx: avg(19_000),
    });
    expectReport(cancel(h, 'F1-X', 'F1'), {
      execType: ExecType.PendingCancel, ordStatus: OrdStatus.PendingCancel, cumQty: 400, leavesQty: 600,
      avgPx: avg(19_000), clOrdId: 'F1-X', origClOrdId: 'F1',
    });
    // "Pending cancel" takes precedence over "filled" while the cancel is outstanding.
    expectReport(h.fill('F1', 600, 19_010), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PendingCancel, cumQty: 1000, leavesQty: 0, avgPx: avg(19_006),
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 1000 });
    expectCancelReject(venueCancelReject(h, 'F1-X', 'F1', CxlRejResponseTo.Cancel, CxlRejReason.TooLateToCancel), {
      clOrdId: 'F1-X', origClOrdId: 'F1', ordStatus: OrdStatus.Filled, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    const order = orderOf(h, 'F1');
    expect({ status: OrdStatus[order.baseStatus], clOrdId: order.clOrdId, pending: order.pending })
      .toEqual({ status: 'Filled', clOrdId: 'F1', pending: null });
    expectCancelReject(cancel(h, 'F1-Y', 'F1'), {
      clOrdId: 'F1-Y', origClOrdId: 'F1', ordStatus: OrdStatus.Filled, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    expectReplayMatches(h);
  });

  it('6. replace up: PendingReplace keeps the old terms, Replaced takes the new ones and the ClOrdID chain', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'U1');
    expectReport(h.fill('U1', 100, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 100, leavesQty: 900, avgPx: avg(19_000),
    });
    const pending = replace(h, 'U1-R', 'U1', 1500, { price: 19_050 });
    expectReport(pending, {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 100, leavesQty: 900,
      avgPx: avg(19_000), orderQty: 1000, price: 19_000, clOrdId: 'U1-R', origClOrdId: 'U1',
    });
    expect(venueRequests(pending).map((r) => [r.requestKind, r.clOrdId, r.origClOrdId, r.orderQty, r.price]))
      .toEqual([[VenueRequestKind.Replace, 'U1-R', 'U1', 1500, 19_050]]);
    expectReport(h.venue('U1-R', ExecType.Replaced, { origClOrdId: 'U1' }), {
      execType: ExecType.Replaced, ordStatus: OrdStatus.PartiallyFilled, cumQty: 100, leavesQty: 1400,
      avgPx: avg(19_000), orderQty: 1500, price: 19_050, clOrdId: 'U1-R', origClOrdId: 'U1',
    });
    expect(growthBook(h)).toEqual({ openOrders: 1, openBuyQty: 1400, positionQty: 100 });
    // (100 x 190.00 + 1400 x 190.50) / 1500 = 190.4666666...
    expectReport(h.fill('U1-R', 1400, 19_050), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 1500, leavesQty: 0, avgPx: 19_046_666_667,
      clOrdId: 'U1-R',
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 1500 });
    expectReplayMatches(h);
  });

  it('7. replace down above CumQty, down to CumQty (Filled), and below CumQty (refused)', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'D1');
    expectReport(h.fill('D1', 300, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 300, leavesQty: 700, avgPx: avg(19_000),
    });
    expectReport(replace(h, 'D1-R1', 'D1', 600), {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 300, leavesQty: 700,
      avgPx: avg(19_000), orderQty: 1000,
    });
    expectReport(h.venue('D1-R1', ExecType.Replaced, { origClOrdId: 'D1' }), {
      execType: ExecType.Replaced, ordStatus: OrdStatus.PartiallyFilled, cumQty: 300, leavesQty: 300,
      avgPx: avg(19_000), orderQty: 600, clOrdId: 'D1-R1', origClOrdId: 'D1',
    });
    expect(growthBook(h)).toEqual({ openOrders: 1, openBuyQty: 300, positionQty: 300 });

    // Below CumQty: refused before anything changes.
    const before = hashExceptSeq(h.core);
    expectCancelReject(replace(h, 'D1-R2', 'D1-R1', 200), {
      clOrdId: 'D1-R2', origClOrdId: 'D1-R1', ordStatus: OrdStatus.PartiallyFilled,
      cxlRejResponseTo: CxlRejResponseTo.Replace, cxlRejReason: CxlRejReason.Other, rejectCode: RejectCode.IncorrectQuantity,
    });
    expect(hashExceptSeq(h.core)).toBe(before);

    // Exactly CumQty: the balance is cancelled and the order is Filled.
    expectReport(replace(h, 'D1-R3', 'D1-R1', 300), {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 300, leavesQty: 300,
      avgPx: avg(19_000), orderQty: 600, clOrdId: 'D1-R3', origClOrdId: 'D1-R1',
    });
    expectReport(h.venue('D1-R3', ExecType.Replaced, { origClOrdId: 'D1-R1' }), {
      execType: ExecType.Replaced, ordStatus: OrdStatus.Filled, cumQty: 300, leavesQty: 0, avgPx: avg(19_000),
      orderQty: 300, clOrdId: 'D1-R3', origClOrdId: 'D1-R1',
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 300 });
    expectReplayMatches(h);
  });

  it('8. fills while a replace down is pending apply to the original quantity (C.3.c / D10)', () => {
    const h = CoreHarness.withDemoData();
    // Replace 1000 -> 500 crosses a fill of 700: the replace is taken as "cancel the balance", Filled at 700.
    workingOrder(h, 'W1');
    expectReport(replace(h, 'W1-R', 'W1', 500), {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 0, leavesQty: 1000, avgPx: 0,
      orderQty: 1000,
    });
    expectReport(h.fill('W1', 700, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PendingReplace, cumQty: 700, leavesQty: 300, avgPx: avg(19_000),
      orderQty: 1000, clOrdId: 'W1',
    });
    expectReport(h.venue('W1-R', ExecType.Replaced, { origClOrdId: 'W1' }), {
      execType: ExecType.Replaced, ordStatus: OrdStatus.Filled, cumQty: 700, leavesQty: 0, avgPx: avg(19_000),
      orderQty: 700, clOrdId: 'W1-R', origClOrdId: 'W1',
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 700 });

    // Replace 1000 -> 500 with a fill of 400 meanwhile: replaced as asked, 100 left.
    workingOrder(h, 'W2');
    expectReport(replace(h, 'W2-R', 'W2', 500), {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 0, leavesQty: 1000, avgPx: 0,
    });
    expectReport(h.fill('W2', 400, 19_010), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PendingReplace, cumQty: 400, leavesQty: 600, avgPx: avg(19_010),
    });
    expectReport(h.venue('W2-R', ExecType.Replaced, { origClOrdId: 'W2' }), {
      execType: ExecType.Replaced, ordStatus: OrdStatus.PartiallyFilled, cumQty: 400, leavesQty: 100,
      avgPx: avg(19_010), orderQty: 500,
    });
    // Fills after the replace are held to the new quantity.
    const before = hashExceptSeq(h.core);
    expectCommandReject(h.fill('W2-R', 101, 19_010), RejectCode.Overfill);
    expect(hashExceptSeq(h.core)).toBe(before);
    expect(growthBook(h)).toEqual({ openOrders: 1, openBuyQty: 100, positionQty: 1100 });
    expectReplayMatches(h);
  });

  it('9. replacing a filled order up re-opens it', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'Z1');
    expectReport(h.fill('Z1', 1000, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 1000, leavesQty: 0, avgPx: avg(19_000),
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 1000 });
    // Replacing a filled order to its own or a smaller quantity is too late.
    expectCancelReject(replace(h, 'Z1-R0', 'Z1', 1000), {
      clOrdId: 'Z1-R0', origClOrdId: 'Z1', ordStatus: OrdStatus.Filled, cxlRejResponseTo: CxlRejResponseTo.Replace,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    expectReport(replace(h, 'Z1-R', 'Z1', 1500), {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 1000, leavesQty: 0,
      avgPx: avg(19_000), orderQty: 1000, clOrdId: 'Z1-R', origClOrdId: 'Z1',
    });
    expect(h.core.state.openOrders.has(orderOf(h, 'Z1'))).toBe(false);
    expectReport(h.venue('Z1-R', ExecType.Replaced, { origClOrdId: 'Z1' }), {
      execType: ExecType.Replaced, ordStatus: OrdStatus.PartiallyFilled, cumQty: 1000, leavesQty: 500,
      avgPx: avg(19_000), orderQty: 1500, clOrdId: 'Z1-R', origClOrdId: 'Z1',
    });
    expect(h.core.state.openOrders.has(orderOf(h, 'Z1-R'))).toBe(true);
    expect(growthBook(h)).toEqual({ openOrders: 1, openBuyQty: 500, positionQty: 1000 });
    expectReport(h.fill('Z1-R', 500, 19_030), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 1500, leavesQty: 0, avgPx: avg(19_010),
    });
    expect(h.core.state.openOrders.has(orderOf(h, 'Z1-R'))).toBe(false);
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 1500 });
    expectReplayMatches(h);
  });

  it('10. chained replaces with a rejected one between: OrigClOrdID must be the last accepted ClOrdID', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'K1');
    expectReport(replace(h, 'K2', 'K1', 900), {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 0, leavesQty: 1000, avgPx: 0,
      clOrdId: 'K2', origClOrdId: 'K1',
    });
    expectReport(h.venue('K2', ExecType.Replaced, { origClOrdId: 'K1' }), {
      execType: ExecType.Replaced, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 900, avgPx: 0, orderQty: 900,
      clOrdId: 'K2', origClOrdId: 'K1',
    });
    expectReport(replace(h, 'K3', 'K2', 800), {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 0, leavesQty: 900, avgPx: 0,
      orderQty: 900, clOrdId: 'K3', origClOrdId: 'K2',
    });
    expectCancelReject(venueCancelReject(h, 'K3', 'K2', CxlRejResponseTo.Replace, CxlRejReason.BrokerOption), {
      clOrdId: 'K3', origClOrdId: 'K2', ordStatus: OrdStatus.New, cxlRejResponseTo: CxlRejResponseTo.Replace,
      cxlRejReason: CxlRejReason.BrokerOption,
    });
    // K3 was never accepted, K1 is history: both are stale. K2 stays the order's ClOrdID.
    const before = hashExceptSeq(h.core);
    for (const stale of ['K3', 'K1']) {
      expectCancelReject(replace(h, 'K4', stale, 700), {
        clOrdId: 'K4', origClOrdId: stale, ordStatus: OrdStatus.New, cxlRejResponseTo: CxlRejResponseTo.Replace,
        cxlRejReason: CxlRejReason.Other, rejectCode: RejectCode.StaleOrder,
      });
    }
    expect(hashExceptSeq(h.core)).toBe(before);
    expectReport(h.fill('K2', 100, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 100, leavesQty: 800, avgPx: avg(19_000),
      orderQty: 900, clOrdId: 'K2',
    });
    expectReport(replace(h, 'K4', 'K2', 700), {
      execType: ExecType.PendingReplace, ordStatus: OrdStatus.PendingReplace, cumQty: 100, leavesQty: 800,
      avgPx: avg(19_000), clOrdId: 'K4', origClOrdId: 'K2',
    });
    expectReport(h.venue('K4', ExecType.Replaced, { origClOrdId: 'K2' }), {
      execType: ExecType.Replaced, ordStatus: OrdStatus.PartiallyFilled, cumQty: 100, leavesQty: 600,
      avgPx: avg(19_000), orderQty: 700, clOrdId: 'K4', origClOrdId: 'K2',
    });
    expectCancelReject(cancel(h, 'K5', 'K2'), {
      clOrdId: 'K5', origClOrdId: 'K2', ordStatus: OrdStatus.PartiallyFilled, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.Other, rejectCode: RejectCode.StaleOrder,
    });
    expectReport(cancel(h, 'K5', 'K4'), {
      execType: ExecType.PendingCancel, ordStatus: OrdStatus.PendingCancel, cumQty: 100, leavesQty: 600,
      avgPx: avg(19_000), clOrdId: 'K5', origClOrdId: 'K4',
    });
    expectReport(h.venue('K5', ExecType.Canceled, { origClOrdId: 'K4' }), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 100, leavesQty: 0, avgPx: avg(19_000),
      orderQty: 700, clOrdId: 'K5', origClOrdId: 'K4',
    });
    expectReplayMatches(h);
  });

  it('11. a duplicate ClOrdID is refused on a new order and on cancel/replace', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'DUP');
    workingOrder(h, 'OTHER', 500);
    const before = hashExceptSeq(h.core);
    const rejected = h.newOrder({ clOrdId: 'DUP', orderQty: 200 });
    expectReport(rejected, {
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, cumQty: 0, leavesQty: 0, avgPx: 0,
      clOrdId: 'DUP', ordRejReason: RejectCode.DuplicateOrder, orderId: 0,
    });
    expect(RejectCode.DuplicateOrder).toBe(6);
    expect(venueRequests(rejected)).toEqual([]);
    expectCancelReject(cancel(h, 'OTHER', 'DUP'), {
      clOrdId: 'OTHER', origClOrdId: 'DUP', ordStatus: OrdStatus.New, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.DuplicateClOrdId, rejectCode: RejectCode.DuplicateOrder,
    });
    expectCancelReject(replace(h, 'DUP', 'DUP', 800), {
      clOrdId: 'DUP', origClOrdId: 'DUP', ordStatus: OrdStatus.New, cxlRejResponseTo: CxlRejResponseTo.Replace,
      cxlRejReason: CxlRejReason.DuplicateClOrdId, rejectCode: RejectCode.DuplicateOrder,
    });
    expect(CxlRejReason.DuplicateClOrdId).toBe(6);
    expect(hashExceptSeq(h.core)).toBe(before);
    // A ClOrdID used by an earlier (accepted) request stays taken after the order is done.
    expectReport(cancel(h, 'DUP-X', 'DUP'), {
      execType: ExecType.PendingCancel, ordStatus: OrdStatus.PendingCancel, cumQty: 0, leavesQty: 1000, avgPx: 0,
    });
    expectReport(h.venue('DUP-X', ExecType.Canceled, { origClOrdId: 'DUP' }), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 0, leavesQty: 0, avgPx: 0,
    });
    expectReport(h.newOrder({ clOrdId: 'DUP-X' }), {
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, cumQty: 0, leavesQty: 0, avgPx: 0,
      ordRejReason: RejectCode.DuplicateOrder,
    });
    expectReplayMatches(h);
  });

  it('12. IOC: partly filled, then the venue cancels the remainder', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'IOC1', 1000, TimeInForce.IOC);
    expectReport(h.fill('IOC1', 300, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 300, leavesQty: 700, avgPx: avg(19_000),
      timeInForce: TimeInForce.IOC,
    });
    expectReport(h.venue('IOC1', ExecType.Canceled), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 300, leavesQty: 0, avgPx: avg(19_000),
      clOrdId: 'IOC1', origClOrdId: '', orderQty: 1000,
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 300 });
    expectReplayMatches(h);
  });

  it('13. FOK: killed without a fill, or filled in full', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'FOK1', 1000, TimeInForce.FOK);
    expectReport(h.venue('FOK1', ExecType.Canceled), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 0, leavesQty: 0, avgPx: 0,
      clOrdId: 'FOK1', timeInForce: TimeInForce.FOK,
    });
    workingOrder(h, 'FOK2', 1000, TimeInForce.FOK);
    expectReport(h.fill('FOK2', 1000, 19_010), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 1000, leavesQty: 0, avgPx: avg(19_010),
      lastQty: 1000, lastPx: 19_010,
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 1000 });
    expectReplayMatches(h);
  });

  it('14. parent orders expire: GTD on the Tick at or after its expiry, DAY at end of day', () => {
    const h = CoreHarness.withDemoData();
    const expireUs = h.nowUs + 60_000_000;
    const parent = { venueId: 0, accountId: GROWTH };
    expectReport(h.newOrder({ clOrdId: 'GTD1', ...parent, timeInForce: TimeInForce.GTD, expireTimeUs: expireUs }, U.pm), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 1000, avgPx: 0, timeInForce: TimeInForce.GTD,
    });
    expectReport(h.newOrder({ clOrdId: 'DAY1', ...parent }, U.pm), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 1000, avgPx: 0,
    });
    expectReport(h.newOrder({ clOrdId: 'GTC1', ...parent, timeInForce: TimeInForce.GTC }, U.pm), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 1000, avgPx: 0,
    });
    // A GTD whose expiry has passed is refused on entry.
    expectReport(h.newOrder({ clOrdId: 'GTD0', ...parent, timeInForce: TimeInForce.GTD, expireTimeUs: h.nowUs - 1 }, U.pm), {
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, cumQty: 0, leavesQty: 0, avgPx: 0,
      ordRejReason: RejectCode.TooLateToEnter,
    });
    // Only the system may tick.
    expectCommandReject(h.send(U.pm, { type: Command.Tick, kind: TickKind.EndOfDay }), RejectCode.NotAuthorised);

    const early = tick(h, TickKind.Timer, expireUs - 1);
    expect(early.events.map((e) => e.kind)).toEqual(['accepted']);
    const due = tick(h, TickKind.Timer, expireUs);
    expectReport(due, {
      execType: ExecType.Expired, ordStatus: OrdStatus.Expired, cumQty: 0, leavesQty: 0, avgPx: 0, clOrdId: 'GTD1',
    });
    expect(tick(h, TickKind.Timer, expireUs + 1).events.map((e) => e.kind)).toEqual(['accepted']);

    const endOfDay = tick(h, TickKind.EndOfDay, expireUs + 2);
    expectReport(endOfDay, {
      execType: ExecType.Expired, ordStatus: OrdStatus.Expired, cumQty: 0, leavesQty: 0, avgPx: 0, clOrdId: 'DAY1',
    });
    expect(OrdStatus[orderOf(h, 'GTC1').baseStatus]).toBe('New');
    expectCancelReject(cancel(h, 'GTD1-X', 'GTD1', U.pm), {
      clOrdId: 'GTD1-X', origClOrdId: 'GTD1', ordStatus: OrdStatus.Expired, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    expectReplayMatches(h);
  });

  it('14b. venue placements are not expired by the OMS clock: the venue is the authority', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'V1');
    const endOfDay = tick(h, TickKind.EndOfDay, h.nowUs);
    expect(endOfDay.events.map((e) => e.kind)).toEqual(['accepted']);
    expect(OrdStatus[orderOf(h, 'V1').baseStatus]).toBe('New');
    expectReplayMatches(h);
  });

  it('15. the venue expires a working order', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'E1');
    expectReport(h.fill('E1', 250, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 250, leavesQty: 750, avgPx: avg(19_000),
    });
    expectReport(h.venue('E1', ExecType.Expired), {
      execType: ExecType.Expired, ordStatus: OrdStatus.Expired, cumQty: 250, leavesQty: 0, avgPx: avg(19_000),
      clOrdId: 'E1', origClOrdId: '',
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 250 });
    expectCancelReject(cancel(h, 'E1-X', 'E1'), {
      clOrdId: 'E1-X', origClOrdId: 'E1', ordStatus: OrdStatus.Expired, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    expectReplayMatches(h);
  });

  it('16. unsolicited cancel of a working order keeps its ClOrdID (D19)', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'UC1');
    expectReport(h.venue('UC1', ExecType.Canceled, { text: 'venue halted' }), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 0, leavesQty: 0, avgPx: 0,
      clOrdId: 'UC1', origClOrdId: '', orderQty: 1000,
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 0 });
    // A second cancel from the venue for the same order changes nothing.
    const again = h.venue('UC1', ExecType.Canceled);
    expect(CoreHarness.reports(again)).toEqual([]);
    expect(OrdStatus[orderOf(h, 'UC1').baseStatus]).toBe('Canceled');
    expectReplayMatches(h);
  });

  it('17. the venue restates the order smaller', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'RS1');
    expectReport(h.fill('RS1', 200, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 200, leavesQty: 800, avgPx: avg(19_000),
    });
    expectReport(h.venue('RS1', ExecType.Restated, { leavesQty: 500 }), {
      execType: ExecType.Restated, ordStatus: OrdStatus.PartiallyFilled, cumQty: 200, leavesQty: 500,
      avgPx: avg(19_000), orderQty: 700,
    });
    expect(growthBook(h)).toEqual({ openOrders: 1, openBuyQty: 500, positionQty: 200 });
    const before = hashExceptSeq(h.core);
    expectCommandReject(h.fill('RS1', 501, 19_000), RejectCode.Overfill);
    expect(hashExceptSeq(h.core)).toBe(before);
    expectReport(h.fill('RS1', 500, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 700, leavesQty: 0, avgPx: avg(19_000),
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 700 });
    expectReplayMatches(h);
  });

  it('17b. a restatement may not grow a child past what its parent has unplaced', () => {
    const h = CoreHarness.withDemoData();
    const parent = expectReport(h.newOrder({ clOrdId: 'RP', venueId: 0 }, U.pm), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 1000, avgPx: 0,
    });
    workingChild(h, 'RP-A', 'RP', 600);
    workingChild(h, 'RP-B', 'RP', 300);
    // Up by the 100 the parent has unplaced: accepted.
    expectReport(h.venue('RP-A', ExecType.Restated, { leavesQty: 700 }), {
      execType: ExecType.Restated, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 700, avgPx: 0, orderQty: 700,
    });
    expect(orderOf(h, 'RP').childCommittedQty).toBe(1000);
    // Beyond it: refused and flagged, nothing changes.
    const before = hashExceptSeq(h.core);
    expectCommandReject(h.venue('RP-B', ExecType.Restated, { leavesQty: 400 }), RejectCode.ParentQtyExceeded);
    expect(hashExceptSeq(h.core)).toBe(before);
    expectReport(h.fill('RP-A', 700, 19_000), {
      orderId: parent.orderId, execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 700,
      leavesQty: 300, avgPx: avg(19_000),
    });
    expectCommandReject(h.fill('RP-B', 400, 19_000), RejectCode.Overfill);
    expectReport(h.fill('RP-B', 300, 19_000), {
      orderId: parent.orderId, execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 1000, leavesQty: 0,
      avgPx: avg(19_000),
    });
    expectReplayMatches(h);
  });

  it('18. a resent venue execution is ignored and an overfill is refused; neither changes the state', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'EX1');
    expectReport(h.fill('EX1', 600, 19_000, 'E-1'), {
      execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 600, leavesQty: 400, avgPx: avg(19_000),
    });
    const before = hashExceptSeq(h.core);
    expectCommandReject(h.fill('EX1', 600, 19_000, 'E-1'), RejectCode.DuplicateExecId);
    expect(hashExceptSeq(h.core)).toBe(before);
    expectCommandReject(h.fill('EX1', 401, 19_000, 'E-2'), RejectCode.Overfill);
    expect(hashExceptSeq(h.core)).toBe(before);
    // The refused execution's id was not consumed: the venue's corrected report under it applies.
    expectReport(h.fill('EX1', 400, 19_030, 'E-2'), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 1000, leavesQty: 0, avgPx: avg(19_012),
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 1000 });
    expectReplayMatches(h);
  });

  it('19. parent and children: placement limit, roll-up of CumQty/AvgPx, cancel only once children are done', () => {
    const h = CoreHarness.withDemoData();
    const parent = expectReport(h.newOrder({ clOrdId: 'PAR1', venueId: 0 }, U.pm), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 1000, avgPx: 0, orderQty: 1000,
    });
    expect(growthBook(h).openBuyQty).toBe(0); // a parent's risk is carried by its placements
    const child = (clOrdId: string, orderQty: number): CommandResultData =>
      h.newOrder({ clOrdId, orderQty, parentClOrdId: 'PAR1', venueId: SIM });
    const a = expectReport(child('CH-A', 600), {
      execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew, cumQty: 0, leavesQty: 600, avgPx: 0,
    });
    expect(a.parentOrderId).toBe(parent.orderId);
    expectReport(child('CH-B', 300), {
      execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew, cumQty: 0, leavesQty: 300, avgPx: 0,
    });
    expectReport(child('CH-C', 200), {
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, cumQty: 0, leavesQty: 0, avgPx: 0,
      ordRejReason: RejectCode.ParentQtyExceeded,
    });
    expectReport(h.venue('CH-A', ExecType.New), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 600, avgPx: 0,
    });
    expectReport(h.venue('CH-B', ExecType.New), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 300, avgPx: 0,
    });

    const fillA = h.fill('CH-A', 600, 19_000);
    expect(CoreHarness.reports(fillA)).toHaveLength(2);
    expectReport(fillA, {
      orderId: a.orderId, execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 600, leavesQty: 0,
      avgPx: avg(19_000),
    });
    expectReport(fillA, {
      orderId: parent.orderId, execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 600,
      leavesQty: 400, avgPx: avg(19_000), lastQty: 600, lastPx: 19_000, clOrdId: 'PAR1',
    });
    const fillB = h.fill('CH-B', 100, 19_020);
    expectReport(fillB, {
      orderId: parent.orderId, execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 700,
      leavesQty: 300, avgPx: 19_002_857_143, // (600 x 190.00 + 100 x 190.20) / 700
    });

    // The parent cannot be cancelled under a working child.
    expectCancelReject(cancel(h, 'PAR1-X', 'PAR1', U.pm), {
      clOrdId: 'PAR1-X', origClOrdId: 'PAR1', ordStatus: OrdStatus.PartiallyFilled,
      cxlRejResponseTo: CxlRejResponseTo.Cancel, cxlRejReason: CxlRejReason.Other, rejectCode: RejectCode.OrderPending,
    });
    expectReport(cancel(h, 'CH-B-X', 'CH-B'), {
      execType: ExecType.PendingCancel, ordStatus: OrdStatus.PendingCancel, cumQty: 100, leavesQty: 200,
      avgPx: avg(19_020), clOrdId: 'CH-B-X', origClOrdId: 'CH-B',
    });
    expectReport(h.venue('CH-B-X', ExecType.Canceled, { origClOrdId: 'CH-B' }), {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 100, leavesQty: 0, avgPx: avg(19_020),
    });
    const par = orderOf(h, 'PAR1');
    expect({ committed: par.childCommittedQty, openChildren: par.openChildCount }).toEqual({ committed: 700, openChildren: 0 });
    // Once its children are done the parent cancels at once (it is held by the OMS, not a venue).
    const cancelled = cancel(h, 'PAR1-X', 'PAR1', U.pm);
    expect(venueRequests(cancelled)).toEqual([]);
    expectReport(cancelled, {
      execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 700, leavesQty: 0, avgPx: 19_002_857_143,
      clOrdId: 'PAR1-X', origClOrdId: 'PAR1', orderId: parent.orderId,
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 700 });
    expectReplayMatches(h);
  });

  it('19b. children that fill the whole parent leave it Filled', () => {
    const h = CoreHarness.withDemoData();
    const parent = expectReport(h.newOrder({ clOrdId: 'PAR2', venueId: 0, orderQty: 500 }, U.pm), {
      execType: ExecType.New, ordStatus: OrdStatus.New, cumQty: 0, leavesQty: 500, avgPx: 0,
    });
    for (const [clOrdId, qty] of [['K-A', 200], ['K-B', 300]] as const) {
      expectReport(h.newOrder({ clOrdId, orderQty: qty, parentClOrdId: 'PAR2' }), {
        execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew, cumQty: 0, leavesQty: qty, avgPx: 0,
      });
    }
    // Fully placed: nothing more fits.
    expectReport(h.newOrder({ clOrdId: 'K-C', orderQty: 1, parentClOrdId: 'PAR2' }), {
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, cumQty: 0, leavesQty: 0, avgPx: 0,
      ordRejReason: RejectCode.ParentQtyExceeded,
    });
    expectReport(h.fill('K-A', 200, 19_000), {
      orderId: parent.orderId, execType: ExecType.Trade, ordStatus: OrdStatus.PartiallyFilled, cumQty: 200,
      leavesQty: 300, avgPx: avg(19_000),
    });
    expectReport(h.fill('K-B', 300, 19_010), {
      orderId: parent.orderId, execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 500, leavesQty: 0,
      avgPx: avg(19_006),
    });
    const par = orderOf(h, 'PAR2');
    expect(h.core.state.openOrders.has(par)).toBe(false);
    expect(par.openChildCount).toBe(0);
    expectCancelReject(cancel(h, 'PAR2-X', 'PAR2', U.pm), {
      clOrdId: 'PAR2-X', origClOrdId: 'PAR2', ordStatus: OrdStatus.Filled, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    expect(growthBook(h)).toEqual({ openOrders: 0, openBuyQty: 0, positionQty: 500 });
    expectReplayMatches(h);
  });

  it('20. cancel or replace of an unknown order: UnknownOrder', () => {
    const h = CoreHarness.withDemoData();
    workingOrder(h, 'KNOWN');
    const before = hashExceptSeq(h.core);
    const unknown = expectCancelReject(cancel(h, 'NX-1', 'NOPE'), {
      clOrdId: 'NX-1', origClOrdId: 'NOPE', ordStatus: OrdStatus.Rejected, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.UnknownOrder, rejectCode: RejectCode.UnknownOrder,
    });
    expect(unknown.orderId).toBe(0);
    expectCancelReject(replace(h, 'NX-2', 'NOPE', 100), {
      clOrdId: 'NX-2', origClOrdId: 'NOPE', ordStatus: OrdStatus.Rejected, cxlRejResponseTo: CxlRejResponseTo.Replace,
      cxlRejReason: CxlRejReason.UnknownOrder, rejectCode: RejectCode.UnknownOrder,
    });
    // An order of another account is unknown to a request naming that account.
    expectCancelReject(cancel(h, 'NX-3', 'KNOWN', U.trader, DEMO.accounts.INCOME), {
      clOrdId: 'NX-3', origClOrdId: 'KNOWN', ordStatus: OrdStatus.Rejected, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.UnknownOrder,
    });
    expect(hashExceptSeq(h.core)).toBe(before);
    // Venue messages about orders the OMS never sent are refused too.
    expectCommandReject(h.fill('NOPE', 100, 19_000), RejectCode.UnknownOrder);
    expectReplayMatches(h);
  });

  it('sell side mirrors the book: open sell quantity follows the order', () => {
    const h = CoreHarness.withDemoData();
    expectReport(h.newOrder({ clOrdId: 'S1', side: Side.Sell, orderQty: 300 }), {
      execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew, cumQty: 0, leavesQty: 300, avgPx: 0,
    });
    expectReport(h.fill('S1', 300, 19_000), {
      execType: ExecType.Trade, ordStatus: OrdStatus.Filled, cumQty: 300, leavesQty: 0, avgPx: avg(19_000),
    });
    const position = h.core.state.positions.get(positionKey(GROWTH, AAPL));
    expect({ qty: position?.qty, openSellQty: position?.openSellQty }).toEqual({ qty: -300, openSellQty: 0 });
    expectReplayMatches(h);
  });
  it('5b. a venue Canceled after the order filled leaves it Filled and answers the cancel as too late', () => {
    const h = CoreHarness.withDemoData();
    h.newOrder({ clOrdId: 'F1', orderQty: 500 });
    h.venue('F1', ExecType.New);
    h.send(U.trader, { type: Command.CancelOrder, clOrdId: 'F1-c', origClOrdId: 'F1', accountId: 0 });
    h.fill('F1', 500, 19_000);
    const result = h.venue('F1', ExecType.Canceled, { clOrdId: 'F1-c', origClOrdId: 'F1' });
    expectCancelReject(result, {
      clOrdId: 'F1-c', origClOrdId: 'F1', ordStatus: OrdStatus.Filled, cxlRejResponseTo: CxlRejResponseTo.Cancel,
      cxlRejReason: CxlRejReason.TooLateToCancel,
    });
    const order = h.core.state.ordersByClOrdId.get('F1');
    expect({ status: order?.baseStatus, cum: order?.cumQty, pending: order?.pending }).toEqual({ status: OrdStatus.Filled, cum: 500, pending: null });
    expectReplayMatches(h);
  });

  it('2b. a venue reject carries the venue\'s reason code and text to the client', () => {
    const h = CoreHarness.withDemoData();
    h.newOrder({ clOrdId: 'R1' });
    expectReport(h.venue('R1', ExecType.Rejected, { ordRejReason: RejectCode.ExchangeClosed, text: 'market closed' }), {
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, cumQty: 0, leavesQty: 0, avgPx: 0,
      ordRejReason: RejectCode.ExchangeClosed,
    });
    expectReplayMatches(h);
  });
  it('16b. an unsolicited venue cancel answers a pending replace as too late; the venue\'s late reject is then ignored', () => {
    const h = CoreHarness.withDemoData();
    h.newOrder({ clOrdId: 'I1', timeInForce: TimeInForce.IOC, orderQty: 1000 });
    h.venue('I1', ExecType.New);
    h.fill('I1', 400, 19_000);
    h.send(U.trader, { type: Command.ReplaceOrder, clOrdId: 'I2', origClOrdId: 'I1', accountId: 0, orderQty: 800, price: 19_000, stopPx: 0, timeInForce: TimeInForce.IOC, expireTimeUs: 0 });
    const result = h.venue('I1', ExecType.Canceled);
    const [report] = CoreHarness.reports(result);
    expect({ execType: report.execType, ordStatus: report.ordStatus, cumQty: report.cumQty, leavesQty: report.leavesQty, avgPx: report.avgPx, clOrdId: report.clOrdId })
      .toEqual({ execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled, cumQty: 400, leavesQty: 0, avgPx: avg(19_000), clOrdId: 'I1' });
    const rejects = result.events.filter((e): e is OrderCancelRejectData => e.kind === 'cancel_reject');
    expect(rejects.map((r) => ({ cl: r.clOrdId, orig: r.origClOrdId, to: r.cxlRejResponseTo, reason: r.cxlRejReason }))).toEqual([
      { cl: 'I2', orig: 'I1', to: CxlRejResponseTo.Replace, reason: CxlRejReason.TooLateToCancel },
    ]);
    const before = hashExceptSeq(h.core);
    const late = h.send(U.venue, { type: Command.VenueCancelReject, venueId: SIM, clOrdId: 'I2', origClOrdId: 'I1', cxlRejResponseTo: CxlRejResponseTo.Replace, cxlRejReason: CxlRejReason.TooLateToCancel, text: '' });
    expect(late.events).toEqual([]);
    expect(hashExceptSeq(h.core)).toBe(before);
    expectReplayMatches(h);
  });
});
