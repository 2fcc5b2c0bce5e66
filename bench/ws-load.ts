// WebSocket load generator for the gateway benchmarks (bench/gateway.ts), on the `ws` client package.
//
// Two modes over one connection, frames pre-encoded by the caller before any timing starts:
// - closed loop: keep `window` requests outstanding, send one more per answer, N messages in all; the
//   round trip of each message is measured from its actual send. Gives the maximum throughput.
// - open loop: message i has a PLANNED send time t0 + i/R and its latency is measured from that planned time,
//   not from when it was actually sent. If the generator (or the server pushing back) falls behind, the
//   backlog is sent as fast as possible but still timed from the plan, so stalls show up in the tail instead
//   of being hidden (no coordinated omission).
//
// Answers are matched by request id, decoded according to `answers`:
// - 'echo_u32': the server echoes the frame; its request id is the little-endian u32 at offset 0;
// - 'oms_reports': ServerMessage Reports from the OMS gateway; a result whose requestId is that of a sent
//   frame is its answer; an execution report with ExecType Trade for ClOrdID `<prefix><index>` is a fill of
//   frame `index` (open loop only records the first one).
//
// The generator can run on the calling thread (`runLoad`) or on a worker thread (`runLoadInWorker`), which
// keeps it off the event loop of a server started in the same process: the spec and the result are plain
// structured-cloneable data for that reason.

import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { ExecType } from '../schemas/generated/oms_generated.js';
import { decodeServerMessage } from '../gateway/protocol.js';
import type { Percentiles } from './support.js';
import { histogram, percentiles } from './support.js';

/** Hard limits so that a mistyped option cannot make a run unbounded. */
export const LOAD_WINDOW_MAX = 65_536;
export const LOAD_DURATION_S_MAX = 600;
export const LOAD_MESSAGES_MAX = 20_000_000;
/** Connecting and logging on. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Open loop: how often the sender wakes up to send what is due (setTimeout's floor on Node is ~1 ms). */
const SEND_TICK_MS = 1;
/** How long to wait for stragglers after the last send before counting them as lost. */
export const DRAIN_TIMEOUT_MS_DEFAULT = 5_000;
/** Closed loop: no answer at all for this long means the server stopped answering. */
const STALL_TIMEOUT_MS = 10_000;

export type AnswerKind = 'echo_u32' | 'oms_reports';

export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  answers: AnswerKind;
  /** Required for 'oms_reports': the request id of frame i (usually i + 1). */
  request_id_base: number;
  /** 'oms_reports' fills: frame i has ClOrdID `${cl_ord_id_prefix}${i}`; '' = do not track fills. */
  cl_ord_id_prefix: string;
  /** A session that must log on first ('oms_reports'): wait for the first server message before sending. */
  wait_for_first_message: boolean;
}

export interface ClosedLoopSpec {
  mode: 'closed';
  target: LoadTarget;
  frames: Uint8Array[];
  /** Sent first on the same connection with the same window, not measured; [] for none. */
  warmup_frames: Uint8Array[];
  window: number;
}

export interface OpenLoopSpec {
  mode: 'open';
  target: LoadTarget;
  /** frames.length >= rate_per_second * duration_s; extra frames are unused. */
  frames: Uint8Array[];
  rate_per_second: number;
  duration_s: number;
  /** Saturation: stop sending when this many requests are unanswered... */
  in_flight_max: number;
  /** ...or when the oldest unsent message is this late against its planned time. */
  send_lag_ms_max: number;
  /** After the last send: wait this long for answers (and fills), then count the rest as missing. */
  drain_ms: number;
}

export type LoadSpec = ClosedLoopSpec | OpenLoopSpec;

export interface ClosedLoopResult {
  mode: 'closed';
  messages: number;
  warmup_messages: number;
  window: number;
  answered: number;
  /** Answers that are refusals (command reject or rejected execution report); 0 for echo. */
  rejected: number;
  elapsed_s: number;
  messages_per_second: number;
  round_trip: Percentiles;
}

