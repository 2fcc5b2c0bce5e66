// Shared pieces of the benchmark suite: the machine description, latency histograms (hdr-histogram-js in
// pure JavaScript mode, as the design card requires), pre-encoded order flow, and result files.

import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import * as flatbuffers from 'flatbuffers';
import { Command, LimitScope, OrdType, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import { DEMO, demoReferenceData, unsetLimits } from '../core/demo.js';

export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  node: string;
  platform: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown', cores: list.length, memory_gib: Math.round(totalmem() / 1024 ** 3),
    node: process.version, platform: `${process.platform}-${process.arch}`,
  };
}

export function histogram(): hdr.Histogram {
  // Microsecond values from 1 us to 60 s with 3 significant digits.
  return hdr.build({ useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

export interface Percentiles {
  count: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  p9999_us: number;
  max_us: number;
}

export function percentiles(h: hdr.Histogram): Percentiles {
  // hdr reports a percentile as its bucket's highest equivalent value, which can exceed the exact maximum
  // recorded; no percentile is above the maximum, so clamp.
  const at = (percentile: number): number => Math.min(h.getValueAtPercentile(percentile), h.maxValue);
  return {
    count: h.totalCount, p50_us: at(50), p90_us: at(90), p99_us: at(99), p999_us: at(99.9), p9999_us: at(99.99), max_us: h.maxValue,
  };
}

export const BENCH_T0_US = 1_790_000_000_000_000;

/** Frames that set up the demo data with limits wide enough for a million orders, as the system user. */
export function setupFrames(builder: flatbuffers.Builder): Uint8Array[] {
  const commands: CommandBody[] = [
    ...demoReferenceData(),
    // Keep the notional limit and collar on (they are on the measured path), lift count and rate caps.
    { ...unsetLimits(LimitScope.Global, 0), maxOrderNotional: 50_000_000_000_000, priceCollarBps: 1_000, maxOpenOrders: 100_000_000, maxOrdersPerSecond: 100_000_000 },
  ];
  return commands.map((command, i) => encodeCommandCopy(builder, { requestId: 0, timeUs: BENCH_T0_US + i, userId: 0, sessionId: 0, command }));
}

/** `count` distinct limit orders on the simulated venue, as a trader would send them. */
export function newOrderFrames(builder: flatbuffers.Builder, count: number, prefix = 'B'): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    frames.push(encodeCommandCopy(builder, {
      requestId: i + 1, timeUs: BENCH_T0_US + 1_000 + i, userId: DEMO.users.trader, sessionId: 1,
      command: {
        type: Command.NewOrder, clOrdId: `${prefix}${i}`, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL,
        side: i % 2 === 0 ? Side.Buy : Side.Sell, ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty: 100,
        price: 19_000 + (i % 50), stopPx: 0, expireTimeUs: 0, parentClOrdId: '', venueId: DEMO.venues.SIM, text: '',
      },
    }));
  }
  return frames;
}

export function writeResults(name: string, json: unknown, markdown: string): { json: string; markdown: string } {
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const jsonPath = `${dir}${name}.json`;
  const mdPath = `${dir}${name}.md`;
  writeFileSync(jsonPath, JSON.stringify(json, null, 2) + '\n');
  writeFileSync(mdPath, markdown);
  return { json: jsonPath, markdown: mdPath };
}

export function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}
