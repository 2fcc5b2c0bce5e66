// The built-in simulated venue. It takes the core's VenueRequest events (New / Cancel / Replace) and answers
// with the commands a real venue adapter would send back as the Venue-role user: VenueExecReport (ack,
// fills, cancels, replaces, rejects) and VenueCancelReject. It keeps its own book of what it has filled, so
// it answers from the venue's point of view (a cancel that arrives after the last fill is too late) and can
// never report more than an order's quantity.
//
// Every decision comes from a seeded PRNG and every delay goes through an injected scheduler, so a run is
// reproducible: the same seed and the same requests at the same (scheduler) times give the same reports.
//
// Interface:
//   const venue = new SimulatedVenue(options, sink, referencePx, scheduler?)
//   venue.handle(request)      // one VenueRequestData of this venue; answers go to `sink`, now or later
//   venue.openOrderCount()     // orders working at the venue (acknowledged, not done)
//   venue.close()              // cancels every pending timer; later requests and timers are dropped
// The caller submits what `sink` receives to the core as the Venue-role user (DEMO.users.venue), in order.

import {
  Command, CxlRejReason, CxlRejResponseTo, ExecType, OrdStatus, OrdType, RejectCode, TimeInForce, VenueRequestKind,
} from '../schemas/generated/oms_generated.js';
import type { VenueCancelRejectCmd, VenueExecReportCmd } from '../schemas/commands.js';
import type { VenueRequestData } from '../schemas/results.js';
import { Prng } from './prng.js';

// ---- options ------------------------------------------------------------------------------------------------

export interface SimVenueOptions {
  /** The venue this simulator is (DefineVenue id); requests for another venue are a routing bug. */
  venue_id: number;
  /** Seed of the PRNG behind every decision: an integer in [0, 2^32). Same seed, same run. */
  seed: number;
  /**
   * Prefix of ExecIDs (`<prefix>-<n>`) and venue order ids (`<prefix>-O<n>`). The core ignores an ExecID it
   * has already applied, and the counters restart with the process, so a restarted simulator must use a
   * prefix it never used before (e.g. one that includes the start time).
   */
  id_prefix: string;
  /** Probability (0..1) that the venue rejects a new order at random (ExecType Rejected, BrokerOption). */
  reject_probability: number;
  /** Probability (0..1) that an accepted order fills in full at once; otherwise it fills in slices over time. */
  full_fill_probability: number;
  /** Number of partial fills (slices) an order that does not fill at once is filled in; 1 = one delayed fill. */
  fill_slices: number;
  /** Delay from acceptance to the first slice, and between slices, in milliseconds. */
  slice_interval_ms: number;
  /** Orders working at the venue at most; a new order beyond it is rejected (ExceedsLimit). */
  open_orders_max: number;
  /**
   * Done orders remembered, so a cancel/replace that crossed their last fill is answered "too late" rather
   * than "unknown order"; the oldest are forgotten first.
   */
  done_orders_remembered_max: number;
}

export const SIM_VENUE_DEFAULTS: Readonly<SimVenueOptions> = Object.freeze({
  venue_id: 1,
  seed: 1,
  id_prefix: 'SIM',
  reject_probability: 0.02,
  full_fill_probability: 0.5,
  fill_slices: 4,
  slice_interval_ms: 500,
  open_orders_max: 10_000,
  done_orders_remembered_max: 100_000,
});

/** Upper bounds on options, so that a typo cannot make the simulator schedule millions of timers per order. */
const FILL_SLICES_MAX = 1_000;
const SLICE_INTERVAL_MS_MAX = 86_400_000;
const ID_PREFIX_BYTES_MAX = 32;
/** RejectCode / CxlRejReason "none": what an exec report carries when it is not a reject. */
const ORD_REJ_REASON_NONE = 0xffff;

