// npm run bench [-- --quick] [-- --only core,transport,open_loop,http,recovery,memory,interference,fix_peer]
// Runs the benchmark suite, writes bench/results/<suite>.json (everything) and .md (a summary with the machine
// and settings), and prints the summary. Machines here are shared and noisy: compare the ratios, which are
// measured against a baseline in the same run, more than the absolute figures.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCoreBench } from './core.js';
import type { CoreBenchResult } from './core.js';
import { runOpenLoop, runTransportVsOms, transportWarmupMessages } from './gateway.js';
import type { OpenLoopBenchResult, TransportVsOmsResult } from './gateway.js';
import { runHttpBench } from './http.js';
import type { HttpBenchResult } from './http.js';
import { runMemoryBench } from './memory.js';
import type { MemoryBenchResult } from './memory.js';
import { runInterferenceBench } from './interference.js';
import type { InterferenceResult } from './interference.js';
import { runFixPeerBench } from './fix-peer.js';
import type { FixPeerResult } from './fix-peer.js';
import { runRecoveryBench } from './recovery.js';
import type { RecoveryBenchResult } from './recovery.js';
import type { Percentiles } from './support.js';
import { formatRate, machine, writeResults } from './support.js';

export const SCENARIOS = ['core', 'transport', 'open_loop', 'http', 'recovery', 'memory', 'interference', 'fix_peer'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** Scenario 8 (fix_peer) sends scenario 1's order count with its window, so that the two compare. */
const QUICK_TRANSPORT = { messages: 5_000, window: 256 };
const FULL_TRANSPORT = { messages: 100_000, window: 256 };

/** --quick must finish in well under a minute on the 2-core CI machine; it proves the harness, not a speed. */
const QUICK = {
  core: { orders: 20_000, batch_size: 1024, flushes_in_flight_max: 8 },
  transport: QUICK_TRANSPORT,
  open_loop: { rates_per_second: [500], seconds_per_rate: 1 },
  http: { connections: 4, pipelining: 1, duration_s: 1 },
  recovery: { orders: 5_000, fills_per_order: 2, batch_size: 1024 },
  memory: { open_orders: 20_000 },
  interference: { journal_orders: 5_000, rate_per_second: 500, seconds: 1, history_clients: 2 },
  // Warm-up cut from scenario 1's 5,000 to keep this scenario's two QuickFIX runs well under 20 s in quick mode.
  fix_peer: { orders: QUICK_TRANSPORT.messages, window: QUICK_TRANSPORT.window, warmup_orders: 1_000 },
};

const FULL = {
  core: { orders: 1_000_000, batch_size: 1024, flushes_in_flight_max: 8 },
  transport: FULL_TRANSPORT,
  open_loop: { rates_per_second: [1_000, 10_000, 20_000, 50_000], seconds_per_rate: 5 },
  http: { connections: 10, pipelining: 1, duration_s: 10 },
  recovery: { orders: 333_333, fills_per_order: 1, batch_size: 1024 },
  memory: { open_orders: 1_000_000 },
  interference: { journal_orders: 200_000, rate_per_second: 1_000, seconds: 10, history_clients: 4 },
  fix_peer: { orders: FULL_TRANSPORT.messages, window: FULL_TRANSPORT.window, warmup_orders: transportWarmupMessages(FULL_TRANSPORT.messages) },
};

interface SuiteResults {
  core?: CoreBenchResult;
  transport?: TransportVsOmsResult;
  open_loop?: OpenLoopBenchResult;
  http?: HttpBenchResult;
  recovery?: RecoveryBenchResult;
  memory?: MemoryBenchResult;
  interference?: InterferenceResult;
  fix_peer?: FixPeerResult;
}

async function runScenario(name: Scenario, sizes: typeof FULL, results: SuiteResults): Promise<void> {
  switch (name) {
    case 'core': results.core = await runCoreBench(sizes.core); return;
    case 'transport': results.transport = await runTransportVsOms(sizes.transport); return;
    case 'open_loop': results.open_loop = await runOpenLoop(sizes.open_loop); return;
    case 'http': results.http = await runHttpBench(sizes.http); return;
    case 'recovery': results.recovery = await runRecoveryBench(sizes.recovery); return;
    case 'memory': results.memory = await runMemoryBench(sizes.memory); return;
    case 'interference': results.interference = await runInterferenceBench(sizes.interference); return;
    // The OMS figure is scenario 1's when it ran before in this run; otherwise fix_peer measures it the same way.
    case 'fix_peer': results.fix_peer = await runFixPeerBench(sizes.fix_peer, results.transport?.oms); return;
  }
}

const us = (p: Percentiles): string => `${p.p50_us} / ${p.p99_us} / ${p.p9999_us} / ${p.max_us}`;

function coreSection(r: CoreBenchResult): string[] {
  const row = (name: string, t: CoreBenchResult['core_no_journal']): string => `| ${name} | ${formatRate(t.commands_per_second)} | ${t.batch_latency.p50_us} | ${t.batch_latency.p99_us} |`;
  return [
    '## 3. Core alone (in-process)', '', '| scenario | commands/s | batch p50 us | batch p99 us |', '|---|---:|---:|---:|',
    row('decode only', r.decode_only), row('core, result encoding off', r.core_events_muted), row('core, no journal', r.core_no_journal),
    row('raw LMDB appends (baseline)', r.raw_lmdb_appends), row('core + durable journal', r.core_with_journal), '',
    `Journal vs no journal: ${r.ratios.journal_vs_no_journal.toFixed(2)}; core + journal vs raw LMDB: ${r.ratios.core_with_journal_vs_raw_lmdb.toFixed(2)}.`, '',
  ];
}

function transportSection(r: TransportVsOmsResult): string[] {
  return [
    '## 1. Transport baseline vs OMS round trip', '',
    `Window ${r.settings.window}, ${r.settings.frame_bytes}-byte frames, one connection, client in a worker thread of the same process.`, '',
    '| target | msgs/s | round trip p50 / p99 / p99.99 / max (us) |', '|---|---:|---|',
    `| uWS echo (baseline) | ${formatRate(r.echo.messages_per_second)} | ${us(r.echo.round_trip)} |`,
    `| OMS new order -> accepted (durable) | ${formatRate(r.oms.messages_per_second)} | ${us(r.oms.round_trip)} |`, '',
    `OMS / echo: ${r.ratio_oms_vs_echo.toFixed(2)} (target ${r.ratio_target}: ${r.target_met ? 'met' : 'NOT met'}).`, '',
  ];
}

function openLoopSection(r: OpenLoopBenchResult): string[] {
  const lines = ['## 2. Open-loop latency (from planned send time; simulated venue on)', '',
    '| rate/s | achieved/s | ack p50 / p99 / p99.99 / max (us) | immediate fill p50 / p99 / max (us) | saturated |', '|---:|---:|---|---|---|'];
  for (const rate of r.rates) {
    const fill = rate.fill_latency_immediate;
    lines.push(`| ${formatRate(rate.rate_per_second)} | ${formatRate(rate.achieved_answers_per_second)} | ${us(rate.ack_latency)} | ${fill.p50_us} / ${fill.p99_us} / ${fill.max_us} | ${rate.saturated ? `yes (${rate.saturation_reason})` : 'no'} |`);
  }
  return [...lines, ''];
}

function httpSection(r: HttpBenchResult): string[] {
  const row = (e: HttpBenchResult['new_order']): string => `| ${e.method} ${e.path} | ${formatRate(e.requests_per_second)} | ${e.latency_ms.p50} / ${e.latency_ms.p99} | ${e.errors + e.non_2xx} |`;
  return ['## 4. HTTP (autocannon)', '', `${r.settings.connections} connections, pipelining ${r.settings.pipelining}, ${r.settings.duration_s} s each, same process.`, '',
    '| endpoint | req/s | latency p50 / p99 ms | errors + non-2xx |', '|---|---:|---|---:|', row(r.new_order), row(r.blotter), ''];
}

function recoverySection(r: RecoveryBenchResult): string[] {
  return ['## 5. Recovery', '', `Journal of ${r.journal.commands} commands (${r.settings.orders} orders with their fills).`, '',
    `- Replay from scratch: ${formatRate(r.replay_from_scratch.commands_per_second)} commands/s (target ${formatRate(r.target.replay_commands_per_second)}: ${r.target.met ? 'met' : 'NOT met'}); state hash ${Math.round(r.replay_from_scratch.state_hash_ms)} ms.`,
    `- Restart without snapshot: ${Math.round(r.restart_without_snapshot.total_ms)} ms; with snapshot: ${Math.round(r.restart_with_snapshot.total_ms)} ms (snapshot ${formatRate(r.snapshot.size_bytes)} bytes).`, ''];
}

function memorySection(r: MemoryBenchResult): string[] {
  return ['## 6. Memory', '', `- ${formatRate(r.settings.open_orders)} open orders: ${Math.round(r.heap_bytes_per_open_order)} bytes of heap per open order (target <= ${r.target.heap_bytes_per_open_order_max}: ${r.target.met ? 'met' : 'NOT met'}); RSS ${Math.round(r.rss_bytes_per_open_order)} bytes per order.`, ''];
}

function interferenceSection(r: InterferenceResult): string[] {
  const h = r.history_requests;
  return ['## 7. Interference of the Piscina pool with the order path', '',
    `${formatRate(r.settings.rate_per_second)} new orders/s for ${r.settings.seconds} s per phase, phases alternating alone / pool busy twice after a warm-up (each side: its worse round), journal of ${formatRate(r.settings.journal_orders)} orders; heavy job: ${r.settings.heavy_job}.`, '',
    '| | ack p50 / p99 / p99.99 / max (us) |', '|---|---|',
    `| alone | ${us(r.alone.ack_latency)} |`, `| pool busy (${h.completed} replays done, ${h.refused_busy} refused busy) | ${us(r.with_pool_busy.ack_latency)} |`, '',
    `p99 with / alone: ${r.ack_p99_ratio.toFixed(2)} (target <= ${r.ratio_target}: ${r.target_met ? 'met' : 'NOT met'}).`, ''];
}

function fixPeerSection(r: FixPeerResult): string[] {
  const q = r.quickfix;
  const d = r.diagnostic_client_seq_in_memory;
  const share = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(2));
  const cpu = (f: FixPeerResult['quickfix']): string =>
    `executor ${share(f.executor_cpu_share)}, FIX client thread event loop ${f.client_event_loop_utilization.toFixed(2)}, ` +
    `bench main thread (reading the executor's log) ${share(f.harness_main_thread_cpu_share)}, whole bench process ${f.process_cpu_share.toFixed(2)}`;
  return ['## 8. A real FIX peer on the same machine (QuickFIX executor)', '',
    `${formatRate(r.settings.orders)} orders (after ${formatRate(r.settings.warmup_orders)} unmeasured), window ${r.settings.window}, one connection each. ` +
    `FIX 4.4 client: ${r.settings.client}; peer: ${r.settings.peer} (${r.settings.peer_package}), ${r.settings.peer_store}. OMS figure: ${r.settings.oms_source}.`, '',
    '| target | round trips/s | round trip p50 / p99 / p99.99 / max (us) |', '|---|---:|---|',
    `| QuickFIX executor: NewOrderSingle -> fill | ${formatRate(q.round_trips_per_second)} | ${us(q.round_trip)} |`,
    `| OMS over WebSocket: new order -> accepted (durable) | ${formatRate(r.oms.messages_per_second)} | ${us(r.oms.round_trip)} |`,
    `| (diagnostic) QuickFIX, client SeqStore not written per message | ${formatRate(d.quickfix.round_trips_per_second)} | ${us(d.quickfix.round_trip)} |`, '',
    `OMS / QuickFIX: ${r.ratio_oms_vs_quickfix.toFixed(2)} (target ${r.ratio_target}: ${r.target_met ? 'met' : 'NOT met'}). ` +
    `Against the diagnostic run: ${d.ratio_oms_vs_quickfix.toFixed(2)}.`, '',
    `CPU during the QuickFIX run, as shares of one core: ${cpu(q)}. Diagnostic run: ${cpu(d.quickfix)}.`, ''];
}

