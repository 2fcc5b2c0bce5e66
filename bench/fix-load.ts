// FIX 4.4 closed-loop load generator for benchmark scenario 8 (bench/fix-peer.ts), on our own FIX library
// (venue/fix-session.ts: jspurefix 5.11.4 with the OMS's SeqStore and session hardening), as the OMS's venue
// adapter uses it: one initiator session, ResetSeqNumFlag=Y so that every run starts at 1.
//
// After Logon it keeps `window` NewOrderSingle (D) messages outstanding, sending one more per ExecutionReport
// (8) received, first `warmup_orders` unmeasured (ClOrdID W<i>), then `orders` measured (ClOrdID Q<i>). The
// round trip of an order is from just before its sendMessage() to the arrival of the ExecutionReport naming its
// ClOrdID. QuickFIX's executor fills every limit order with one report (150=F, 39=2); anything else (a report
// that is not a full fill, a session Reject, a BusinessMessageReject, a logout) means the bench is broken and
// fails the run rather than being counted.
//
// Like bench/ws-load.ts it can run on a worker thread of this process (runFixLoadInWorker), so the generator
// has an event loop of its own; spec and result are plain structured-cloneable data for that reason.

import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { FixLog, SessionHooks } from '../venue/fix-session.js';
import { SeqStore, SessionId, sessionDescription, VenueFixSession, VenueLauncher } from '../venue/fix-session.js';
import type { FixVenueConfig } from '../venue/fix-venue-config.js';
import { FIX_VENUE_DEFAULTS } from '../venue/fix-venue-config.js';
import type { Percentiles } from './support.js';
import { histogram, percentiles } from './support.js';
import { assert } from '../core/assert.js';
import { MSG_TYPE, TAG } from '../venue/fix-mapping.js';

/** Hard limits so that a mistyped option cannot make a run unbounded (as in ws-load). */
export const FIX_LOAD_WINDOW_MAX = 65_536;
export const FIX_LOAD_ORDERS_MAX = 20_000_000;
/** Connect + Logon answered. */
const LOGON_TIMEOUT_MS = 15_000;
/** No ExecutionReport at all for this long means the peer stopped answering. */
const STALL_TIMEOUT_MS = 10_000;
/** Logout answered and the transport closed; past it the session is dropped. */
const LOGOUT_TIMEOUT_MS = 5_000;
/** Library log lines (warning and above) kept for the result; the rest are counted only. */
const ENGINE_LOG_KEPT_MAX = 20;
/** Any venue id and name will do: nothing here reaches a core. */
const BENCH_VENUE_ID = 1;
const BENCH_VENUE_NAME = 'bench_qf';

const ORDSTATUS_FILLED = '2';
const EXECTYPE_TRADE = 'F';

export interface FixLoadSpec {
  host: string;
  port: number;
  sender_comp_id: string;
  target_comp_id: string;
  /** SeqStore directory (a fresh temporary one). */
  store_dir: string;
  orders: number;
  warmup_orders: number;
  window: number;
  /**
   * 'file_per_message': the OMS's SeqStore as is (it rewrites its fixed-size sequence record in place for every
   * message sent). 'sender_in_memory': a diagnostic variant that skips that per-message write (the sender
   * number lives in the library's memory only), to show what the FIX client costs without it.
   */
  seq_store: FixSeqStoreMode;
}

export type FixSeqStoreMode = 'file_per_message' | 'sender_in_memory';

/** SeqStore minus the per-message persist of the sender number (see FixLoadSpec.seq_store). */
class SenderInMemorySeqStore extends SeqStore {
  override async setSenderSeqNum(_value: number): Promise<void> {
    // The library counts outgoing numbers itself and reads the store's only when a session starts.
  }
}