function validateOptions(o: SimVenueOptions): void {
  const fail = (what: string): never => {
    throw new Error(`invariant: SimVenueOptions.${what}`);
  };
  if (!Number.isInteger(o.venue_id) || o.venue_id <= 0) fail(`venue_id must be a positive integer, got ${o.venue_id}`);
  if (!/^[A-Za-z0-9_.:]+$/.test(o.id_prefix) || o.id_prefix.length > ID_PREFIX_BYTES_MAX) {
    fail(`id_prefix must be 1..${ID_PREFIX_BYTES_MAX} of [A-Za-z0-9_.:], got '${o.id_prefix}'`);
  }
  for (const key of ['reject_probability', 'full_fill_probability'] as const) {
    if (!(o[key] >= 0 && o[key] <= 1)) fail(`${key} must be in [0, 1], got ${o[key]}`);
  }
  if (!Number.isInteger(o.fill_slices) || o.fill_slices < 1 || o.fill_slices > FILL_SLICES_MAX) {
    fail(`fill_slices must be an integer in [1, ${FILL_SLICES_MAX}], got ${o.fill_slices}`);
  }
  if (!Number.isInteger(o.slice_interval_ms) || o.slice_interval_ms < 0 || o.slice_interval_ms > SLICE_INTERVAL_MS_MAX) {
    fail(`slice_interval_ms must be an integer in [0, ${SLICE_INTERVAL_MS_MAX}], got ${o.slice_interval_ms}`);
  }
  if (!Number.isInteger(o.open_orders_max) || o.open_orders_max < 1) fail(`open_orders_max must be >= 1, got ${o.open_orders_max}`);
  if (!Number.isInteger(o.done_orders_remembered_max) || o.done_orders_remembered_max < 0) {
    fail(`done_orders_remembered_max must be >= 0, got ${o.done_orders_remembered_max}`);
  }
}

// ---- scheduler ----------------------------------------------------------------------------------------------

export interface SimTimer {
  /** Idempotent; a cancelled timer never runs. */
  cancel(): void;
}

/** Where the simulator's delays come from: real time in the service, a manual clock in tests. */
export interface SimScheduler {
  schedule(delay_ms: number, fn: () => void): SimTimer;
}

/** Real time: setTimeout / clearTimeout. */
export const REAL_TIME_SCHEDULER: SimScheduler = {
  schedule(delay_ms: number, fn: () => void): SimTimer {
    const handle = setTimeout(fn, delay_ms);
    return { cancel: () => clearTimeout(handle) };
  },
};

interface ManualEntry {
  due_ms: number;
  /** Tie-break: timers due at the same instant run in the order they were scheduled. */
  serial: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to (`advance`), for tests and reproducible simulations. Timers due at
 * the same time run in scheduling order; a timer scheduled by a running timer runs in the same advance if it
 * falls due within it.
 */
export class ManualScheduler implements SimScheduler {
  now_ms = 0;
  private entries: ManualEntry[] = [];
  private serial = 0;

  /** `timers_max` bounds the pending timers: more means a runaway producer, which is a bug. */
  constructor(private readonly timers_max = 1_000_000) {}

  schedule(delay_ms: number, fn: () => void): SimTimer {
    if (!Number.isInteger(delay_ms) || delay_ms < 0) throw new Error(`invariant: delay_ms ${delay_ms} must be an integer >= 0`);
    if (this.entries.length >= this.timers_max) throw new Error(`invariant: more than ${this.timers_max} pending timers`);
    this.serial += 1;
    const entry: ManualEntry = { due_ms: this.now_ms + delay_ms, serial: this.serial, fn };
    this.entries.splice(this.insertionIndex(entry), 0, entry);
    return { cancel: () => this.remove(entry) };
  }

  pendingCount(): number {
    return this.entries.length;
  }

  /** Due time of the next timer, or null when none is pending. */
  nextDueMs(): number | null {
    return this.entries.length === 0 ? null : this.entries[0].due_ms;
  }

  /** Moves the clock forward by `delta_ms`, running every timer that falls due, in due order; returns how many ran. */
  advance(delta_ms: number, runs_max = 1_000_000): number {
    if (!Number.isInteger(delta_ms) || delta_ms < 0) throw new Error(`invariant: delta_ms ${delta_ms} must be an integer >= 0`);
    const target_ms = this.now_ms + delta_ms;
    let runs = 0;
    while (this.entries.length > 0 && this.entries[0].due_ms <= target_ms) {
      if (runs >= runs_max) throw new Error(`invariant: more than ${runs_max} timers in one advance`);
      const entry = this.entries.shift() as ManualEntry;
      this.now_ms = entry.due_ms;
      runs += 1;
      entry.fn();
    }
    this.now_ms = target_ms;
    return runs;
  }

