// Property tests of the order core: random command sequences against the demo reference data, with the
// invariants checked after every command, and a round-trip property of the int64 wire helpers.
//
// The generator is biased toward commands that look valid and name ClOrdIDs the core has accepted (learnt
// from the events it emits), so that runs reach partially filled, pending-cancel/replace, restated and
// parent/child states rather than bouncing off "unknown order".

import * as flatbuffers from 'flatbuffers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Command, CxlRejReason, CxlRejResponseTo, ExecType, KillScope, LimitScope, OrdStatus, OrdType, RejectCode, Side,
  TickKind, TimeInForce, VenueRequestKind,
} from '../schemas/generated/oms_generated.js';
import type { CommandBody, NewOrderCmd, ReplaceOrderCmd } from '../schemas/commands.js';
import type { CommandResultData, ExecutionReportData } from '../schemas/results.js';
import { addI64, TableReader, WireError } from '../schemas/wire.js';
import { orderMoney, valuationPx } from '../core/checks.js';
import { DEMO, unsetLimits } from '../core/demo.js';
import { notional, toMoneyScale } from '../core/fixed.js';
import { isTerminal, leavesQty, PendingKind, positionKey } from '../core/model.js';
import type { CoreState } from '../core/state.js';
import { stateHash } from '../core/state.js';
import { CoreHarness } from './support/core-harness.js';

const U = DEMO.users;
const A = DEMO.accounts;
const I = DEMO.instruments;
const SIM = DEMO.venues.SIM;
const SYSTEM = 0;

// ---- generated operations -------------------------------------------------------------------------------
// Each operation carries raw numbers; they are resolved against the live model when the operation runs, so
// that a shrunk sequence still names orders that exist.

type Op =
  | { k: 'new'; account: number; inst: number; side: number; ordType: number; tif: number; qty: number; px: number; user: number }
  | { k: 'parent'; account: number; inst: number; side: number; qty: number; px: number; byTrader: boolean }
  | { k: 'child'; pick: number; frac: number; px: number }
  | { k: 'cancel'; pick: number; stale: boolean }
  | { k: 'replace'; pick: number; qty: number; px: number }
  | { k: 'ack'; pick: number }
  | { k: 'fill'; pick: number; frac: number; px: number; over: boolean }
  | { k: 'lateFill'; pick: number; frac: number }
  | { k: 'venueCancel'; pick: number; execType: number }
  | { k: 'venueReplaced'; pick: number }
  | { k: 'venueReject'; pick: number }
  | { k: 'restate'; pick: number; frac: number; up: boolean }
  | { k: 'venueCxlRej'; pick: number }
  | { k: 'dupExec'; pick: number }
  | { k: 'mark'; inst: number; px: number }
  | { k: 'tick'; endOfDay: boolean; advanceUs: number }
  | { k: 'kill'; scope: number; engaged: boolean }
  | { k: 'limits'; account: number; maxOpen: number; maxPosition: number }
  | { k: 'unauth'; variant: number }
  | { k: 'flatten'; pick: number; px: number };