function markdown(results: SuiteResults, quick: boolean): string {
  const m = machine();
  return [
    `# Benchmark suite${quick ? ' (quick: proves the harness, not a speed)' : ''}`, '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node} (${m.platform}). ${new Date().toISOString()}.`, '',
    ...(results.transport ? transportSection(results.transport) : []),
    ...(results.open_loop ? openLoopSection(results.open_loop) : []),
    ...(results.core ? coreSection(results.core) : []),
    ...(results.http ? httpSection(results.http) : []),
    ...(results.recovery ? recoverySection(results.recovery) : []),
    ...(results.memory ? memorySection(results.memory) : []),
    ...(results.interference ? interferenceSection(results.interference) : []),
    ...(results.fix_peer ? fixPeerSection(results.fix_peer) : []),
  ].join('\n');
}

/** The child's side: one scenario, its result (and scenario 1's, which fix_peer reuses) through files. */
async function runChild(name: Scenario, sizes: typeof FULL, resultFile: string, transportFile: string | undefined): Promise<void> {
  const results: SuiteResults = {};
  if (transportFile !== undefined) results.transport = JSON.parse(readFileSync(transportFile, 'utf8')) as TransportVsOmsResult;
  await runScenario(name, sizes, results);
  writeFileSync(resultFile, JSON.stringify(results[name]));
}

