// A read replica of the core on the gateway's thread. The core is deterministic, so applying the same
// journaled frames in the same order gives the same state: the gateway answers reads (blotter, positions,
// entitlements, order owners for routing) without ever asking, or stalling, the single writer.
//
// Applied lazily: apply() queues a frame, and the state catches up the moment anything reads it (the `core`
// getter), or at the end of the event-loop turn (the service calls catchUp()). A batch's reports to the
// sessions that sent its commands need nothing from the replica, so they go out first and the ~3 us per
// command of applying follows, instead of delaying every acknowledgement of the batch.

import { Core } from '../core/core.js';
import type { CoreHost } from '../core/core-host.js';

/**
 * Frames queued at most; beyond it apply() catches up at once. The service catches up every turn, so this
 * only bounds a turn that receives more results than the core's own queue holds (CORE_HOST_DEFAULTS).
 */
export const REPLICA_PENDING_FRAMES_MAX = 65_536;

export class Replica {
  private readonly applied: Core;
  private pendingSeqs: number[] = [];
  private pendingFrames: Uint8Array[] = [];
  /** Highest seq queued (every queued frame is durable: the core answered it). */
  private queuedSeq: number;
  /** Set when applying failed: the replica no longer matches the core, and every later use says so. */
  private failure: Error | null = null;

  private constructor(core: Core) {
    core.out.muted = true;
    this.applied = core;
    this.queuedSeq = core.lastSeq();
  }

  /** Starts from the core's current state; call when no command is in flight (start-up). */
  static async fromHost(host: CoreHost): Promise<Replica> {
    return new Replica(Core.fromSnapshot(await host.stateBytes()));
  }

  /** The replica's core, with every queued frame applied first. Every read goes through here. */
  get core(): Core {
    this.catchUp();
    return this.applied;
  }

  /** Frames queued and not yet applied. */
  get pendingCount(): number {
    return this.pendingSeqs.length;
  }

  /** The last seq the core journaled and answered (queued here; applied before any read). */
  lastSeq(): number {
    return this.queuedSeq;
  }

  /** Queues a frame the core journaled under `seq`; results arrive in seq order, so a gap is a bug. */
  apply(seq: number, frame: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    if (seq !== this.queuedSeq + 1) throw new Error(`invariant: replica gap: expected seq ${this.queuedSeq + 1}, got ${seq}`);
    this.queuedSeq = seq;
    this.pendingSeqs.push(seq);
    this.pendingFrames.push(frame);
    if (this.pendingSeqs.length >= REPLICA_PENDING_FRAMES_MAX) this.catchUp();
  }

  /**
   * Applies everything queued, in seq order. A failure is an invariant broken (the core applied the same
   * frames): it is kept and thrown again by every later use, and the service stops the process.
   */
  catchUp(): void {
    if (this.failure !== null) throw this.failure;
    if (this.pendingSeqs.length === 0) return;
    const seqs = this.pendingSeqs;
    const frames = this.pendingFrames;
    this.pendingSeqs = [];
    this.pendingFrames = [];
    try {
      for (let i = 0; i < seqs.length; i++) this.applied.replay(seqs[i], frames[i]);
      if (this.applied.lastSeq() !== this.queuedSeq) throw new Error(`invariant: replica at ${this.applied.lastSeq()} after catching up to ${this.queuedSeq}`);
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw this.failure;
    }
  }
}
