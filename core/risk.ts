// Positions, exposure and open-order bookkeeping. Every change to an order's working quantity goes through
// syncOrderRisk, every fill through applyFillToPosition, so the running totals the pre-trade checks read
// are always the sum of their parts (asserted by test/properties.test.ts through the state hash).

import { OrdStatus, Side } from '../schemas/generated/oms_generated.js';
import { assert } from './assert.js';
import { absBig, notional, toMoneyScale } from './fixed.js';
import type { AccountRisk, Instrument, Order, Position } from './model.js';
import { isTerminal, leavesQty, positionKey } from './model.js';
import type { CoreState } from './state.js';
import { orderMoney, valuationPx } from './checks.js';

export function accountRisk(state: CoreState, accountId: number): AccountRisk {
  let risk = state.accountRisk.get(accountId);
  if (risk === undefined) {
    risk = { openOrders: 0, grossExposureByCurrency: new Map(), rateWindowSecond: 0, rateWindowCount: 0 };
    state.accountRisk.set(accountId, risk);
  }
  return risk;
}

export function position(state: CoreState, accountId: number, instrumentId: number): Position {
  const key = positionKey(accountId, instrumentId);
  let found = state.positions.get(key);
  if (found === undefined) {
    found = {
      accountId, instrumentId, qty: 0, cost: 0n, realisedPnl: 0n, openBuyQty: 0, openSellQty: 0, exposureMoney: 0n,
    };
    state.positions.set(key, found);
    const keys = state.positionsByInstrument.get(instrumentId);
    if (keys === undefined) state.positionsByInstrument.set(instrumentId, [key]);
    else keys.push(key);
  }
  return found;
}

function addGross(risk: AccountRisk, currency: string, delta: bigint): void {
  if (delta === 0n) return;
  const total = (risk.grossExposureByCurrency.get(currency) ?? 0n) + delta;
  assert(total >= 0n, 'gross exposure went negative');
  risk.grossExposureByCurrency.set(currency, total);
}

export function countNewOrder(state: CoreState, order: Order, nowUs: number): void {
  const risk = accountRisk(state, order.accountId);
  risk.openOrders += 1;
  const second = Math.floor(nowUs / 1_000_000);
  if (risk.rateWindowSecond !== second) {
    risk.rateWindowSecond = second;
    risk.rateWindowCount = 0;
  }
  risk.rateWindowCount += 1;
  state.openOrders.add(order);
}

/**
 * Brings the order's contribution to its account's exposure and its position's open quantities in line
 * with its current working quantity. Venue placements only: a parent order's risk is carried by the
 * children it places.
 */
export function syncOrderRisk(state: CoreState, instrument: Instrument, order: Order): void {
  if (order.venueId === 0) return;
  const leaves = leavesQty(order);
  const px = valuationPx(instrument, order.price, order.stopPx);
  const money = leaves === 0 || px === 0 ? 0n : orderMoney(instrument, leaves, px);
  addGross(accountRisk(state, order.accountId), instrument.currency, money - order.exposureMoney);
  order.exposureMoney = money;
  const pos = position(state, order.accountId, order.instrumentId);
  const delta = leaves - order.riskLeavesQty;
  if (order.side === Side.Buy) pos.openBuyQty += delta;
  else pos.openSellQty += delta;
  order.riskLeavesQty = leaves;
  assert(pos.openBuyQty >= 0 && pos.openSellQty >= 0, 'open quantity went negative');
}

/** Takes a done order out of the working set exactly once. */
export function closeIfDone(state: CoreState, order: Order): void {
  if (!isTerminal(order.baseStatus) || !state.openOrders.has(order)) return;
  state.openOrders.delete(order);
  const risk = accountRisk(state, order.accountId);
  risk.openOrders -= 1;
  assert(risk.openOrders >= 0, 'open order count went negative');
}

/** Re-admits an order that a replace re-opened (a filled order replaced up). */
export function reopen(state: CoreState, order: Order): void {
  if (state.openOrders.has(order)) return;
  state.openOrders.add(order);
  accountRisk(state, order.accountId).openOrders += 1;
}