export interface OpenLoopResult {
  mode: 'open';
  rate_per_second: number;
  duration_s: number;
  planned: number;
  sent: number;
  answered: number;
  rejected: number;
  /** Sent but not answered by the end of the drain. */
  unanswered: number;
  /** answered / the time from the first planned send to the last answer. */
  achieved_answers_per_second: number;
  saturated: boolean;
  saturation_reason: string;
  /** Largest observed lag of an actual send behind its planned time. */
  send_lag_max_us: number;
  /** Planned send time to the answer carrying the request id. */
  ack_latency: Percentiles;
  /** Planned send time to the first Trade report, for orders filled in full at once (one report, lastQty = orderQty). */
  fill_latency_immediate: Percentiles;
  /** Planned send time to the first Trade report, for orders filled in slices (first slice). */
  fill_latency_first_slice: Percentiles;
  /** Orders accepted by the OMS (answer = PendingNew) and rejected later, by the venue. */
  rejected_by_venue: number;
  /** Accepted orders neither filled nor rejected by the end of the drain (still working, or reports lost). */
  accepted_without_fill: number;
}

export type LoadResult = ClosedLoopResult | OpenLoopResult;

// ---- answer matching ------------------------------------------------------------------------------------------

interface Answer {
  index: number;
  rejected: boolean;
}
/** A later report about frame `index`'s order: its first Trade (full: filled in one report), or a reject. */
interface Fill {
  index: number;
  kind: 'trade' | 'rejected';
  full: boolean;
}

/** Calls onAnswer / onFill for what one server message says; unknown ids are ignored (e.g. the tick). */
function makeMatcher(target: LoadTarget, frameCount: number, onAnswer: (a: Answer) => void, onFill: (f: Fill) => void): (data: Uint8Array) => void {
  if (target.answers === 'echo_u32') {
    return (data) => {
      if (data.byteLength < 4) return;
      const index = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
      if (index < frameCount) onAnswer({ index, rejected: false });
    };
  }
  const prefix = target.cl_ord_id_prefix;
  return (data) => {
    const message = decodeServerMessage(data);
    if (message.kind !== 'reports') return;
    for (const result of message.results) {
      const index = result.requestId - target.request_id_base;
      if (result.requestId !== 0 && index >= 0 && index < frameCount) {
        let rejected = false;
        for (const e of result.events) {
          if (e.kind === 'command_reject' || (e.kind === 'execution_report' && e.execType === ExecType.Rejected)) rejected = true;
        }
        onAnswer({ index, rejected });
      }
      if (prefix === '') continue;
      for (const e of result.events) {
        if (e.kind !== 'execution_report' || (e.execType !== ExecType.Trade && e.execType !== ExecType.Rejected) || !e.clOrdId.startsWith(prefix)) continue;
        const fillIndex = Number(e.clOrdId.slice(prefix.length));
        if (!Number.isInteger(fillIndex) || fillIndex < 0 || fillIndex >= frameCount) continue;
        onFill({ index: fillIndex, kind: e.execType === ExecType.Trade ? 'trade' : 'rejected', full: e.lastQty === e.orderQty });
      }
    }
  };
}

function connect(target: LoadTarget): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target.url, { headers: target.headers, perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`connect to ${target.url} timed out`)); }, CONNECT_TIMEOUT_MS);
    const done = (error: Error | null): void => {
      clearTimeout(timer);
      if (error === null) resolve(ws); else reject(error);
    };
    ws.once('unexpected-response', (_req, res) => done(new Error(`HTTP ${res.statusCode ?? 0} from ${target.url}`)));
    ws.once('error', (error) => done(error));
    if (target.wait_for_first_message) ws.once('message', () => done(null));
    else ws.once('open', () => done(null));
  });
}

function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => { ws.terminate(); resolve(); }, 1_000);
    ws.once('close', () => { clearTimeout(timer); resolve(); });
    ws.close();
  });
}

