// Exact money at the extremes: thousands of partial fills, satoshi quantities, notionals beyond 2^53 and
// 2^64, yen, contract multipliers, shorts and flips, and the fixed-point helpers themselves. Every expected
// value is computed here independently with bigint arithmetic.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Command, ExecType, LimitScope, OrdStatus, RejectCode, Side } from '../schemas/generated/oms_generated.js';
import type { CommandResultData, ExecutionReportData } from '../schemas/results.js';
import { DEMO, unsetLimits } from '../core/demo.js';
import {
  AVG_PX_EXTRA_DIGITS, avgPx, formatScaled, MONEY_SCALE_DIGITS, notional, parseScaled, parseScaledNumber,
} from '../core/fixed.js';
import type { Position } from '../core/model.js';
import { positionKey } from '../core/model.js';
import { unrealisedPnl } from '../core/risk.js';
import { stateHash } from '../core/state.js';
import { CoreHarness } from './support/core-harness.js';

const U = DEMO.users;
const A = DEMO.accounts;
const I = DEMO.instruments;

/** Round half up of n / d for n >= 0, d > 0, by quotient and remainder (not the formula the core uses). */
function roundHalfUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n - q * d;
  return 2n * r >= d ? q + 1n : q;
}

function expectedAvgPx(cumNotional: bigint, cumQty: bigint): number {
  return cumQty === 0n ? 0 : Number(roundHalfUp(cumNotional * 10n ** BigInt(AVG_PX_EXTRA_DIGITS), cumQty));
}

/** Deterministic PRNG (mulberry32), so that a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function reports(result: CommandResultData): ExecutionReportData[] {
  return CoreHarness.reports(result);
}

function accepted(result: CommandResultData): ExecutionReportData {
  const report = reports(result)[0];
  if (report === undefined || report.orderId === 0 || result.events.some((e) => e.kind === 'command_reject')) {
    throw new Error(`refused: ${JSON.stringify(result.events)}`);
  }
  return report;
}

/** The state hash without lastSeq: a journaled reject advances only that. */
function contentHash(h: CoreHarness): string {
  return stateHash({ ...h.core.state, lastSeq: 0 });
}

function position(h: CoreHarness, accountId: number, instrumentId: number): Position {
  const pos = h.core.state.positions.get(positionKey(accountId, instrumentId));
  if (pos === undefined) throw new Error(`no position ${accountId}/${instrumentId}`);
  return pos;
}

/** The demo data without the desk-wide and AAPL limits, for orders far larger than a desk would send. */
function withoutLimits(): CoreHarness {
  const h = CoreHarness.withDemoData();
  for (const command of [unsetLimits(LimitScope.Global, 0), unsetLimits(LimitScope.Instrument, I.AAPL)]) {
    expect(h.send(U.admin, command).events.map((e) => e.kind)).toEqual(['accepted']);
  }
  return h;
}

/** Places and acknowledges a venue order, then fills it completely at `px`. */
function trade(h: CoreHarness, clOrdId: string, instrumentId: number, side: Side, qty: number, px: number, limitPx = px): void {
  accepted(h.newOrder({ clOrdId, instrumentId, side, orderQty: qty, price: limitPx }));
  h.venue(clOrdId, ExecType.New);
  const fill = reports(h.fill(clOrdId, qty, px));
  expect(fill).toHaveLength(1);
  expect(fill[0].ordStatus).toBe(OrdStatus.Filled);
}