export interface FixLoadResult {
  seq_store: FixSeqStoreMode;
  orders: number;
  warmup_orders: number;
  window: number;
  /** ExecutionReports received for measured orders (each a full fill). */
  answered: number;
  elapsed_s: number;
  round_trips_per_second: number;
  /** Send of a NewOrderSingle to the ExecutionReport that fills it. */
  round_trip: Percentiles;
  /** Connect to Logon answered. */
  logon_ms: number;
  /**
   * Share of the measured phase the client's event loop was busy (0..1): close to 1 means the client
   * (jspurefix encode/decode, SeqStore writes) is what limits the round trips.
   */
  client_event_loop_utilization: number;
  /** Library log lines at warning level and above during the run, and the first few of them. */
  engine_log_lines: number;
  engine_log_first: string[];
}

/** The body venue/fix-mapping.ts outboundFor() produces for a day limit buy of 100 AAPL at 190.10. */
function newOrderBody(clOrdId: string): Record<string, unknown> {
  return {
    ClOrdID: clOrdId, Account: 'GROWTH', Instrument: { Symbol: 'AAPL', SecurityType: 'CS' }, TransactTime: new Date(), Currency: 'USD',
    Side: '1', OrderQtyData: { OrderQty: '100' }, OrdType: '2', Price: '190.10', TimeInForce: '0',
  };
}

function toUs(ms: number): number {
  // hdr histogram floor is 1 us: a sub-microsecond value would be dropped.
  return Math.max(1, Math.round(ms * 1000));
}

interface Phase {
  prefix: string;
  count: number;
  sentAt: Float64Array;
  answeredFlag: Uint8Array;
  next: number;
  answered: number;
  started: number;
  finishedAt: number;
  h: ReturnType<typeof histogram>;
  done: () => void;
}

/** The measured phase begins (after the warm-up) or its last ExecutionReport arrived. */
export type FixLoadMark = 'measure_start' | 'measure_end';

