// Messages between the core worker and the thread that feeds it. Plain data only.

import type { CoreOptions } from './core.js';
import type { RecoveryReport } from '../persistence/recovery.js';
import type { CoreMetricsSnapshot } from './worker-metrics.js';

export interface CoreWorkerConfig {
  journal_path: string;
  map_size_bytes?: number;
  core_options?: CoreOptions;
  /** Frames per batch message; a larger batch is a bug in the feeder. */
  batch_frames_max: number;
  /** Take a snapshot after this many journaled commands; 0 = only on demand. */
  snapshot_every_commands: number;
  /** Snapshots kept after each new one is stored (older ones are deleted). */
  snapshots_kept: number;
}

export type HostMessage =
  | { type: 'batch'; id: number; frames: Uint8Array }
  | { type: 'snapshot'; id: number }
  | { type: 'status'; id: number }
  | { type: 'state'; id: number }
  | { type: 'metrics'; id: number }
  | { type: 'close'; id: number };

export type WorkerMessage =
  | { type: 'ready'; report: RecoveryReport }
  /** `frames`: the batch's own packed frames, handed back (transferred) once durable, for the feeder's replica. */
  | { type: 'results'; id: number; bytes: Uint8Array; frames: Uint8Array }
  | { type: 'snapshot'; id: number; seq: number; state_hash: string; size_bytes: number }
  | { type: 'snapshot_failed'; id: number; error: string }
  | { type: 'status'; id: number; last_seq: number; state_hash: string }
  | { type: 'state'; id: number; bytes: Uint8Array }
  | { type: 'metrics'; id: number; snapshot: CoreMetricsSnapshot }
  | { type: 'closed'; id: number; last_seq: number }
  | { type: 'fatal'; error: string };
