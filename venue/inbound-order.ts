// Venue messages reach the core in the venue's MsgSeqNum order. The library delivers a message above a gap
// at once and the resent ones later; applied in that order, a fill on a replaced order could be refused as an
// overfill against the old quantity before the Replaced that allows it, and be lost. Messages above the next
// expected number wait here until the gap is filled (by resent messages or a gap fill); a gap that stays open
// too long, or too many waiting messages, tells the adapter to resynchronise (reconnect: the venue resends
// from the durable watermark).

import { assert } from '../core/assert.js';

/** Messages waiting above a gap at most; beyond it the session is resynchronised. */
export const HELD_MESSAGES_MAX = 10_000;

export type GateOutcome = 'delivered' | 'held' | 'duplicate' | 'overflow';

/** A held entry: a message, or the range a gap fill at this number covers ([seq, to)). */
type Held<T> = { item: T; to: number } | { item: null; to: number };

export class InOrderGate<T> {
  private nextSeq = 1;
  private readonly held = new Map<number, Held<T>>();
  /** When the oldest waiting message arrived (ms), or null when nothing waits. */
  private heldSinceMs: number | null = null;

  constructor(private readonly deliver: (item: T, seq: number) => void) {}

  get next(): number {
    return this.nextSeq;
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Starts a numbering (each connection: at the durable watermark) and drops whatever waited. */
  reset(next: number): void {
    assert(Number.isSafeInteger(next) && next >= 1, `gate reset to ${next}`);
    this.nextSeq = next;
    this.held.clear();
    this.heldSinceMs = null;
  }

  /** A message numbered `seq`: delivered now (with any waiting ones it unblocks), held, or a duplicate. */
  offer(seq: number, item: T, nowMs: number): GateOutcome {
    return this.enter(seq, { item, to: seq + 1 }, nowMs);
  }

  /** A gap fill numbered `seq`: the numbers [seq, to) will not come. */
  offerGapFill(seq: number, to: number, nowMs: number): GateOutcome {
    assert(to > seq, `gap fill [${seq}, ${to})`);
    return this.enter(seq, { item: null, to }, nowMs);
  }

  /** Whether `seq` would be delivered now (the caller then need not copy what it offers). */
  isNext(seq: number): boolean {
    return seq === this.nextSeq;
  }

  private enter(seq: number, entry: Held<T>, nowMs: number): GateOutcome {
    if (entry.to <= this.nextSeq) return 'duplicate';
    if (seq > this.nextSeq) {
      if (this.held.has(seq)) return 'duplicate';
      if (this.held.size >= HELD_MESSAGES_MAX) return 'overflow';
      this.held.set(seq, entry);
      this.heldSinceMs ??= nowMs;
      return 'held';
    }
    this.pass(seq, entry);
    this.drain();
    return 'delivered';
  }

  /** `seq` is the next number (or a gap fill reaching past it): deliver, and forget what a fill jumped over. */
  private pass(seq: number, entry: Held<T>): void {
    if (entry.to > this.nextSeq + 1) for (const held of this.held.keys()) if (held < entry.to) this.held.delete(held);
    this.nextSeq = Math.max(this.nextSeq, entry.to);
    if (entry.item !== null) this.deliver(entry.item, seq);
  }

  /** How long the oldest waiting message has waited (0 when none). */
  waitingMs(nowMs: number): number {
    return this.heldSinceMs === null ? 0 : nowMs - this.heldSinceMs;
  }

  private drain(): void {
    // Each pass removes at least one entry, so the loop is bounded by the number held.
    for (let budget = this.held.size; budget > 0; budget -= 1) {
      const entry = this.held.get(this.nextSeq);
      if (entry === undefined) break;
      this.held.delete(this.nextSeq);
      this.pass(this.nextSeq, entry);
    }
    this.heldSinceMs = this.held.size === 0 ? null : this.heldSinceMs;
  }
}
