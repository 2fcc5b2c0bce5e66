// Gateway benchmarks over real loopback WebSockets (the `ws` client of bench/ws-load.ts):
//
// 1. runTransportVsOms: the transport alone (a native uWebSockets.js echo server answering frames of a
//    new order's size) against the whole OMS (startService: core worker, durable LMDB journal, replica,
//    router, uWS), same client, same in-flight window. The ratio OMS/echo says how much of the transport's
//    capacity the OMS keeps (README target: >= 0.60).
// 2. runOpenLoop: new orders at fixed rates against the service with the simulated venue on; latency from
//    each message's planned send time to its answer (ack) and to its first fill, no coordinated omission.
//
// The client runs on a worker thread of this process (runLoadInWorker), so it does not share the server's
// event loop, but it does share this machine's cores with the server, its core worker and the journal.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import type { Config } from '../gateway/config.js';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import type { ServiceHandle } from '../gateway/service.js';
import { startService } from '../gateway/service.js';
import type { us_listen_socket } from '../gateway/uws.js';
import { loadUws } from '../gateway/uws.js';
import type { ClosedLoopResult, LoadTarget, OpenLoopResult } from './ws-load.js';
import { DRAIN_TIMEOUT_MS_DEFAULT, runLoadInWorker } from './ws-load.js';
import type { Machine } from './support.js';
import { machine, newOrderFrames } from './support.js';

/** The demo trader (core/demo.ts), allowed on every account; its token is a public demo token. */
const TRADER_TOKEN = 'demo-trader-token';
/** Per-connection rate cap of the gateway, lifted so that the bench measures capacity, not the limiter. */
const BENCH_MESSAGES_PER_SECOND_MAX = 1_000_000;
/**
 * Slow-consumer limit, raised from the 1 MiB default: the client shares two cores with the server, and a
 * burst of reports it is slow to read must not get its session closed in the middle of a measurement.
 */
const BENCH_BACKPRESSURE_BYTES_MAX = 16 * 1024 * 1024;
const BENCH_TICK_INTERVAL_MS = 1_000;
const SIM_VENUE_SEED = 1;
/** README target for the OMS's share of the raw transport's throughput. */
export const TRANSPORT_RATIO_TARGET = 0.6;
/** Unmeasured messages sent first on the same connection (JIT warm-up of client and server). */
const WARMUP_MESSAGES_MAX = 5_000;
/** Open loop saturation bounds: past these the rate is reported as saturated and stopped. */
export const OPEN_LOOP_IN_FLIGHT_MAX = 50_000;
export const OPEN_LOOP_SEND_LAG_MS_MAX = 2_000;
/** Sliced fills start 500 ms after the venue accepts (SIM_VENUE_DEFAULTS.slice_interval_ms): leave room. */
export const OPEN_LOOP_DRAIN_MS = DRAIN_TIMEOUT_MS_DEFAULT;
/** Pause between rates so that the previous rate's sliced fills and journal flushes do not bleed over. */
const BETWEEN_RATES_MS = 2_500;

function benchConfig(dir: string, simVenue: boolean): Config {
  return {
    ...DEFAULT_CONFIG,
    data: { dir },
    gateway: {
      ...DEFAULT_CONFIG.gateway, port: 0, messages_per_second_max: BENCH_MESSAGES_PER_SECOND_MAX,
      max_backpressure_bytes: BENCH_BACKPRESSURE_BYTES_MAX,
    },
    core: { ...DEFAULT_CONFIG.core, tick_interval_ms: BENCH_TICK_INTERVAL_MS },
    sim_venue: { ...DEFAULT_CONFIG.sim_venue, enabled: simVenue, seed: SIM_VENUE_SEED },
  };
}

const quiet = (): void => {};

