// The simulated venue against the real core, in-process: every VenueRequest the core emits goes to the
// SimulatedVenue, and every command the venue emits goes back into the core as the Venue-role user, exactly
// as the gateway's venue adapter would do it. Time is a manual clock, so each scenario is exact.

import { describe, expect, it } from 'vitest';
import {
  Command, CxlRejReason, CxlRejResponseTo, ExecType, OrdStatus, OrdType, RejectCode, Side, TimeInForce,
  VenueRequestKind,
} from '../schemas/generated/oms_generated.js';
import type { CancelOrderCmd, CommandBody, NewOrderCmd, ReplaceOrderCmd } from '../schemas/commands.js';
import type {
  CommandRejectData, CommandResultData, ExecutionReportData, OrderCancelRejectData, VenueRequestData,
} from '../schemas/results.js';
import { DEMO } from '../core/demo.js';
import { AVG_PX_EXTRA_DIGITS } from '../core/fixed.js';
import { isTerminal } from '../core/model.js';
import { Prng } from '../gateway/prng.js';
import type { SimVenueCommand, SimVenueOptions } from '../gateway/sim-venue.js';
import { ManualScheduler, SIM_VENUE_DEFAULTS, SimulatedVenue } from '../gateway/sim-venue.js';
import { CoreHarness, T0_US } from './support/core-harness.js';

const U = DEMO.users;
const SIM = DEMO.venues.SIM;
const AAPL = DEMO.instruments.AAPL;
const GROWTH = DEMO.accounts.GROWTH;
/** Venue commands delivered per pump at most: a venue that answers forever is a bug. */
const DELIVERIES_PER_PUMP_MAX = 10_000;

// ---- the loop: core <-> venue ---------------------------------------------------------------------------------

/** A real core and a simulated venue wired together the way the gateway wires them, on a manual clock. */
class VenueLoop {
  readonly h = CoreHarness.withDemoData();
  readonly scheduler = new ManualScheduler();
  readonly venue: SimulatedVenue;
  /** Every command the venue emitted, in order. */
  readonly emitted: SimVenueCommand[] = [];
  /** The core's result for every venue command delivered. */
  readonly venueResults: CommandResultData[] = [];
  /** Every execution report the core produced, trader and venue commands alike. */
  readonly reports: ExecutionReportData[] = [];
  /** While true, venue answers wait in the queue (a slow link): used to cross a cancel with a fill. */
  hold = false;
  private readonly queue: SimVenueCommand[] = [];

  constructor(options: Partial<SimVenueOptions>) {
    this.venue = new SimulatedVenue(
      { venue_id: SIM, ...options },
      (command) => {
        this.emitted.push(command);
        this.queue.push(command);
      },
      (instrumentId) => this.h.core.state.instruments.get(instrumentId)?.markPx ?? 0,
      this.scheduler,
    );
  }

  private nowUs(): number {
    return T0_US + this.scheduler.now_ms * 1_000;
  }

  /** Sends a trader/admin command, hands its venue requests to the venue and delivers the answers. */
  send(userId: number, command: CommandBody): CommandResultData {
    const result = this.record(this.h.send(userId, command, this.nowUs()));
    this.route(result);
    if (!this.hold) this.deliver();
    return result;
  }

  newOrder(partial: Partial<NewOrderCmd> & { clOrdId: string }): CommandResultData {
    return this.send(U.trader, {
      type: Command.NewOrder, accountId: GROWTH, instrumentId: AAPL, side: Side.Buy, ordType: OrdType.Limit,
      timeInForce: TimeInForce.Day, orderQty: 1000, price: 19_000, stopPx: 0, expireTimeUs: 0, parentClOrdId: '',
      venueId: SIM, text: '', ...partial,
    });
  }

  cancel(clOrdId: string, origClOrdId: string): CommandResultData {
    const command: CancelOrderCmd = { type: Command.CancelOrder, clOrdId, origClOrdId, accountId: GROWTH };
    return this.send(U.trader, command);
  }