/** Runs one scenario in a fresh process with this process's Node flags; resolves with its result. */
async function runIsolated(name: Scenario, quick: boolean, results: SuiteResults, dir: string): Promise<void> {
  const resultFile = join(dir, `${name}.json`);
  const args = [...process.execArgv, new URL(import.meta.url).pathname, '--child', name, '--result-file', resultFile];
  if (quick) args.push('--quick');
  if (name === 'fix_peer' && results.transport !== undefined) {
    const transportFile = join(dir, 'transport-for-fix-peer.json');
    writeFileSync(transportFile, JSON.stringify(results.transport));
    args.push('--transport-file', transportFile);
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`bench: scenario ${name} exited with code ${code}`);
  (results as Record<string, unknown>)[name] = JSON.parse(readFileSync(resultFile, 'utf8'));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' }, only: { type: 'string' },
      // Internal: how the suite runs one scenario in a child process.
      child: { type: 'string' }, 'result-file': { type: 'string' }, 'transport-file': { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const sizes = quick ? QUICK : FULL;
  if (values.child !== undefined) {
    if (!(SCENARIOS as readonly string[]).includes(values.child) || values['result-file'] === undefined) throw new Error('bench: --child needs a scenario and --result-file');
    await runChild(values.child as Scenario, sizes, values['result-file'], values['transport-file']);
    return;
  }
  const chosen = (values.only?.split(',') ?? [...SCENARIOS]).map((s) => s.trim());
  for (const name of chosen) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario ${name} (known: ${SCENARIOS.join(', ')})`);
  }
  const results: SuiteResults = {};
  const dir = mkdtempSync(join(tmpdir(), 'oms-bench-suite-'));
  try {
    for (const name of chosen as Scenario[]) {
      const started = performance.now();
      process.stderr.write(`bench: ${name}...\n`);
      await runIsolated(name, quick, results, dir);
      process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const report = { machine: machine(), quick, scenarios: chosen, settings: sizes, at: new Date().toISOString(), results };
  const text = markdown(results, quick);
  const paths = writeResults(quick ? 'suite-quick' : 'suite', report, text);
  process.stdout.write(text + `\nWritten: ${paths.json}, ${paths.markdown}\n`);
}

await main();
