// Benchmark scenario 8: a real FIX peer on the same machine. The order flow of scenario 1 (one client, the
// same number of orders, the same in-flight window; the same warm-up except in --quick) as FIX 4.4 NewOrderSingle messages
// against QuickFIX's C++ `executor` (test/support/quickfix-executor.ts: built from Debian's libquickfix
// example, it fills every limit order with one ExecutionReport). The figure compared is round trips per
// second: the OMS's over its WebSocket with the durable journal (scenario 1's OMS measurement, taken from
// scenario 1 when it ran earlier in this run, else measured here the same way) divided by QuickFIX's.
// Target: >= 3 (QuickFIX does not fsync its store; the OMS does).
//
// The FIX client is our FIX library (bench/fix-load.ts on venue/fix-session.ts) on a worker thread, as the
// WebSocket client of scenario 1 is. The executor is a child process; its screen log (every message in and
// out) is read by this process's main thread. To say what limits the QuickFIX figure, the result carries the
// CPU the executor used during the measured phase (from /proc), the client thread's event-loop utilization,
// and the CPU of this process's main thread (reading the executor's output). A second, diagnostic QuickFIX run
// repeats it with the client's SeqStore not rewriting its file per message sent (see FixPeerResult).

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ExecutorHandle } from '../test/support/quickfix-executor.js';
import { buildExecutor, startExecutor } from '../test/support/quickfix-executor.js';
import type { FixLoadResult, FixSeqStoreMode } from './fix-load.js';
import { runFixLoadInWorker } from './fix-load.js';
import { runOmsClosedLoop } from './gateway.js';
import type { ClosedLoopResult } from './ws-load.js';
import type { Machine } from './support.js';
import { machine } from './support.js';

/** The target: the OMS (durable) does at least this many round trips per QuickFIX round trip. */
export const FIX_PEER_RATIO_TARGET = 3;
const EXECUTOR_COMP_ID = 'EXEC';
const CLIENT_COMP_ID = 'BENCH';
/** /proc/<pid>/stat times are in USER_HZ ticks, 100 per second on Linux whatever the kernel's HZ. */
const PROC_TICKS_PER_SECOND = 100;

export interface FixPeerOptions {
  /** Measured orders; scenario 1's message count. */
  orders: number;
  /** Orders in flight; scenario 1's window. */
  window: number;
  /** Unmeasured orders sent first on the same session (scenario 1 warms up min(orders, 5,000)). */
  warmup_orders: number;
}

/** Where the OMS figure comes from: scenario 1 earlier in this run, or measured by this scenario. */
export type OmsFigureSource = 'transport scenario, same run' | 'measured by fix_peer (scenario 1 not in this run)';

export interface FixPeerResult {
  machine: Machine;
  settings: {
    orders: number;
    warmup_orders: number;
    window: number;
    connections: number;
    fix_version: 'FIX.4.4';
    client: string;
    client_in_process: true;
    peer: string;
    /** `libquickfix-dev <Debian version>` from dpkg, or 'unknown' where dpkg cannot say. */
    peer_package: string;
    peer_store: string;
    peer_log: string;
    order: string;
    quickfix_round_trip: string;
    oms_round_trip: string;
    oms_source: OmsFigureSource;
  };
  /** The headline figure: the client as the OMS's venue adapter runs it (SeqStore as is). */
  quickfix: FixLoadResult & {
    /** CPU seconds the executor process used during the measured phase, and as a share of one core. */
    executor_cpu_s: number | null;
    executor_cpu_share: number | null;
    /** Share of one core this process's main thread used meanwhile (reading and logging the executor's output). */
    harness_main_thread_cpu_share: number | null;
    /** Share of one core this whole process used meanwhile (client thread, main thread, GC and I/O threads). */
    process_cpu_share: number;
  };
  oms: ClosedLoopResult;
  ratio_oms_vs_quickfix: number;
  ratio_target: number;
  target_met: boolean;
  /**
   * Diagnostic, not the target: the same run with the client's SeqStore not rewriting its sequence file for
   * every message sent (fix-load.ts 'sender_in_memory'), a fresh executor. How far the headline QuickFIX
   * figure is limited by our FIX client's per-message file write rather than by QuickFIX.
   */
  diagnostic_client_seq_in_memory: {
    quickfix: FixPeerResult['quickfix'];
    ratio_oms_vs_quickfix: number;
  };
}

/** utime + stime of a /proc stat line, in seconds; null when unreadable (not Linux, process gone). */
function procCpuSeconds(statPath: string): number | null {
  let text: string;
  try {
    text = readFileSync(statPath, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / PROC_TICKS_PER_SECOND : null;
}

function quickfixPackage(): string {
  try {
    return `libquickfix-dev ${execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libquickfix-dev'], { encoding: 'utf8', timeout: 5_000 }).trim()}`;
  } catch {
    return 'unknown';
  }
}

/** The executor's pid: our child whose command line names its settings file (the handle does not expose it). */
function executorPid(executor: ExecutorHandle): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(executor.settingsPath)) return Number(entry);
    } catch {
      // The process ended between readdir and read.
    }
  }
  return null;
}

