// Scenario 5, recovery: how fast the journal replays from scratch, how long a restart takes with and without
// a snapshot, and how big the snapshot is. The journal is written by a real in-process Core (new orders, the
// venue's acknowledgement and its fills as VenueExecReport commands), in group commits, so every journaled
// command is one the live system would have accepted; the bench checks that every order ended Filled and
// that every recovered state hashes like the live one.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { Core } from '../core/core.js';
import { DEMO } from '../core/demo.js';
import { Journal } from '../persistence/journal.js';
import type { JournalEntry, SnapshotRecord } from '../persistence/journal.js';
import { recover } from '../persistence/recovery.js';
import type { RecoveryReport } from '../persistence/recovery.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import { Command, ExecType, OrdStatus, OrdType, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import type { Machine } from './support.js';
import { BENCH_T0_US, machine, setupFrames } from './support.js';

export interface RecoveryBenchOptions {
  orders: number;
  /** Fills per order (each for FILL_QTY shares); the order quantity is fills_per_order x FILL_QTY. */
  fills_per_order: number;
  /** Commands per group commit while the journal is written. */
  batch_size: number;
}

export interface RestartResult {
  /** Journal.open: the LMDB env, the writer lock. */
  open_ms: number;
  /** Reading the snapshot, checking its bytes against its recorded hash, and deserialising it (0 without one). */
  snapshot_load_ms: number;
  /** Applying the journal after the snapshot (everything, without one). */
  replay_ms: number;
  replayed_commands: number;
  /** Hashing the recovered state (the check against the live hash). */
  state_hash_ms: number;
  total_ms: number;
}

export interface RecoveryBenchResult {
  machine: Machine;
  settings: RecoveryBenchOptions & { commands_per_order: number };
  journal: { commands: number; data_file_bytes: number; build_seconds: number };
  /** recover({ from_scratch: true }) on the journal just written; hashing reported apart. */
  replay_from_scratch: { commands: number; replay_ms: number; commands_per_second: number; state_hash_ms: number };
  restart_without_snapshot: RestartResult;
  restart_with_snapshot: RestartResult;
  snapshot: { seq: number; size_bytes: number; serialize_ms: number; hash_ms: number; put_ms: number };
  target: { replay_commands_per_second: number; met: boolean };
}

/** README target for replay from scratch. */
const REPLAY_TARGET_COMMANDS_PER_SECOND = 1_000_000;
const FILL_QTY = 100;
/** The limit price every order gets and every fill trades at (AAPL mark 190.00, inside the collar). */
const ORDER_PRICE = 19_000;
/** One order's commands: the order, the venue's acknowledgement, its fills. */
const ACK_COMMANDS_PER_ORDER = 1;
/** A fill of a share count must leave the order quantity a safe integer; far more fills than any bench needs. */
const FILLS_PER_ORDER_MAX = 1_000;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The commands of order i, in the order the venue would send them; timeUs keeps increasing across all. */
function orderCommands(i: number, fills: number): Array<{ userId: number; command: CommandBody }> {
  const clOrdId = `R${i}`;
  const orderQty = fills * FILL_QTY;
  const venueOrderId = `V${i}`;
  const list: Array<{ userId: number; command: CommandBody }> = [{
    userId: DEMO.users.trader,
    command: {
      type: Command.NewOrder, clOrdId, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL,
      // Alternating sides keeps the position (and any position limit) near flat over a million orders.
      side: i % 2 === 0 ? Side.Buy : Side.Sell, ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty,
      price: ORDER_PRICE, stopPx: 0, expireTimeUs: 0, parentClOrdId: '', venueId: DEMO.venues.SIM, text: '',
    },
  }, {
    userId: DEMO.users.venue,
    command: {
      type: Command.VenueExecReport, venueId: DEMO.venues.SIM, execId: `A${i}`, clOrdId, origClOrdId: '', execType: ExecType.New,
      ordStatus: OrdStatus.New, lastQty: 0, lastPx: 0, leavesQty: orderQty, ordRejReason: 0xffff, venueOrderId, text: '',
    },
  }];
  for (let k = 1; k <= fills; k++) {
    list.push({
      userId: DEMO.users.venue,
      command: {
        type: Command.VenueExecReport, venueId: DEMO.venues.SIM, execId: `F${i}-${k}`, clOrdId, origClOrdId: '', execType: ExecType.Trade,
        ordStatus: k === fills ? OrdStatus.Filled : OrdStatus.PartiallyFilled, lastQty: FILL_QTY, lastPx: ORDER_PRICE,
        leavesQty: orderQty - k * FILL_QTY, ordRejReason: 0xffff, venueOrderId, text: '',
      },
    });
  }
  return list;
}

