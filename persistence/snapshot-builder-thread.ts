// The snapshot builder's thread (persistence/snapshot-builder.ts starts it). It keeps a Core of its own,
// brought up to the requested seq from the journal (read-only) by deterministic replay, and serialises
// that: the same bytes the live core would give at that seq, without the live core stopping for the
// seconds a large book takes to serialise.

import { parentPort, workerData } from 'node:worker_threads';
import type { Core } from '../core/core.js';
import { hashBytes } from '../core/state.js';
import { Journal } from './journal.js';
import { loadState, replayTail } from './recovery.js';
import type { BuilderReply, BuilderRequest, SnapshotBuilderConfig } from './snapshot-builder.js';
import { lowerThisThreadsPriority } from './thread-priority.js';

if (parentPort === null) throw new Error('persistence/snapshot-builder-thread.ts must run in a worker thread');
const port = parentPort;
const config = workerData as SnapshotBuilderConfig;

// Snapshots are for faster restarts, never the order path.
lowerThisThreadsPriority();
const journal = Journal.open({ path: config.journal_path, readOnly: true, map_size_bytes: config.map_size_bytes });
/** The state as of core.lastSeq(); null until the first build, and after a failed one (rebuilt from scratch). */
let core: Core | null = null;

port.on('message', (request: BuilderRequest) => {
  try {
    const built = build(request.id, request.to_seq);
    port.postMessage(built, [built.bytes.buffer as ArrayBuffer]);
  } catch (error) {
    core = null;
    const reply: BuilderReply = { type: 'failed', id: request.id, error: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply);
  }
});

function build(id: number, toSeq: number): BuilderReply & { type: 'built' } {
  if (!(Number.isSafeInteger(toSeq) && toSeq >= 0)) throw new Error(`snapshot seq must be a non-negative integer, got ${toSeq}`);
  // A request behind what this thread already applied cannot be served by replay: start over.
  if (core === null || core.lastSeq() > toSeq) core = loadState(journal, { to_seq: toSeq, core_options: config.core_options }).core;
  else replayTail(core, journal, toSeq);
  if (core.lastSeq() !== toSeq) throw new Error(`snapshot builder reached seq ${core.lastSeq()}, asked for ${toSeq}`);
  const serialised = core.snapshot();
  // Transferred, not copied: only a buffer that owns its whole ArrayBuffer may be (a small Buffer may share
  // Node's pool); new Uint8Array(buffer) copies (Buffer's own slice() would not).
  const owned = serialised.byteOffset === 0 && serialised.byteLength === serialised.buffer.byteLength;
  const bytes = owned ? serialised : new Uint8Array(serialised);
  return { type: 'built', id, seq: toSeq, state_hash: hashBytes(bytes), bytes };
}
