// The feeding side of the core worker: starts it (recovery runs there first), batches frames so that one
// message crosses the thread per event-loop turn, and hands back results in order. Used by the gateway,
// the operator CLI, the tests and the benchmarks.

import { Worker } from 'node:worker_threads';
import type { CommandResultData } from '../schemas/results.js';
import { decodeResultBatch } from '../schemas/results.js';
import { forEachFrame, FramePacker } from './frames.js';
import type { RecoveryReport } from '../persistence/recovery.js';
import type { CoreMetricsSnapshot } from './worker-metrics.js';
import type { CoreWorkerConfig, HostMessage, WorkerMessage } from './worker-protocol.js';

export interface CoreHostOptions {
  journal_path: string;
  map_size_bytes?: number;
  core_options?: CoreWorkerConfig['core_options'];
  /** Frames in one batch message (one group commit at most this big). */
  batch_frames_max?: number;
  /** Frames waiting for a batch plus frames in batches not yet answered; beyond it submit() refuses. */
  queued_frames_max?: number;
  snapshot_every_commands?: number;
  /** The newest snapshots kept; older ones are deleted once a new one is durable. */
  snapshots_kept?: number;
  /** V8 young generation of the core thread: larger means fewer scavenges of freshly created orders. */
  young_generation_mb?: number;
}

export const CORE_HOST_DEFAULTS = {
  batch_frames_max: 4096,
  queued_frames_max: 65_536,
  snapshot_every_commands: 0,
  snapshots_kept: 3,
  young_generation_mb: 96,
} as const;

/**
 * A result and where its bytes are: result `index` of the core's ResultBatch `batch`. The gateway's resume
 * ring keeps these bytes rather than the decoded objects (200,000 object graphs in the old generation were
 * the gateway thread's largest GC cost).
 */
export interface LocatedResult {
  result: CommandResultData;
  batch: Uint8Array;
  index: number;
  /** The frame the core applied, as it was journaled (a view of the batch the worker handed back). */
  frame: Uint8Array;
}

export class CoreQueueFullError extends Error {}
export class CoreStoppedError extends Error {}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

export class CoreHost {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter<WorkerMessage>>();
  /** Frames waiting for the next batch, packed as they come (one copy each, no buffer per frame). */
  private queued = new FramePacker();
  private queuedWaiters: Array<Waiter<LocatedResult>> = [];
  private flushScheduled = false;
  private inFlightFrames = 0;
  private stopped: Error | null = null;
  readonly options: Required<Pick<CoreHostOptions, 'batch_frames_max' | 'queued_frames_max'>>;
  recovery!: RecoveryReport;
  /** Called once if the worker dies; the process should restart and recover. */
  onFatal: (error: Error) => void = () => {};

  private constructor(worker: Worker, options: CoreHostOptions) {
    this.worker = worker;
    this.options = {
      batch_frames_max: options.batch_frames_max ?? CORE_HOST_DEFAULTS.batch_frames_max,
      queued_frames_max: options.queued_frames_max ?? CORE_HOST_DEFAULTS.queued_frames_max,
    };
    worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    worker.on('error', (error) => this.stop(error));
    worker.on('exit', (code) => this.stop(new CoreStoppedError(`core worker exited with code ${code}`)));
  }