/** Starts the service on a fresh temporary data dir; `stop` closes it and removes the dir. */
export async function withService<T>(simVenue: boolean, body: (service: ServiceHandle) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'oms-bench-gw-'));
  try {
    const service = await startService(benchConfig(dir, simVenue), quiet);
    try {
      return await body(service);
    } finally {
      await service.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function omsTarget(port: number, clOrdIdPrefix: string): LoadTarget {
  return {
    url: `ws://127.0.0.1:${port}/v1/ws`, headers: { authorization: `Bearer ${TRADER_TOKEN}` }, answers: 'oms_reports',
    // newOrderFrames numbers requests 1..N.
    request_id_base: 1, cl_ord_id_prefix: clOrdIdPrefix, wait_for_first_message: true,
  };
}

// ---- scenario 1: transport vs OMS -------------------------------------------------------------------------------

export interface TransportVsOmsOptions {
  messages: number;
  window: number;
}

export interface TransportVsOmsResult {
  machine: Machine;
  settings: {
    messages: number;
    warmup_messages: number;
    window: number;
    frame_bytes: number;
    connections: number;
    client: 'ws package on a worker thread';
    client_in_process: true;
    uws_native: boolean;
    sim_venue: false;
    journal: 'durable LMDB';
  };
  echo: ClosedLoopResult;
  oms: ClosedLoopResult;
  ratio_oms_vs_echo: number;
  ratio_target: number;
  target_met: boolean;
}

/** A native uWS echo server on this thread; frames go back as they came. */
async function withEchoServer<T>(body: (port: number) => Promise<T>): Promise<{ value: T; native: boolean }> {
  const { uws, native } = loadUws({ allow_fallback: false });
  const app = uws.App().ws('/*', {
    maxPayloadLength: DEFAULT_CONFIG.gateway.max_payload_bytes,
    maxBackpressure: BENCH_BACKPRESSURE_BYTES_MAX,
    idleTimeout: DEFAULT_CONFIG.gateway.idle_timeout_s,
    message: (ws, message, isBinary) => { ws.send(message, isBinary); },
  });
  const listen = await new Promise<{ socket: us_listen_socket; port: number }>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket) => {
      if (socket === false) reject(new Error('echo server: cannot listen'));
      else resolve({ socket, port: uws.us_socket_local_port(socket) });
    });
  });
  try {
    return { value: await body(listen.port), native };
  } finally {
    // The client closed its socket; closing the listen socket leaves the app nothing to keep the loop alive.
    uws.us_listen_socket_close(listen.socket);
  }
}

/** Unmeasured messages scenario 1 sends first for a run of `messages` (scenario 8 warms up as many). */
export function transportWarmupMessages(messages: number): number {
  return Math.min(messages, WARMUP_MESSAGES_MAX);
}

/** The OMS half of scenario 1: a fresh service (durable journal, no venue), one client, `window` in flight. */
async function omsClosedLoop(orderFrames: Uint8Array[], warmupOrders: Uint8Array[], window: number): Promise<ClosedLoopResult> {
  const oms = await withService(false, (service) => runLoadInWorker({
    mode: 'closed', frames: orderFrames, warmup_frames: warmupOrders, window, target: omsTarget(service.port, ''),
  }));
  if (oms.mode !== 'closed') throw new Error('ws-load returned an open-loop result for a closed-loop run');
  return oms;
}

/**
 * Scenario 1's OMS measurement alone (same frames, warm-up, window and client as runTransportVsOms), for a
 * scenario that needs the OMS figure in a run where scenario 1 itself does not run.
 */
export async function runOmsClosedLoop(options: TransportVsOmsOptions): Promise<ClosedLoopResult> {
  const builder = new flatbuffers.Builder(1024);
  const orderFrames = newOrderFrames(builder, options.messages, 'T');
  const warmupOrders = newOrderFrames(builder, transportWarmupMessages(options.messages), 'W');
  return omsClosedLoop(orderFrames, warmupOrders, options.window);
}

