// Scenario 6, memory: heap per open order. Measured in a child process (this same file, run directly with
// --expose-gc) so that the heap holds nothing but the core: the parent's bench state, earlier scenarios'
// garbage and the benchmark frames would otherwise be counted as the core's. The child builds a Core with
// the demo data, collects garbage and reads the heap, submits N limit orders that no venue answers (so they
// all stay open), collects again and reads again.

import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as flatbuffers from 'flatbuffers';
import { Core } from '../core/core.js';
import type { Machine } from './support.js';
import { machine, newOrderFrames, setupFrames } from './support.js';

export interface MemoryBenchOptions {
  open_orders: number;
}

export interface MemoryChildReport {
  open_orders: number;
  heap_used_before_bytes: number;
  heap_used_after_bytes: number;
  rss_before_bytes: number;
  rss_after_bytes: number;
  /** Buffers outside the V8 heap (ArrayBuffers: the result writer, the decoder). */
  external_delta_bytes: number;
  submit_seconds: number;
}

export interface MemoryBenchResult {
  machine: Machine;
  settings: MemoryBenchOptions & { batch_size: number; node_flags: string[] };
  child: MemoryChildReport;
  heap_delta_bytes: number;
  heap_bytes_per_open_order: number;
  rss_delta_bytes: number;
  rss_bytes_per_open_order: number;
  target: { heap_bytes_per_open_order_max: number; met: boolean };
}

/** README target: at most 1 KiB of heap per open order. */
const HEAP_BYTES_PER_OPEN_ORDER_TARGET = 1024;
/** Orders per result batch, as the core worker batches them; also bounds the frames alive at once. */
const BATCH_SIZE = 1024;
/** The child prints one JSON line; anything longer is not ours. */
const CHILD_OUTPUT_BYTES_MAX = 1024 * 1024;
/** Set in the child's environment so that importing this file elsewhere never starts a measurement. */
const CHILD_ENV = 'OMS_BENCH_MEMORY_CHILD';
/** --expose-gc for exact before/after readings; tsx runs the TypeScript. */
const CHILD_NODE_FLAGS = ['--expose-gc', '--import', 'tsx'];
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('memory bench child needs --expose-gc');
  // Twice: the first pass can leave objects only reachable from finalizers or weak cells for the second.
  gc();
  gc();
}

/** Runs inside the child: one measurement, printed as one JSON line. */
function measureInChild(openOrders: number): MemoryChildReport {
  const builder = new flatbuffers.Builder(1024);
  const core = new Core();
  core.out.beginBatch();
  for (const frame of setupFrames(builder)) {
    if (core.submit(frame) === 0) throw new Error('setup frame refused');
  }
  core.out.finishBatch();
  // Warm the result writer and the builder to their working size so their growth is not counted per order.
  newOrderFrames(builder, BATCH_SIZE, 'WARM');
  fullGc();
  const before = process.memoryUsage();
  const started = performance.now();
  for (let from = 0; from < openOrders; from += BATCH_SIZE) {
    const count = Math.min(BATCH_SIZE, openOrders - from);
    // Frames are built per batch and dropped: only what the core keeps must survive to the second reading.
    const frames = newOrderFrames(builder, count, `M${from}-`);
    core.out.beginBatch();
    for (const frame of frames) {
      if (core.submit(frame) === 0) throw new Error('memory bench frame refused');
    }
    core.out.finishBatch();
  }
  const submitSeconds = (performance.now() - started) / 1000;
  fullGc();
  const after = process.memoryUsage();
  if (core.state.openOrders.size !== openOrders) {
    throw new Error(`memory bench: ${core.state.openOrders.size} open orders, expected ${openOrders} (some were rejected)`);
  }
  return {
    open_orders: core.state.openOrders.size, heap_used_before_bytes: before.heapUsed, heap_used_after_bytes: after.heapUsed,
    rss_before_bytes: before.rss, rss_after_bytes: after.rss, external_delta_bytes: after.external - before.external,
    submit_seconds: submitSeconds,
  };
}

function runChild(openOrders: number): Promise<MemoryChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CHILD_NODE_FLAGS, fileURLToPath(import.meta.url), String(openOrders)], {
      cwd: REPO_ROOT, env: { ...process.env, [CHILD_ENV]: '1' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.length > CHILD_OUTPUT_BYTES_MAX) child.kill();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`memory bench child exited with ${code ?? signal ?? 'unknown'}`));
        return;
      }
      try {
        resolve(JSON.parse(output.trim()) as MemoryChildReport);
      } catch (error) {
        reject(new Error(`memory bench child printed no report: ${String(error)}`));
      }
    });
  });
}

export async function runMemoryBench(options: MemoryBenchOptions): Promise<MemoryBenchResult> {
  if (!Number.isSafeInteger(options.open_orders) || options.open_orders < 1) throw new Error('open_orders must be a positive integer');
  const child = await runChild(options.open_orders);
  const heapDelta = child.heap_used_after_bytes - child.heap_used_before_bytes;
  const rssDelta = child.rss_after_bytes - child.rss_before_bytes;
  const perOrder = heapDelta / child.open_orders;
  return {
    machine: machine(), settings: { ...options, batch_size: BATCH_SIZE, node_flags: CHILD_NODE_FLAGS }, child,
    heap_delta_bytes: heapDelta, heap_bytes_per_open_order: perOrder,
    rss_delta_bytes: rssDelta, rss_bytes_per_open_order: rssDelta / child.open_orders,
    target: { heap_bytes_per_open_order_max: HEAP_BYTES_PER_OPEN_ORDER_TARGET, met: perOrder <= HEAP_BYTES_PER_OPEN_ORDER_TARGET },
  };
}

// Child mode: only when this file is the entry point AND the parent marked the environment.
const entry = process.argv[1];
if (process.env[CHILD_ENV] === '1' && entry !== undefined && pathToFileURL(entry).href === import.meta.url) {
  const report = measureInChild(Number(process.argv[2]));
  process.stdout.write(JSON.stringify(report) + '\n');
}
