// CoreHost packs each frame into its next batch when it is submitted (FramePacker), so a caller may hand in a
// view of memory it reuses at once (the gateway's stamp writer does), and gets back the frame the core applied
// with its result (the worker hands the batch back once durable); the gateway's replica queues those frames
// and applies them when read. Against a real core worker and journal.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, OrdType, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy, stampCommandView } from '../schemas/commands.js';
import { CoreHost } from '../core/core-host.js';
import { DEMO, demoReferenceData } from '../core/demo.js';
import { forEachFrame, FramePacker, packFrames } from '../core/frames.js';
import { Replica } from '../gateway/replica.js';

const T0_US = 1_700_000_000_000_000;

function newOrder(clOrdId: string): CommandBody {
  return {
    type: Command.NewOrder, clOrdId, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL, side: Side.Buy,
    ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty: 100, price: 19_000, stopPx: 0, expireTimeUs: 0,
    parentClOrdId: '', venueId: DEMO.venues.SIM, text: '',
  };
}

function unpack(packed: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  forEachFrame(packed, 1 << 20, (frame) => frames.push(frame.slice()));
  return frames;
}

describe('FramePacker', () => {
  it('copies each frame when appended, packs like packFrames, and starts over after take()', () => {
    const packer = new FramePacker();
    const scratch = new Uint8Array(300);
    const expected: Uint8Array[] = [];
    // Lengths that are not multiples of 4 and a total past the first 64 KiB buffer (so it grows).
    for (let i = 0; i < 700; i++) {
      const length = 1 + (i * 37) % 299;
      scratch.fill(i & 0xFF, 0, length);
      packer.append(scratch.subarray(0, length));
      expected.push(scratch.slice(0, length));
      scratch.fill(0xEE);
    }
    expect(packer.count).toBe(700);
    const packed = packer.take();
    expect(unpack(packed)).toEqual(expected);
    expect(packed).toEqual(packFrames(expected));
    expect(packer.count).toBe(0);
    expect(packer.take()).toHaveLength(0);
    packer.append(new Uint8Array([1, 2, 3]));
    expect(unpack(packer.take())).toEqual([new Uint8Array([1, 2, 3])]);
    // The batch taken earlier is untouched by later appends.
    expect(unpack(packed)).toEqual(expected);
  });
});

describe('CoreHost with a real worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-core-host-'));
  let host: CoreHost;
  let replica: Replica;

  beforeAll(async () => {
    host = await CoreHost.start({ journal_path: join(dir, 'journal'), batch_frames_max: 64 });
    const builder = new flatbuffers.Builder(1024);
    for (const command of demoReferenceData()) {
      await host.submit(encodeCommandCopy(builder, { requestId: 0, timeUs: T0_US, userId: 0, sessionId: 0, command }));
    }
    replica = await Replica.fromHost(host);
  });

  afterAll(async () => {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers views of one reused buffer with the frame each was, and the replica applying those agrees with the core', async () => {
    const builder = new flatbuffers.Builder(1024);
    const submitted: Uint8Array[] = [];
    const pending = [];
    // 200 frames over several batches of 64, each a view of the stamp writer's memory, overwritten by the next.
    for (let i = 0; i < 200; i++) {
      const inner = encodeCommandCopy(builder, { requestId: i + 1, timeUs: 0, userId: 0, sessionId: 0, command: newOrder(`CH-${i}`) });
      const view = stampCommandView({ timeUs: T0_US + i, userId: DEMO.users.trader, sessionId: 5 }, inner);
      submitted.push(view.slice());
      pending.push(host.submitLocated(view));
    }
    const located = await Promise.all(pending);
    located.forEach(({ result, frame }, i) => {
      expect(frame).toEqual(submitted[i]);
      expect(result).toMatchObject({ requestId: i + 1, userId: DEMO.users.trader, sessionId: 5 });
      expect(result.events[0]).toMatchObject({ kind: 'execution_report', clOrdId: `CH-${i}` });
      replica.apply(result.seq, frame);
    });
    // Queued, not yet applied: the replica catches up when read.
    expect(replica.pendingCount).toBe(200);
    const status = await host.status();
    expect(replica.lastSeq()).toBe(status.last_seq);
    expect(replica.core.hash()).toBe(status.state_hash);
    expect(replica.pendingCount).toBe(0);
    expect(replica.core.state.ordersByClOrdId.get('CH-199')?.userId).toBe(DEMO.users.trader);
  });

  it('refuses a gap in what the replica is given, before queuing anything', async () => {
    const builder = new flatbuffers.Builder(1024);
    const frame = encodeCommandCopy(builder, { requestId: 1, timeUs: T0_US, userId: DEMO.users.trader, sessionId: 5, command: newOrder('CH-GAP') });
    const { result, frame: applied } = await host.submitLocated(frame);
    expect(() => replica.apply(result.seq + 1, applied)).toThrow(/replica gap/);
    expect(replica.pendingCount).toBe(0);
    replica.apply(result.seq, applied);
    expect(replica.core.state.ordersByClOrdId.has('CH-GAP')).toBe(true);
    expect(replica.core.hash()).toBe((await host.status()).state_hash);
  });

  it('a replica that cannot apply what it was given fails for good, rather than reading on from a gap', async () => {
    const broken = await Replica.fromHost(host);
    broken.apply(broken.lastSeq() + 1, new Uint8Array([1, 2, 3, 4]));
    broken.apply(broken.lastSeq() + 1, new Uint8Array([5, 6, 7, 8]));
    const failure = (() => { try { broken.catchUp(); return null; } catch (error) { return error as Error; } })();
    expect(failure).not.toBeNull();
    // The same failure every time after, whatever the caller: never a state missing commands.
    expect(() => broken.core).toThrow(failure?.message);
    expect(() => broken.apply(broken.lastSeq() + 1, new Uint8Array(8))).toThrow(failure?.message);
  });
});