export async function runTransportVsOms(options: TransportVsOmsOptions): Promise<TransportVsOmsResult> {
  const builder = new flatbuffers.Builder(1024);
  // Frames encoded before any timing; the same bytes (ids patched) go to the echo server.
  const orderFrames = newOrderFrames(builder, options.messages, 'T');
  const echoFrames = orderFrames.map((frame, i) => {
    const copy = frame.slice();
    new DataView(copy.buffer, copy.byteOffset, copy.byteLength).setUint32(0, i, true);
    return copy;
  });
  const warmupCount = transportWarmupMessages(options.messages);
  const warmupOrders = newOrderFrames(builder, warmupCount, 'W');
  const warmupEcho = echoFrames.slice(0, warmupCount);
  const frameBytes = orderFrames.reduce((sum, f) => sum + f.byteLength, 0) / orderFrames.length;

  const echo = await withEchoServer((port) => runLoadInWorker({
    mode: 'closed', frames: echoFrames, warmup_frames: warmupEcho, window: options.window,
    target: { url: `ws://127.0.0.1:${port}/`, headers: {}, answers: 'echo_u32', request_id_base: 0, cl_ord_id_prefix: '', wait_for_first_message: false },
  }));
  const oms = await omsClosedLoop(orderFrames, warmupOrders, options.window);
  if (echo.value.mode !== 'closed') throw new Error('ws-load returned an open-loop result for a closed-loop run');
  const ratio = oms.messages_per_second / echo.value.messages_per_second;
  return {
    machine: machine(),
    settings: {
      messages: options.messages, warmup_messages: warmupCount, window: options.window, frame_bytes: Math.round(frameBytes), connections: 1,
      client: 'ws package on a worker thread', client_in_process: true, uws_native: echo.native, sim_venue: false, journal: 'durable LMDB',
    },
    echo: echo.value, oms, ratio_oms_vs_echo: ratio, ratio_target: TRANSPORT_RATIO_TARGET, target_met: ratio >= TRANSPORT_RATIO_TARGET,
  };
}

// ---- scenario 2: open loop with the simulated venue ---------------------------------------------------------

export interface OpenLoopOptions {
  rates_per_second: number[];
  seconds_per_rate: number;
}

export interface OpenLoopBenchResult {
  machine: Machine;
  settings: {
    rates_per_second: number[];
    seconds_per_rate: number;
    in_flight_max: number;
    send_lag_ms_max: number;
    drain_ms: number;
    sim_venue_seed: number;
    client: 'ws package on a worker thread';
    client_in_process: true;
    connections: number;
  };
  /**
   * How fills come: the simulated venue (gateway/sim-venue.ts defaults) rejects 2% of new orders, fills half of
   * the rest in full at once and the other half in 4 slices 500 ms apart, and accepts at most 10,000 working
   * orders (beyond: rejected). So `fill_latency_immediate` is the OMS round trip through the venue and back,
   * and `fill_latency_first_slice` is ~500 ms of venue delay plus that.
   */
  fill_model: string;
  rates: OpenLoopResult[];
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopBenchResult> {
  const builder = new flatbuffers.Builder(1024);
  // One service for all rates (as a running OMS would be); ClOrdIDs unique per rate through the prefix.
  const rates = await withService(true, async (service) => {
    const results: OpenLoopResult[] = [];
    for (const [n, rate] of options.rates_per_second.entries()) {
      const prefix = `O${n}R${rate}-`;
      const frames = newOrderFrames(builder, Math.floor(rate * options.seconds_per_rate), prefix);
      const result = await runLoadInWorker({
        mode: 'open', frames, rate_per_second: rate, duration_s: options.seconds_per_rate, in_flight_max: OPEN_LOOP_IN_FLIGHT_MAX,
        send_lag_ms_max: OPEN_LOOP_SEND_LAG_MS_MAX, drain_ms: OPEN_LOOP_DRAIN_MS, target: omsTarget(service.port, prefix),
      });
      if (result.mode !== 'open') throw new Error('ws-load returned a closed-loop result for an open-loop run');
      results.push(result);
      await new Promise((resolve) => setTimeout(resolve, BETWEEN_RATES_MS));
    }
    return results;
  });
  return {
    machine: machine(),
    settings: {
      rates_per_second: options.rates_per_second, seconds_per_rate: options.seconds_per_rate, in_flight_max: OPEN_LOOP_IN_FLIGHT_MAX,
      send_lag_ms_max: OPEN_LOOP_SEND_LAG_MS_MAX, drain_ms: OPEN_LOOP_DRAIN_MS, sim_venue_seed: SIM_VENUE_SEED,
      client: 'ws package on a worker thread', client_in_process: true, connections: 1,
    },
    fill_model: 'sim venue defaults: 2% random rejects; 50% filled in full at once (fill_latency_immediate); 50% in 4 slices 500 ms apart (fill_latency_first_slice: first slice); at most 10,000 working orders at the venue',
    rates,
  };
}