  replace(clOrdId: string, origClOrdId: string, orderQty: number, price: number): CommandResultData {
    const command: ReplaceOrderCmd = {
      type: Command.ReplaceOrder, clOrdId, origClOrdId, accountId: GROWTH, orderQty, price, stopPx: 0,
      timeInForce: TimeInForce.Day, expireTimeUs: 0,
    };
    return this.send(U.trader, command);
  }

  /** Submits every queued venue command to the core as the Venue user, in order; returns their results. */
  deliver(): CommandResultData[] {
    const results: CommandResultData[] = [];
    for (let i = 0; this.queue.length > 0; i++) {
      if (i >= DELIVERIES_PER_PUMP_MAX) throw new Error('invariant: the venue keeps answering');
      const command = this.queue.shift() as SimVenueCommand;
      const result = this.record(this.h.send(U.venue, command, this.nowUs()));
      this.venueResults.push(result);
      results.push(result);
      this.route(result);
    }
    return results;
  }

  /** Moves time forward timer by timer, delivering what each one produced at the time it fired. */
  advance(delta_ms: number): void {
    const target_ms = this.scheduler.now_ms + delta_ms;
    for (let step = 0; ; step++) {
      if (step > 1_000_000) throw new Error('invariant: advance does not converge');
      const due_ms = this.scheduler.nextDueMs();
      if (due_ms === null || due_ms > target_ms) break;
      this.scheduler.advance(due_ms - this.scheduler.now_ms);
      if (!this.hold) this.deliver();
    }
    this.scheduler.advance(target_ms - this.scheduler.now_ms);
  }

  /** Runs the clock until no fill timer is left (every resting order has filled). */
  drain(steps_max = 100_000): void {
    for (let step = 0; this.scheduler.pendingCount() > 0; step++) {
      if (step >= steps_max) throw new Error('invariant: the venue does not drain');
      this.advance((this.scheduler.nextDueMs() as number) - this.scheduler.now_ms);
    }
  }

  /** The core's last execution report of an order, by any of its ClOrdIDs. */
  last(clOrdId: string): ExecutionReportData {
    const order = this.h.core.state.ordersByClOrdId.get(clOrdId);
    if (order === undefined) throw new Error(`no order ${clOrdId}`);
    const mine = this.reports.filter((r) => r.orderId === order.orderId);
    if (mine.length === 0) throw new Error(`no report for ${clOrdId}`);
    return mine[mine.length - 1];
  }

  /** Refusals of venue commands: the venue must never send something the core cannot apply. */
  venueCommandRejects(): CommandRejectData[] {
    return this.venueResults.flatMap((r) => r.events.filter((e): e is CommandRejectData => e.kind === 'command_reject'));
  }

  private record(result: CommandResultData): CommandResultData {
    for (const e of result.events) if (e.kind === 'execution_report') this.reports.push(e);
    return result;
  }

  private route(result: CommandResultData): void {
    for (const e of result.events) if (e.kind === 'venue_request') this.venue.handle(e);
  }
}

const reportsOf = (results: CommandResultData[]): ExecutionReportData[] =>
  results.flatMap((r) => r.events.filter((e): e is ExecutionReportData => e.kind === 'execution_report'));

const cancelRejectsOf = (results: CommandResultData[]): OrderCancelRejectData[] =>
  results.flatMap((r) => r.events.filter((e): e is OrderCancelRejectData => e.kind === 'cancel_reject'));

/** AvgPx as the core reports it: exact notional / qty, x 10^AVG_PX_EXTRA_DIGITS, rounded half-up. */
function avgPx(fills: Array<[qty: number, px: number]>): number {
  let notional = 0n;
  let qty = 0n;
  for (const [q, p] of fills) {
    notional += BigInt(q) * BigInt(p);
    qty += BigInt(q);
  }
  const scaled = notional * 10n ** BigInt(AVG_PX_EXTRA_DIGITS);
  return Number((2n * scaled + qty) / (2n * qty));
}

const RESTING = { reject_probability: 0, full_fill_probability: 0, fill_slices: 4, slice_interval_ms: 100 } as const;
const IMMEDIATE = { reject_probability: 0, full_fill_probability: 1 } as const;

// ---- scenarios --------------------------------------------------------------------------------------------------