/**
 * Sends frames, coalescing every send of one turn into one socket write. Without it each ws.send() is a
 * write syscall of its own: the echo baseline of scenario 1 measured the client's syscalls (124,000/s,
 * client thread mostly in writeBuffer) rather than the transport (~390,000/s corked, same run). `ws` has no
 * public cork, so its socket is reached through the private `_socket` (ws 8, pinned in package-lock).
 */
class CorkedSender {
  private readonly socket: Socket;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(private readonly ws: WebSocket) {
    const socket = (ws as unknown as { _socket?: unknown })._socket;
    check(socket instanceof Socket, 'the ws package no longer exposes its socket as _socket');
    this.socket = socket;
  }

  send(frame: Uint8Array): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.ws.send(frame, { binary: true });
  }
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`ws-load: ${message}`);
}

function toUs(ms: number): number {
  // hdr histogram floor is 1 us: a sub-microsecond value would be dropped.
  return Math.max(1, Math.round(ms * 1000));
}

// ---- closed loop ----------------------------------------------------------------------------------------------

export async function runWsClosedLoop(spec: ClosedLoopSpec): Promise<ClosedLoopResult> {
  const { frames, window } = spec;
  check(window >= 1 && window <= LOAD_WINDOW_MAX, `window ${window} outside 1..${LOAD_WINDOW_MAX}`);
  check(frames.length >= 1 && frames.length <= LOAD_MESSAGES_MAX, `messages ${frames.length} outside 1..${LOAD_MESSAGES_MAX}`);
  check(spec.warmup_frames.length <= LOAD_MESSAGES_MAX, `warm-up messages ${spec.warmup_frames.length} over ${LOAD_MESSAGES_MAX}`);
  const ws = await connect(spec.target);
  try {
    // Warm-up on the same connection and thread: JIT of client and server, then the measured phase.
    if (spec.warmup_frames.length > 0) await closedPhase(ws, spec.target, spec.warmup_frames, window);
    const phase = await closedPhase(ws, spec.target, frames, window);
    return {
      mode: 'closed', messages: frames.length, warmup_messages: spec.warmup_frames.length, window, answered: phase.answered,
      rejected: phase.rejected, elapsed_s: phase.elapsed_s, messages_per_second: phase.answered / phase.elapsed_s, round_trip: percentiles(phase.h),
    };
  } finally {
    await closeSocket(ws);
  }
}

interface ClosedPhase {
  answered: number;
  rejected: number;
  elapsed_s: number;
  h: ReturnType<typeof histogram>;
}

