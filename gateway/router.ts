// Who sees which report. A result goes in full (minus internal venue requests) to the session whose command
// caused it; its execution reports and cancel rejects also go to every session subscribed to the order's
// owner (OwnOrders) or account (Account, if entitled). Results are kept in a bounded retransmission ring by
// journal seq, so a reconnecting client resumes after its last seq with nothing missed or repeated.

import { ExecType, Role } from '../schemas/generated/oms_generated.js';
import { isEntitled } from '../core/checks.js';
import { formatScaled } from '../core/fixed.js';
import { positionKey } from '../core/model.js';
import { unrealisedPnl } from '../core/risk.js';
import type { PositionData } from './protocol.js';
import type { CommandResultData, EventData } from '../schemas/results.js';
import type { Replica } from './replica.js';

export interface SessionView {
  readonly sessionId: number;
  readonly userId: number;
  /** Subscriptions. */
  readonly ownOrders: boolean;
  readonly accounts: ReadonlySet<number>;
}

export class ReportRouter {
  private readonly ring: CommandResultData[] = [];
  private ringStart = 0;

  constructor(private readonly replica: Replica, readonly retention_results_max: number) {
    if (!(retention_results_max > 0)) throw new Error('invariant: retention must be positive');
  }

  /** Remembers a journaled result for resumes; results must arrive in seq order. */
  retain(result: CommandResultData): void {
    if (result.seq === 0) return;
    const last = this.ring.length > 0 ? this.ring[this.ring.length - 1].seq : 0;
    if (result.seq <= last) throw new Error(`invariant: results out of order (${result.seq} after ${last})`);
    this.ring.push(result);
    // Trim in chunks: shifting one element at a time would be O(n) per result.
    if (this.ring.length - this.ringStart > this.retention_results_max) this.ringStart += 1;
    if (this.ringStart > 4096 && this.ringStart * 2 > this.ring.length) {
      this.ring.splice(0, this.ringStart);
      this.ringStart = 0;
    }
  }

  /** Oldest seq a resume can start after (resuming after an older seq would miss reports). */
  oldestResumableSeq(): number {
    return this.ring.length > this.ringStart ? this.ring[this.ringStart].seq - 1 : this.replica.lastSeq();
  }

  /** The share of `result` that `session` may see, or null; `origin` marks the session that sent it. */
  shareFor(session: SessionView, result: CommandResultData, origin: boolean): CommandResultData | null {
    const events: EventData[] = [];
    for (const event of result.events) {
      if (event.kind === 'venue_request') continue;
      if (origin || this.covers(session, event)) events.push(event);
    }
    if (events.length === 0) return null;
    // Another session's request id would collide with this session's own numbering: clear it.
    return { ...result, requestId: origin ? result.requestId : 0, events };
  }

  private covers(session: SessionView, event: EventData): boolean {
    if (event.kind !== 'execution_report' && event.kind !== 'cancel_reject') return false;
    if (event.orderId === 0) return false;
    const order = this.replica.core.state.orders.get(event.orderId);
    if (order === undefined) return false;
    if (session.ownOrders && order.userId === session.userId) return true;
    return session.accounts.has(order.accountId) && this.entitled(session.userId, order.accountId);
  }

  entitled(userId: number, accountId: number): boolean {
    if (!this.replica.core.state.accounts.has(accountId)) return false;
    const user = this.replica.core.state.users.get(userId);
    if (user === undefined) return false;
    if (user.role === Role.Venue) return false;
    return isEntitled(user, accountId);
  }

  /** The positions (as of the replica now: it has applied `share`'s command) that the fills in `share` moved. */
  positionsMovedBy(share: CommandResultData): PositionData[] {
    const state = this.replica.core.state;
    const moved: PositionData[] = [];
    const seen = new Set<number>();
    for (const event of share.events) {
      if (event.kind !== 'execution_report' || event.execType !== ExecType.Trade || event.venueId === 0) continue;
      const key = positionKey(event.accountId, event.instrumentId);
      const position = state.positions.get(key);
      const instrument = state.instruments.get(event.instrumentId);
      if (seen.has(key) || position === undefined || instrument === undefined) continue;
      seen.add(key);
      const digits = instrument.pricePrecision + instrument.qtyPrecision;
      moved.push({
        seq: share.seq, accountId: position.accountId, instrumentId: position.instrumentId, qty: position.qty,
        cost: formatScaled(position.cost, digits), realisedPnl: formatScaled(position.realisedPnl, digits),
        unrealisedPnl: formatScaled(unrealisedPnl(instrument, position), digits), markPx: instrument.markPx, currency: instrument.currency,
      });
    }
    return moved;
  }

  /**
   * Results after `afterSeq` for a resuming session, or null when that is older than the window. The user's
   * own commands come back whole (its rejects too: the connection that sent them may be the one that was
   * lost), without request ids, which belonged to the old connection.
   */
  resume(session: SessionView, afterSeq: number): CommandResultData[] | null {
    if (afterSeq < this.oldestResumableSeq()) return null;
    const shares: CommandResultData[] = [];
    for (let i = this.firstIndexAfter(afterSeq); i < this.ring.length; i++) {
      const result = this.ring[i];
      const share = this.shareFor(session, result, result.userId === session.userId);
      if (share !== null) shares.push(share.requestId === 0 ? share : { ...share, requestId: 0 });
    }
    return shares;
  }

  private firstIndexAfter(seq: number): number {
    let low = this.ringStart;
    let high = this.ring.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.ring[mid].seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
