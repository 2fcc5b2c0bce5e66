// Snapshots built off the core thread (persistence/snapshot-builder.ts): periodic ones through the real core
// worker and its journal on disk, each compared with a replay of the journal from scratch to its seq; the
// builder on its own for the cases the worker never asks for (behind its last build, past the journal).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, ExecType, OrdStatus, OrdType, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import { CoreHost } from '../core/core-host.js';
import { DEMO, demoReferenceData } from '../core/demo.js';
import { hashBytes } from '../core/state.js';
import { open as openLmdb } from 'lmdb';
import { Journal, SnapshotUnreadableError } from '../persistence/journal.js';
import { recover } from '../persistence/recovery.js';
import { SnapshotBuilder } from '../persistence/snapshot-builder.js';
import { until } from './support/until.js';

const SNAPSHOT_EVERY_COMMANDS = 150;
const SNAPSHOTS_KEPT = 2;
const ORDERS = 200;

const dir = mkdtempSync(join(tmpdir(), 'oms-snapshot-builder-'));
const journalPath = join(dir, 'journal');
let lastSeq = 0;
let lastHash = '';
let snapshotsStored = 0;
let snapshotsRequested = 0;
let snapshotsDeleted = 0;
let snapshotFailures = -1;

function orderFlow(): CommandBody[][] {
  const batches: CommandBody[][] = [demoReferenceData()];
  for (let i = 0; i < ORDERS; i += 20) {
    const ids = Array.from({ length: 20 }, (_, k) => `O${i + k}`);
    batches.push(ids.map((clOrdId, k): CommandBody => ({
      type: Command.NewOrder, clOrdId, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL,
      side: k % 2 === 0 ? Side.Buy : Side.Sell, ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty: 300,
      price: 19_000 + k, stopPx: 0, expireTimeUs: 0, parentClOrdId: '', venueId: DEMO.venues.SIM, text: '',
    })));
    batches.push(ids.flatMap((clOrdId): CommandBody[] => [ExecType.New, ExecType.Trade].map((execType) => ({
      type: Command.VenueExecReport, venueId: DEMO.venues.SIM, execId: `${clOrdId}-${execType}`, clOrdId, origClOrdId: '',
      execType, ordStatus: OrdStatus.Unset, lastQty: execType === ExecType.Trade ? 100 : 0,
      lastPx: execType === ExecType.Trade ? 19_000 : 0, leavesQty: 0, ordRejReason: 0xffff, venueOrderId: '', text: '',
    }))));
  }
  return batches;
}

