// The benchmark harness works: `npm run bench -- --quick` runs every scenario as a real child process and
// writes results that are complete and well formed. It asserts shapes and invariants, never a speed.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

interface P { count: number; p50_us: number; p90_us: number; p99_us: number; p999_us: number; p9999_us: number; max_us: number }

function expectPercentiles(p: P): void {
  expect(p.count).toBeGreaterThan(0);
  const ordered = [p.p50_us, p.p90_us, p.p99_us, p.p999_us, p.p9999_us, p.max_us];
  expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
}

describe('benchmark harness', () => {
  it('runs every scenario in quick mode and writes complete JSON and Markdown results', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['--expose-gc', '--max-semi-space-size=64', '--import', 'tsx', 'bench/run.ts', '--quick'],
        { cwd: root, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, out) => resolve({ code: error === null ? 0 : 1, stdout: out }));
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/Machine: .+ cores/);
    const report = JSON.parse(readFileSync(`${root}bench/results/suite-quick.json`, 'utf8')) as {
      quick: boolean; machine: { cores: number; node: string };
      results: {
        core: { core_no_journal: { commands: number; batch_latency: P }; core_with_journal: { commands_per_second: number }; ratios: { journal_vs_no_journal: number } };
        transport: { echo: { answered: number; round_trip: P }; oms: { answered: number; rejected: number; round_trip: P }; ratio_oms_vs_echo: number };
        open_loop: { rates: Array<{ planned: number; answered: number; unanswered: number; ack_latency: P }> };
        http: { new_order: { requests: number; non_2xx: number }; blotter: { requests: number; non_2xx: number } };
        recovery: { replay_from_scratch: { commands: number; commands_per_second: number }; restart_with_snapshot: { total_ms: number } };
        memory: { settings: { open_orders: number }; heap_bytes_per_open_order: number };
        interference: { alone: { ack_latency: P }; with_pool_busy: { ack_latency: P }; history_requests: { completed: number; failed: number }; ack_p99_ratio: number };
      };
    };
    const r = report.results;
    expect(report.quick).toBe(true);
    expect(report.machine.node).toBe(process.version);
    expect(r.core.core_no_journal.commands).toBe(20_000);
    expectPercentiles(r.core.core_no_journal.batch_latency);
    expect(r.core.ratios.journal_vs_no_journal).toBeGreaterThan(0);
    expect(r.transport.oms.answered).toBeGreaterThan(0);
    expect(r.transport.oms.rejected).toBe(0);
    expectPercentiles(r.transport.echo.round_trip);
    expectPercentiles(r.transport.oms.round_trip);
    expect(r.transport.ratio_oms_vs_echo).toBeGreaterThan(0);
    for (const rate of r.open_loop.rates) {
      expect(rate.answered + rate.unanswered).toBeLessThanOrEqual(rate.planned);
      expectPercentiles(rate.ack_latency);
    }
    expect(r.http.new_order.requests).toBeGreaterThan(0);
    expect(r.http.new_order.non_2xx + r.http.blotter.non_2xx).toBe(0);
    expect(r.recovery.replay_from_scratch.commands).toBeGreaterThan(0);
    expect(r.recovery.restart_with_snapshot.total_ms).toBeGreaterThan(0);
    expect(r.memory.settings.open_orders).toBe(20_000);
    expect(r.memory.heap_bytes_per_open_order).toBeGreaterThan(0);
    expectPercentiles(r.interference.alone.ack_latency);
    expectPercentiles(r.interference.with_pool_busy.ack_latency);
    expect(r.interference.history_requests.completed).toBeGreaterThan(0);
    expect(r.interference.history_requests.failed).toBe(0);
    expect(r.interference.ack_p99_ratio).toBeGreaterThan(0);
    const summary = readFileSync(`${root}bench/results/suite-quick.md`, 'utf8');
    for (const heading of ['1. Transport', '2. Open-loop', '3. Core alone', '4. HTTP', '5. Recovery', '6. Memory', '7. Interference']) expect(summary).toContain(heading);
  }, 150_000);
});
