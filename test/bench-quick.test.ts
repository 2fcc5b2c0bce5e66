// The benchmark harness works: `npm run bench -- --quick` runs every scenario as a real child process and
// writes results that are complete and well formed. It asserts shapes and invariants, never a speed.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

interface P { count: number; p50_us: number; p90_us: number; p99_us: number; p999_us: number; p9999_us: number; max_us: number }

interface QuickFixFigure {
  seq_store: string; orders: number; warmup_orders: number; window: number; answered: number; elapsed_s: number; round_trips_per_second: number;
  round_trip: P; client_event_loop_utilization: number; process_cpu_share: number; executor_cpu_share: number | null;
}

/** One QuickFIX run of scenario 8: every measured order answered by its fill, figures consistent. */
function expectQuickFixFigure(q: QuickFixFigure, orders: number, window: number, warmup: number): void {
  expect(q.orders).toBe(orders);
  expect(q.window).toBe(window);
  expect(q.warmup_orders).toBe(warmup);
  expect(q.answered).toBe(orders);
  expect(q.elapsed_s).toBeGreaterThan(0);
  expect(q.round_trips_per_second).toBeCloseTo(q.answered / q.elapsed_s, 6);
  expectPercentiles(q.round_trip);
  expect(q.round_trip.count).toBe(orders);
  expect(q.client_event_loop_utilization).toBeGreaterThan(0);
  expect(q.client_event_loop_utilization).toBeLessThanOrEqual(1);
  expect(q.process_cpu_share).toBeGreaterThan(0);
  // /proc is there on the Linux machines this runs on: the executor's CPU was read.
  if (process.platform === 'linux') expect(q.executor_cpu_share).toBeGreaterThan(0);
}

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
        transport: {
          settings: { messages: number; window: number; warmup_messages: number };
          echo: { answered: number; round_trip: P }; oms: { answered: number; rejected: number; messages_per_second: number; round_trip: P }; ratio_oms_vs_echo: number;
        };
        open_loop: { rates: Array<{ planned: number; answered: number; unanswered: number; ack_latency: P }> };
        http: { new_order: { requests: number; non_2xx: number }; blotter: { requests: number; non_2xx: number } };
        recovery: { replay_from_scratch: { commands: number; commands_per_second: number }; restart_with_snapshot: { total_ms: number } };
        memory: { settings: { open_orders: number }; heap_bytes_per_open_order: number };
        interference: { alone: { ack_latency: P }; with_pool_busy: { ack_latency: P }; history_requests: { completed: number; failed: number }; ack_p99_ratio: number };
        fix_peer: {
          settings: { orders: number; warmup_orders: number; window: number; oms_source: string };
          quickfix: QuickFixFigure;
          oms: { messages: number; window: number; answered: number; messages_per_second: number; round_trip: P };
          ratio_oms_vs_quickfix: number; ratio_target: number; target_met: boolean;
          diagnostic_client_seq_in_memory: { quickfix: QuickFixFigure; ratio_oms_vs_quickfix: number };
        };
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
    // Scenario 8: scenario 1's order count, window and warm-up against QuickFIX's executor; the OMS figure is
    // scenario 1's own (it ran earlier in the same run), so the ratio divides two measurements of one run.
    const f = r.fix_peer;
    expect(f.settings.orders).toBe(r.transport.settings.messages);
    expect(f.settings.window).toBe(r.transport.settings.window);
    expect(f.settings.warmup_orders).toBeGreaterThan(0);
    expect(f.settings.oms_source).toBe('transport scenario, same run');
    expect(f.oms).toEqual(r.transport.oms);
    expectQuickFixFigure(f.quickfix, f.settings.orders, f.settings.window, f.settings.warmup_orders);
    expect(f.quickfix.seq_store).toBe('file_per_message');
    expect(f.ratio_oms_vs_quickfix).toBeCloseTo(f.oms.messages_per_second / f.quickfix.round_trips_per_second, 6);
    expect(f.ratio_target).toBe(3);
    expect(f.target_met).toBe(f.ratio_oms_vs_quickfix >= f.ratio_target);
    const d = f.diagnostic_client_seq_in_memory;
    expectQuickFixFigure(d.quickfix, f.settings.orders, f.settings.window, f.settings.warmup_orders);
    expect(d.quickfix.seq_store).toBe('sender_in_memory');
    expect(d.ratio_oms_vs_quickfix).toBeCloseTo(f.oms.messages_per_second / d.quickfix.round_trips_per_second, 6);
    const summary = readFileSync(`${root}bench/results/suite-quick.md`, 'utf8');
    for (const heading of ['1. Transport', '2. Open-loop', '3. Core alone', '4. HTTP', '5. Recovery', '6. Memory', '7. Interference', '8. A real FIX peer']) expect(summary).toContain(heading);
  }, 150_000);
});