interface CpuSample {
  at_ms: number;
  executor_s: number | null;
  main_thread_s: number | null;
  process: NodeJS.CpuUsage;
}

type QuickFixFigure = FixPeerResult['quickfix'];

async function measureQuickFix(options: FixPeerOptions, warmupOrders: number, seqStore: FixSeqStoreMode): Promise<QuickFixFigure> {
  // Build (cached under node_modules/.cache after the first time) before anything is timed.
  await buildExecutor();
  const dir = await mkdtemp(join(tmpdir(), 'oms-bench-fix-'));
  try {
    const executor = await startExecutor({ port: 0, senderCompId: EXECUTOR_COMP_ID, targetCompId: CLIENT_COMP_ID, dataDir: join(dir, 'executor') });
    try {
      const pid = executorPid(executor);
      const sample = (): CpuSample => ({
        at_ms: performance.now(),
        executor_s: pid === null ? null : procCpuSeconds(`/proc/${pid}/stat`),
        main_thread_s: procCpuSeconds(`/proc/self/task/${process.pid}/stat`),
        process: process.cpuUsage(),
      });
      let start: CpuSample | null = null;
      let end: CpuSample | null = null;
      const result = await runFixLoadInWorker({
        host: '127.0.0.1', port: executor.port, sender_comp_id: CLIENT_COMP_ID, target_comp_id: EXECUTOR_COMP_ID,
        store_dir: join(dir, 'client'), orders: options.orders, warmup_orders: warmupOrders, window: options.window, seq_store: seqStore,
      }, (mark) => {
        if (mark === 'measure_start') start = sample(); else end = sample();
      });
      const s = start as CpuSample | null;
      const e = end as CpuSample | null;
      if (s === null || e === null) throw new Error('fix_peer: the client did not mark its measured phase');
      const wallS = (e.at_ms - s.at_ms) / 1000;
      const delta = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b - a);
      const executorCpu = delta(s.executor_s, e.executor_s);
      const mainCpu = delta(s.main_thread_s, e.main_thread_s);
      const processCpu = process.cpuUsage(s.process);
      return {
        ...result,
        executor_cpu_s: executorCpu, executor_cpu_share: executorCpu === null ? null : executorCpu / wallS,
        harness_main_thread_cpu_share: mainCpu === null ? null : mainCpu / wallS,
        process_cpu_share: (processCpu.user + processCpu.system) / 1e6 / wallS,
      };
    } finally {
      await executor.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `omsFromTransport`: scenario 1's OMS result when it ran earlier in this run with the same orders and window. */
export async function runFixPeerBench(options: FixPeerOptions, omsFromTransport: ClosedLoopResult | undefined): Promise<FixPeerResult> {
  const warmupOrders = options.warmup_orders;
  const reuse = omsFromTransport !== undefined && omsFromTransport.messages === options.orders && omsFromTransport.window === options.window;
  const quickfix = await measureQuickFix(options, warmupOrders, 'file_per_message');
  const quickfixSeqInMemory = await measureQuickFix(options, warmupOrders, 'sender_in_memory');
  const oms = reuse ? omsFromTransport : await runOmsClosedLoop({ messages: options.orders, window: options.window });
  const ratio = oms.messages_per_second / quickfix.round_trips_per_second;
  return {
    machine: machine(),
    settings: {
      orders: options.orders, warmup_orders: warmupOrders, window: options.window, connections: 1, fix_version: 'FIX.4.4',
      client: 'venue/fix-session.ts (jspurefix 5.11.4 with the OMS SeqStore) on a worker thread', client_in_process: true,
      peer: 'QuickFIX C++ executor example (Debian libquickfix), a child process on this machine', peer_package: quickfixPackage(),
      peer_store: 'QuickFIX FileStore: every message written and fflush()ed, never fsync()ed',
      peer_log: 'QuickFIX ScreenLog: every message in and out to stdout, read by this process',
      order: 'NewOrderSingle, day limit buy 100 AAPL @ 190.10 (the body venue/fix-mapping.ts outboundFor produces)',
      quickfix_round_trip: 'NewOrderSingle sent -> its ExecutionReport (150=F 39=2) received',
      oms_round_trip: 'new order frame sent -> its accepted result received (durable LMDB journal), scenario 1',
      oms_source: reuse ? 'transport scenario, same run' : 'measured by fix_peer (scenario 1 not in this run)',
    },
    quickfix, oms, ratio_oms_vs_quickfix: ratio, ratio_target: FIX_PEER_RATIO_TARGET, target_met: ratio >= FIX_PEER_RATIO_TARGET,
    diagnostic_client_seq_in_memory: {
      quickfix: quickfixSeqInMemory, ratio_oms_vs_quickfix: oms.messages_per_second / quickfixSeqInMemory.round_trips_per_second,
    },
  };
}