describe('AvgPx over thousands of partial fills', () => {
  it('is exact after each of 5,000 random fills, on the child and its parent, with sums beyond 2^53', () => {
    const h = withoutLimits();
    const random = prng(20_260_101);
    const sizes: number[] = [];
    const prices: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      sizes.push(1 + Math.floor(random() * 2_000));
      // Mostly ordinary prices, sometimes prices near the largest a fill may carry.
      prices.push(random() < 0.3 ? 4_500_000_000 + Math.floor(random() * 4_500_000_000) : 14_000 + Math.floor(random() * 10_000));
    }
    const total = sizes.reduce((sum, q) => sum + q, 0);
    accepted(h.newOrder({ clOrdId: 'PARENT', orderQty: total, venueId: 0 }, U.pm));
    accepted(h.newOrder({ clOrdId: 'CHILD', orderQty: total, parentClOrdId: 'PARENT' }));
    h.venue('CHILD', ExecType.New);
    let cumQty = 0n;
    let cumNotional = 0n;
    for (let i = 0; i < sizes.length; i++) {
      cumQty += BigInt(sizes[i]);
      cumNotional += BigInt(sizes[i]) * BigInt(prices[i]);
      const out = reports(h.fill('CHILD', sizes[i], prices[i]));
      expect(out.map((r) => r.clOrdId)).toEqual(['CHILD', 'PARENT']);
      const expected = expectedAvgPx(cumNotional, cumQty);
      for (const r of out) {
        expect(r.lastQty).toBe(sizes[i]);
        expect(r.lastPx).toBe(prices[i]);
        expect(r.cumQty).toBe(Number(cumQty));
        expect(r.leavesQty).toBe(total - Number(cumQty));
        expect(r.avgPx).toBe(expected);
      }
    }
    expect(cumNotional).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
    const child = h.core.state.ordersByClOrdId.get('CHILD');
    expect(child?.baseStatus).toBe(OrdStatus.Filled);
    expect(child?.cumNotional).toBe(cumNotional);
    expect(h.core.state.ordersByClOrdId.get('PARENT')?.baseStatus).toBe(OrdStatus.Filled);
    const pos = position(h, A.GROWTH, I.AAPL);
    expect(pos.qty).toBe(total);
    expect(pos.cost).toBe(cumNotional);
    expect(pos.realisedPnl).toBe(0n);
  });

  it('rounds half up exactly at .5 of the last AvgPx digit', () => {
    const h = CoreHarness.withDemoData();
    // EUR/USD: 2,000,000 cents of EUR. 1,999,999 at 0.00001 and 1 at 0.00002: 2,000,001 / 2,000,000 price
    // units = 1.0000005, i.e. 1,000,000.5 in AvgPx units.
    accepted(h.newOrder({ clOrdId: 'HALF', instrumentId: I.EURUSD, orderQty: 2_000_000, price: 108_000 }));
    h.fill('HALF', 1_999_999, 1);
    const last = reports(h.fill('HALF', 1, 2))[0];
    expect(last.avgPx).toBe(1_000_001);
    // Just under one half rounds down: 1,999,999 at 1 and 1 at 2 over 2,000,001 is 2,000,001 / 2,000,001 = 1,
    // so take 2,000,000 at 1 and 1 at 2: 2,000,002 / 2,000,001 = 1.00000049999975, i.e. 1,000,000.49999975.
    accepted(h.newOrder({ clOrdId: 'UNDER', instrumentId: I.EURUSD, orderQty: 2_000_001, price: 108_000 }));
    h.fill('UNDER', 2_000_000, 1);
    expect(reports(h.fill('UNDER', 1, 2))[0].avgPx).toBe(1_000_000);
    // Thirds: 4 / 3 = 1.333333|33 -> 1,333,333 and 5 / 3 = 1.666666|67 -> 1,666,667.
    accepted(h.newOrder({ clOrdId: 'THIRDS', instrumentId: I.EURUSD, orderQty: 4, price: 108_000 }));
    h.fill('THIRDS', 2, 1);
    expect(reports(h.fill('THIRDS', 1, 2))[0].avgPx).toBe(1_333_333);
    accepted(h.newOrder({ clOrdId: 'THIRDS-2', instrumentId: I.EURUSD, orderQty: 3, price: 108_000 }));
    h.fill('THIRDS-2', 1, 1);
    expect(reports(h.fill('THIRDS-2', 2, 2))[0].avgPx).toBe(1_666_667);
  });
});