  /** Binary search for the first entry due after `entry` (entries are sorted by due time, then serial). */
  private insertionIndex(entry: ManualEntry): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.entries[mid];
      if (other.due_ms < entry.due_ms || (other.due_ms === entry.due_ms && other.serial < entry.serial)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private remove(entry: ManualEntry): void {
    const index = this.entries.indexOf(entry);
    if (index >= 0) this.entries.splice(index, 1);
  }
}

// ---- the venue ------------------------------------------------------------------------------------------------

export type SimVenueCommand = VenueExecReportCmd | VenueCancelRejectCmd;
export type SimVenueSink = (command: SimVenueCommand) => void;
/** The price a market order fills at, in the instrument's price units; <= 0 means "none" (the order is rejected). */
export type ReferencePx = (instrumentId: number) => number;

const enum VenueOrderState { Working = 1, Filled = 2, Canceled = 3 }

/** The venue's own record of one order: what it has filled is the truth the reports are built from. */
interface VenueOrder {
  venueOrderId: string;
  /** The current ClOrdID: the original, then each accepted replace's, then the cancel's. */
  clOrdId: string;
  instrumentId: number;
  ordType: OrdType;
  timeInForce: TimeInForce;
  orderQty: number;
  price: number;
  cumQty: number;
  /** Fallback fill price of a market order when the reference has gone (last good reference seen). */
  referencePx: number;
  /** Partial fills still to come; the last one fills all leaves. */
  slicesLeft: number;
  timer: SimTimer | null;
  state: VenueOrderState;
}

interface NewOrderDraws {
  reject: boolean;
  fullFill: boolean;
}

export class SimulatedVenue {
  private readonly options: SimVenueOptions;
  private readonly prng: Prng;
  /** Working orders by current ClOrdID. */
  private readonly working = new Map<string, VenueOrder>();
  /** Done orders by final ClOrdID, oldest first (Map keeps insertion order), at most done_orders_remembered_max. */
  private readonly done = new Map<string, VenueOrder>();
  private execSerial = 0;
  private orderSerial = 0;
  private closed = false;

  constructor(
    options: Partial<SimVenueOptions>,
    private readonly sink: SimVenueSink,
    private readonly referencePx: ReferencePx,
    private readonly scheduler: SimScheduler = REAL_TIME_SCHEDULER,
  ) {
    this.options = { ...SIM_VENUE_DEFAULTS, ...options };
    validateOptions(this.options);
    this.prng = new Prng(this.options.seed);
  }

  /** Answers one request of the core; after close() requests are dropped (a venue that is gone answers nothing). */
  handle(request: VenueRequestData): void {
    if (request.venueId !== this.options.venue_id) {
      throw new Error(`invariant: request for venue ${request.venueId} reached simulator ${this.options.venue_id}`);
    }
    if (this.closed) return;
    switch (request.requestKind) {
      case VenueRequestKind.New: this.onNew(request); break;
      case VenueRequestKind.Cancel: this.onCancel(request); break;
      case VenueRequestKind.Replace: this.onReplace(request); break;
      default: throw new Error(`invariant: unknown venue request kind ${request.requestKind}`);
    }
    this.checkInvariants();
  }

  openOrderCount(): number {
    return this.working.size;
  }

  /** Stops the simulator: every pending fill timer is cancelled; orders stay as they are at the venue. */
  close(): void {
    this.closed = true;
    for (const order of this.working.values()) this.stopTimer(order);
  }

  // ---- new order ------------------------------------------------------------------------------------------

  private onNew(r: VenueRequestData): void {
    // Both draws are taken for every order, whatever the outcome, so one order's fate does not shift the
    // random stream of the orders after it.
    const draws: NewOrderDraws = {
      reject: this.prng.chance(this.options.reject_probability),
      fullFill: this.prng.chance(this.options.full_fill_probability),
    };
    const refusal = this.refuseNew(r, draws);
    if (refusal !== null) {
      this.emitReject(r, refusal.code, refusal.text);
      return;
    }
    const order = this.accept(r);
    this.startFilling(order, draws.fullFill);
  }