describe('simulated venue: acknowledgement and fills', () => {
  it('acknowledges and fills a limit order at once, at its limit', () => {
    const loop = new VenueLoop(IMMEDIATE);
    loop.newOrder({ clOrdId: 'A1', orderQty: 1000, price: 19_010 });
    const seen = loop.reports.map((r) => [ExecType[r.execType], OrdStatus[r.ordStatus], r.cumQty, r.leavesQty]);
    expect(seen).toEqual([['PendingNew', 'PendingNew', 0, 1000], ['New', 'New', 0, 1000], ['Trade', 'Filled', 1000, 0]]);
    const last = loop.last('A1');
    expect(last.avgPx).toBe(19_010 * 10 ** AVG_PX_EXTRA_DIGITS);
    expect(last.venueExecId).toBe('SIM-2');
    expect(loop.venue.openOrderCount()).toBe(0);
    expect(loop.venueCommandRejects()).toEqual([]);
  });

  it('fills a market order at the reference price the caller gives (the mark)', () => {
    const loop = new VenueLoop(IMMEDIATE);
    loop.send(U.admin, { type: Command.SetMark, instrumentId: AAPL, price: 19_050 });
    loop.newOrder({ clOrdId: 'M1', ordType: OrdType.Market, price: 0, orderQty: 300 });
    const last = loop.last('M1');
    expect([OrdStatus[last.ordStatus], last.cumQty, last.lastPx]).toEqual(['Filled', 300, 19_050]);
    expect(last.avgPx).toBe(19_050 * 10 ** AVG_PX_EXTRA_DIGITS);
  });

  it('fills in slices over time: PartiallyFilled at each interval, then Filled', () => {
    const loop = new VenueLoop(RESTING);
    loop.newOrder({ clOrdId: 'P1', orderQty: 1001 });
    expect(OrdStatus[loop.last('P1').ordStatus]).toBe('New');
    loop.advance(99);
    expect(OrdStatus[loop.last('P1').ordStatus]).toBe('New');
    const steps: Array<[string, number, number]> = [];
    for (let i = 0; i < 4; i++) {
      loop.advance(i === 0 ? 1 : 100);
      const r = loop.last('P1');
      steps.push([OrdStatus[r.ordStatus], r.lastQty, r.cumQty]);
    }
    // Equal shares of what is left over the slices still to come: ceil(1001/4), ceil(750/3), ...
    expect(steps).toEqual([['PartiallyFilled', 251, 251], ['PartiallyFilled', 250, 501], ['PartiallyFilled', 250, 751], ['Filled', 250, 1001]]);
    expect(loop.last('P1').avgPx).toBe(19_000 * 10 ** AVG_PX_EXTRA_DIGITS);
    expect(loop.scheduler.pendingCount()).toBe(0);
    expect(loop.venue.openOrderCount()).toBe(0);
  });
});

describe('simulated venue: rejects', () => {
  it('rejects every order at reject_probability 1, with a reason code and text', () => {
    const loop = new VenueLoop({ ...IMMEDIATE, reject_probability: 1 });
    loop.newOrder({ clOrdId: 'R1' });
    const last = loop.last('R1');
    expect([ExecType[last.execType], OrdStatus[last.ordStatus], last.cumQty]).toEqual(['Rejected', 'Rejected', 0]);
    expect(RejectCode[last.ordRejReason]).toBe('BrokerOption');
    expect(last.text).toContain('random reject');
    expect(loop.venue.openOrderCount()).toBe(0);
  });

  it('rejects stop and stop-limit orders as unsupported', () => {
    const loop = new VenueLoop(IMMEDIATE);
    loop.newOrder({ clOrdId: 'S1', ordType: OrdType.Stop, price: 0, stopPx: 19_100 });
    loop.newOrder({ clOrdId: 'S2', ordType: OrdType.StopLimit, price: 19_150, stopPx: 19_100 });
    for (const id of ['S1', 'S2']) {
      const last = loop.last(id);
      expect([OrdStatus[last.ordStatus], RejectCode[last.ordRejReason]]).toEqual(['Rejected', 'UnsupportedOrderCharacteristic']);
      expect(last.text).toContain('stop orders are not supported');
    }
  });

  it('rejects new orders beyond open_orders_max with a clear text', () => {
    const loop = new VenueLoop({ ...RESTING, open_orders_max: 2 });
    loop.newOrder({ clOrdId: 'L1' });
    loop.newOrder({ clOrdId: 'L2' });
    loop.newOrder({ clOrdId: 'L3' });
    expect(['L1', 'L2', 'L3'].map((id) => OrdStatus[loop.last(id).ordStatus])).toEqual(['New', 'New', 'Rejected']);
    expect(RejectCode[loop.last('L3').ordRejReason]).toBe('ExceedsLimit');
    expect(loop.last('L3').text).toBe('SIM: venue open-order limit 2 reached');
    loop.drain();
    loop.newOrder({ clOrdId: 'L4' });
    expect(OrdStatus[loop.last('L4').ordStatus]).toBe('New');
  });
});

