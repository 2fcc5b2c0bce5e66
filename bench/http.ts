// Scenario 4, HTTP JSON API: requests per second and latency of the real service (startService: uWebSockets.js
// gateway, core worker, durable journal) in this process, driven by autocannon over loopback, for
//   (a) POST /v1/orders, every request a new order with its own ClOrdID, and
//   (b) GET /v1/orders?limit=100, the blotter's first page, over the orders (a) left behind.
// The simulated venue is off so that nothing but the measured requests reaches the core; orders stay
// pending at a venue that never answers, which costs the core nothing per request.
// autocannon runs in the same process as the service: on a 2-core machine the load generator competes with
// the gateway's main thread for CPU, so these figures are a floor for a separate client machine.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DEMO } from '../core/demo.js';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import type { Config } from '../gateway/config.js';
import { startService } from '../gateway/service.js';
import type { Log } from '../gateway/service.js';
import type { Machine } from './support.js';
import { machine } from './support.js';

export interface HttpBenchOptions {
  connections: number;
  /** Requests in flight per connection (1: wait for each answer). */
  pipelining: number;
  /** Per endpoint. */
  duration_s: number;
}

export interface HttpEndpointResult {
  method: 'POST' | 'GET';
  path: string;
  requests: number;
  /** Answered requests over autocannon's measured duration (which can exceed duration_s by the drain). */
  requests_per_second: number;
  /** autocannon's mean of its per-second samples. */
  requests_per_second_mean_of_seconds: number;
  /** autocannon's latency histogram, milliseconds, recorded at 1 ms resolution. */
  latency_ms: { mean: number; p50: number; p90: number; p99: number; p99_9: number; max: number };
  /** Connection errors and timeouts, and answers that were not 2xx. */
  errors: number;
  timeouts: number;
  non_2xx: number;
  status_counts: Record<string, number>;
  connections: number;
  pipelining: number;
  duration_s: number;
}

export interface HttpBenchResult {
  machine: Machine;
  settings: HttpBenchOptions & { autocannon_version: string; sim_venue: boolean; same_process: boolean };
  new_order: HttpEndpointResult;
  blotter: HttpEndpointResult;
}

/** node_modules/autocannon/package.json at the time of writing; kept by hand so the result says what produced it. */
const AUTOCANNON_VERSION = '9.0.0';
const BLOTTER_PAGE_ORDERS = 100;
const TRADER_TOKEN = 'demo-trader-token';
/** A request that has not been answered after this long counts as a timeout, not as a slow sample. */
const REQUEST_TIMEOUT_S = 10;
const CONNECTIONS_MAX = 10_000;
const PIPELINING_MAX = 1_000;
const DURATION_S_MAX = 3_600;

/** A limit order inside the demo's price collar (AAPL mark 190.00) and under every demo limit. */
function newOrderBody(clOrdId: string, i: number): string {
  return JSON.stringify({
    cl_ord_id: clOrdId, account_id: DEMO.accounts.GROWTH, symbol: 'AAPL', side: i % 2 === 0 ? 'buy' : 'sell',
    qty: '100', price: (190 + (i % 50) / 100).toFixed(2), venue_id: DEMO.venues.SIM,
  });
}

function endpointResult(method: 'POST' | 'GET', path: string, r: autocannon.Result): HttpEndpointResult {
  const statusCounts: Record<string, number> = {};
  for (const [code, stats] of Object.entries(r.statusCodeStats ?? {})) statusCounts[code] = stats.count ?? 0;
  return {
    method, path, requests: r.requests.total, requests_per_second: r.requests.total / r.duration,
    requests_per_second_mean_of_seconds: r.requests.average,
    latency_ms: { mean: r.latency.mean, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p99_9: r.latency.p99_9, max: r.latency.max },
    errors: r.errors, timeouts: r.timeouts, non_2xx: r.non2xx, status_counts: statusCounts,
    connections: r.connections, pipelining: r.pipelining, duration_s: r.duration,
  };
}

function assertOptions(options: HttpBenchOptions): void {
  const check = (name: string, value: number, max: number): void => {
    if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer in [1, ${max}], got ${value}`);
  };
  check('connections', options.connections, CONNECTIONS_MAX);
  check('pipelining', options.pipelining, PIPELINING_MAX);
  check('duration_s', options.duration_s, DURATION_S_MAX);
}

export async function runHttpBench(options: HttpBenchOptions): Promise<HttpBenchResult> {
  assertOptions(options);
  const dir = mkdtempSync(join(tmpdir(), 'oms-bench-http-'));
  const config: Config = {
    ...DEFAULT_CONFIG,
    data: { dir },
    gateway: { ...DEFAULT_CONFIG.gateway, port: 0 },
    // No snapshots during the run: a snapshot of a growing book would show up as latency spikes that belong
    // to the snapshot schedule, not to the HTTP path.
    core: { ...DEFAULT_CONFIG.core, snapshot_every_commands: 0 },
    sim_venue: { ...DEFAULT_CONFIG.sim_venue, enabled: false },
  };
  // The service logs one JSON line per event; the bench keeps only failures on stderr (the demo-token
  // warning is expected: the bench logs in with the demo trader's token on purpose).
  const log: Log = (fields) => {
    if ('error' in fields) process.stderr.write(JSON.stringify(fields) + '\n');
  };
  const service = await startService(config, log);
  try {
    const base = `http://127.0.0.1:${service.port}`;
    const headers = { authorization: `Bearer ${TRADER_TOKEN}`, 'content-type': 'application/json' };
    // Distinct per run, so that a second run in the same process never repeats a ClOrdID.
    const prefix = `H${Date.now().toString(36)}-`;
    let serial = 0;
    // One order by hand first: a body the API refuses would otherwise be measured as a fast stream of 422s.
    const probe = await fetch(`${base}/v1/orders`, { method: 'POST', headers, body: newOrderBody(`${prefix}probe`, 0) });
    if (probe.status !== 201) throw new Error(`http bench: probe order answered ${probe.status}: ${await probe.text()}`);

    const common = {
      url: base, connections: options.connections, pipelining: options.pipelining, duration: options.duration_s,
      timeout: REQUEST_TIMEOUT_S, headers,
    };
    const newOrder = await autocannon({
      ...common,
      requests: [{
        method: 'POST', path: '/v1/orders',
        setupRequest: (request: autocannon.Request): autocannon.Request => {
          serial += 1;
          return { ...request, body: newOrderBody(`${prefix}${serial}`, serial) };
        },
      }],
    });
    const blotterPath = `/v1/orders?limit=${BLOTTER_PAGE_ORDERS}`;
    const blotter = await autocannon({ ...common, requests: [{ method: 'GET', path: blotterPath }] });
    return {
      machine: machine(),
      settings: { ...options, autocannon_version: AUTOCANNON_VERSION, sim_venue: false, same_process: true },
      new_order: endpointResult('POST', '/v1/orders', newOrder),
      blotter: endpointResult('GET', blotterPath, blotter),
    };
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