  /** Why the venue refuses a new order, or null to accept it. */
  private refuseNew(r: VenueRequestData, draws: NewOrderDraws): { code: RejectCode; text: string } | null {
    if (this.working.has(r.clOrdId) || this.done.has(r.clOrdId)) {
      return { code: RejectCode.DuplicateOrder, text: `SIM: duplicate ClOrdID ${r.clOrdId}` };
    }
    if (r.ordType === OrdType.Stop || r.ordType === OrdType.StopLimit) {
      return { code: RejectCode.UnsupportedOrderCharacteristic, text: 'SIM: stop orders are not supported by the simulated venue' };
    }
    if (r.ordType !== OrdType.Market && r.ordType !== OrdType.Limit) {
      return { code: RejectCode.UnsupportedOrderCharacteristic, text: `SIM: order type ${r.ordType} is not supported` };
    }
    if (!Number.isSafeInteger(r.orderQty) || r.orderQty <= 0) {
      return { code: RejectCode.IncorrectQuantity, text: `SIM: order quantity ${r.orderQty} must be > 0` };
    }
    if (r.ordType === OrdType.Limit && !(Number.isSafeInteger(r.price) && r.price > 0)) {
      return { code: RejectCode.Other, text: `SIM: limit price ${r.price} must be > 0` };
    }
    if (r.ordType === OrdType.Market && !validPx(this.referencePx(r.instrumentId))) {
      return { code: RejectCode.NoReferencePrice, text: `SIM: no reference price for instrument ${r.instrumentId}` };
    }
    if (this.working.size >= this.options.open_orders_max) {
      return { code: RejectCode.ExceedsLimit, text: `SIM: venue open-order limit ${this.options.open_orders_max} reached` };
    }
    if (draws.reject) return { code: RejectCode.BrokerOption, text: 'SIM: random reject (simulated)' };
    return null;
  }

  private accept(r: VenueRequestData): VenueOrder {
    this.orderSerial += 1;
    const order: VenueOrder = {
      venueOrderId: `${this.options.id_prefix}-O${this.orderSerial}`, clOrdId: r.clOrdId, instrumentId: r.instrumentId,
      ordType: r.ordType, timeInForce: r.timeInForce, orderQty: r.orderQty, price: r.price, cumQty: 0,
      referencePx: r.ordType === OrdType.Market ? this.referencePx(r.instrumentId) : 0,
      slicesLeft: this.options.fill_slices, timer: null, state: VenueOrderState.Working,
    };
    this.working.set(order.clOrdId, order);
    this.emitReport(order, ExecType.New, { clOrdId: order.clOrdId });
    return order;
  }

  /**
   * The fill model. Full fill at once with probability full_fill_probability; otherwise: FOK cancels (all or
   * nothing), IOC takes the first slice and cancels the rest, anything else rests and fills slice by slice.
   */
  private startFilling(order: VenueOrder, fullFill: boolean): void {
    if (fullFill) {
      this.fill(order, leaves(order));
      return;
    }
    if (order.timeInForce === TimeInForce.FOK) {
      this.cancelUnsolicited(order, 'SIM: FOK not fillable in full');
      return;
    }
    if (order.timeInForce === TimeInForce.IOC) {
      this.fillSlice(order);
      if (order.state === VenueOrderState.Working) this.cancelUnsolicited(order, 'SIM: IOC remainder canceled');
      return;
    }
    this.scheduleSlice(order);
  }

  // ---- fills ------------------------------------------------------------------------------------------------

  private scheduleSlice(order: VenueOrder): void {
    if (order.timer !== null) throw new Error('invariant: an order has one fill timer at most');
    order.timer = this.scheduler.schedule(this.options.slice_interval_ms, () => this.onSliceDue(order));
  }

  private onSliceDue(order: VenueOrder): void {
    order.timer = null;
    // A cancelled timer never runs, so a working order is expected; the check keeps a late one harmless.
    if (this.closed || order.state !== VenueOrderState.Working) return;
    this.fillSlice(order);
    if (order.state === VenueOrderState.Working) this.scheduleSlice(order);
    this.checkInvariants();
  }