beforeAll(async () => {
  const host = await CoreHost.start({ journal_path: journalPath, snapshot_every_commands: SNAPSHOT_EVERY_COMMANDS, snapshots_kept: SNAPSHOTS_KEPT });
  const builder = new flatbuffers.Builder(1024);
  let requestId = 0;
  let sinceSnapshot = 0;
  try {
    for (const commands of orderFlow()) {
      // One turn, so one core batch: the worker counts commands per batch, as this loop does.
      await Promise.all(commands.map((command) => {
        requestId += 1;
        const userId = command.type === Command.NewOrder ? DEMO.users.trader : command.type === Command.VenueExecReport ? DEMO.users.venue : 0;
        return host.submit(encodeCommandCopy(builder, { requestId, timeUs: 1_700_000_000_000_000 + requestId, userId, sessionId: 1, command }));
      }));
      sinceSnapshot += commands.length;
      if (sinceSnapshot < SNAPSHOT_EVERY_COMMANDS) continue;
      // The worker asked for one after this batch; wait until it is stored, so that the next is asked too
      // (a request is skipped while one is being built).
      sinceSnapshot = 0;
      snapshotsRequested += 1;
      await until('a periodic snapshot', async () => ((await host.metrics()).snapshots_total >= snapshotsRequested ? true : undefined));
    }
    const status = await host.status();
    const metrics = await host.metrics();
    snapshotsDeleted = metrics.snapshots_deleted_total;
    snapshotFailures = metrics.snapshot_failures_total;
    lastSeq = status.last_seq;
    lastHash = status.state_hash;
  } finally {
    await host.close();
    // close() waits for a snapshot being built and stores it before the journal closes.
  }
  const journal = Journal.open({ path: journalPath, readOnly: true });
  snapshotsStored = journal.listSnapshots().length;
  await journal.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('periodic snapshots from the builder thread', () => {
  it('are stored while orders flow (the newest kept), each the state a replay from scratch reaches at its seq', async () => {
    expect(lastSeq).toBeGreaterThan(3 * SNAPSHOT_EVERY_COMMANDS);
    expect(snapshotsRequested).toBeGreaterThanOrEqual(3);
    // Each stored; all but the newest SNAPSHOTS_KEPT deleted again.
    expect(snapshotsStored).toBe(SNAPSHOTS_KEPT);
    expect(snapshotsDeleted).toBe(snapshotsRequested - SNAPSHOTS_KEPT);
    expect(snapshotFailures).toBe(0);
    const journal = Journal.open({ path: journalPath, readOnly: true });
    try {
      for (const info of journal.listSnapshots()) {
        const snapshot = journal.latestSnapshot(info.seq);
        expect(snapshot?.seq).toBe(info.seq);
        expect(hashBytes(snapshot!.bytes)).toBe(info.state_hash);
        const replayed = recover(journal, { from_scratch: true, to_seq: info.seq });
        expect(replayed.report.state_hash, `snapshot at seq ${info.seq}`).toBe(info.state_hash);
      }
    } finally {
      await journal.close();
    }
  });

  it('a restart recovers from the newest one and reaches the state the core had at close', async () => {
    const journal = Journal.open({ path: journalPath, readOnly: true });
    const newest = journal.listSnapshots().at(-1)!;
    await journal.close();
    const host = await CoreHost.start({ journal_path: journalPath });
    try {
      expect(host.recovery.snapshot_seq).toBe(newest.seq);
      expect(host.recovery.replayed_count).toBe(lastSeq - newest.seq);
      expect(host.recovery.state_hash).toBe(lastHash);
    } finally {
      await host.close();
    }
  });
});

describe('a damaged snapshot', () => {
  it('with a chunk missing is skipped by recovery, which uses the one before and reaches the same state', async () => {
    const journal = Journal.open({ path: journalPath, readOnly: true });
    const [older, newest] = journal.listSnapshots().slice(-2);
    await journal.close();
    // Damage it from outside, as a disk or an operator might: its only chunk (index 0) goes.
    const env = openLmdb({ path: journalPath, maxDbs: 4 });
    const chunks = env.openDB<Uint8Array, Buffer>({ name: 'snapshot_chunks', encoding: 'binary', keyEncoding: 'binary' });
    const key = Buffer.alloc(12);
    key.writeUInt32BE(Math.floor(newest.seq / 2 ** 32), 0);
    key.writeUInt32BE(newest.seq >>> 0, 4);
    expect(await chunks.remove(key)).toBe(true);
    await env.close();
    const reader = Journal.open({ path: journalPath, readOnly: true });
    try {
      expect(() => reader.latestSnapshot(newest.seq)).toThrow(SnapshotUnreadableError);
      const recovered = recover(reader);
      expect(recovered.report.snapshots_skipped).toBe(1);
      expect(recovered.report.snapshot_seq).toBe(older.seq);
      expect(recovered.report.state_hash).toBe(lastHash);
    } finally {
      await reader.close();
    }
  });
});

describe('SnapshotBuilder', () => {
  it('builds forwards by replay, starts over for an earlier seq, and refuses a seq the journal has not reached', async () => {
    const builder = new SnapshotBuilder({ journal_path: journalPath });
    const journal = Journal.open({ path: journalPath, readOnly: true });
    try {
      const early = 10;
      const middle = Math.floor(lastSeq / 2);
      const expected = (seq: number): string => recover(journal, { from_scratch: true, to_seq: seq }).report.state_hash;
      for (const seq of [middle, lastSeq, early]) {
        const built = await builder.build(seq);
        expect(built.seq).toBe(seq);
        expect(hashBytes(built.bytes)).toBe(built.state_hash);
        expect(built.state_hash, `built at ${seq}`).toBe(expected(seq));
      }
      await expect(builder.build(lastSeq + 5)).rejects.toThrow(/snapshot build failed: journal ends at/);
      // The failed build dropped the thread's state; the next one starts from the journal again.
      const again = await builder.build(lastSeq);
      expect(again.state_hash).toBe(lastHash);
    } finally {
      await journal.close();
      await builder.close();
    }
  });

  it('one build at a time: a second request while one runs is refused', async () => {
    const builder = new SnapshotBuilder({ journal_path: journalPath });
    try {
      const first = builder.build(lastSeq);
      await expect(builder.build(lastSeq)).rejects.toThrow(/one snapshot build at a time/);
      expect((await first).state_hash).toBe(lastHash);
    } finally {
      await builder.close();
    }
  });

  it('a build whose thread dies, or that runs past its time limit, is rejected; the next one starts over; none after close', async () => {
    const builder = new SnapshotBuilder({ journal_path: journalPath });
    try {
      const dying = builder.build(lastSeq);
      // The thread exists once a build was asked for; kill it as an out-of-memory abort would.
      await (builder as unknown as { worker: Worker }).worker.terminate();
      await expect(dying).rejects.toThrow(/exited/);
      expect((await builder.build(lastSeq)).state_hash).toBe(lastHash);
    } finally {
      await builder.close();
    }
    await expect(builder.build(lastSeq)).rejects.toThrow(/closed/);
    const hasty = new SnapshotBuilder({ journal_path: journalPath }, 1);
    try {
      await expect(hasty.build(lastSeq)).rejects.toThrow(/took over 1 ms/);
      // The abandoned thread exits while the next build's new thread starts: that exit must not fail it.
      (hasty as unknown as { timeout_ms: number }).timeout_ms = 60_000;
      expect((await hasty.build(lastSeq)).state_hash).toBe(lastHash);
    } finally {
      await hasty.close();
    }
  });
});

describe('on-demand snapshots through the core worker', () => {
  it('two in flight at most: a third request is refused with the reason, the two are stored', async () => {
    const host = await CoreHost.start({ journal_path: journalPath, snapshots_kept: 5 });
    try {
      const asked = [host.snapshot(), host.snapshot(), host.snapshot()];
      const outcomes = await Promise.allSettled(asked);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/2 snapshots are already being taken/);
      expect((outcomes[0] as PromiseFulfilledResult<{ state_hash: string }>).value.state_hash).toBe(lastHash);
    } finally {
      await host.close();
    }
  });
});