/** Sends `frames` with `window` outstanding; resolves when every one is answered (request ids may repeat across phases). */
function closedPhase(ws: WebSocket, target: LoadTarget, frames: readonly Uint8Array[], window: number): Promise<ClosedPhase> {
  const sentAt = new Float64Array(frames.length);
  const answeredFlag = new Uint8Array(frames.length);
  const h = histogram();
  let next = 0;
  let answered = 0;
  let rejected = 0;
  let started = 0;
  let lastAnswerAt = 0;
  const sender = new CorkedSender(ws);
  return new Promise<ClosedPhase>((resolve, reject) => {
    const sendOne = (): void => {
      const i = next++;
      sentAt[i] = performance.now();
      sender.send(frames[i]!);
    };
    const onMessage = (data: Buffer): void => matcher(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const onClose = (code: number): void => finish(new Error(`socket closed (${code}) after ${answered} answers`));
    const stall = setInterval(() => {
      if (performance.now() - lastAnswerAt > STALL_TIMEOUT_MS) finish(new Error(`no answer for ${STALL_TIMEOUT_MS} ms after ${answered} answers`));
    }, 1_000);
    const finish = (error: Error | null, finishedAt = 0): void => {
      clearInterval(stall);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (error !== null) reject(error);
      else resolve({ answered, rejected, elapsed_s: (finishedAt - started) / 1000, h });
    };
    const matcher = makeMatcher(target, frames.length, (a) => {
      if (answeredFlag[a.index] !== 0 || a.index >= next) return;
      answeredFlag[a.index] = 1;
      const now = performance.now();
      lastAnswerAt = now;
      h.recordValue(toUs(now - sentAt[a.index]!));
      answered += 1;
      if (a.rejected) rejected += 1;
      if (next < frames.length) sendOne();
      if (answered === frames.length) finish(null, now);
    }, () => {});
    ws.on('message', onMessage);
    ws.on('close', onClose);
    started = performance.now();
    lastAnswerAt = started;
    while (next < frames.length && next < window) sendOne();
  });
}

// ---- open loop ------------------------------------------------------------------------------------------------

export async function runWsOpenLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const { rate_per_second: rate, duration_s } = spec;
  check(rate > 0, `rate ${rate} must be positive`);
  check(duration_s > 0 && duration_s <= LOAD_DURATION_S_MAX, `duration ${duration_s} s outside (0, ${LOAD_DURATION_S_MAX}]`);
  const planned = Math.floor(rate * duration_s);
  check(planned >= 1 && planned <= LOAD_MESSAGES_MAX, `planned messages ${planned} outside 1..${LOAD_MESSAGES_MAX}`);
  check(spec.frames.length >= planned, `${spec.frames.length} frames for ${planned} planned messages`);
  check(spec.in_flight_max >= 1 && spec.in_flight_max <= LOAD_MESSAGES_MAX, `in_flight_max ${spec.in_flight_max}`);
  const ws = await connect(spec.target);
  const intervalMs = 1000 / rate;
  const answeredFlag = new Uint8Array(planned);
  // 0: none yet; 1: its first Trade recorded; 2: rejected by the venue.
  const filledFlag = new Uint8Array(planned);
  const accepted = new Uint8Array(planned);
  const ack = histogram();
  const fillImmediate = histogram();
  const fillSlice = histogram();
  let t0 = 0;
  let sent = 0;
  let answered = 0;
  let rejected = 0;
  let lastAnswerAt = 0;
  let sendLagMaxMs = 0;
  let rejectedByVenue = 0;
  let saturated = false;
  let saturationReason = '';
  let closedEarly = '';
  const plannedAt = (i: number): number => t0 + i * intervalMs;

  const matcher = makeMatcher(spec.target, planned, (a) => {
    if (a.index >= sent || answeredFlag[a.index] !== 0) return;
    answeredFlag[a.index] = 1;
    const now = performance.now();
    lastAnswerAt = now;
    ack.recordValue(toUs(now - plannedAt(a.index)));
    answered += 1;
    if (a.rejected) rejected += 1; else accepted[a.index] = 1;
  }, (f) => {
    if (f.index >= sent || filledFlag[f.index] !== 0) return;
    if (f.kind === 'rejected') {
      // The OMS's own refusal is in the answer (counted there); a reject of an accepted order is the venue's.
      if (accepted[f.index] === 1) { filledFlag[f.index] = 2; rejectedByVenue += 1; }
      return;
    }
    filledFlag[f.index] = 1;
    const latency = toUs(performance.now() - plannedAt(f.index));
    (f.full ? fillImmediate : fillSlice).recordValue(latency);
  });
  ws.on('message', (data: Buffer) => matcher(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  ws.once('close', (code) => { closedEarly = `socket closed (${code})`; });
  const sender = new CorkedSender(ws);

  await new Promise<void>((resolve) => {
    t0 = performance.now();
    const tick = (): void => {
      const now = performance.now();
      // Everything planned up to now is due; send the backlog at once, each still timed from its plan.
      const due = Math.min(planned, Math.floor((now - t0) / intervalMs) + 1);
      while (sent < due && closedEarly === '') {
        if (sent - answered >= spec.in_flight_max) {
          saturated = true;
          saturationReason = `${sent - answered} requests in flight (max ${spec.in_flight_max})`;
          break;
        }
        const lag = now - plannedAt(sent);
        if (lag > sendLagMaxMs) sendLagMaxMs = lag;
        if (lag > spec.send_lag_ms_max) {
          saturated = true;
          saturationReason = `send ${Math.round(lag)} ms behind plan (max ${spec.send_lag_ms_max} ms)`;
          break;
        }
        sender.send(spec.frames[sent]!);
        sent += 1;
      }
      if (closedEarly !== '' && !saturated) { saturated = true; saturationReason = closedEarly; }
      if (saturated || sent >= planned) return resolve();
      setTimeout(tick, SEND_TICK_MS);
    };
    tick();
  });

  // Drain: wait for outstanding answers and (when tracked) the first fills, up to drain_ms.
  const tracksFills = spec.target.cl_ord_id_prefix !== '';
  const drainDeadline = performance.now() + spec.drain_ms;
  const allFilled = (): boolean => {
    if (!tracksFills) return true;
    for (let i = 0; i < sent; i++) if (accepted[i] === 1 && filledFlag[i] === 0) return false;
    return true;
  };
  while (performance.now() < drainDeadline && closedEarly === '' && !(answered >= sent && allFilled())) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await closeSocket(ws);
  let acceptedWithoutFill = 0;
  if (tracksFills) for (let i = 0; i < sent; i++) if (accepted[i] === 1 && filledFlag[i] === 0) acceptedWithoutFill += 1;
  const spanMs = Math.max(lastAnswerAt - t0, 1);
  return {
    mode: 'open', rate_per_second: rate, duration_s, planned, sent, answered, rejected, unanswered: sent - answered,
    achieved_answers_per_second: answered / (spanMs / 1000), saturated, saturation_reason: saturationReason,
    send_lag_max_us: toUs(sendLagMaxMs), ack_latency: percentiles(ack), fill_latency_immediate: percentiles(fillImmediate),
    fill_latency_first_slice: percentiles(fillSlice), rejected_by_venue: rejectedByVenue, accepted_without_fill: acceptedWithoutFill,
  };
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return spec.mode === 'closed' ? runWsClosedLoop(spec) : runWsOpenLoop(spec);
}

// ---- worker thread --------------------------------------------------------------------------------------------

interface WorkerInput {
  entry: string;
  ws_load_spec: LoadSpec;
}
type WorkerOutput = { ok: true; result: LoadResult } | { ok: false; error: string };

/**
 * Runs the generator on its own thread (same process): the server under test keeps its event loop to itself.
 * Both still share the machine's cores.
 */
export function runLoadInWorker(spec: LoadSpec): Promise<LoadResult> {
  const input: WorkerInput = { entry: new URL('./ws-load.ts', import.meta.url).href, ws_load_spec: spec };
  // core/worker-boot.mjs registers the TypeScript loader in the worker, then imports `entry`.
  const worker = new Worker(new URL('../core/worker-boot.mjs', import.meta.url), { workerData: input });
  return new Promise((resolve, reject) => {
    let settled = false;
    worker.once('message', (message: WorkerOutput) => {
      settled = true;
      if (message.ok) resolve(message.result); else reject(new Error(message.error));
    });
    worker.once('error', (error) => { settled = true; reject(error); });
    worker.once('exit', (code) => { if (!settled) reject(new Error(`ws-load worker exited with code ${code}`)); });
  });
}

function isWorkerInput(value: unknown): value is WorkerInput {
  return typeof value === 'object' && value !== null && 'ws_load_spec' in value;
}

if (!isMainThread && parentPort !== null && isWorkerInput(workerData)) {
  const port = parentPort;
  const spec = workerData.ws_load_spec;
  runLoad(spec).then(
    (result) => port.postMessage({ ok: true, result } satisfies WorkerOutput),
    (error: unknown) => port.postMessage({ ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies WorkerOutput),
  ).finally(() => port.close());
}