  /** Fills an equal share of the leaves over the slices still to come; the last slice takes all leaves. */
  private fillSlice(order: VenueOrder): void {
    if (order.slicesLeft < 1) throw new Error('invariant: a working order has a slice left');
    const qty = Math.ceil(leaves(order) / order.slicesLeft);
    order.slicesLeft -= 1;
    this.fill(order, qty);
  }

  private fill(order: VenueOrder, qty: number): void {
    if (!(Number.isSafeInteger(qty) && qty > 0 && qty <= leaves(order))) {
      throw new Error(`invariant: fill of ${qty} outside (0, ${leaves(order)}] would overfill ${order.clOrdId}`);
    }
    const px = this.fillPx(order);
    order.cumQty += qty;
    if (leaves(order) === 0) this.finish(order, VenueOrderState.Filled);
    this.emitReport(order, ExecType.Trade, { clOrdId: order.clOrdId, lastQty: qty, lastPx: px });
  }

  /** Limit orders fill at their limit; market orders at the caller's reference, or the last good one. */
  private fillPx(order: VenueOrder): number {
    if (order.ordType === OrdType.Limit) return order.price;
    const px = this.referencePx(order.instrumentId);
    if (validPx(px)) order.referencePx = px;
    if (!validPx(order.referencePx)) throw new Error('invariant: a market order was accepted with a reference price');
    return order.referencePx;
  }

  // ---- cancel -----------------------------------------------------------------------------------------------

  private onCancel(r: VenueRequestData): void {
    const order = this.working.get(r.origClOrdId);
    if (order === undefined) {
      this.refuseChange(r, CxlRejResponseTo.Cancel);
      return;
    }
    this.finish(order, VenueOrderState.Canceled, r.clOrdId);
    this.emitReport(order, ExecType.Canceled, { clOrdId: r.clOrdId, origClOrdId: r.origClOrdId, text: 'SIM: canceled on request' });
  }

  /** IOC remainder, FOK miss: a cancel nobody asked for keeps the order's own ClOrdID. */
  private cancelUnsolicited(order: VenueOrder, text: string): void {
    this.finish(order, VenueOrderState.Canceled);
    this.emitReport(order, ExecType.Canceled, { clOrdId: order.clOrdId, text });
  }

  /** A cancel/replace for an order that is not working here: too late if it is done, else unknown. */
  private refuseChange(r: VenueRequestData, responseTo: CxlRejResponseTo): void {
    const doneOrder = this.done.get(r.origClOrdId);
    if (doneOrder === undefined) {
      this.emitCancelReject(r, responseTo, CxlRejReason.UnknownOrder, `SIM: unknown order ${r.origClOrdId}`);
      return;
    }
    const what = doneOrder.state === VenueOrderState.Filled ? 'filled' : 'canceled';
    this.emitCancelReject(r, responseTo, CxlRejReason.TooLateToCancel, `SIM: too late, order already ${what}`);
  }

  // ---- replace ----------------------------------------------------------------------------------------------

  private onReplace(r: VenueRequestData): void {
    const order = this.working.get(r.origClOrdId);
    if (order === undefined) {
      this.refuseChange(r, CxlRejResponseTo.Replace);
      return;
    }
    const refusal = this.refuseReplace(order, r);
    if (refusal !== null) {
      this.emitCancelReject(r, CxlRejResponseTo.Replace, CxlRejReason.Other, refusal);
      return;
    }
    this.working.delete(order.clOrdId);
    order.clOrdId = r.clOrdId;
    order.orderQty = r.orderQty;
    order.price = r.price;
    order.timeInForce = r.timeInForce;
    this.working.set(order.clOrdId, order);
    // Replacing down to exactly what has filled completes the order (FIX: it becomes Filled).
    if (leaves(order) === 0) this.finish(order, VenueOrderState.Filled);
    this.emitReport(order, ExecType.Replaced, { clOrdId: r.clOrdId, origClOrdId: r.origClOrdId });
  }

