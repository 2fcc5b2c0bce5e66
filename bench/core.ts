// Core alone: new-order commands per second through the core in-process, without I/O and with the durable
// LMDB journal, against a baseline of raw journal appends of the same bytes measured in the same run, plus
// the replay rate of the journal just written.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { Core } from '../core/core.js';
import { CommandDecoder } from '../core/decode.js';
import { Journal } from '../persistence/journal.js';
import type { JournalEntry } from '../persistence/journal.js';
import { recover } from '../persistence/recovery.js';
import type { Percentiles } from './support.js';
import { histogram, newOrderFrames, percentiles, setupFrames } from './support.js';

export interface CoreBenchOptions {
  orders: number;
  /** Commands per batch (one group commit each). */
  batch_size: number;
  /**
   * Batches applied while earlier ones are still being flushed. The core worker itself does not cap them
   * (each batch's flush is chained, the next batch is applied at once); its host caps the frames waiting or
   * in flight (core.queued_frames_max 65,536, i.e. 64 batches of 1,024). The suite pipelines 8 (it ran 2
   * until 2026-11-25: journal/no journal 0.69-0.80 there against 0.83-0.89 at 8, same runs).
   */
  flushes_in_flight_max: number;
}

export interface ThroughputResult {
  commands: number;
  seconds: number;
  commands_per_second: number;
  batch_latency: Percentiles;
}

export interface CoreBenchResult {
  options: CoreBenchOptions;
  /** Where the time goes: decoding alone, and the core with result encoding switched off. */
  decode_only: ThroughputResult;
  core_events_muted: ThroughputResult;
  core_no_journal: ThroughputResult;
  raw_lmdb_appends: ThroughputResult;
  core_with_journal: ThroughputResult;
  /** Replay alone (journal read + decode + apply, results off); hashing the state is reported apart. */
  replay: { commands: number; seconds: number; commands_per_second: number; state_hash_seconds: number };
  ratios: { journal_vs_no_journal: number; core_with_journal_vs_raw_lmdb: number };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function primedCore(builder: flatbuffers.Builder): Core {
  const core = new Core();
  core.out.beginBatch();
  for (const frame of setupFrames(builder)) {
    if (core.submit(frame) === 0) throw new Error('setup frame refused');
  }
  core.out.finishBatch();
  return core;
}

function throughput(commands: number, ms: number, h: ReturnType<typeof histogram>): ThroughputResult {
  return { commands, seconds: ms / 1000, commands_per_second: commands / (ms / 1000), batch_latency: percentiles(h) };
}

/** Applies a batch and returns its journal entries; asserts nothing was refused (a refusal is a broken bench). */
function applyBatch(core: Core, frames: Uint8Array[], from: number, to: number): JournalEntry[] {
  const entries: JournalEntry[] = [];
  core.out.beginBatch();
  for (let i = from; i < to; i++) {
    const seq = core.submit(frames[i]);
    if (seq === 0) throw new Error('bench frame undecodable');
    entries.push({ seq, bytes: frames[i] });
  }
  core.out.finishBatch();
  return entries;
}

function benchDecodeOnly(frames: Uint8Array[], options: CoreBenchOptions): ThroughputResult {
  const decoder = new CommandDecoder();
  const h = histogram();
  const started = performance.now();
  for (let i = 0; i < frames.length; i += options.batch_size) {
    const batchStart = performance.now();
    for (let j = i; j < Math.min(frames.length, i + options.batch_size); j++) decoder.decode(frames[j]);
    h.recordValue(Math.max(1, Math.round((performance.now() - batchStart) * 1000)));
  }
  return throughput(frames.length, performance.now() - started, h);
}

function benchNoJournal(frames: Uint8Array[], options: CoreBenchOptions, builder: flatbuffers.Builder, muted = false): ThroughputResult {
  const core = primedCore(builder);
  core.out.muted = muted;
  const h = histogram();
  const started = performance.now();
  for (let i = 0; i < frames.length; i += options.batch_size) {
    const batchStart = performance.now();
    applyBatch(core, frames, i, Math.min(frames.length, i + options.batch_size));
    h.recordValue(Math.max(1, Math.round((performance.now() - batchStart) * 1000)));
  }
  const result = throughput(frames.length, performance.now() - started, h);
  if (core.state.openOrders.size !== frames.length) throw new Error('bench orders were not all accepted');
  return result;
}

/** Pipelined group commits: batch k+1 is applied while batch k is being flushed, at most N in flight. */
async function pipelined(
  frames: Uint8Array[], options: CoreBenchOptions, journal: Journal, makeEntries: (from: number, to: number) => JournalEntry[],
): Promise<ThroughputResult> {
  const h = histogram();
  const inFlight: Array<Promise<void>> = [];
  const started = performance.now();
  for (let i = 0; i < frames.length; i += options.batch_size) {
    const batchStart = performance.now();
    journal.append(makeEntries(i, Math.min(frames.length, i + options.batch_size)));
    inFlight.push(journal.flush().then(() => h.recordValue(Math.max(1, Math.round((performance.now() - batchStart) * 1000)))));
    if (inFlight.length >= options.flushes_in_flight_max) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return throughput(frames.length, performance.now() - started, h);
}

export async function runCoreBench(options: CoreBenchOptions): Promise<CoreBenchResult> {
  const builder = new flatbuffers.Builder(1024);
  const frames = newOrderFrames(builder, options.orders);
  const setup = setupFrames(builder);
  const dir = mkdtempSync(join(tmpdir(), 'oms-bench-core-'));
  try {
    gc();
    const decodeOnly = benchDecodeOnly(frames, options);
    gc();
    const muted = benchNoJournal(frames, options, builder, true);
    gc();
    const noJournal = benchNoJournal(frames, options, builder);
    gc();
    const rawJournal = Journal.open({ path: join(dir, 'raw') });
    const raw = await pipelined(frames, options, rawJournal, (from, to) => {
      const entries: JournalEntry[] = [];
      for (let i = from; i < to; i++) entries.push({ seq: i + 1, bytes: frames[i] });
      return entries;
    });
    await rawJournal.close();
    gc();
    const journal = Journal.open({ path: join(dir, 'core') });
    const core = primedCore(builder);
    journal.append(setup.map((bytes, i) => ({ seq: i + 1, bytes })));
    await journal.flush();
    const withJournal = await pipelined(frames, options, journal, (from, to) => applyBatch(core, frames, from, to));
    gc();
    const replayed = recover(journal, { from_scratch: true });
    const replayMs = replayed.report.replay_ms;
    if (replayed.report.state_hash !== core.hash()) throw new Error('replay diverged from the live core');
    await journal.close();
    return {
      options, decode_only: decodeOnly, core_events_muted: muted, core_no_journal: noJournal, raw_lmdb_appends: raw, core_with_journal: withJournal,
      replay: {
        commands: replayed.report.replayed_count, seconds: replayMs / 1000,
        commands_per_second: replayed.report.replayed_count / (replayMs / 1000), state_hash_seconds: replayed.report.hash_ms / 1000,
      },
      ratios: {
        journal_vs_no_journal: withJournal.commands_per_second / noJournal.commands_per_second,
        core_with_journal_vs_raw_lmdb: withJournal.commands_per_second / raw.commands_per_second,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