/**
 * Average-cost position keeping. Closing part of a position removes cost in proportion, rounded toward
 * zero; the rounding remainder stays in the open cost, so realised + unrealised P&L is exact and a position
 * that goes flat has realised exactly the sum of its trades.
 */
export function applyFillToPosition(
  state: CoreState, instrument: Instrument, accountId: number, side: Side, lastQty: number, lastPx: number,
): void {
  const pos = position(state, accountId, instrument.instrumentId);
  const signedQty = side === Side.Buy ? lastQty : -lastQty;
  const fillMoney = notional(lastQty, lastPx, instrument.multiplier);
  const signedMoney = side === Side.Buy ? fillMoney : -fillMoney;
  const sameDirection = pos.qty === 0 || (pos.qty > 0) === (signedQty > 0);
  if (sameDirection) {
    pos.cost += signedMoney;
    pos.qty += signedQty;
  } else {
    const closingQty = Math.min(Math.abs(signedQty), Math.abs(pos.qty));
    const removedCost = pos.cost * BigInt(closingQty) / BigInt(Math.abs(pos.qty));
    const closingMoney = notional(closingQty, lastPx, instrument.multiplier);
    // Long closed by a sale earns sale - cost; short closed by a purchase earns cost - purchase (cost < 0).
    pos.realisedPnl += pos.qty > 0 ? closingMoney - removedCost : -removedCost - closingMoney;
    pos.cost -= removedCost;
    pos.qty += signedQty;
    const openedQty = Math.abs(signedQty) - closingQty;
    if (openedQty > 0) {
      assert(pos.cost === 0n, 'a flipped position must have closed all cost first');
      const openedMoney = notional(openedQty, lastPx, instrument.multiplier);
      pos.cost = side === Side.Buy ? openedMoney : -openedMoney;
    }
  }
  assert(Number.isSafeInteger(pos.qty), 'position quantity beyond a safe integer');
  assert(pos.qty !== 0 || pos.cost === 0n, 'a flat position carries no cost');
  syncPositionExposure(state, instrument, pos);
}

/** |qty| at the mark (or at average cost before any mark) counts toward the account's gross exposure. */
export function syncPositionExposure(state: CoreState, instrument: Instrument, pos: Position): void {
  const atMark = instrument.markPx !== 0 ? notional(Math.abs(pos.qty), instrument.markPx, instrument.multiplier) : absBig(pos.cost);
  const money = toMoneyScale(atMark, instrument.pricePrecision, instrument.qtyPrecision);
  addGross(accountRisk(state, pos.accountId), instrument.currency, money - pos.exposureMoney);
  pos.exposureMoney = money;
}

/** A new mark revalues every position in the instrument and every working order priced off the mark. */
export function revalue(state: CoreState, instrument: Instrument): void {
  for (const key of state.positionsByInstrument.get(instrument.instrumentId) ?? []) {
    const pos = state.positions.get(key);
    assert(pos !== undefined, 'position index out of step');
    syncPositionExposure(state, instrument, pos);
  }
  // syncOrderRisk changes risk figures, never the set of working orders, so scanning while it runs is safe.
  state.openOrders.scan((order) => {
    if (order.instrumentId === instrument.instrumentId && order.price === 0 && order.stopPx === 0) syncOrderRisk(state, instrument, order);
    return true;
  });
}

/** Unrealised P&L of a position at the instrument's mark, in instrument money; 0 without a mark. */
export function unrealisedPnl(instrument: Instrument, pos: Position): bigint {
  if (instrument.markPx === 0 || pos.qty === 0) return 0n;
  const signedValue = pos.qty > 0
    ? notional(pos.qty, instrument.markPx, instrument.multiplier)
    : -notional(-pos.qty, instrument.markPx, instrument.multiplier);
  return signedValue - pos.cost;
}

export function statusAfterFill(order: Order): OrdStatus {
  if (order.cumQty === order.orderQty) return OrdStatus.Filled;
  return isTerminal(order.baseStatus) ? order.baseStatus : OrdStatus.PartiallyFilled;
}