  static async start(options: CoreHostOptions): Promise<CoreHost> {
    const config: CoreWorkerConfig & { entry: string } = {
      entry: new URL('./worker.ts', import.meta.url).href,
      journal_path: options.journal_path,
      map_size_bytes: options.map_size_bytes,
      core_options: options.core_options,
      batch_frames_max: options.batch_frames_max ?? CORE_HOST_DEFAULTS.batch_frames_max,
      snapshot_every_commands: options.snapshot_every_commands ?? CORE_HOST_DEFAULTS.snapshot_every_commands,
      snapshots_kept: options.snapshots_kept ?? CORE_HOST_DEFAULTS.snapshots_kept,
    };
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: config,
      resourceLimits: { maxYoungGenerationSizeMb: options.young_generation_mb ?? CORE_HOST_DEFAULTS.young_generation_mb },
    });
    const host = new CoreHost(worker, options);
    const ready = await host.expect(0);
    if (ready.type !== 'ready') throw new Error(`core worker sent ${ready.type} before ready`);
    host.recovery = ready.report;
    return host;
  }

  /**
   * Queues one frame for the next batch; resolves with its result once it is durable. The frame is copied
   * before this returns, so it may be a view of memory the caller reuses.
   */
  submit(frame: Uint8Array): Promise<CommandResultData> {
    return this.submitLocated(frame).then((located) => located.result);
  }

  /** submit(), also saying where the result's bytes and the applied frame are (see LocatedResult). */
  submitLocated(frame: Uint8Array): Promise<LocatedResult> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    if (this.queued.count + this.inFlightFrames >= this.options.queued_frames_max) {
      return Promise.reject(new CoreQueueFullError(`core queue holds ${this.options.queued_frames_max} frames`));
    }
    return new Promise((resolve, reject) => {
      this.queued.append(frame);
      this.queuedWaiters.push({ resolve, reject });
      if (this.queued.count >= this.options.batch_frames_max) this.flushQueue();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushQueue());
      }
    });
  }

  private async sendPacked(packed: Uint8Array, frameCount: number): Promise<{ bytes: Uint8Array; frames: Uint8Array }> {
    this.inFlightFrames += frameCount;
    try {
      const reply = await this.request({ type: 'batch', id: this.nextId++, frames: packed }, true);
      if (reply.type !== 'results') throw new Error(`expected results, got ${reply.type}`);
      return { bytes: reply.bytes, frames: reply.frames };
    } finally {
      this.inFlightFrames -= frameCount;
    }
  }

  private flushQueue(): void {
    this.flushScheduled = false;
    const count = this.queued.count;
    if (count === 0) return;
    // submitLocated flushes at batch_frames_max, so the packer never holds more than one batch.
    if (count > this.options.batch_frames_max) throw new Error(`invariant: ${count} frames queued for one batch`);
    const waiters = this.queuedWaiters;
    this.queuedWaiters = [];
    this.sendPacked(this.queued.take(), count).then(({ bytes, frames }) => {
      const results = decodeResultBatch(bytes);
      if (results.length !== waiters.length) throw new Error('invariant: one result per frame');
      const returned = forEachFrame(frames, waiters.length, (frame, i) => waiters[i].resolve({ result: results[i], batch: bytes, index: i, frame }));
      if (returned !== waiters.length) throw new Error('invariant: the worker handed back a different batch');
    }).catch((error: Error) => {
      for (const waiter of waiters) waiter.reject(error);
    });
  }

  async snapshot(): Promise<{ seq: number; state_hash: string; size_bytes: number }> {
    const reply = await this.request({ type: 'snapshot', id: this.nextId++ }, false);
    if (reply.type === 'snapshot_failed') throw new Error(reply.error);
    if (reply.type !== 'snapshot') throw new Error(`expected snapshot, got ${reply.type}`);
    return { seq: reply.seq, state_hash: reply.state_hash, size_bytes: reply.size_bytes };
  }

  async status(): Promise<{ last_seq: number; state_hash: string }> {
    const reply = await this.request({ type: 'status', id: this.nextId++ }, false);
    if (reply.type !== 'status') throw new Error(`expected status, got ${reply.type}`);
    return { last_seq: reply.last_seq, state_hash: reply.state_hash };
  }

  async metrics(): Promise<CoreMetricsSnapshot> {
    const reply = await this.request({ type: 'metrics', id: this.nextId++ }, false);
    if (reply.type !== 'metrics') throw new Error(`expected metrics, got ${reply.type}`);
    return reply.snapshot;
  }

  /** The core's canonical state bytes (what a snapshot would store), for read models and tests. */
  async stateBytes(): Promise<Uint8Array> {
    const reply = await this.request({ type: 'state', id: this.nextId++ }, false);
    if (reply.type !== 'state') throw new Error(`expected state, got ${reply.type}`);
    return reply.bytes;
  }

  /** Drains queued frames, flushes the journal and stops the worker; nothing acknowledged is lost. */
  async close(): Promise<number> {
    this.flushQueue();
    const reply = await this.request({ type: 'close', id: this.nextId++ }, false);
    if (reply.type !== 'closed') throw new Error(`expected closed, got ${reply.type}`);
    this.stopped = new CoreStoppedError('core closed');
    await this.worker.terminate();
    return reply.last_seq;
  }

  private request(message: HostMessage, transfer: boolean): Promise<WorkerMessage> {
    const reply = this.expect(message.id);
    const transferList = transfer && message.type === 'batch' ? [message.frames.buffer as ArrayBuffer] : [];
    this.worker.postMessage(message, transferList);
    return reply;
  }

  private expect(id: number): Promise<WorkerMessage> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => this.waiters.set(id, { resolve, reject }));
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'fatal') {
      this.stop(new CoreStoppedError(`core worker failed: ${message.error}`));
      return;
    }
    const id = message.type === 'ready' ? 0 : message.id;
    const waiter = this.waiters.get(id);
    if (waiter === undefined) return;
    this.waiters.delete(id);
    waiter.resolve(message);
  }

  private stop(error: Error): void {
    if (this.stopped !== null) return;
    this.stopped = error;
    for (const waiter of this.waiters.values()) waiter.reject(error);
    this.waiters.clear();
    for (const waiter of this.queuedWaiters) waiter.reject(error);
    this.queued = new FramePacker();
    this.queuedWaiters = [];
    this.onFatal(error);
  }
}
