// Scenario 7: does work in the Piscina pool disturb the order path? Open-loop new orders at a steady rate,
// acknowledgement p99 measured alone, then again while clients keep the pool busy with order-history
// requests (each one replays the whole journal on a pool thread). Target: p99 moves by at most 10%.
//
// The phases alternate (alone, busy, alone, busy) after the journal's writeback and a warm-up, and each
// side's p99 is the worse of its two rounds: measured once in a fixed order, the first phase paid for the
// kernel writing back the 200k-order setup (an "alone" p99 4x the "busy" one was seen).

import { execFileSync } from 'node:child_process';
import * as flatbuffers from 'flatbuffers';
import type { OpenLoopResult } from './ws-load.js';
import { runLoadInWorker } from './ws-load.js';
import { OPEN_LOOP_DRAIN_MS, OPEN_LOOP_IN_FLIGHT_MAX, OPEN_LOOP_SEND_LAG_MS_MAX, omsTarget, withService } from './gateway.js';
import type { Machine } from './support.js';
import { machine, newOrderFrames } from './support.js';

export const INTERFERENCE_P99_RATIO_TARGET = 1.1;
/** Parallel history requests kept outstanding; the pool answers beyond its queue with 503, counted apart. */
const HISTORY_CLIENTS_MAX = 16;

export interface InterferenceOptions {
  /** Orders journaled first, so that each history replay is a heavy job. */
  journal_orders: number;
  rate_per_second: number;
  seconds: number;
  history_clients: number;
}

export interface InterferenceResult {
  machine: Machine;
  settings: InterferenceOptions & { heavy_job: string; sim_venue: false };
  alone: OpenLoopResult;
  with_pool_busy: OpenLoopResult;
  history_requests: { completed: number; refused_busy: number; failed: number };
  ack_p99_ratio: number;
  ratio_target: number;
  target_met: boolean;
}

async function openLoop(port: number, prefix: string, options: InterferenceOptions): Promise<OpenLoopResult> {
  const frames = newOrderFrames(new flatbuffers.Builder(1024), Math.floor(options.rate_per_second * options.seconds), prefix);
  const result = await runLoadInWorker({
    mode: 'open', frames, rate_per_second: options.rate_per_second, duration_s: options.seconds, in_flight_max: OPEN_LOOP_IN_FLIGHT_MAX,
    // No venue here, so no fills to wait for: answers only ('' prefix). Tracking fills made every phase wait
    // out the whole drain (5 s each, 25 s of the scenario).
    send_lag_ms_max: OPEN_LOOP_SEND_LAG_MS_MAX, drain_ms: OPEN_LOOP_DRAIN_MS, target: omsTarget(port, ''),
  });
  if (result.mode !== 'open') throw new Error('ws-load returned a closed-loop result for an open-loop run');
  return result;
}

/** Fills the journal through the real service, so that history replays have something heavy to do. */
async function fillJournal(port: number, orders: number): Promise<void> {
  const frames = newOrderFrames(new flatbuffers.Builder(1024), orders, 'J-');
  const result = await runLoadInWorker({ mode: 'closed', frames, warmup_frames: [], window: 256, target: omsTarget(port, 'J-') });
  if (result.mode !== 'closed' || result.answered !== orders) throw new Error('the journal was not filled');
}

/** Keeps `clients` history requests outstanding until `stop` resolves. */
async function keepPoolBusy(port: number, clients: number, stop: Promise<void>): Promise<InterferenceResult['history_requests']> {
  const counts = { completed: 0, refused_busy: 0, failed: 0 };
  let stopped = false;
  void stop.then(() => { stopped = true; });
  const client = async (): Promise<void> => {
    while (!stopped) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/v1/orders/J-1/history`, { headers: { authorization: 'Bearer demo-middle-token' } });
        await response.arrayBuffer();
        if (response.status === 200) counts.completed += 1;
        else if (response.status === 503) {
          counts.refused_busy += 1;
          await new Promise((resolve) => setTimeout(resolve, 20));
        } else counts.failed += 1;
      } catch {
        counts.failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(clients, HISTORY_CLIENTS_MAX) }, client));
  return counts;
}

/** Rounds of each phase (alternating); a side's figures are those of its worse round by p99. */
const INTERFERENCE_ROUNDS = 2;
/** Unmeasured open-loop seconds after the setup, so that the first measured phase starts warm. */
const WARMUP_SECONDS = 2;

async function busyPhase(port: number, prefix: string, options: InterferenceOptions): Promise<{ result: OpenLoopResult; history: InterferenceResult['history_requests'] }> {
  let release = (): void => {};
  const stop = new Promise<void>((resolve) => { release = resolve; });
  const busy = keepPoolBusy(port, options.history_clients, stop);
  // Let the pool threads start and get going before measuring.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await openLoop(port, prefix, options);
  release();
  return { result, history: await busy };
}

const worse = (a: OpenLoopResult | null, b: OpenLoopResult): OpenLoopResult => (a === null || b.ack_latency.p99_us > a.ack_latency.p99_us ? b : a);

export async function runInterferenceBench(options: InterferenceOptions): Promise<InterferenceResult> {
  return withService(false, async (service) => {
    await fillJournal(service.port, options.journal_orders);
    // A snapshot now, as an operator would after a load: it restarts the periodic count
    // (core.snapshot_every_commands, 250,000), so that no periodic build, itself background work on this
    // machine's two cores, falls into a measured phase (one did: p99 4-5x in that phase alone).
    await service.host.snapshot();
    // The setup's dirty pages are written back now, not during the first measured phase.
    execFileSync('sync');
    await openLoop(service.port, 'W-', { ...options, seconds: Math.min(options.seconds, WARMUP_SECONDS) });
    let alone: OpenLoopResult | null = null;
    let withPoolBusy: OpenLoopResult | null = null;
    const history = { completed: 0, refused_busy: 0, failed: 0 };
    for (let round = 0; round < INTERFERENCE_ROUNDS; round += 1) {
      alone = worse(alone, await openLoop(service.port, `A${round}-`, options));
      const busy = await busyPhase(service.port, `B${round}-`, options);
      withPoolBusy = worse(withPoolBusy, busy.result);
      history.completed += busy.history.completed;
      history.refused_busy += busy.history.refused_busy;
      history.failed += busy.history.failed;
    }
    if (alone === null || withPoolBusy === null) throw new Error('no interference round ran');
    const ratio = withPoolBusy.ack_latency.p99_us / Math.max(1, alone.ack_latency.p99_us);
    return {
      machine: machine(),
      settings: { ...options, heavy_job: 'GET /v1/orders/{id}/history: a full journal replay on a Piscina thread', sim_venue: false },
      alone, with_pool_busy: withPoolBusy, history_requests: history, ack_p99_ratio: ratio,
      ratio_target: INTERFERENCE_P99_RATIO_TARGET, target_met: ratio <= INTERFERENCE_P99_RATIO_TARGET,
    };
  });
}