export async function runFixClosedLoop(spec: FixLoadSpec, onMark: (mark: FixLoadMark) => void = () => {}): Promise<FixLoadResult> {
  const { window, orders } = spec;
  assert(window >= 1 && window <= FIX_LOAD_WINDOW_MAX, `window ${window} outside 1..${FIX_LOAD_WINDOW_MAX}`);
  assert(orders >= 1 && orders <= FIX_LOAD_ORDERS_MAX, `orders ${orders} outside 1..${FIX_LOAD_ORDERS_MAX}`);
  assert(spec.warmup_orders >= 0 && spec.warmup_orders <= FIX_LOAD_ORDERS_MAX, `warm-up orders ${spec.warmup_orders}`);
  mkdirSync(spec.store_dir, { recursive: true });

  const venue: FixVenueConfig = {
    ...FIX_VENUE_DEFAULTS, venue_id: BENCH_VENUE_ID, name: BENCH_VENUE_NAME, host: spec.host, port: spec.port,
    sender_comp_id: spec.sender_comp_id, target_comp_id: spec.target_comp_id, store_dir: spec.store_dir, reset_seq_num_on_logon: true,
  };
  const store = new (spec.seq_store === 'sender_in_memory' ? SenderInMemorySeqStore : SeqStore)(new SessionId('FIX.4.4', venue.sender_comp_id, venue.target_comp_id), spec.store_dir);
  // The library logs through a factory registered once per thread (venue/fix-session.ts): buffered, not printed.
  let engineLogLines = 0;
  const engineLog: string[] = [];
  const log: FixLog = (fields) => {
    engineLogLines += 1;
    if (engineLog.length < ENGINE_LOG_KEPT_MAX) engineLog.push(JSON.stringify(fields));
  };

  let session: VenueFixSession | null = null;
  let phase: Phase | null = null;
  let failure: Error | null = null;
  let stopping = false;
  let onFailure: (error: Error) => void = () => {};
  let onLoggedOn: () => void = () => {};
  let onSessionEnded: () => void = () => {};
  const fail = (error: Error): void => {
    if (failure !== null) return;
    failure = error;
    onFailure(error);
  };
  const sendOne = (p: Phase): void => {
    const i = p.next++;
    p.sentAt[i] = performance.now();
    session!.sendMessage(MSG_TYPE.NewOrderSingle, newOrderBody(`${p.prefix}${i}`)).catch((error: unknown) => {
      fail(new Error(`send of ${p.prefix}${i} failed: ${error instanceof Error ? error.message : String(error)}`));
    });
  };

  const hooks: SessionHooks = {
    onCreated: (created) => { session = created; },
    onReady: () => onLoggedOn(),
    onStopped: (error) => {
      onSessionEnded();
      if (!stopping) fail(new Error(`FIX session stopped before the run ended${error !== undefined ? `: ${error.message}` : ''}`));
    },
    onApplication: (msgType, view) => {
      if (msgType !== MSG_TYPE.ExecutionReport) {
        fail(new Error(`unexpected application message ${msgType} from the peer (text: ${view.getString(TAG.Text) ?? ''})`));
        return;
      }
      const p = phase;
      const clOrdId = view.getString(TAG.ClOrdID) ?? '';
      if (p === null || !clOrdId.startsWith(p.prefix)) {
        fail(new Error(`ExecutionReport for ${clOrdId}, not an order of the current phase`));
        return;
      }
      const index = Number(clOrdId.slice(p.prefix.length));
      if (!Number.isInteger(index) || index < 0 || index >= p.next || p.answeredFlag[index] !== 0) {
        fail(new Error(`ExecutionReport for ${clOrdId}: not sent or answered twice`));
        return;
      }
      if (view.getString(TAG.ExecType) !== EXECTYPE_TRADE || view.getString(TAG.OrdStatus) !== ORDSTATUS_FILLED) {
        fail(new Error(`ExecutionReport for ${clOrdId} is not a full fill (150=${view.getString(TAG.ExecType)} 39=${view.getString(TAG.OrdStatus)})`));
        return;
      }
      const now = performance.now();
      p.answeredFlag[index] = 1;
      p.h.recordValue(toUs(now - p.sentAt[index]!));
      p.answered += 1;
      if (p.next < p.count) sendOne(p);
      if (p.answered === p.count) {
        p.finishedAt = now;
        p.done();
      }
    },
    onSession: (msgType, view) => {
      // Reject (3) of an order; a Logout (5) from the peer ends the session (onStopped says so).
      if (msgType === MSG_TYPE.Reject) fail(new Error(`session Reject from the peer: ${view.getString(TAG.Text) ?? ''}`));
    },
    onEncoded: () => {},
    onDecoded: () => {},
    onGarbled: (problem) => fail(new Error(`garbled frame from the peer: ${problem}`)),
  };

  const failed = new Promise<never>((_, reject) => { onFailure = reject; });
  failed.catch(() => {});
  let loggedOnFlag = false;
  const loggedOn = new Promise<void>((resolve) => { onLoggedOn = () => { loggedOnFlag = true; resolve(); }; });
  const ended = new Promise<void>((resolve) => { onSessionEnded = resolve; });
  const launcher = new VenueLauncher(sessionDescription(venue), store, hooks, log);
  const connectStarted = performance.now();
  const running = launcher.run().then(() => onSessionEnded(), (error: unknown) => {
    onSessionEnded();
    fail(new Error(`FIX session failed: ${error instanceof Error ? error.message : String(error)}`));
  });

  const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`fix-load: ${what}`)), ms); });
    return Promise.race([promise, timeout, failed]).finally(() => clearTimeout(timer));
  };

  const runPhase = (prefix: string, count: number): Promise<Phase> => {
    const p: Phase = {
      prefix, count, sentAt: new Float64Array(count), answeredFlag: new Uint8Array(count), next: 0, answered: 0,
      started: performance.now(), finishedAt: 0, h: histogram(), done: () => {},
    };
    const finished = new Promise<Phase>((resolve) => { p.done = () => resolve(p); });
    phase = p;
    let answeredAtLastCheck = 0;
    const stall = setInterval(() => {
      if (p.answered === answeredAtLastCheck) fail(new Error(`no ExecutionReport for ${STALL_TIMEOUT_MS} ms after ${p.answered} of ${count} in phase ${prefix}`));
      answeredAtLastCheck = p.answered;
    }, STALL_TIMEOUT_MS);
    while (p.next < count && p.next < window) sendOne(p);
    return Promise.race([finished, failed]).finally(() => clearInterval(stall));
  };

  try {
    await withTimeout(loggedOn, LOGON_TIMEOUT_MS, `no Logon answer from ${spec.host}:${spec.port} within ${LOGON_TIMEOUT_MS} ms`);
    const logonMs = performance.now() - connectStarted;
    if (spec.warmup_orders > 0) await runPhase('W', spec.warmup_orders);
    onMark('measure_start');
    const eluStart = performance.eventLoopUtilization();
    const measured = await runPhase('Q', orders);
    const elu = performance.eventLoopUtilization(eluStart);
    onMark('measure_end');
    const elapsedS = (measured.finishedAt - measured.started) / 1000;
    phase = null;
    return {
      seq_store: spec.seq_store, orders, warmup_orders: spec.warmup_orders, window, answered: measured.answered, elapsed_s: elapsedS,
      round_trips_per_second: measured.answered / elapsedS, round_trip: percentiles(measured.h), logon_ms: logonMs,
      client_event_loop_utilization: elu.utilization, engine_log_lines: engineLogLines, engine_log_first: engineLog,
    };
  } catch (error) {
    const detail = engineLog.length > 0 ? `\nFIX engine log:\n${engineLog.join('\n')}` : '';
    throw new Error(`${error instanceof Error ? error.message : String(error)}${detail}`);
  } finally {
    stopping = true;
    const open = session as VenueFixSession | null;
    if (open !== null && loggedOnFlag) {
      // Logout; the executor answers it and the transport closes. Dropped if it does not.
      open.done();
      const timer = setTimeout(() => open.kill(`logout not confirmed within ${LOGOUT_TIMEOUT_MS} ms`), LOGOUT_TIMEOUT_MS);
      await Promise.race([ended, running]);
      clearTimeout(timer);
    } else {
      // Never logged on (a failed or timed-out logon): drop the attempt, do not wait for a Logout.
      open?.kill('benchmark ended before logon');
      launcher.stop();
    }
  }
}

