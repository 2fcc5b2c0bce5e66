// Two collections on the new-order path, array-backed because hash-table inserts into a Map or Set of a
// million entries cost more than the rest of a command (cache misses on every probe). Their API mirrors
// the Map/Set calls the core and tests use.

import { assert } from './assert.js';
import type { Order } from './model.js';

/** Orders by orderId; ids are dense (1, 2, 3, ...) because the core assigns them from a counter. */
export class OrderTable {
  private readonly byId: Array<Order | undefined> = [undefined];

  get size(): number {
    return this.byId.length - 1;
  }

  get(orderId: number): Order | undefined {
    return this.byId[orderId];
  }

  set(orderId: number, order: Order): void {
    // Not assert(): its message would be built on every new order.
    if (orderId !== this.byId.length) throw new Error(`invariant: order ids are dense: expected ${this.byId.length}, got ${orderId}`);
    this.byId.push(order);
  }

  *values(): IterableIterator<Order> {
    for (let id = 1; id < this.byId.length; id++) yield this.byId[id] as Order;
  }
}

/**
 * Working orders, iterated in the order they were (re)opened, like a Set. Removal marks the slot dead and
 * the array is compacted once dead slots outnumber live ones, so add and delete are O(1) amortised.
 * Each order records its live slot in `openSlot` (-1 when closed); snapshots leave it out, because
 * compaction history is not state.
 */
export class OpenOrderSet {
  private slots: Order[] = [];
  private live = 0;

  get size(): number {
    return this.live;
  }

  has(order: Order): boolean {
    return order.openSlot >= 0;
  }

  add(order: Order): void {
    if (order.openSlot >= 0) return;
    order.openSlot = this.slots.length;
    this.slots.push(order);
    this.live += 1;
  }

  delete(order: Order): boolean {
    if (order.openSlot < 0) return false;
    order.openSlot = -1;
    this.live -= 1;
    if (this.slots.length > 64 && this.live * 2 < this.slots.length) this.compact();
    return true;
  }

  /** Callers collect first and change later (see expireOrders): changing the set mid-iteration is a bug. */
  /**
   * Visits every working order until `visit` returns false. The hot scans (expiry on every Tick, revaluation
   * on every mark) use this rather than the iterator: a generator's yield per order cost ~20 ms per Tick
   * with 200k working orders, on the core thread and again on the gateway's replica.
   */
  scan(visit: (order: Order) => boolean): void {
    const slots = this.slots;
    const live = this.live;
    for (let i = 0; i < slots.length; i++) {
      const order = slots[i];
      if (order.openSlot === i && !visit(order)) break;
    }
    assert(slots === this.slots && live === this.live, 'open orders changed during a scan');
  }

  *[Symbol.iterator](): IterableIterator<Order> {
    const slots = this.slots;
    const live = this.live;
    for (let i = 0; i < slots.length; i++) {
      assert(slots === this.slots && live === this.live, 'open orders changed during iteration');
      const order = slots[i];
      if (order.openSlot === i) yield order;
    }
  }

  private compact(): void {
    const kept: Order[] = [];
    for (let i = 0; i < this.slots.length; i++) {
      const order = this.slots[i];
      if (order.openSlot === i) {
        order.openSlot = kept.length;
        kept.push(order);
      }
    }
    assert(kept.length === this.live, 'open order count out of step');
    this.slots = kept;
  }
}