describe('simulated venue: cancel and replace', () => {
  it('cancels a working order: Canceled answering the cancel ClOrdID, no fills after', () => {
    const loop = new VenueLoop(RESTING);
    loop.newOrder({ clOrdId: 'C1', orderQty: 1000 });
    loop.advance(100);
    loop.cancel('C1-x', 'C1');
    const last = loop.last('C1');
    expect([ExecType[last.execType], OrdStatus[last.ordStatus], last.cumQty, last.leavesQty]).toEqual(['Canceled', 'Canceled', 250, 0]);
    expect([last.clOrdId, last.origClOrdId]).toEqual(['C1-x', 'C1']);
    expect(loop.scheduler.pendingCount()).toBe(0);
    loop.advance(10_000);
    expect(loop.last('C1').cumQty).toBe(250);
    expect(loop.venueCommandRejects()).toEqual([]);
  });

  it('a cancel after the full fill is refused by the core itself as too late (no venue request)', () => {
    const loop = new VenueLoop(IMMEDIATE);
    loop.newOrder({ clOrdId: 'F1' });
    const result = loop.cancel('F1-x', 'F1');
    expect(result.events.some((e) => e.kind === 'venue_request')).toBe(false);
    expect(cancelRejectsOf([result]).map((e) => CxlRejReason[e.cxlRejReason])).toEqual(['TooLateToCancel']);
  });

  it('a cancel that crosses the last fill is answered TooLateToCancel by the venue', () => {
    const loop = new VenueLoop({ ...RESTING, fill_slices: 1 });
    loop.newOrder({ clOrdId: 'X1', orderQty: 500 });
    loop.hold = true;
    loop.advance(100); // the venue fills; the report is still on the wire
    const cancelResult = loop.cancel('X1-x', 'X1');
    const request = cancelResult.events.find((e): e is VenueRequestData => e.kind === 'venue_request');
    expect(request?.requestKind).toBe(VenueRequestKind.Cancel);
    const results = loop.deliver();
    const reports = reportsOf(results);
    expect(reports.map((r) => [ExecType[r.execType], r.cumQty])).toEqual([['Trade', 500]]);
    const rejects = cancelRejectsOf(results);
    expect(rejects.map((e) => [CxlRejResponseTo[e.cxlRejResponseTo], CxlRejReason[e.cxlRejReason], OrdStatus[e.ordStatus], e.clOrdId]))
      .toEqual([['Cancel', 'TooLateToCancel', 'Filled', 'X1-x']]);
    expect(loop.h.core.state.ordersByClOrdId.get('X1')?.pending).toBeNull();
    expect(loop.venueCommandRejects()).toEqual([]);
  });

  it('replaces a working order: Replaced with the new quantity and price, later fills at the new price', () => {
    const loop = new VenueLoop(RESTING);
    loop.newOrder({ clOrdId: 'Q1', orderQty: 1000 });
    loop.advance(100);
    loop.replace('Q2', 'Q1', 1200, 19_010);
    const replaced = loop.last('Q2');
    expect([ExecType[replaced.execType], OrdStatus[replaced.ordStatus], replaced.orderQty, replaced.price, replaced.cumQty, replaced.leavesQty])
      .toEqual(['Replaced', 'PartiallyFilled', 1200, 19_010, 250, 950]);
    expect([replaced.clOrdId, replaced.origClOrdId]).toEqual(['Q2', 'Q1']);
    loop.drain();
    const last = loop.last('Q2');
    expect([OrdStatus[last.ordStatus], last.cumQty]).toEqual(['Filled', 1200]);
    expect(last.avgPx).toBe(avgPx([[250, 19_000], [950, 19_010]]));
    expect(loop.venueCommandRejects()).toEqual([]);
  });

  it('replacing down to the filled quantity completes the order', () => {
    const loop = new VenueLoop(RESTING);
    loop.newOrder({ clOrdId: 'D1', orderQty: 1000 });
    loop.advance(100);
    loop.replace('D2', 'D1', 250, 19_000);
    const last = loop.last('D2');
    expect([ExecType[last.execType], OrdStatus[last.ordStatus], last.cumQty, last.leavesQty]).toEqual(['Replaced', 'Filled', 250, 0]);
    expect(loop.venue.openOrderCount()).toBe(0);
    expect(loop.scheduler.pendingCount()).toBe(0);
  });

  it('a replace that crosses the last fill is answered by the venue (response to Replace)', () => {
    const loop = new VenueLoop({ ...RESTING, fill_slices: 1 });
    loop.newOrder({ clOrdId: 'Y1', orderQty: 500 });
    loop.hold = true;
    loop.advance(100);
    loop.replace('Y2', 'Y1', 800, 19_000);
    const results = loop.deliver();
    expect(cancelRejectsOf(results).map((e) => [CxlRejResponseTo[e.cxlRejResponseTo], CxlRejReason[e.cxlRejReason], OrdStatus[e.ordStatus]]))
      .toEqual([['Replace', 'TooLateToCancel', 'Filled']]);
    const order = loop.h.core.state.ordersByClOrdId.get('Y1');
    expect([order?.orderQty, order?.cumQty, order?.pending]).toEqual([500, 500, null]);
  });
});

