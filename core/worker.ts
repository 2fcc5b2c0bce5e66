// The core's thread. Owns the Core and the journal; nothing else touches either. Per batch:
//   apply every frame in memory -> append the decodable ones to the journal (one group commit)
//   -> wait until that commit is on disk -> only then release the batch's results.
// The next batch may be applied while the previous one is being flushed (the state is ahead of the disk,
// but nothing that is not on disk has been told to anyone), and results leave strictly in batch order.
//
// An invariant failure inside the core stops this thread: the command that tripped it was not journaled,
// so a restart recovers the last durable state without it.
//
// Snapshots are serialised by the snapshot builder's thread (persistence/snapshot-builder.ts), not here:
// serialising a large book took seconds, during which no order moved. This thread only stores them.
// (persistence/journal.ts writes them in chunks, so that batches commit in between.)

import { parentPort, workerData } from 'node:worker_threads';
import { Journal } from '../persistence/journal.js';
import type { JournalEntry } from '../persistence/journal.js';
import { recover } from '../persistence/recovery.js';
import { SnapshotBuilder } from '../persistence/snapshot-builder.js';
import type { Core } from './core.js';
import { forEachFrame } from './frames.js';
import { CoreMetrics } from './worker-metrics.js';
import type { CoreWorkerConfig, HostMessage, WorkerMessage } from './worker-protocol.js';

if (parentPort === null) throw new Error('core/worker.ts must run in a worker thread');
const port = parentPort;
const config = workerData as CoreWorkerConfig;

const journal = Journal.open({ path: config.journal_path, map_size_bytes: config.map_size_bytes });
const recovered = recover(journal, { core_options: config.core_options });
const core: Core = recovered.core;
let commandsSinceSnapshot = 0;
const metrics = new CoreMetrics();
/** Results wait on this chain so that they leave in batch order even if flushes resolve out of order. */
let releaseChain: Promise<void> = Promise.resolve();
let closing = false;
const builder = new SnapshotBuilder({ journal_path: config.journal_path, map_size_bytes: config.map_size_bytes, core_options: config.core_options });
/** Snapshots are built and stored one after the other, in request order. */
let snapshotChain: Promise<void> = Promise.resolve();
/** A periodic snapshot is requested and not yet stored: the next one waits for it (the queue stays at one). */
let periodicSnapshotPending = false;
/** Snapshots requested and not yet stored or failed; an on-demand request beyond this is refused. */
let snapshotsInFlight = 0;
const SNAPSHOTS_IN_FLIGHT_MAX = 2;