describe('8-decimal crypto quantities (BTC/USD: satoshis, cents)', () => {
  const ALL_BITCOIN = 2_100_000_000_000_000; // 21,000,000 BTC in satoshis: a safe integer (2^53 - 1 ≈ 90,071,992.5 BTC)

  it('fills of 1 satoshi and of every bitcoin there is are exact, with notionals beyond 2^64', () => {
    expect(Number.isSafeInteger(ALL_BITCOIN)).toBe(true);
    const h = withoutLimits();
    accepted(h.newOrder({ clOrdId: 'SAT', instrumentId: I.BTCUSD, orderQty: ALL_BITCOIN, price: 9_500_000 }));
    h.venue('SAT', ExecType.New);
    const one = reports(h.fill('SAT', 1, 9_500_000))[0];
    expect(one.cumQty).toBe(1);
    expect(one.avgPx).toBe(9_500_000 * 10 ** AVG_PX_EXTRA_DIGITS);
    expect(one.leavesQty).toBe(ALL_BITCOIN - 1);
    const rest = ALL_BITCOIN - 1;
    const last = reports(h.fill('SAT', rest, 9_500_001))[0];
    const cumNotional = 9_500_000n + BigInt(rest) * 9_500_001n;
    expect(cumNotional).toBeGreaterThan(2n ** 64n);
    expect(last.cumQty).toBe(ALL_BITCOIN);
    expect(last.leavesQty).toBe(0);
    expect(last.ordStatus).toBe(OrdStatus.Filled);
    expect(last.avgPx).toBe(expectedAvgPx(cumNotional, BigInt(ALL_BITCOIN)));
    const pos = position(h, A.GROWTH, I.BTCUSD);
    expect(pos.qty).toBe(ALL_BITCOIN);
    expect(pos.cost).toBe(cumNotional);
    // Exposure at the 95,000.00 mark, at the money scale (10^-18 USD): qty x px x 10^(18 - 2 - 8).
    const exposure = BigInt(ALL_BITCOIN) * 9_500_000n * 10n ** BigInt(MONEY_SCALE_DIGITS - 10);
    expect(pos.exposureMoney).toBe(exposure);
    expect(h.core.state.accountRisk.get(A.GROWTH)?.grossExposureByCurrency.get('USD')).toBe(exposure);
    // Sell it all 1 cent higher than the average: realised is exact to the cent.
    trade(h, 'SAT-OUT', I.BTCUSD, Side.Sell, ALL_BITCOIN, 9_600_000);
    expect(pos.qty).toBe(0);
    expect(pos.cost).toBe(0n);
    expect(pos.realisedPnl).toBe(BigInt(ALL_BITCOIN) * 9_600_000n - cumNotional);
    expect(h.replayed().hash()).toBe(h.core.hash());
  });

  it('refuses, without changing anything, a fill that would take a position beyond a safe integer', () => {
    const h = withoutLimits();
    for (let i = 0; i < 3; i++) trade(h, `BIG-${i}`, I.BTCUSD, Side.Buy, ALL_BITCOIN, 9_500_000);
    // Worst case 3 + 1 (working) + 1 (new) times ALL_BITCOIN is beyond 2^53: refused at entry.
    accepted(h.newOrder({ clOrdId: 'BIG-4', instrumentId: I.BTCUSD, orderQty: ALL_BITCOIN, price: 9_500_000 }));
    const entryRefused = h.newOrder({ clOrdId: 'BIG-5', instrumentId: I.BTCUSD, orderQty: ALL_BITCOIN, price: 9_500_000 });
    expect(reports(entryRefused)[0].ordRejReason).toBe(RejectCode.ValueOutOfRange);
    // A venue cancel takes BIG-4 out of the working quantity, so another order fits; a late fill on the
    // cancelled BIG-4 is the one way left to push the position past 2^53, and the fill check refuses it.
    h.venue('BIG-4', ExecType.Canceled);
    trade(h, 'BIG-3', I.BTCUSD, Side.Buy, ALL_BITCOIN, 9_500_000);
    expect(position(h, A.GROWTH, I.BTCUSD).qty).toBe(4 * ALL_BITCOIN);
    const before = contentHash(h);
    const refused = h.fill('BIG-4', ALL_BITCOIN, 9_500_000);
    expect(refused.events).toEqual([expect.objectContaining({ kind: 'command_reject', rejectCode: RejectCode.ValueOutOfRange })]);
    expect(contentHash(h)).toBe(before);
    // Selling down first makes room for it.
    trade(h, 'BIG-OUT', I.BTCUSD, Side.Sell, ALL_BITCOIN, 9_500_000);
    expect(reports(h.fill('BIG-4', ALL_BITCOIN, 9_500_000))[0].cumQty).toBe(ALL_BITCOIN);
    expect(position(h, A.GROWTH, I.BTCUSD).qty).toBe(4 * ALL_BITCOIN);
    expect(h.replayed().hash()).toBe(h.core.hash());
  });

  it('takes a fill at the highest price whose AvgPx is a safe integer, and refuses one above it', () => {
    const h = withoutLimits();
    const maxPx = Math.floor(Number.MAX_SAFE_INTEGER / 10 ** AVG_PX_EXTRA_DIGITS);
    accepted(h.newOrder({ clOrdId: 'PX', orderQty: 10 }));
    const before = contentHash(h);
    const refused = h.fill('PX', 1, maxPx + 1);
    expect(refused.events).toEqual([expect.objectContaining({ kind: 'command_reject', rejectCode: RejectCode.ValueOutOfRange })]);
    expect(contentHash(h)).toBe(before);
    const top = reports(h.fill('PX', 1, maxPx))[0];
    expect(top.avgPx).toBe(maxPx * 10 ** AVG_PX_EXTRA_DIGITS);
    expect(Number.isSafeInteger(top.avgPx)).toBe(true);
    const mixed = reports(h.fill('PX', 1, 1))[0];
    expect(mixed.avgPx).toBe(expectedAvgPx(BigInt(maxPx) + 1n, 2n));
    expect(h.replayed().hash()).toBe(h.core.hash());
  });
});