describe('simulated venue: IOC and FOK', () => {
  it('IOC fills what is immediately fillable, then cancels the rest (unsolicited)', () => {
    const loop = new VenueLoop(RESTING);
    loop.newOrder({ clOrdId: 'I1', orderQty: 1000, timeInForce: TimeInForce.IOC });
    const seen = loop.reports.map((r) => [ExecType[r.execType], OrdStatus[r.ordStatus], r.cumQty, r.clOrdId]);
    expect(seen).toEqual([
      ['PendingNew', 'PendingNew', 0, 'I1'], ['New', 'New', 0, 'I1'], ['Trade', 'PartiallyFilled', 250, 'I1'], ['Canceled', 'Canceled', 250, 'I1'],
    ]);
    expect(loop.scheduler.pendingCount()).toBe(0);
    expect(loop.venue.openOrderCount()).toBe(0);
  });

  it('IOC fills in full when the model fills at once', () => {
    const loop = new VenueLoop(IMMEDIATE);
    loop.newOrder({ clOrdId: 'I2', orderQty: 1000, timeInForce: TimeInForce.IOC });
    expect([OrdStatus[loop.last('I2').ordStatus], loop.last('I2').cumQty]).toEqual(['Filled', 1000]);
  });

  it('FOK is all or nothing', () => {
    const miss = new VenueLoop(RESTING);
    miss.newOrder({ clOrdId: 'K1', orderQty: 1000, timeInForce: TimeInForce.FOK });
    expect(miss.reports.map((r) => [ExecType[r.execType], r.cumQty])).toEqual([['PendingNew', 0], ['New', 0], ['Canceled', 0]]);
    const hit = new VenueLoop(IMMEDIATE);
    hit.newOrder({ clOrdId: 'K2', orderQty: 1000, timeInForce: TimeInForce.FOK });
    expect(hit.reports.filter((r) => r.execType === ExecType.Trade).map((r) => r.lastQty)).toEqual([1000]);
    expect(OrdStatus[hit.last('K2').ordStatus]).toBe('Filled');
  });
});

// ---- random runs ------------------------------------------------------------------------------------------------

interface RunOutcome {
  loop: VenueLoop;
  clOrdIds: string[];
}