/** Writes the journal through a live core; returns the core (the reference state) and the number of commands. */
async function buildJournal(journal: Journal, options: RecoveryBenchOptions): Promise<{ core: Core; commands: number }> {
  const builder = new flatbuffers.Builder(1024);
  const core = new Core();
  // Results are not read here (validity is checked on the final state), and encoding them would only slow
  // the build; the journal gets the same frames either way.
  core.out.muted = true;
  let timeUs = BENCH_T0_US;
  let pending: JournalEntry[] = [];
  let commands = 0;
  const submit = (frame: Uint8Array): void => {
    const seq = core.submit(frame);
    if (seq === 0) throw new Error('recovery bench: frame refused undecoded');
    pending.push({ seq, bytes: frame });
    commands += 1;
  };
  const commit = async (): Promise<void> => {
    if (pending.length === 0) return;
    journal.append(pending);
    pending = [];
    // One batch at a time: the build is not what is measured, and it bounds the unflushed tail.
    await journal.flush();
  };
  core.out.beginBatch();
  for (const frame of setupFrames(builder)) submit(frame);
  timeUs += 1_000;
  for (let i = 0; i < options.orders; i++) {
    for (const { userId, command } of orderCommands(i, options.fills_per_order)) {
      timeUs += 1;
      submit(encodeCommandCopy(builder, { requestId: i + 1, timeUs, userId, sessionId: userId === DEMO.users.trader ? 1 : 0, command }));
      if (pending.length >= options.batch_size) {
        core.out.finishBatch();
        await commit();
        core.out.beginBatch();
      }
    }
  }
  core.out.finishBatch();
  await commit();
  core.out.muted = false;
  // Every command valid means: every order exists and ended Filled, and nothing is left open.
  if (core.state.openOrders.size !== 0) throw new Error(`recovery bench: ${core.state.openOrders.size} orders still open`);
  for (let i = 0; i < options.orders; i++) {
    const order = core.state.ordersByClOrdId.get(`R${i}`);
    if (order === undefined || order.baseStatus !== OrdStatus.Filled || order.cumQty !== order.orderQty) {
      throw new Error(`recovery bench: order R${i} was not accepted and filled as built`);
    }
  }
  return { core, commands };
}

function restartResult(openMs: number, report: RecoveryReport): RestartResult {
  return {
    open_ms: openMs, snapshot_load_ms: report.duration_ms - report.replay_ms - report.hash_ms, replay_ms: report.replay_ms,
    replayed_commands: report.replayed_count, state_hash_ms: report.hash_ms, total_ms: openMs + report.duration_ms,
  };
}

/** Opens the journal as the service does on start and recovers to its end; closes it again. */
async function restart(path: string, expectedHash: string, expectSnapshot: boolean): Promise<RestartResult> {
  gc();
  const started = performance.now();
  const journal = Journal.open({ path });
  const openMs = performance.now() - started;
  try {
    const { report } = recover(journal);
    if (report.state_hash !== expectedHash) throw new Error('recovery bench: restart diverged from the live core');
    if ((report.snapshot_seq !== 0) !== expectSnapshot) throw new Error(`recovery bench: snapshot_seq ${report.snapshot_seq} unexpected`);
    return restartResult(openMs, report);
  } finally {
    await journal.close();
  }
}