describe('positions: cost, realised P&L, multipliers, shorts and flips', () => {
  it('JPY (precision 0, lots of 100): AvgPx, cost and realised P&L in whole yen', () => {
    const h = CoreHarness.withDemoData();
    accepted(h.newOrder({ clOrdId: 'TY', instrumentId: I.TOYOTA, orderQty: 300, price: 2_801 }));
    h.fill('TY', 100, 2_800);
    const last = reports(h.fill('TY', 200, 2_801))[0];
    // (280,000 + 560,200) / 300 = 2,800.666666|67
    expect(last.avgPx).toBe(2_800_666_667);
    const pos = position(h, A.GROWTH, I.TOYOTA);
    expect(pos.cost).toBe(840_200n);
    expect(pos.exposureMoney).toBe(300n * 2_800n * 10n ** BigInt(MONEY_SCALE_DIGITS));
    trade(h, 'TY-OUT', I.TOYOTA, Side.Sell, 300, 2_900);
    expect(pos.qty).toBe(0);
    expect(pos.realisedPnl).toBe(870_000n - 840_200n);
  });

  it('option multiplier 100: a round trip realises (sell - buy) x qty x 100, partial closes exactly', () => {
    const h = CoreHarness.withDemoData();
    trade(h, 'OPT-1', I.AAPL_C200, Side.Buy, 10, 550);
    const pos = position(h, A.GROWTH, I.AAPL_C200);
    expect(pos.cost).toBe(550n * 10n * 100n);
    trade(h, 'OPT-2', I.AAPL_C200, Side.Sell, 10, 600);
    expect(pos.qty).toBe(0);
    expect(pos.cost).toBe(0n);
    expect(pos.realisedPnl).toBe((600n - 550n) * 10n * 100n);
    // Two buys at different prices, closed in two sells.
    trade(h, 'OPT-3', I.AAPL_C200, Side.Buy, 3, 550);
    trade(h, 'OPT-4', I.AAPL_C200, Side.Buy, 4, 557);
    expect(pos.cost).toBe((3n * 550n + 4n * 557n) * 100n);
    trade(h, 'OPT-5', I.AAPL_C200, Side.Sell, 5, 600);
    expect(pos.qty).toBe(2);
    expect(pos.cost).toBe(387_800n - 277_000n); // 5/7 of the cost removed, exactly
    expect(pos.realisedPnl).toBe(50_000n + 300_000n - 277_000n);
    trade(h, 'OPT-6', I.AAPL_C200, Side.Sell, 2, 590);
    expect(pos.qty).toBe(0);
    expect(pos.cost).toBe(0n);
    expect(pos.realisedPnl).toBe(50_000n + (5n * 600n + 2n * 590n - 3n * 550n - 4n * 557n) * 100n);
  });

  it('future multiplier 50: a round trip realises (sell - buy) x qty x 50; unrealised uses the mark', () => {
    const h = CoreHarness.withDemoData();
    trade(h, 'ES-1', I.ESZ6, Side.Buy, 2, 600_000);
    const pos = position(h, A.GROWTH, I.ESZ6);
    expect(pos.cost).toBe(600_000n * 2n * 50n);
    const instrument = h.core.state.instruments.get(I.ESZ6);
    if (instrument === undefined) throw new Error('no ESZ6');
    expect(h.send(U.admin, { type: Command.SetMark, instrumentId: I.ESZ6, price: 600_050 }).events.map((e) => e.kind)).toEqual(['accepted']);
    expect(unrealisedPnl(instrument, pos)).toBe(50n * 2n * 50n);
    trade(h, 'ES-2', I.ESZ6, Side.Sell, 2, 600_100);
    expect(pos.qty).toBe(0);
    expect(pos.realisedPnl).toBe((600_100n - 600_000n) * 2n * 50n);
    expect(unrealisedPnl(instrument, pos)).toBe(0n);
  });

  it('short positions: opened by a sale, covered by a purchase; SellShort counts as a sale', () => {
    const h = CoreHarness.withDemoData();
    trade(h, 'S-1', I.AAPL, Side.SellShort, 100, 19_000);
    const pos = position(h, A.GROWTH, I.AAPL);
    expect(pos.qty).toBe(-100);
    expect(pos.cost).toBe(-1_900_000n);
    trade(h, 'S-2', I.AAPL, Side.Buy, 40, 18_500);
    expect(pos.qty).toBe(-60);
    expect(pos.cost).toBe(-1_140_000n);
    expect(pos.realisedPnl).toBe(760_000n - 740_000n);
    trade(h, 'S-3', I.AAPL, Side.Buy, 60, 19_500);
    expect(pos.qty).toBe(0);
    expect(pos.cost).toBe(0n);
    expect(pos.realisedPnl).toBe(1_900_000n - 740_000n - 1_170_000n);
  });

  it('flips long to short and short to long in one fill', () => {
    const h = CoreHarness.withDemoData();
    trade(h, 'FL-1', I.AAPL, Side.Buy, 100, 19_000);
    const pos = position(h, A.GROWTH, I.AAPL);
    trade(h, 'FL-2', I.AAPL, Side.Sell, 250, 19_200);
    expect(pos.qty).toBe(-150);
    expect(pos.cost).toBe(-150n * 19_200n);
    expect(pos.realisedPnl).toBe(100n * (19_200n - 19_000n));
    trade(h, 'FL-3', I.AAPL, Side.Buy, 200, 19_100);
    expect(pos.qty).toBe(50);
    expect(pos.cost).toBe(50n * 19_100n);
    expect(pos.realisedPnl).toBe(20_000n + 150n * (19_200n - 19_100n));
    trade(h, 'FL-4', I.AAPL, Side.Sell, 50, 19_000);
    expect(pos.qty).toBe(0);
    expect(pos.cost).toBe(0n);
    // Flat: realised is exactly what the fills moved.
    expect(pos.realisedPnl).toBe(-(100n * 19_000n) + 250n * 19_200n - 200n * 19_100n + 50n * 19_000n);
  });

  it('partial closes round the removed cost toward zero and keep the remainder in the open cost', () => {
    const h = CoreHarness.withDemoData();
    trade(h, 'R-1', I.AAPL, Side.Buy, 1, 19_001, 19_001);
    trade(h, 'R-2', I.AAPL, Side.Buy, 1, 19_002, 19_002);
    const pos = position(h, A.GROWTH, I.AAPL);
    trade(h, 'R-3', I.AAPL, Side.Sell, 1, 19_500);
    expect(pos.cost).toBe(19_002n); // 38,003 / 2 = 19,001 removed
    expect(pos.realisedPnl).toBe(499n);
    trade(h, 'R-4', I.AAPL, Side.Sell, 1, 19_500);
    expect(pos.realisedPnl).toBe(39_000n - 38_003n);
    // The same on the short side: -38,003 / 2 removes -19,001.
    trade(h, 'R-5', I.AAPL, Side.Sell, 1, 19_001);
    trade(h, 'R-6', I.AAPL, Side.Sell, 1, 19_002);
    trade(h, 'R-7', I.AAPL, Side.Buy, 1, 18_000, 18_000);
    expect(pos.cost).toBe(-19_002n);
    expect(pos.realisedPnl).toBe(997n + 1_001n);
    trade(h, 'R-8', I.AAPL, Side.Buy, 1, 18_000, 18_000);
    expect(pos.realisedPnl).toBe(997n + 38_003n - 36_000n);
    expect(pos.cost).toBe(0n);
  });

  it('realised - cost always equals the cash the fills moved, whatever the rounding (random option fills)', () => {
    fc.assert(fc.property(
      // Option contracts (multiplier 100) at premiums inside the collar around the 5.50 mark.
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 500, max: 600 })), { minLength: 1, maxLength: 25 }),
      (fills) => {
        const h = CoreHarness.withDemoData();
        let cash = 0n;
        let qty = 0;
        fills.forEach(([buy, q, px], i) => {
          trade(h, `P-${i}`, I.AAPL_C200, buy ? Side.Buy : Side.Sell, q, px);
          cash += (buy ? -1n : 1n) * BigInt(q) * BigInt(px) * 100n;
          qty += buy ? q : -q;
          const pos = position(h, A.GROWTH, I.AAPL_C200);
          expect(pos.qty).toBe(qty);
          expect(pos.realisedPnl - pos.cost).toBe(cash);
          if (qty === 0) expect(pos.realisedPnl).toBe(cash);
        });
      },
    ), { numRuns: 40 });
  });
});