  private refuseReplace(order: VenueOrder, r: VenueRequestData): string | null {
    if (!Number.isSafeInteger(r.orderQty) || r.orderQty < order.cumQty) {
      return `SIM: quantity ${r.orderQty} is below the ${order.cumQty} already filled`;
    }
    if (order.ordType === OrdType.Limit && !(Number.isSafeInteger(r.price) && r.price > 0)) {
      return `SIM: limit price ${r.price} must be > 0`;
    }
    // Resting orders only reach here; turning one into IOC/FOK would need an immediate match the model lacks.
    if (r.timeInForce !== order.timeInForce && (r.timeInForce === TimeInForce.IOC || r.timeInForce === TimeInForce.FOK)) {
      return 'SIM: a resting order cannot be replaced to IOC or FOK';
    }
    return null;
  }

  // ---- bookkeeping ------------------------------------------------------------------------------------------

  /** Moves an order from working to done (remembered under its final ClOrdID), stopping its fill timer. */
  private finish(order: VenueOrder, state: VenueOrderState, finalClOrdId: string = order.clOrdId): void {
    if (order.state !== VenueOrderState.Working) throw new Error('invariant: only a working order can finish');
    this.stopTimer(order);
    this.working.delete(order.clOrdId);
    order.clOrdId = finalClOrdId;
    order.state = state;
    if (this.options.done_orders_remembered_max === 0) return;
    this.done.set(order.clOrdId, order);
    if (this.done.size > this.options.done_orders_remembered_max) {
      const oldest = this.done.keys().next();
      if (oldest.done !== true) this.done.delete(oldest.value);
    }
  }

  private stopTimer(order: VenueOrder): void {
    if (order.timer === null) return;
    order.timer.cancel();
    order.timer = null;
  }

  private checkInvariants(): void {
    if (this.working.size > this.options.open_orders_max) throw new Error('invariant: venue open orders above open_orders_max');
    if (this.done.size > this.options.done_orders_remembered_max) throw new Error('invariant: remembered done orders above the bound');
  }

  // ---- emitting ---------------------------------------------------------------------------------------------

  private nextExecId(): string {
    this.execSerial += 1;
    return `${this.options.id_prefix}-${this.execSerial}`;
  }

  private emitReport(
    order: VenueOrder, execType: ExecType,
    detail: { clOrdId: string; origClOrdId?: string; lastQty?: number; lastPx?: number; text?: string },
  ): void {
    this.sink({
      type: Command.VenueExecReport, venueId: this.options.venue_id, execId: this.nextExecId(), clOrdId: detail.clOrdId,
      origClOrdId: detail.origClOrdId ?? '', execType, ordStatus: ordStatusOf(order), lastQty: detail.lastQty ?? 0,
      lastPx: detail.lastPx ?? 0, leavesQty: order.state === VenueOrderState.Working ? leaves(order) : 0,
      ordRejReason: ORD_REJ_REASON_NONE, venueOrderId: order.venueOrderId, text: detail.text ?? '',
    });
  }

  private emitReject(r: VenueRequestData, code: RejectCode, text: string): void {
    this.sink({
      type: Command.VenueExecReport, venueId: this.options.venue_id, execId: this.nextExecId(), clOrdId: r.clOrdId,
      origClOrdId: '', execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, lastQty: 0, lastPx: 0, leavesQty: 0,
      ordRejReason: code, venueOrderId: '', text,
    });
  }

  private emitCancelReject(r: VenueRequestData, responseTo: CxlRejResponseTo, reason: CxlRejReason, text: string): void {
    this.sink({
      type: Command.VenueCancelReject, venueId: this.options.venue_id, clOrdId: r.clOrdId, origClOrdId: r.origClOrdId,
      cxlRejResponseTo: responseTo, cxlRejReason: reason, text,
    });
  }
}

function leaves(order: VenueOrder): number {
  return order.orderQty - order.cumQty;
}

function validPx(px: number): boolean {
  return Number.isSafeInteger(px) && px > 0;
}

function ordStatusOf(order: VenueOrder): OrdStatus {
  if (order.state === VenueOrderState.Canceled) return OrdStatus.Canceled;
  if (order.state === VenueOrderState.Filled) return OrdStatus.Filled;
  return order.cumQty > 0 ? OrdStatus.PartiallyFilled : OrdStatus.New;
}
