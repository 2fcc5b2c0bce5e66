// Start-up recovery and the operator's replay: latest good snapshot, then the journal tail, in order.
// A snapshot whose bytes do not hash to the hash recorded with it is skipped (an older one, or the journal
// from the start, is used instead): a corrupt snapshot must never become the book.

import { Core } from '../core/core.js';
import type { CoreOptions } from '../core/core.js';
import { hashBytes } from '../core/state.js';
import type { Journal, SnapshotRecord } from './journal.js';
import { SnapshotUnreadableError } from './journal.js';

export interface RecoveryOptions {
  core_options?: CoreOptions;
  /** Stop after this sequence number (replay to a point); default: the end of the journal. */
  to_seq?: number;
  /** Ignore snapshots and replay the whole journal (verify does this). */
  from_scratch?: boolean;
  /** Called every progress_every commands, for terminals. */
  on_progress?: (seq: number, last_seq: number) => void;
  progress_every?: number;
  /** Called after each command is applied; lets verify compare hashes at snapshot points. */
  on_applied?: (core: Core, seq: number) => void;
}

export interface RecoveryReport {
  snapshot_seq: number;
  snapshots_skipped: number;
  replayed_count: number;
  last_seq: number;
  state_hash: string;
  duration_ms: number;
  /** Of duration_ms: applying the journal tail, and hashing the recovered state. */
  replay_ms: number;
  hash_ms: number;
}

export function recover(journal: Journal, options: RecoveryOptions = {}): { core: Core; report: RecoveryReport } {
  const started = performance.now();
  const loaded = loadState(journal, options);
  const hashStarted = performance.now();
  const stateHash = loaded.core.hash();
  const finished = performance.now();
  return {
    core: loaded.core,
    report: {
      snapshot_seq: loaded.snapshot_seq, snapshots_skipped: loaded.snapshots_skipped, replayed_count: loaded.replayed_count,
      last_seq: loaded.core.lastSeq(), state_hash: stateHash, duration_ms: finished - started, replay_ms: loaded.replay_ms,
      hash_ms: finished - hashStarted,
    },
  };
}

export interface LoadedState {
  core: Core;
  snapshot_seq: number;
  snapshots_skipped: number;
  replayed_count: number;
  replay_ms: number;
}

/**
 * recover() without hashing the result: hashing serialises the whole state, which is seconds for a large
 * book, and the snapshot builder hashes the bytes it serialises anyway.
 */
export function loadState(journal: Journal, options: RecoveryOptions = {}): LoadedState {
  const toSeq = options.to_seq ?? journal.lastSeq();
  const { snapshot, skipped } = options.from_scratch ? { snapshot: undefined, skipped: 0 } : goodSnapshot(journal, toSeq);
  const core = snapshot === undefined ? new Core(options.core_options) : Core.fromSnapshot(snapshot.bytes, options.core_options);
  const replayStarted = performance.now();
  const replayed = replayTail(core, journal, toSeq, options);
  return {
    core, snapshot_seq: snapshot?.seq ?? 0, snapshots_skipped: skipped, replayed_count: replayed,
    replay_ms: performance.now() - replayStarted,
  };
}

/** The newest snapshot at or before toSeq whose bytes match its recorded hash. */
function goodSnapshot(journal: Journal, toSeq: number): { snapshot: SnapshotRecord | undefined; skipped: number } {
  let skipped = 0;
  let bound = toSeq;
  const attemptsMax = journal.listSnapshots().length + 1;
  for (let attempt = 0; attempt < attemptsMax; attempt++) {
    let candidate: SnapshotRecord | undefined;
    try {
      candidate = journal.latestSnapshot(bound);
    } catch (error) {
      // A chunk missing or short: as unusable as a hash mismatch; try the one before.
      if (!(error instanceof SnapshotUnreadableError)) throw error;
      skipped += 1;
      bound = error.seq - 1;
      continue;
    }
    if (candidate === undefined) return { snapshot: undefined, skipped };
    if (hashBytes(candidate.bytes) === candidate.state_hash) return { snapshot: candidate, skipped };
    skipped += 1;
    if (candidate.seq === 0) return { snapshot: undefined, skipped };
    bound = candidate.seq - 1;
  }
  return { snapshot: undefined, skipped };
}

/** Applies the journal from core.lastSeq() + 1 to toSeq (results muted); returns the commands applied. */
export function replayTail(core: Core, journal: Journal, toSeq: number, options: RecoveryOptions = {}): number {
  const progressEvery = options.progress_every ?? 100_000;
  if (toSeq <= core.lastSeq()) return 0;
  core.out.muted = true;
  let count = 0;
  try {
    // Transient views, no copy per entry: the core decodes each frame before the next is read.
    journal.forEachTransient(core.lastSeq() + 1, toSeq, (seq, bytes) => {
      core.replay(seq, bytes);
      count += 1;
      options.on_applied?.(core, seq);
      if (options.on_progress !== undefined && count % progressEvery === 0) options.on_progress(seq, toSeq);
    });
  } finally {
    core.out.muted = false;
  }
  if (core.lastSeq() !== toSeq && toSeq >= core.lastSeq()) {
    throw new Error(`journal ends at ${core.lastSeq()}, expected ${toSeq}: entries are missing`);
  }
  return count;
}
