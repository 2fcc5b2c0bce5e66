// The resume ring of gateway/router.ts keeps results as bytes (result i of a core ResultBatch), not objects.
// Against a real core worker: thousands of results through a small ring (so it trims and compacts), then
// resumes that must give back exactly the retained results, decoded from those bytes.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, OrdType, Side, TickKind, TimeInForce } from '../schemas/generated/oms_generated.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import type { CommandResultData } from '../schemas/results.js';
import { CoreHost } from '../core/core-host.js';
import { DEMO, demoReferenceData } from '../core/demo.js';
import { Replica } from '../gateway/replica.js';
import { ReportRouter } from '../gateway/router.js';
import type { SessionView } from '../gateway/router.js';

const RETAINED = 3_000;
// Past the ring's compaction point (4,096 trimmed entries) more than once.
const COMMANDS = 12_000;

const dir = mkdtempSync(join(tmpdir(), 'oms-router-'));
let host: CoreHost;
let router: ReportRouter;
const results: CommandResultData[] = [];
const trader: SessionView = { sessionId: 9, userId: DEMO.users.trader, ownOrders: true, accounts: new Set() };

function command(i: number): CommandBody {
  if (i % 3 === 2) return { type: Command.Tick, kind: TickKind.Timer };
  return {
    type: Command.NewOrder, clOrdId: `RT${i}`, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL,
    side: i % 2 === 0 ? Side.Buy : Side.Sell, ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty: 100,
    price: 19_000 + (i % 9), stopPx: 0, expireTimeUs: 0, parentClOrdId: '', venueId: DEMO.venues.SIM, text: '',
  };
}

beforeAll(async () => {
  host = await CoreHost.start({ journal_path: join(dir, 'journal'), batch_frames_max: 500 });
  const builder = new flatbuffers.Builder(1024);
  let requestId = 0;
  const frame = (userId: number, body: CommandBody): Uint8Array => {
    requestId += 1;
    return encodeCommandCopy(builder, { requestId, timeUs: 1_700_000_000_000_000 + requestId, userId, sessionId: trader.sessionId, command: body });
  };
  for (const body of demoReferenceData()) await host.submit(frame(0, body));
  const replica = await Replica.fromHost(host);
  router = new ReportRouter(replica, RETAINED);
  for (let i = 0; i < COMMANDS; i += 500) {
    const frames = Array.from({ length: 500 }, (_, k) => {
      const body = command(i + k);
      return frame(body.type === Command.Tick ? 0 : DEMO.users.trader, body);
    });
    const located = await Promise.all(frames.map((f) => host.submitLocated(f)));
    located.forEach(({ result, batch, index }, k) => {
      replica.apply(result.seq, frames[k]);
      router.retain(result.seq, batch, index);
      results.push(result);
    });
  }
});

afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('resume ring', () => {
  it('keeps the newest results, as bytes, and gives each back decoded exactly once, in seq order', () => {
    const kept = results.slice(-RETAINED);
    expect(router.oldestResumableSeq()).toBe(kept[0].seq - 1);
    const resumed = router.resume(trader, router.oldestResumableSeq());
    expect(resumed).not.toBeNull();
    // The trader's own orders come back whole (minus the internal venue requests), without request ids;
    // ticks are the system user's and carry nothing for this session.
    const expected = kept
      .filter((r) => r.userId === trader.userId)
      .map((r) => ({ ...r, requestId: 0, events: r.events.filter((e) => e.kind !== 'venue_request') }));
    expect(resumed).toEqual(expected);
    expect(expected.length).toBeGreaterThan(RETAINED / 2);
  });

  it('resumes from the middle, refuses a seq older than the window, and has nothing after the newest', () => {
    const middle = results[results.length - 100].seq;
    const tail = router.resume(trader, middle);
    expect(tail?.map((r) => r.seq)).toEqual(results.filter((r) => r.seq > middle && r.userId === trader.userId).map((r) => r.seq));
    expect(router.resume(trader, router.oldestResumableSeq() - 1)).toBeNull();
    expect(router.resume(trader, results[results.length - 1].seq)).toEqual([]);
  });

  it('refuses a result out of seq order', () => {
    const last = results[results.length - 1];
    expect(() => router.retain(last.seq, new Uint8Array(8), 0)).toThrow(/out of order/);
  });
});