/**
 * A random session: `orders` new orders of every kind, random cancels, replaces, mark moves and time steps.
 * The scenario's own PRNG (`scenario_seed`) is separate from the venue's, so runs differ only by the venue.
 */
function randomRun(venue_seed: number, orders: number, scenario_seed = 7): RunOutcome {
  const loop = new VenueLoop({ seed: venue_seed, reject_probability: 0.05, full_fill_probability: 0.3, fill_slices: 3, slice_interval_ms: 50 });
  const rnd = new Prng(scenario_seed);
  const clOrdIds: string[] = [];
  let changes = 0;
  for (let i = 0; i < orders; i++) {
    const clOrdId = `N${i}`;
    clOrdIds.push(clOrdId);
    loop.newOrder(randomOrder(rnd, clOrdId));
    if (rnd.chance(0.3)) changes += randomChange(loop, rnd, clOrdIds, changes) ? 1 : 0;
    if (rnd.chance(0.05)) loop.send(U.admin, { type: Command.SetMark, instrumentId: AAPL, price: rnd.int(18_900, 19_100) });
    loop.advance(rnd.int(0, 80));
  }
  loop.drain();
  return { loop, clOrdIds };
}

function randomOrder(rnd: Prng, clOrdId: string): Partial<NewOrderCmd> & { clOrdId: string } {
  const roll = rnd.nextFloat();
  const ordType = roll < 0.8 ? OrdType.Limit : roll < 0.95 ? OrdType.Market : OrdType.Stop;
  return {
    clOrdId, ordType, side: rnd.pick([Side.Buy, Side.Sell, Side.SellShort]),
    timeInForce: rnd.pick([TimeInForce.Day, TimeInForce.GTC, TimeInForce.Day, TimeInForce.IOC, TimeInForce.FOK]),
    orderQty: rnd.int(1, 100) * 7, price: ordType === OrdType.Limit ? rnd.int(18_800, 19_200) : 0,
    stopPx: ordType === OrdType.Stop ? 19_100 : 0,
  };
}

/** Cancels or replaces one random order that is still working in the core; false when none is. */
function randomChange(loop: VenueLoop, rnd: Prng, clOrdIds: string[], serial: number): boolean {
  const order = loop.h.core.state.ordersByClOrdId.get(rnd.pick(clOrdIds));
  if (order === undefined || isTerminal(order.baseStatus) || order.pending !== null) return false;
  const clOrdId = `${order.clOrdId}.${serial}`;
  if (rnd.chance(0.5)) {
    loop.cancel(clOrdId, order.clOrdId);
  } else {
    const price = order.ordType === OrdType.Limit ? rnd.int(18_800, 19_200) : 0;
    loop.replace(clOrdId, order.clOrdId, order.cumQty + rnd.int(0, 300), price);
  }
  return true;
}

describe('simulated venue: determinism and a long random run', () => {
  it('the same seed gives the same reports and state; another seed differs', () => {
    const a = randomRun(42, 60);
    const b = randomRun(42, 60);
    const c = randomRun(43, 60);
    expect(JSON.stringify(b.loop.emitted)).toBe(JSON.stringify(a.loop.emitted));
    expect(b.loop.h.core.hash()).toBe(a.loop.h.core.hash());
    expect(c.loop.h.core.hash()).not.toBe(a.loop.h.core.hash());
  });

  it('300 random orders: the core refuses nothing the venue sent, and every order ends done', () => {
    const { loop, clOrdIds } = randomRun(2026, 300);
    expect(loop.venueCommandRejects()).toEqual([]);
    expect(loop.venue.openOrderCount()).toBe(0);
    expect(loop.scheduler.pendingCount()).toBe(0);
    const statuses = new Map<string, number>();
    for (const clOrdId of clOrdIds) {
      const order = loop.h.core.state.ordersByClOrdId.get(clOrdId);
      if (order === undefined) throw new Error(`order ${clOrdId} missing`);
      expect(isTerminal(order.baseStatus), `${clOrdId} is ${OrdStatus[order.baseStatus]}`).toBe(true);
      expect(order.pending).toBeNull();
      expect(order.cumQty).toBeLessThanOrEqual(order.orderQty);
      statuses.set(OrdStatus[order.baseStatus], (statuses.get(OrdStatus[order.baseStatus]) ?? 0) + 1);
    }
    // The run exercised every outcome, not just one.
    for (const status of ['Filled', 'Canceled', 'Rejected']) expect(statuses.get(status) ?? 0).toBeGreaterThan(10);
    expect(loop.reports.some((r) => r.execType === ExecType.Replaced)).toBe(true);
    expect(loop.h.core.state.openOrders.size).toBe(0);
    expect(loop.h.replayed().hash()).toBe(loop.h.core.hash());
  });
});

