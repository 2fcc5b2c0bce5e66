// Snapshots must restore every piece of state, not just hash the same: a field missing from the snapshot's
// field lists would hash identically on both sides and only diverge later. These compare records directly.

import { describe, expect, it } from 'vitest';
import { Command, ExecType, OrdType, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import { Core } from '../core/core.js';
import { DEMO } from '../core/demo.js';
import type { Order } from '../core/model.js';
import { deserializeState, hashBytes, serializeState, stateHash } from '../core/state.js';
import { CoreHarness } from './support/core-harness.js';

/** An order as state: its slot in the open-order array is bookkeeping and differs after a restore. */
function asState(order: Order): Omit<Order, 'openSlot'> {
  const { openSlot: _slot, ...rest } = order;
  return rest;
}

function busyHarness(): CoreHarness {
  const h = CoreHarness.withDemoData();
  h.send(DEMO.users.pm, {
    type: Command.NewOrder, clOrdId: 'P1', accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL, side: Side.Buy,
    ordType: OrdType.Limit, timeInForce: TimeInForce.GTC, orderQty: 5000, price: 19_000, stopPx: 0, expireTimeUs: 0,
    parentClOrdId: '', venueId: 0, text: '',
  });
  h.newOrder({ clOrdId: 'C1', parentClOrdId: 'P1', orderQty: 2000 });
  h.venue('C1', ExecType.New);
  h.fill('C1', 700, 19_010);
  h.newOrder({ clOrdId: 'C2', parentClOrdId: 'P1', orderQty: 1000 });
  h.send(DEMO.users.trader, { type: Command.ReplaceOrder, clOrdId: 'C2-R', origClOrdId: 'C2', accountId: 0, orderQty: 1500, price: 19_020, stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0 });
  h.newOrder({ clOrdId: 'S1', side: Side.Sell, instrumentId: DEMO.instruments.BTCUSD, orderQty: 12_345_678, price: 9_500_000 });
  h.fill('S1', 12_345_678, 9_500_001);
  h.newOrder({ clOrdId: 'X1', orderQty: 100 });
  h.send(DEMO.users.trader, { type: Command.CancelOrder, clOrdId: 'X1-C', origClOrdId: 'X1', accountId: 0 });
  h.venue('X1', ExecType.Canceled, { clOrdId: 'X1-C', origClOrdId: 'X1' });
  return h;
}

describe('snapshots', () => {
  it('restore every order, position, index and counter exactly', () => {
    const h = busyHarness();
    const bytes = serializeState(h.core.state);
    const restored = deserializeState(bytes);
    const live = h.core.state;
    expect([...restored.orders.values()].map(asState)).toEqual([...live.orders.values()].map(asState));
    expect([...restored.positions]).toEqual([...live.positions]);
    expect([...restored.ordersByClOrdId].map(([id, o]) => [id, o.orderId])).toEqual([...live.ordersByClOrdId].map(([id, o]) => [id, o.orderId]));
    expect([...restored.openOrders].map((o) => o.orderId)).toEqual([...live.openOrders].map((o) => o.orderId));
    expect([...restored.venueExecIds]).toEqual([...live.venueExecIds]);
    expect(restored.accountRisk).toEqual(live.accountRisk);
    expect({ ...restored, orders: null, ordersByClOrdId: null, openOrders: null, positions: null })
      .toEqual({ ...live, orders: null, ordersByClOrdId: null, openOrders: null, positions: null });
    // The hash is that of the bytes, whichever way it is computed, and a restored core hashes the same.
    expect(stateHash(live)).toBe(hashBytes(bytes));
    expect(stateHash(restored)).toBe(stateHash(live));
  });

  it('a core restored from a snapshot behaves like the live one on the commands that follow', () => {
    const h = busyHarness();
    const restored = new CoreHarness(Core.fromSnapshot(h.core.snapshot()));
    const t0 = h.nowUs;
    for (const harness of [h, restored]) {
      harness.nowUs = t0;
      // Explicit ExecIDs: each harness numbers its own, and a resent one is (rightly) a duplicate.
      harness.fill('C1', 1300, 19_000, 'AFTER-1');
      harness.venue('C2', ExecType.Replaced, { clOrdId: 'C2-R', origClOrdId: 'C2', execId: 'AFTER-2' });
      harness.newOrder({ clOrdId: 'N1', orderQty: 300 });
    }
    expect(restored.core.hash()).toBe(h.core.hash());
  });

  it('refuses truncated or trailing bytes instead of restoring part of a book', () => {
    const bytes = serializeState(busyHarness().core.state);
    expect(() => deserializeState(bytes.subarray(0, bytes.length - 10))).toThrow();
    expect(() => deserializeState(Buffer.concat([bytes, Buffer.from('[]\n')]))).toThrow(/trailing/);
  });
});
