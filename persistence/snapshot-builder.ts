// Builds state snapshots off the core's thread. Serialising the book is seconds for a large one (1 s at
// 250,000 orders, 5 s at 1,000,000 on the benchmark machine) and the core thread is the order path: a
// snapshot taken there froze every order for that long, once per `snapshot_every_commands`. The builder
// thread follows the journal instead (snapshot-builder-thread.ts): it replays the commands since its last
// build into a Core of its own and serialises that. Replay is deterministic, so the bytes are the ones the
// live core would have produced at that seq; recovery checks every snapshot against its hash regardless.
//
// Costs: a second copy of the core's state in memory (the builder keeps its Core between builds, so each
// build replays only the commands since the previous one), and that replay's CPU, at the lowest priority.

import { Worker } from 'node:worker_threads';
import type { CoreOptions } from '../core/core.js';

/** V8 young generation of the builder thread (replay allocates an order object per NewOrder, as the core does). */
export const SNAPSHOT_BUILDER_YOUNG_GENERATION_MB = 64;
/**
 * A build that takes longer is abandoned (the thread is terminated; the next build starts over from the
 * journal). Replay runs at ~250,000 commands/s and serialising 1,000,000 orders takes ~5 s here, at the
 * lowest CPU priority: ten minutes means a thread that is stuck or starved, not a large book.
 */
export const SNAPSHOT_BUILD_TIMEOUT_MS = 10 * 60 * 1000;

export interface SnapshotBuilderConfig {
  journal_path: string;
  map_size_bytes?: number;
  core_options?: CoreOptions;
}

export type BuilderRequest = { type: 'build'; id: number; to_seq: number };
export type BuilderReply =
  | { type: 'built'; id: number; seq: number; state_hash: string; bytes: Uint8Array }
  | { type: 'failed'; id: number; error: string };

export interface BuiltSnapshot {
  seq: number;
  state_hash: string;
  /** The serialised state (core/state.ts). */
  bytes: Uint8Array;
}

interface PendingBuild {
  id: number;
  /** The thread asked: only its death fails this build (an abandoned thread may exit during the next one). */
  worker: Worker;
  resolve: (built: BuiltSnapshot) => void;
  reject: (error: Error) => void;
}

export class SnapshotBuilder {
  private worker: Worker | null = null;
  private pending: PendingBuild | null = null;
  private nextId = 1;
  private closed = false;

  constructor(private readonly config: SnapshotBuilderConfig, private readonly timeout_ms = SNAPSHOT_BUILD_TIMEOUT_MS) {}

  /**
   * The state after `toSeq` serialised, with its hash. One build at a time (the caller chains them). Every
   * entry up to `toSeq` must be committed in the journal: the builder reads it, read-only, from another thread.
   */
  build(toSeq: number): Promise<BuiltSnapshot> {
    if (this.closed) return Promise.reject(new Error('snapshot builder closed'));
    if (this.pending !== null) return Promise.reject(new Error('invariant: one snapshot build at a time'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const timer = setTimeout(() => this.abandon(worker, `snapshot build at seq ${toSeq} took over ${this.timeout_ms} ms`), this.timeout_ms);
    return new Promise<BuiltSnapshot>((resolve, reject) => {
      this.pending = { id, worker, resolve, reject };
      const request: BuilderRequest = { type: 'build', id, to_seq: toSeq };
      worker.postMessage(request);
    }).finally(() => clearTimeout(timer));
  }

  /** Stops the thread; a build in progress is abandoned (rejected); later builds are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
    this.settle(null, new Error('snapshot builder closed'));
  }

  private start(): Worker {
    const worker = new Worker(new URL('../core/worker-boot.mjs', import.meta.url), {
      workerData: { ...this.config, entry: new URL('./snapshot-builder-thread.ts', import.meta.url).href },
      resourceLimits: { maxYoungGenerationSizeMb: SNAPSHOT_BUILDER_YOUNG_GENERATION_MB },
    });
    worker.on('message', (reply: BuilderReply) => {
      if (this.pending === null || reply.id !== this.pending.id) return;
      if (reply.type === 'built') this.settle({ seq: reply.seq, state_hash: reply.state_hash, bytes: reply.bytes }, null);
      else this.settle(null, new Error(`snapshot build failed: ${reply.error}`));
    });
    // A thread that died (out of memory, a bug) is replaced at the next build, which starts from the journal.
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`snapshot builder exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  /** Gives up on the build in progress: its thread is terminated, and the next build starts a new one. */
  private abandon(worker: Worker, reason: string): void {
    this.lost(worker, new Error(reason));
    void worker.terminate();
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = null;
    if (this.pending?.worker === worker) this.settle(null, error);
  }

  private settle(built: BuiltSnapshot | null, error: Error | null): void {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    if (built !== null) pending.resolve(built);
    else pending.reject(error ?? new Error('snapshot build failed'));
  }
}