describe('simulated venue: lifecycle and options', () => {
  it('close() cancels pending timers; nothing is emitted afterwards', () => {
    const loop = new VenueLoop(RESTING);
    loop.newOrder({ clOrdId: 'Z1' });
    loop.newOrder({ clOrdId: 'Z2' });
    expect(loop.scheduler.pendingCount()).toBe(2);
    const emittedBefore = loop.emitted.length;
    loop.venue.close();
    expect(loop.scheduler.pendingCount()).toBe(0);
    loop.advance(10_000);
    loop.newOrder({ clOrdId: 'Z3' });
    expect(loop.emitted.length).toBe(emittedBefore);
    expect(OrdStatus[loop.last('Z3').ordStatus]).toBe('PendingNew');
  });

  it('the default scheduler is real time (setTimeout), and close() clears its timers', async () => {
    const emitted: SimVenueCommand[] = [];
    const venue = new SimulatedVenue({ ...RESTING, fill_slices: 2, slice_interval_ms: 5 }, (c) => emitted.push(c), () => 19_000);
    const request = (clOrdId: string): VenueRequestData => ({
      kind: 'venue_request', requestKind: VenueRequestKind.New, venueId: SIM, orderId: 1, clOrdId, origClOrdId: '',
      accountId: GROWTH, instrumentId: AAPL, side: Side.Buy, ordType: OrdType.Limit, timeInForce: TimeInForce.Day,
      orderQty: 10, price: 19_000, stopPx: 0, expireTimeUs: 0,
    });
    venue.handle(request('T1'));
    for (let i = 0; i < 200 && venue.openOrderCount() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(emitted.map((c) => (c.type === Command.VenueExecReport ? [ExecType[c.execType], c.lastQty] : ['reject', 0])))
      .toEqual([['New', 0], ['Trade', 5], ['Trade', 5]]);
    venue.handle(request('T2'));
    venue.close();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(emitted.length).toBe(4);
  });

  it('exec ids and venue order ids are unique and carry the prefix', () => {
    const { loop } = randomRun(5, 40);
    const execIds = loop.emitted.flatMap((c) => (c.type === Command.VenueExecReport ? [c.execId] : []));
    expect(new Set(execIds).size).toBe(execIds.length);
    expect(execIds.every((id) => /^SIM-\d+$/.test(id))).toBe(true);
    const prefixed = new VenueLoop({ ...IMMEDIATE, id_prefix: 'SIM.20261124' });
    prefixed.newOrder({ clOrdId: 'P1' });
    expect(prefixed.last('P1').venueExecId).toBe('SIM.20261124-2');
  });

  it('refuses bad options and defaults are complete', () => {
    const sink = (): void => {};
    const px = (): number => 1;
    expect(() => new SimulatedVenue({ reject_probability: 1.5 }, sink, px)).toThrow(/reject_probability/);
    expect(() => new SimulatedVenue({ fill_slices: 0 }, sink, px)).toThrow(/fill_slices/);
    expect(() => new SimulatedVenue({ id_prefix: 'has space' }, sink, px)).toThrow(/id_prefix/);
    expect(() => new SimulatedVenue({ seed: -1 }, sink, px)).toThrow(/seed/);
    expect(Object.keys(SIM_VENUE_DEFAULTS).sort()).toEqual([
      'done_orders_remembered_max', 'fill_slices', 'full_fill_probability', 'id_prefix', 'open_orders_max',
      'reject_probability', 'seed', 'slice_interval_ms', 'venue_id',
    ]);
  });
});