function replayFromScratch(journal: Journal, expectedHash: string): RecoveryBenchResult['replay_from_scratch'] {
  gc();
  const { report } = recover(journal, { from_scratch: true });
  if (report.state_hash !== expectedHash) throw new Error('recovery bench: replay diverged from the live core');
  return {
    commands: report.replayed_count, replay_ms: report.replay_ms,
    commands_per_second: report.replayed_count / (report.replay_ms / 1000), state_hash_ms: report.hash_ms,
  };
}

function takeSnapshot(core: Core): { record: SnapshotRecord; serialize_ms: number; hash_ms: number } {
  gc();
  let t = performance.now();
  const bytes = core.snapshot();
  const serializeMs = performance.now() - t;
  t = performance.now();
  const stateHash = core.hash();
  const hashMs = performance.now() - t;
  return { record: { seq: core.lastSeq(), state_hash: stateHash, bytes, time_us: BENCH_T0_US }, serialize_ms: serializeMs, hash_ms: hashMs };
}

export async function runRecoveryBench(options: RecoveryBenchOptions): Promise<RecoveryBenchResult> {
  if (!Number.isSafeInteger(options.orders) || options.orders < 1) throw new Error('orders must be a positive integer');
  if (!Number.isSafeInteger(options.fills_per_order) || options.fills_per_order < 1 || options.fills_per_order > FILLS_PER_ORDER_MAX) {
    throw new Error(`fills_per_order must be in [1, ${FILLS_PER_ORDER_MAX}]`);
  }
  if (!Number.isSafeInteger(options.batch_size) || options.batch_size < 1) throw new Error('batch_size must be a positive integer');
  const dir = mkdtempSync(join(tmpdir(), 'oms-bench-recovery-'));
  const path = join(dir, 'journal');
  try {
    const buildStarted = performance.now();
    const journal = Journal.open({ path });
    const built = await buildJournal(journal, options);
    const buildSeconds = (performance.now() - buildStarted) / 1000;
    const liveHash = built.core.hash();
    const commands = built.commands;
    // (a) Replay from scratch on the open journal (pages warm, as right after a crash with the OS up).
    const scratch = replayFromScratch(journal, liveHash);
    // The snapshot is taken from the live core's state, timed in its parts; it is written after the restart
    // without snapshot so that that restart really has none.
    const taken = takeSnapshot(built.core);
    built.core = new Core(); // Drop the live state: the restarts below should run in a heap like a fresh process's.
    await journal.close();

    // (b) Restart without a snapshot: open + replay everything.
    const withoutSnapshot = await restart(path, liveHash, false);
    const writer = Journal.open({ path });
    const t = performance.now();
    await writer.putSnapshot(taken.record);
    const putMs = performance.now() - t;
    await writer.close();
    const snapshot = { seq: taken.record.seq, size_bytes: taken.record.bytes.length, serialize_ms: taken.serialize_ms, hash_ms: taken.hash_ms, put_ms: putMs };
    const dataFileBytes = statSync(join(path, 'data.mdb')).size;

    // (b) Restart with the snapshot: open + load snapshot (+ its hash check) + empty tail + state hash.
    const withSnapshot = await restart(path, liveHash, true);
    return {
      machine: machine(),
      settings: { ...options, commands_per_order: 1 + ACK_COMMANDS_PER_ORDER + options.fills_per_order },
      journal: { commands, data_file_bytes: dataFileBytes, build_seconds: buildSeconds },
      replay_from_scratch: scratch, restart_without_snapshot: withoutSnapshot, restart_with_snapshot: withSnapshot, snapshot,
      target: { replay_commands_per_second: REPLAY_TARGET_COMMANDS_PER_SECOND, met: scratch.commands_per_second >= REPLAY_TARGET_COMMANDS_PER_SECOND },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