const pick = fc.nat({ max: 1_000_000 });
/** A percentage, often all of it (so that orders fill completely and positions go flat). */
const frac = fc.oneof(fc.constant(100), fc.integer({ min: 1, max: 100 }));
/** True about one time in ten. */
const rarely = fc.nat(9).map((n) => n === 0);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 14, arbitrary: fc.record({ k: fc.constant('new' as const), account: fc.nat(9), inst: fc.nat(19), side: fc.nat(9), ordType: fc.nat(19), tif: fc.nat(19), qty: fc.integer({ min: -1, max: 4 }), px: fc.integer({ min: -12, max: 12 }), user: fc.nat(19) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('parent' as const), account: fc.nat(9), inst: fc.nat(19), side: fc.nat(9), qty: fc.integer({ min: 1, max: 30 }), px: fc.integer({ min: -10, max: 10 }), byTrader: fc.boolean() }) },
  { weight: 7, arbitrary: fc.record({ k: fc.constant('child' as const), pick, frac, px: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick, stale: rarely }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('replace' as const), pick, qty: fc.integer({ min: -3, max: 4 }), px: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('ack' as const), pick }) },
  { weight: 16, arbitrary: fc.record({ k: fc.constant('fill' as const), pick, frac, px: fc.integer({ min: -8, max: 8 }), over: rarely }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('lateFill' as const), pick, frac }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('venueCancel' as const), pick, execType: fc.nat(9) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('venueReplaced' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('venueReject' as const), pick }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('restate' as const), pick, frac, up: fc.nat(3).map((n) => n === 0) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('venueCxlRej' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('dupExec' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('mark' as const), inst: fc.nat(19), px: fc.integer({ min: -20, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('tick' as const), endOfDay: rarely, advanceUs: fc.integer({ min: 0, max: 5_000_000 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('kill' as const), scope: fc.nat(9), engaged: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('limits' as const), account: fc.nat(2), maxOpen: fc.integer({ min: -1, max: 6 }), maxPosition: fc.integer({ min: -1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('unauth' as const), variant: fc.nat(6) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('flatten' as const), pick, px: fc.integer({ min: -8, max: 8 }) }) },
);

// ---- the model: what the test has learnt from the core's events -----------------------------------------

interface OrderView {
  orderId: number;
  clOrdId: string;
  venueId: number;
  accountId: number;
  instrumentId: number;
  side: Side;
  orderQty: number;
  cumQty: number;
  price: number;
  stopPx: number;
  ordStatus: OrdStatus;
  pending: { kind: VenueRequestKind; clOrdId: string } | null;
}

interface FillSums {
  /** "accountId:instrumentId". */
  key: string;
  qty: number;
  /** Σ (sell − buy) × qty × px × multiplier: the cash the fills moved, exactly. */
  cash: bigint;
}

class Model {
  readonly orders = new Map<number, OrderView>();
  /** Every ClOrdID any command carried, accepted or not (stale and duplicate references come from here). */
  readonly sentClOrdIds: string[] = [];
  /** Exec ids the core applied (their resend must be refused as a duplicate). */
  readonly appliedExecIds: string[] = [];
  readonly fills = new Map<string, FillSums>();
  marks = new Map<number, number>([
    [I.AAPL, 19_000], [I.ESZ6, 600_000], [I.AAPL_C200, 550], [I.BTCUSD, 9_500_000], [I.TOYOTA, 2_800],
  ]);
  private serial = 0;

  nextId(prefix: string): string {
    this.serial += 1;
    const id = `${prefix}${this.serial}`;
    this.sentClOrdIds.push(id);
    return id;
  }

  list(predicate: (o: OrderView) => boolean): OrderView[] {
    return [...this.orders.values()].filter(predicate);
  }

  /** Mostly an order that is still working, sometimes any order of the kind. */
  choose(n: number, predicate: (o: OrderView) => boolean): OrderView | null {
    const all = this.list(predicate);
    if (all.length === 0) return null;
    const open = all.filter((o) => !isTerminal(o.ordStatus) || o.pending !== null);
    const from = open.length > 0 && n % 5 !== 0 ? open : all;
    return from[Math.floor(n / 5) % from.length];
  }

  learn(result: CommandResultData): void {
    for (const e of result.events) {
      if (e.kind === 'execution_report' && e.orderId !== 0) {
        const view: OrderView = this.orders.get(e.orderId) ?? {
          orderId: e.orderId, clOrdId: e.clOrdId, venueId: e.venueId, accountId: e.accountId,
          instrumentId: e.instrumentId, side: e.side, orderQty: 0, cumQty: 0, price: 0, stopPx: 0,
          ordStatus: e.ordStatus, pending: null,
        };
        view.clOrdId = e.clOrdId;
        view.orderQty = e.orderQty;
        view.cumQty = e.cumQty;
        view.price = e.price;
        view.stopPx = e.stopPx;
        view.ordStatus = e.ordStatus;
        if (e.ordStatus !== OrdStatus.PendingCancel && e.ordStatus !== OrdStatus.PendingReplace) view.pending = null;
        this.orders.set(e.orderId, view);
        if (e.execType === ExecType.Trade && e.venueId !== 0) this.recordFill(e);
      } else if (e.kind === 'venue_request' && e.requestKind !== VenueRequestKind.New) {
        const view = this.orders.get(e.orderId);
        if (view !== undefined) view.pending = { kind: e.requestKind, clOrdId: e.clOrdId };
      } else if (e.kind === 'cancel_reject' && e.orderId !== 0) {
        const view = this.orders.get(e.orderId);
        if (view !== undefined && e.ordStatus !== OrdStatus.PendingCancel && e.ordStatus !== OrdStatus.PendingReplace) {
          view.pending = null;
        }
      }
    }
  }

  private recordFill(e: ExecutionReportData): void {
    const key = `${e.accountId}:${e.instrumentId}`;
    const sums = this.fills.get(key) ?? { key, qty: 0, cash: 0n };
    const multiplier = MULTIPLIERS.get(e.instrumentId) ?? 1;
    const money = BigInt(e.lastQty) * BigInt(e.lastPx) * BigInt(multiplier);
    if (e.side === Side.Buy) {
      sums.qty += e.lastQty;
      sums.cash -= money;
    } else {
      sums.qty -= e.lastQty;
      sums.cash += money;
    }
    this.fills.set(key, sums);
  }
}

const MULTIPLIERS = new Map<number, number>([[I.ESZ6, 50], [I.AAPL_C200, 100]]);

interface InstrumentTerms { tick: number; lot: number; qtyUnit: number }
const TRADED: Array<{ id: number } & InstrumentTerms> = [
  { id: I.AAPL, tick: 1, lot: 1, qtyUnit: 10 },
  { id: I.ESZ6, tick: 25, lot: 1, qtyUnit: 1 },
  { id: I.AAPL_C200, tick: 1, lot: 1, qtyUnit: 1 },
  { id: I.TOYOTA, tick: 1, lot: 100, qtyUnit: 100 },
  { id: I.BTCUSD, tick: 1, lot: 1, qtyUnit: 1_000_000 },
];

function terms(instrumentId: number): InstrumentTerms {
  return TRADED.find((t) => t.id === instrumentId) ?? { tick: 1, lot: 1, qtyUnit: 1 };
}

/** Biased to AAPL (index 0) so that fills on one account/instrument net against each other. */
function chooseInstrument(n: number): { id: number } & InstrumentTerms {
  if (n < 8) return TRADED[0];
  if (n < 19) return TRADED[1 + (n % (TRADED.length - 1))];
  return { id: 99, tick: 1, lot: 1, qtyUnit: 1 }; // unknown instrument
}

function chooseAccount(n: number): number {
  return n < 5 ? A.GROWTH : n < 7 ? A.INCOME : n < 9 ? A.MACRO : 999;
}

function chooseSide(n: number): Side {
  return n < 4 ? Side.Buy : n < 8 ? Side.Sell : n < 9 ? Side.SellShort : Side.Buy;
}

// ---- result classification ----------------------------------------------------------------------------

/** The reject code when the command as a whole was refused, else null. */
function rejectOf(type: Command, result: CommandResultData): RejectCode | null {
  for (const e of result.events) {
    if (e.kind === 'command_reject') return e.rejectCode;
    if (type === Command.NewOrder && e.kind === 'execution_report' && e.orderId === 0 && e.execType === ExecType.Rejected) {
      return e.ordRejReason;
    }
    if ((type === Command.CancelOrder || type === Command.ReplaceOrder) && e.kind === 'cancel_reject') return e.rejectCode;
  }
  return null;
}

/** The state hash with the journal position left out: a journaled reject advances only lastSeq. */
function contentHash(state: CoreState): string {
  return stateHash({ ...state, lastSeq: 0 });
}

// ---- invariants -----------------------------------------------------------------------------------------

function checkReports(result: CommandResultData): void {
  for (const e of result.events) {
    if (e.kind !== 'execution_report') continue;
    expect(e.cumQty).toBeGreaterThanOrEqual(0);
    expect(e.cumQty).toBeLessThanOrEqual(e.orderQty);
    expect(e.leavesQty).toBe(isTerminal(e.ordStatus) ? 0 : e.orderQty - e.cumQty);
  }
}

function checkState(h: CoreHarness, model: Model): void {
  const s = h.core.state;
  const openPerAccount = new Map<number, number>();
  const openBuy = new Map<number, number>();
  const openSell = new Map<number, number>();
  const grossParts = new Map<string, bigint>();
  const childCum = new Map<number, number>();
  const openChildren = new Map<number, number>();
  const addGross = (accountId: number, currency: string, money: bigint): void => {
    const key = `${accountId}:${currency}`;
    grossParts.set(key, (grossParts.get(key) ?? 0n) + money);
  };
  for (const order of s.orders.values()) {
    expect(order.cumQty).toBeGreaterThanOrEqual(0);
    expect(order.cumQty).toBeLessThanOrEqual(order.orderQty);
    const leaves = leavesQty(order);
    expect(leaves).toBe(isTerminal(order.baseStatus) ? 0 : order.orderQty - order.cumQty);
    expect(s.openOrders.has(order)).toBe(!isTerminal(order.baseStatus));
    if (s.openOrders.has(order)) openPerAccount.set(order.accountId, (openPerAccount.get(order.accountId) ?? 0) + 1);
    if (order.parentOrderId !== 0) {
      childCum.set(order.parentOrderId, (childCum.get(order.parentOrderId) ?? 0) + order.cumQty);
      if (s.openOrders.has(order)) openChildren.set(order.parentOrderId, (openChildren.get(order.parentOrderId) ?? 0) + 1);
    }
    if (order.venueId === 0) continue;
    const instrument = s.instruments.get(order.instrumentId);
    if (instrument === undefined) throw new Error(`order ${order.orderId} of an unknown instrument`);
    const px = valuationPx(instrument, order.price, order.stopPx);
    expect(order.exposureMoney).toBe(leaves === 0 || px === 0 ? 0n : orderMoney(instrument, leaves, px));
    addGross(order.accountId, instrument.currency, order.exposureMoney);
    const key = positionKey(order.accountId, order.instrumentId);
    const sideMap = order.side === Side.Buy ? openBuy : openSell;
    sideMap.set(key, (sideMap.get(key) ?? 0) + leaves);
  }
  for (const order of s.orders.values()) {
    if (order.venueId !== 0) continue;
    // A parent's CumQty is the roll-up of its children's fills, and what its children hold of it (at least
    // what they filled) never exceeds its quantity.
    expect(order.cumQty).toBe(childCum.get(order.orderId) ?? 0);
    expect(order.childCommittedQty).toBeGreaterThanOrEqual(order.cumQty);
    expect(order.childCommittedQty).toBeLessThanOrEqual(order.orderQty);
    expect(order.openChildCount).toBe(openChildren.get(order.orderId) ?? 0);
  }
  for (const [accountId, risk] of s.accountRisk) {
    expect(risk.openOrders).toBe(openPerAccount.get(accountId) ?? 0);
  }
  for (const [accountId, count] of openPerAccount) expect(s.accountRisk.get(accountId)?.openOrders).toBe(count);
  for (const [key, pos] of s.positions) {
    const instrument = s.instruments.get(pos.instrumentId);
    if (instrument === undefined) throw new Error(`position in an unknown instrument ${pos.instrumentId}`);
    const sums = model.fills.get(`${pos.accountId}:${pos.instrumentId}`) ?? { key: '', qty: 0, cash: 0n };
    expect(pos.qty).toBe(sums.qty);
    // Average cost keeps realised − open cost equal to the cash the fills moved, whatever the rounding.
    expect(pos.realisedPnl - pos.cost).toBe(sums.cash);
    if (pos.qty === 0) {
      expect(pos.cost).toBe(0n);
      expect(pos.realisedPnl).toBe(sums.cash);
    } else {
      // The open cost has the position's sign.
      expect(pos.cost > 0n).toBe(pos.qty > 0);
    }
    expect(pos.openBuyQty).toBe(openBuy.get(key) ?? 0);
    expect(pos.openSellQty).toBe(openSell.get(key) ?? 0);
    const atMark = instrument.markPx !== 0
      ? notional(Math.abs(pos.qty), instrument.markPx, instrument.multiplier)
      : (pos.cost < 0n ? -pos.cost : pos.cost);
    expect(pos.exposureMoney).toBe(toMoneyScale(atMark, instrument.pricePrecision, instrument.qtyPrecision));
    addGross(pos.accountId, instrument.currency, pos.exposureMoney);
  }
  for (const [key, sums] of model.fills) {
    const [accountId, instrumentId] = key.split(':').map(Number);
    expect(s.positions.get(positionKey(accountId, instrumentId))?.qty ?? 0).toBe(sums.qty);
  }
  for (const [accountId, risk] of s.accountRisk) {
    for (const [currency, gross] of risk.grossExposureByCurrency) {
      expect(gross).toBe(grossParts.get(`${accountId}:${currency}`) ?? 0n);
    }
  }
}

// ---- running one operation ------------------------------------------------------------------------------

interface Sent {
  userId: number;
  command: CommandBody;
  timeUs?: number;
  /** The reject code the command must get. */
  expectCode?: RejectCode;
  /** A fill's exec id: remembered once applied, so that its resend can be checked. */
  execId?: string;
  /** A new venue order to fill completely at once when accepted (a position closed to flat). */
  fillAtPx?: number;
}

function newOrderCmd(partial: Partial<NewOrderCmd> & { clOrdId: string }): NewOrderCmd {
  return {
    type: Command.NewOrder, accountId: A.GROWTH, instrumentId: I.AAPL, side: Side.Buy, ordType: OrdType.Limit,
    timeInForce: TimeInForce.Day, orderQty: 10, price: 19_000, stopPx: 0, expireTimeUs: 0, parentClOrdId: '',
    venueId: SIM, text: '', ...partial,
  };
}

let execSerial = 0;
function venueReport(partial: Partial<Extract<CommandBody, { type: Command.VenueExecReport }>> & { clOrdId: string; execType: ExecType }): Extract<CommandBody, { type: Command.VenueExecReport }> {
  execSerial += 1;
  return {
    type: Command.VenueExecReport, venueId: SIM, execId: `X${execSerial}`, origClOrdId: '', ordStatus: OrdStatus.Unset,
    lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: 0xffff, venueOrderId: '', text: '', ...partial,
  };
}

function priceFor(instrumentId: number, model: Model, offset: number): number {
  const t = terms(instrumentId);
  return Math.max(t.tick, (model.marks.get(instrumentId) ?? 10_000) + offset * t.tick);
}

function toCommand(op: Op, model: Model, h: CoreHarness): Sent | null {
  switch (op.k) {
    case 'new': {
      const inst = chooseInstrument(op.inst);
      const ordType = op.ordType < 14 ? OrdType.Limit : op.ordType < 16 ? OrdType.Market : op.ordType < 18 ? OrdType.Stop : OrdType.StopLimit;
      const tif = op.tif < 12 ? TimeInForce.Day : op.tif < 15 ? TimeInForce.GTC : op.tif < 17 ? TimeInForce.IOC : TimeInForce.GTD;
      const px = priceFor(inst.id, model, op.px);
      const user = op.user < 17 ? U.trader : U.trader_income;
      return {
        userId: user,
        command: newOrderCmd({
          clOrdId: model.nextId('N'), accountId: chooseAccount(op.account), instrumentId: inst.id, side: chooseSide(op.side),
          ordType, timeInForce: tif, orderQty: op.qty * inst.qtyUnit,
          price: ordType === OrdType.Limit || ordType === OrdType.StopLimit ? px : 0,
          stopPx: ordType === OrdType.Stop || ordType === OrdType.StopLimit ? px : 0,
          expireTimeUs: tif === TimeInForce.GTD ? h.nowUs + (op.tif === 19 ? -1 : 2_000_000) : 0,
        }),
      };
    }
    case 'parent': {
      const inst = chooseInstrument(op.inst % 19);
      return {
        userId: op.byTrader ? U.trader : U.pm,
        command: newOrderCmd({
          clOrdId: model.nextId('P'), accountId: op.account < 6 ? A.GROWTH : A.INCOME, instrumentId: inst.id,
          side: chooseSide(op.side), orderQty: op.qty * inst.qtyUnit, price: priceFor(inst.id, model, op.px), venueId: 0,
          timeInForce: op.account === 9 ? TimeInForce.GTD : TimeInForce.Day,
          expireTimeUs: op.account === 9 ? h.nowUs + 3_000_000 : 0,
        }),
      };
    }
    case 'child': {
      const parent = model.choose(op.pick, (o) => o.venueId === 0);
      if (parent === null) return null;
      const t = terms(parent.instrumentId);
      const qty = Math.max(t.lot, Math.floor((parent.orderQty * op.frac) / 100 / t.lot) * t.lot);
      return {
        userId: U.trader,
        command: newOrderCmd({
          clOrdId: model.nextId('C'), accountId: parent.accountId, instrumentId: parent.instrumentId, side: parent.side,
          orderQty: qty, price: priceFor(parent.instrumentId, model, op.px), parentClOrdId: parent.clOrdId,
        }),
      };
    }
    case 'cancel': {
      const order = model.choose(op.pick, () => true);
      if (order === null) return null;
      const orig = op.stale ? model.sentClOrdIds[op.pick % model.sentClOrdIds.length] : order.clOrdId;
      return {
        userId: order.venueId === 0 ? U.pm : U.trader,
        command: { type: Command.CancelOrder, clOrdId: model.nextId('X'), origClOrdId: orig, accountId: 0 },
      };
    }
    case 'replace': {
      const order = model.choose(op.pick, () => true);
      if (order === null) return null;
      const t = terms(order.instrumentId);
      const replace: ReplaceOrderCmd = {
        type: Command.ReplaceOrder, clOrdId: model.nextId('R'), origClOrdId: order.clOrdId, accountId: order.accountId,
        orderQty: order.orderQty + op.qty * t.qtyUnit,
        price: order.price === 0 ? 0 : Math.max(t.tick, order.price + op.px * t.tick),
        stopPx: order.stopPx === 0 ? 0 : Math.max(t.tick, order.stopPx + op.px * t.tick),
        timeInForce: TimeInForce.Day, expireTimeUs: 0,
      };
      return { userId: order.venueId === 0 ? U.pm : U.trader, command: replace };
    }
    case 'ack': {
      const order = model.choose(op.pick, (o) => o.venueId !== 0);
      if (order === null) return null;
      return { userId: U.venue, command: venueReport({ clOrdId: order.clOrdId, execType: ExecType.New }) };
    }
    case 'fill': {
      const order = model.choose(op.pick, (o) => o.venueId !== 0);
      if (order === null) return null;
      const room = order.orderQty - order.cumQty;
      const lastQty = op.over ? room + 1 : Math.max(1, Math.floor((room * op.frac) / 100));
      const t = terms(order.instrumentId);
      const base = order.price !== 0 ? order.price : priceFor(order.instrumentId, model, 0);
      const report = venueReport({
        clOrdId: order.clOrdId, execType: ExecType.Trade, lastQty, lastPx: Math.max(1, base + op.px * t.tick),
      });
      return { userId: U.venue, command: report, execId: report.execId };
    }
    case 'lateFill': {
      // The venue reports a trade on an order the OMS already considers canceled or expired.
      const order = model.choose(op.pick, (o) => o.venueId !== 0 && isTerminal(o.ordStatus) && o.ordStatus !== OrdStatus.Filled && o.ordStatus !== OrdStatus.Rejected);
      if (order === null) return null;
      const lastQty = Math.max(1, Math.floor(((order.orderQty - order.cumQty) * op.frac) / 100));
      const report = venueReport({ clOrdId: order.clOrdId, execType: ExecType.Trade, lastQty, lastPx: priceFor(order.instrumentId, model, 0) });
      return { userId: U.venue, command: report, execId: report.execId };
    }
    case 'venueCancel': {
      const order = model.choose(op.pick, (o) => o.venueId !== 0);
      if (order === null) return null;
      const execType = op.execType < 7 ? ExecType.Canceled : op.execType < 9 ? ExecType.Expired : ExecType.DoneForDay;
      const answers = order.pending !== null && order.pending.kind === VenueRequestKind.Cancel && op.execType < 6;
      return {
        userId: U.venue,
        command: venueReport({
          clOrdId: answers && order.pending !== null ? order.pending.clOrdId : order.clOrdId,
          origClOrdId: answers ? order.clOrdId : '', execType,
        }),
      };
    }
    case 'venueReplaced': {
      const order = model.choose(op.pick, (o) => o.venueId !== 0 && o.pending?.kind === VenueRequestKind.Replace) ??
        model.choose(op.pick, (o) => o.venueId !== 0);
      if (order === null) return null;
      const cl = order.pending?.clOrdId ?? order.clOrdId;
      return { userId: U.venue, command: venueReport({ clOrdId: cl, origClOrdId: order.clOrdId, execType: ExecType.Replaced }) };
    }
    case 'venueReject': {
      const order = model.choose(op.pick, (o) => o.venueId !== 0);
      if (order === null) return null;
      return { userId: U.venue, command: venueReport({ clOrdId: order.clOrdId, execType: ExecType.Rejected, ordRejReason: RejectCode.Other }) };
    }
    case 'restate': {
      const order = model.choose(op.pick, (o) => o.venueId !== 0);
      if (order === null) return null;
      const leaves = order.orderQty - order.cumQty;
      const leavesQty = op.up ? leaves + op.frac : Math.floor((leaves * (op.frac - 1)) / 100);
      return { userId: U.venue, command: venueReport({ clOrdId: order.clOrdId, execType: ExecType.Restated, leavesQty }) };
    }
    case 'venueCxlRej': {
      const order = model.choose(op.pick, (o) => o.venueId !== 0 && o.pending !== null) ??
        model.choose(op.pick, (o) => o.venueId !== 0);
      if (order === null) return null;
      const cl = order.pending?.clOrdId ?? order.clOrdId;
      return {
        userId: U.venue,
        command: {
          type: Command.VenueCancelReject, venueId: SIM, clOrdId: cl, origClOrdId: order.clOrdId,
          cxlRejResponseTo: order.pending?.kind === VenueRequestKind.Replace ? CxlRejResponseTo.Replace : CxlRejResponseTo.Cancel,
          cxlRejReason: CxlRejReason.TooLateToCancel, text: 'too late',
        },
      };
    }
    case 'dupExec': {
      const order = model.choose(op.pick, (o) => o.venueId !== 0);
      if (order === null || model.appliedExecIds.length === 0) return null;
      const execId = model.appliedExecIds[op.pick % model.appliedExecIds.length];
      return {
        userId: U.venue, expectCode: RejectCode.DuplicateExecId,
        command: venueReport({ clOrdId: order.clOrdId, execType: ExecType.Trade, lastQty: 1, lastPx: 100, execId }),
      };
    }
    case 'mark': {
      const inst = chooseInstrument(op.inst);
      return { userId: U.admin, command: { type: Command.SetMark, instrumentId: inst.id, price: priceFor(inst.id, model, op.px) } };
    }
    case 'tick':
      return {
        userId: SYSTEM, timeUs: h.nowUs + op.advanceUs,
        command: { type: Command.Tick, kind: op.endOfDay ? TickKind.EndOfDay : TickKind.Timer },
      };
    case 'kill': {
      const [scope, scopeId] = op.scope < 3 ? [KillScope.Global, 0] : op.scope < 6 ? [KillScope.Account, op.scope < 5 ? A.GROWTH : A.INCOME]
        : [KillScope.User, op.scope < 8 ? U.trader : U.pm];
      // Mostly releases, so that a run does not spend its length behind a kill switch.
      const engaged = op.engaged && op.scope % 2 === 0;
      return { userId: U.compliance, command: { type: Command.KillSwitch, scope, scopeId, engaged, text: '' } };
    }
    case 'limits': {
      const accountId = [A.GROWTH, A.INCOME, A.MACRO][op.account];
      return {
        userId: U.admin,
        command: { ...unsetLimits(LimitScope.Account, accountId), maxOpenOrders: op.maxOpen < 0 ? -1 : op.maxOpen + 2, maxPosition: op.maxPosition < 0 ? -1 : op.maxPosition * 100 },
      };
    }
    case 'flatten': {
      // An order that takes an open position back to flat, filled in full straight away.
      const open = [...model.fills].filter(([, sums]) => sums.qty !== 0 && terms(Number(sums.key.split(':')[1])).lot === 1);
      if (open.length === 0) return null;
      const [, sums] = open[op.pick % open.length];
      const [accountId, instrumentId] = sums.key.split(':').map(Number);
      const px = priceFor(instrumentId, model, op.px);
      return {
        userId: U.trader, fillAtPx: px,
        command: newOrderCmd({
          clOrdId: model.nextId('F'), accountId, instrumentId, side: sums.qty > 0 ? Side.Sell : Side.Buy,
          orderQty: Math.abs(sums.qty), price: px,
        }),
      };
    }
    case 'unauth': {
      const target = model.choose(op.variant, () => true)?.clOrdId ?? 'none';
      switch (op.variant) {
        case 0: return { userId: U.middle, expectCode: RejectCode.NotAuthorised, command: newOrderCmd({ clOrdId: model.nextId('U') }) };
        case 1: return { userId: U.pm, expectCode: RejectCode.NotAuthorised, command: newOrderCmd({ clOrdId: model.nextId('U') }) };
        case 2: return { userId: U.trader_income, expectCode: RejectCode.NotEntitled, command: newOrderCmd({ clOrdId: model.nextId('U'), accountId: A.GROWTH }) };
        case 3: return { userId: 999, expectCode: RejectCode.UnknownUser, command: { type: Command.CancelOrder, clOrdId: model.nextId('U'), origClOrdId: target, accountId: 0 } };
        case 4: return { userId: U.trader, expectCode: RejectCode.NotAuthorised, command: { type: Command.SetMark, instrumentId: I.AAPL, price: 1 } };
        case 5: return { userId: U.pm, expectCode: RejectCode.NotAuthorised, command: venueReport({ clOrdId: target, execType: ExecType.Trade, lastQty: 1, lastPx: 1 }) };
        default: return { userId: U.back, expectCode: RejectCode.NotAuthorised, command: { type: Command.Tick, kind: TickKind.EndOfDay } };
      }
    }
  }
}

function runOp(h: CoreHarness, model: Model, op: Op): void {
  const sent = toCommand(op, model, h);
  if (sent === null) return;
  const result = runSent(h, model, op, sent);
  const accepted = result.events.find((e): e is ExecutionReportData => e.kind === 'execution_report' && e.orderId !== 0);
  if (sent.fillAtPx !== undefined && accepted !== undefined && sent.command.type === Command.NewOrder) {
    const report = venueReport({
      clOrdId: accepted.clOrdId, execType: ExecType.Trade, lastQty: sent.command.orderQty, lastPx: sent.fillAtPx,
    });
    runSent(h, model, op, { userId: U.venue, command: report, execId: report.execId });
  }
}

function runSent(h: CoreHarness, model: Model, op: Op, sent: Sent): CommandResultData {
  const before = contentHash(h.core.state);
  const seqBefore = h.core.lastSeq();
  const result = h.send(sent.userId, sent.command, sent.timeUs);
  expect(result.seq).toBe(seqBefore + 1);
  const code = rejectOf(sent.command.type, result);
  if (sent.expectCode !== undefined) expect(code).toBe(sent.expectCode);
  if (code !== null) {
    // A refused command is journaled (lastSeq advances) and changes nothing else.
    expect(contentHash(h.core.state), `${JSON.stringify(op)} -> ${RejectCode[code]}`).toBe(before);
  } else if (sent.execId !== undefined) {
    model.appliedExecIds.push(sent.execId);
  } else if (sent.command.type === Command.SetMark) {
    model.marks.set(sent.command.instrumentId, sent.command.price);
  }
  checkReports(result);
  model.learn(result);
  checkState(h, model);
  return result;
}

describe('order core properties', () => {
  it('keeps quantities, positions, open-order counts and totals consistent, rejects change nothing, replay matches', () => {
    const reached = { partial: 0, pendingCancel: 0, pendingReplace: 0, flatWithPnl: 0, children: 0 };
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }), (ops) => {
        const h = CoreHarness.withDemoData();
        const model = new Model();
        for (const op of ops) runOp(h, model, op);
        expect(h.replayed().hash()).toBe(h.core.hash());
        const s = h.core.state;
        for (const o of s.orders.values()) {
          if (o.baseStatus === OrdStatus.PartiallyFilled) reached.partial += 1;
          if (o.pending?.kind === PendingKind.Cancel) reached.pendingCancel += 1;
          if (o.pending?.kind === PendingKind.Replace) reached.pendingReplace += 1;
          if (o.parentOrderId !== 0 && o.cumQty > 0) reached.children += 1;
        }
        for (const p of s.positions.values()) if (p.qty === 0 && p.realisedPnl !== 0n) reached.flatWithPnl += 1;
      }),
      { numRuns: 250 },
    );
    // The generator must actually reach the deep states the properties are about.
    expect(reached.partial).toBeGreaterThan(0);
    expect(reached.pendingCancel + reached.pendingReplace).toBeGreaterThan(0);
    expect(reached.children).toBeGreaterThan(0);
    expect(reached.flatWithPnl).toBeGreaterThan(0);
  });
});

// ---- wire int64 round trip --------------------------------------------------------------------------------

function frameWithI64(write: (b: flatbuffers.Builder) => void): TableReader {
  const b = new flatbuffers.Builder(64);
  b.startObject(1);
  write(b);
  const table = b.endObject();
  b.finish(table);
  const bytes = b.asUint8Array();
  const bb = new flatbuffers.ByteBuffer(bytes);
  return new TableReader().init(bb, bb.readInt32(0), 1);
}

function roundTrip(value: number): number {
  return frameWithI64((b) => addI64(b, 0, value, Number.NaN)).i64(0);
}

describe('wire int64 helpers', () => {
  it('round-trips every safe integer, including the extremes', () => {
    for (const value of [0, 1, -1, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 31, -(2 ** 31) - 1,
      Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, -Number.MAX_SAFE_INTEGER + 1]) {
      expect(roundTrip(value)).toBe(value);
    }
    fc.assert(fc.property(fc.maxSafeInteger(), (value) => {
      expect(roundTrip(value)).toBe(value);
      // The bytes are the two's-complement int64 a bigint writer produces.
      const viaBigint = frameWithI64((b) => b.addFieldInt64(0, BigInt(value), null));
      expect(viaBigint.i64(0)).toBe(value);
    }), { numRuns: 2_000 });
  });

  it('reads an absent field as its default and writes nothing for the default', () => {
    expect(frameWithI64((b) => addI64(b, 0, 7, 7)).has(0)).toBe(false);
    expect(frameWithI64((b) => addI64(b, 0, 7, 7)).i64(0, 7)).toBe(7);
  });

  it('refuses to write a value that is not a safe integer', () => {
    for (const value of [2 ** 53, -(2 ** 53), 2 ** 63, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => frameWithI64((b) => addI64(b, 0, value))).toThrow(RangeError);
    }
  });

  it('refuses to read a 64-bit value beyond ±(2^53 − 1)', () => {
    const beyond = fc.oneof(
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }),
      fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) }),
    );
    for (const value of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n]) {
      expect(() => frameWithI64((b) => b.addFieldInt64(0, value, null)).i64(0)).toThrow(WireError);
    }
    fc.assert(fc.property(beyond, (value) => {
      const reader = frameWithI64((b) => b.addFieldInt64(0, value, null));
      let error: unknown = null;
      try {
        reader.i64(0);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(WireError);
      expect(error instanceof WireError ? error.kind : '').toBe('out_of_range');
    }), { numRuns: 1_000 });
  });
});