function send(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

send({ type: 'ready', report: recovered.report });

port.on('message', (message: HostMessage) => {
  try {
    handle(message);
  } catch (error) {
    fail(error);
  }
});

function handle(message: HostMessage): void {
  switch (message.type) {
    case 'batch': return applyBatch(message.id, message.frames);
    case 'snapshot': return void snapshot(message.id);
    case 'status': return send({ type: 'status', id: message.id, last_seq: core.lastSeq(), state_hash: core.hash() });
    case 'state': return send({ type: 'state', id: message.id, bytes: core.snapshot() });
    case 'metrics': return send({ type: 'metrics', id: message.id, snapshot: metrics.snapshot(core.lastSeq(), core.state.openOrders.size) });
    case 'close': return void close(message.id);
  }
}

function applyBatch(id: number, packed: Uint8Array): void {
  if (closing) throw new Error('invariant: batch after close');
  const entries: JournalEntry[] = [];
  const started = performance.now();
  core.out.beginBatch();
  const frames = forEachFrame(packed, config.batch_frames_max, (frame) => {
    const seq = core.submit(frame);
    // The frame aliases the transferred batch buffer, which nobody else holds: no copy needed.
    if (seq !== 0) entries.push({ seq, bytes: frame });
  });
  const results = core.out.finishBatch();
  const applied = performance.now();
  metrics.batches += 1;
  metrics.journaled += entries.length;
  metrics.refused += frames - entries.length;
  metrics.batchFrames.observe(frames);
  metrics.applySeconds.observe((applied - started) / 1000);
  if (entries.length > 0) journal.append(entries);
  commandsSinceSnapshot += entries.length;
  const durable = entries.length > 0
    ? journal.flush().then(() => metrics.commitSeconds.observe((performance.now() - applied) / 1000))
    : Promise.resolve();
  // The frames go back too, once their commit is done (lmdb-js reads a put's value from the caller's memory
  // until then): the feeder's replica applies them without having kept a copy of its own.
  releaseChain = releaseChain.then(() => durable).then(
    () => send({ type: 'results', id, bytes: results, frames: packed }, [results.buffer as ArrayBuffer, packed.buffer as ArrayBuffer]),
    fail,
  );
  if (config.snapshot_every_commands > 0 && commandsSinceSnapshot >= config.snapshot_every_commands && !periodicSnapshotPending) {
    periodicSnapshotPending = true;
    void snapshot(0).finally(() => { periodicSnapshotPending = false; });
  }
}

/**
 * Snapshot of the state after everything applied so far (id 0: periodic, nobody to answer). The builder
 * reads the journal, so it is asked only once those commands are committed (the release chain).
 */
function snapshot(id: number): Promise<void> {
  const refusal = closing ? 'the core is closing' : snapshotsInFlight >= SNAPSHOTS_IN_FLIGHT_MAX ? `${snapshotsInFlight} snapshots are already being taken` : null;
  if (refusal !== null) {
    if (id !== 0) send({ type: 'snapshot_failed', id, error: refusal });
    return Promise.resolve();
  }
  snapshotsInFlight += 1;
  commandsSinceSnapshot = 0;
  const seq = core.lastSeq();
  const committed = releaseChain;
  const started = performance.now();
  snapshotChain = snapshotChain.then(async () => {
    await committed;
    const built = await builder.build(seq);
    if (built.seq !== seq) throw new Error(`invariant: snapshot built at seq ${built.seq}, asked for ${seq}`);
    // Stored in chunks, one LMDB transaction each, so that the batches' commits are not queued behind it.
    await journal.putSnapshot({ seq, state_hash: built.state_hash, bytes: built.bytes, time_us: Date.now() * 1000 });
    metrics.snapshots += 1;
    metrics.snapshotSeconds.observe((performance.now() - started) / 1000);
    if (id !== 0) send({ type: 'snapshot', id, seq, state_hash: built.state_hash, size_bytes: built.bytes.length });
    await prune();
  }).catch((error: unknown) => {
    // A snapshot only shortens recovery: a failed one is counted and reported, the order path goes on.
    // (A journal that failed to store it is poisoned and stops the next batch.)
    metrics.snapshotFailures += 1;
    if (id !== 0) send({ type: 'snapshot_failed', id, error: error instanceof Error ? error.message : String(error) });
  }).finally(() => { snapshotsInFlight -= 1; });
  return snapshotChain;
}

/**
 * Keeps the newest config.snapshots_kept. After a snapshot was stored and answered: a prune that fails (only a
 * poisoned journal can, and that stops the next batch anyway) is not a failed snapshot.
 */
async function prune(): Promise<void> {
  try {
    metrics.snapshotsDeleted += await journal.keepNewestSnapshots(config.snapshots_kept);
  } catch {
    metrics.snapshotPruneFailures += 1;
  }
}

async function close(id: number): Promise<void> {
  closing = true;
  await releaseChain;
  // A snapshot being built is finished and stored (bounded by SNAPSHOT_BUILD_TIMEOUT_MS): the next start
  // then has less to replay.
  await snapshotChain;
  await builder.close();
  await journal.flush();
  await journal.close();
  send({ type: 'closed', id, last_seq: core.lastSeq() });
}

function fail(error: unknown): void {
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  send({ type: 'fatal', error: text });
  // Exit without flushing anything further: memory may be inconsistent, the journal is the truth.
  process.exit(70);
}