describe('core/fixed.ts', () => {
  it('parseScaled: exact, trailing zeros allowed, too many decimals refused', () => {
    expect(parseScaled('123.45', 2)).toBe(12_345n);
    expect(parseScaled('123.4', 2)).toBe(12_340n);
    expect(parseScaled('123', 2)).toBe(12_300n);
    expect(parseScaled('1.230000', 2)).toBe(123n);
    expect(parseScaled(' 12.5 ', 1)).toBe(125n);
    expect(parseScaled('0', 0)).toBe(0n);
    expect(parseScaled('0.00000001', 8)).toBe(1n);
    expect(parseScaled('21000000.00000000', 8)).toBe(2_100_000_000_000_000n);
    expect(parseScaled('123456789012345678901234567890.5', 1)).toBe(1_234_567_890_123_456_789_012_345_678_905n);
    expect(() => parseScaled('1.235', 2)).toThrow(RangeError);
    expect(() => parseScaled('0.000000001', 8)).toThrow(RangeError);
    expect(() => parseScaled('1.5', 0)).toThrow(RangeError);
    for (const bad of ['', '-', '+1', '1.', '.5', '1e5', '1,000', '0x10', '1.2.3', 'NaN', '- 1', '1234567890123456789012345678901']) {
      expect(() => parseScaled(bad, 2), bad).toThrow(RangeError);
    }
  });

  it('parseScaled and formatScaled: negative numbers', () => {
    expect(parseScaled('-0.05', 2)).toBe(-5n);
    expect(parseScaled('-123.45', 2)).toBe(-12_345n);
    expect(parseScaled('-0', 2)).toBe(0n);
    expect(formatScaled(-5n, 2)).toBe('-0.05');
    expect(formatScaled(-12_345n, 2)).toBe('-123.45');
    expect(formatScaled(-12_345, 0)).toBe('-12345');
    expect(formatScaled(-1n, 8)).toBe('-0.00000001');
    expect(formatScaled(-0, 2)).toBe('0.00');
  });

  it('formatScaled: padding, zero, and values beyond 2^64', () => {
    expect(formatScaled(12_345n, 2)).toBe('123.45');
    expect(formatScaled(5n, 2)).toBe('0.05');
    expect(formatScaled(0n, 2)).toBe('0.00');
    expect(formatScaled(0, 0)).toBe('0');
    expect(formatScaled(100, 2)).toBe('1.00');
    expect(formatScaled(2n ** 70n, 8)).toBe('11805916207174.11303424');
    expect(formatScaled(Number.MAX_SAFE_INTEGER, 8)).toBe('90071992.54740991');
    expect(() => formatScaled(1.5, 2)).toThrow(RangeError);
  });

  it('formatScaled and parseScaled round-trip any amount at any precision', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 96n), max: 2n ** 96n }), fc.integer({ min: 0, max: 18 }), (value, digits) => {
      expect(parseScaled(formatScaled(value, digits), digits)).toBe(value);
    }), { numRuns: 2_000 });
  });

  it('parseScaledNumber: the safe-integer bound', () => {
    expect(parseScaledNumber('90071992.54740991', 8)).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseScaledNumber('-90071992.54740991', 8)).toBe(-Number.MAX_SAFE_INTEGER);
    expect(() => parseScaledNumber('90071992.54740992', 8)).toThrow(RangeError);
  });

  it('avgPx: half-up at .5, zero quantity, large notionals, overflow refused', () => {
    expect(avgPx(0n, 0)).toBe(0);
    expect(avgPx(5n, 2)).toBe(2_500_000);
    expect(avgPx(1n, 2_000_000)).toBe(1); // 0.5 -> 1
    expect(avgPx(3n, 2_000_000)).toBe(2); // 1.5 -> 2
    expect(avgPx(1n, 2_000_001)).toBe(0); // just under 0.5
    expect(avgPx(2n, 3)).toBe(666_667);
    expect(avgPx(1n, 3)).toBe(333_333);
    // A notional beyond 2^64 over a quantity near 2^53.
    const qty = Number.MAX_SAFE_INTEGER;
    const cum = BigInt(qty) * 9_000_000_001n + 12_345n;
    expect(avgPx(cum, qty)).toBe(expectedAvgPx(cum, BigInt(qty)));
    expect(() => avgPx(10n ** 20n, 1)).toThrow(/avgPx overflows/);
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 80n }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n, q) => {
      const expected = roundHalfUp(n * 10n ** BigInt(AVG_PX_EXTRA_DIGITS), BigInt(q));
      if (expected > BigInt(Number.MAX_SAFE_INTEGER)) expect(() => avgPx(n, q)).toThrow();
      else expect(avgPx(n, q)).toBe(Number(expected));
    }), { numRuns: 2_000 });
  });

  it('notional: exact whether or not the product is a safe integer', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: 1, max: 1_000_000 }),
      (qty, px, multiplier) => {
        expect(notional(qty, px, multiplier)).toBe(BigInt(qty) * BigInt(px) * BigInt(multiplier));
      },
    ), { numRuns: 2_000 });
    expect(notional(94_906_265, 94_906_267, 1)).toBe(94_906_265n * 94_906_267n); // product just above 2^53
  });
});