// ---- worker thread --------------------------------------------------------------------------------------------

interface WorkerInput {
  entry: string;
  fix_load_spec: FixLoadSpec;
}
type WorkerOutput =
  | { kind: 'mark'; mark: FixLoadMark }
  | { kind: 'result'; ok: true; result: FixLoadResult }
  | { kind: 'result'; ok: false; error: string };

/**
 * Runs the generator on its own thread (same process), as bench/ws-load.ts does for the WebSocket client.
 * `onMark` is called on this thread when the measured phase begins (the warm-up is over) and when it ends.
 */
export function runFixLoadInWorker(spec: FixLoadSpec, onMark: (mark: FixLoadMark) => void = () => {}): Promise<FixLoadResult> {
  const input: WorkerInput = { entry: new URL('./fix-load.ts', import.meta.url).href, fix_load_spec: spec };
  // core/worker-boot.mjs registers the TypeScript loader in the worker, then imports `entry`.
  const worker = new Worker(new URL('../core/worker-boot.mjs', import.meta.url), { workerData: input });
  return new Promise((resolve, reject) => {
    let settled = false;
    worker.on('message', (message: WorkerOutput) => {
      if (message.kind === 'mark') {
        onMark(message.mark);
        return;
      }
      settled = true;
      if (message.ok) resolve(message.result); else reject(new Error(message.error));
      // The library may keep a timer or socket handle alive after the session ended: the thread is done.
      void worker.terminate();
    });
    worker.once('error', (error) => { settled = true; reject(error); });
    worker.once('exit', (code) => { if (!settled) reject(new Error(`fix-load worker exited with code ${code}`)); });
  });
}

function isWorkerInput(value: unknown): value is WorkerInput {
  return typeof value === 'object' && value !== null && 'fix_load_spec' in value;
}

if (!isMainThread && parentPort !== null && isWorkerInput(workerData)) {
  const port = parentPort;
  runFixClosedLoop(workerData.fix_load_spec, (mark) => port.postMessage({ kind: 'mark', mark } satisfies WorkerOutput)).then(
    (result) => port.postMessage({ kind: 'result', ok: true, result } satisfies WorkerOutput),
    (error: unknown) => port.postMessage({ kind: 'result', ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies WorkerOutput),
  ).finally(() => port.close());
}
