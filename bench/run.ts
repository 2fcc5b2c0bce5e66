// npm run bench [-- --quick] [-- --orders N]
// Runs the benchmark suite, writes bench/results/<name>.json and .md, and prints a table. Figures are
// throughputs and latency percentiles, each next to a baseline measured in the same run: the machines here
// are shared and noisy, so ratios are what to compare across runs.

import { parseArgs } from 'node:util';
import { runCoreBench } from './core.js';
import type { CoreBenchResult } from './core.js';
import { formatRate, machine, writeResults } from './support.js';

const QUICK = { orders: 50_000, batch_size: 1024, flushes_in_flight_max: 2 };
const FULL = { orders: 1_000_000, batch_size: 1024, flushes_in_flight_max: 2 };

function markdown(result: CoreBenchResult, settings: Record<string, unknown>): string {
  const m = machine();
  const row = (name: string, r: CoreBenchResult['core_no_journal']): string =>
    `| ${name} | ${formatRate(r.commands_per_second)} | ${r.batch_latency.p50_us} | ${r.batch_latency.p99_us} | ${r.batch_latency.max_us} |`;
  return [
    '# Core benchmark',
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node} (${m.platform}).`,
    `Settings: ${JSON.stringify(settings)}.`,
    '',
    '| scenario | commands/s | batch p50 us | batch p99 us | batch max us |',
    '|---|---:|---:|---:|---:|',
    row('decode only', result.decode_only),
    row('core, result encoding off', result.core_events_muted),
    row('core, no journal', result.core_no_journal),
    row('raw LMDB appends (baseline)', result.raw_lmdb_appends),
    row('core + durable journal', result.core_with_journal),
    '',
    `Replay from scratch: ${formatRate(result.replay.commands_per_second)} commands/s (${result.replay.commands} commands); hashing the recovered state took ${result.replay.state_hash_seconds.toFixed(2)} s.`,
    `Core with journal / without: ${result.ratios.journal_vs_no_journal.toFixed(2)}; core with journal / raw LMDB appends: ${result.ratios.core_with_journal_vs_raw_lmdb.toFixed(2)}.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, orders: { type: 'string' } } });
  const settings = { ...(values.quick === true ? QUICK : FULL) };
  if (values.orders !== undefined) settings.orders = Number(values.orders);
  const result = await runCoreBench(settings);
  const report = { machine: machine(), settings, quick: values.quick === true, at: new Date().toISOString(), core: result };
  const text = markdown(result, settings);
  const paths = writeResults(values.quick === true ? 'core-quick' : 'core', report, text);
  process.stdout.write(text + `\nWritten: ${paths.json}, ${paths.markdown}\n`);
}

await main();
