// The journal against real LMDB files in a temp dir: ordering, reopen, contiguity, ranges, snapshots,
// read-only readers in another process, the writer lock, fail-stop, and SIGKILL of a writer mid-run.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { open as openLmdb } from 'lmdb';
import { Journal, SNAPSHOT_CHUNK_BYTES } from '../persistence/journal.js';
import type { JournalEntry } from '../persistence/journal.js';
import { expectedBytes, expectedSnapshot, SNAPSHOT_TEST_BYTES } from './fixtures/journal-writer.fixture.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'journal-writer.fixture.ts');

let dir = '';
const opened: Journal[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
});

afterEach(async () => {
  for (const journal of opened.splice(0)) await journal.close();
  rmSync(dir, { recursive: true, force: true });
});

function openJournal(readOnly = false): Journal {
  const journal = Journal.open({ path: dir, readOnly });
  opened.push(journal);
  return journal;
}

function entries(first: number, count: number): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (let seq = first; seq < first + count; seq++) out.push({ seq, bytes: expectedBytes(seq) });
  return out;
}

function seqsOf(iterable: Iterable<JournalEntry>): number[] {
  return [...iterable].map((entry) => entry.seq);
}

/** Every stored entry 1..last is present, contiguous, and byte-exact. Returns the last seq. */
function verifyAll(journal: Journal): number {
  const last = journal.lastSeq();
  let expected = 1;
  for (const entry of journal.read(1)) {
    expect(entry.seq).toBe(expected);
    expect(Buffer.from(entry.bytes).equals(Buffer.from(expectedBytes(entry.seq)))).toBe(true);
    expected++;
  }
  expect(expected - 1).toBe(last);
  expect(journal.count()).toBe(last);
  expect(journal.firstSeq()).toBe(last === 0 ? 0 : 1);
  return last;
}

interface Child {
  lines: string[];
  exited: Promise<number | null>;
  kill: () => void;
  waitFor: (predicate: (lines: string[]) => boolean, timeoutMs: number) => Promise<void>;
}

function runFixture(mode: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode, dir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const waitFor = (predicate: (lines: string[]) => boolean, timeoutMs: number): Promise<void> =>
    new Promise((done, fail) => {
      const check = (): void => {
        if (!predicate(lines)) return;
        listeners.delete(check);
        clearTimeout(timer);
        done();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        fail(new Error(`fixture ${mode}: timed out; stdout=${lines.join('|')} stderr=${stderr}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { lines, exited, kill: () => child.kill('SIGKILL'), waitFor };
}

async function runToEnd(mode: string): Promise<string[]> {
  const child = runFixture(mode);
  const code = await child.exited;
  expect(code).toBe(0);
  return child.lines.filter((line) => line.length > 0);
}

describe('append, flush, read', () => {
  it('stores entries in order with exact bytes, durable only after flush', async () => {
    const journal = openJournal();
    expect([journal.lastSeq(), journal.lastAppendedSeq(), journal.count(), journal.firstSeq()]).toEqual([0, 0, 0, 0]);

    journal.append(entries(1, 3));
    journal.append(entries(4, 200));
    expect(journal.lastAppendedSeq()).toBe(203);
    expect(journal.lastSeq()).toBe(0); // Not durable until flush() resolves.
    const first = journal.flush();
    journal.append(entries(204, 1)); // Appended after the flush call: not covered by it.
    await first;
    expect(journal.lastSeq()).toBe(203);
    await journal.flush();
    expect(journal.lastSeq()).toBe(204);
    expect(verifyAll(journal)).toBe(204);
  });

  it('resolves flush() immediately when nothing is pending, and accepts an empty append', async () => {
    const journal = openJournal();
    await journal.flush();
    journal.append([]);
    expect(journal.lastAppendedSeq()).toBe(0);
    journal.append(entries(1, 1));
    await Promise.all([journal.flush(), journal.flush()]);
    expect(journal.lastSeq()).toBe(1);
  });

  it('keeps everything across close and reopen, including unflushed appends at close', async () => {
    const journal = openJournal();
    journal.append(entries(1, 50));
    await journal.flush();
    journal.append(entries(51, 10));
    await journal.putSnapshot({ seq: 60, state_hash: 'h60', bytes: Buffer.from('state-60'), time_us: 1_000 });
    await journal.close(); // close() flushes what was appended.
    expect(() => journal.append(entries(61, 1))).toThrow(/closed/);
    expect(() => journal.lastSeq()).toThrow(/closed/);
    await journal.close(); // Idempotent.

    const again = openJournal();
    expect(again.lastSeq()).toBe(60);
    expect(again.lastAppendedSeq()).toBe(60);
    expect(verifyAll(again)).toBe(60);
    expect(again.latestSnapshot()?.state_hash).toBe('h60');
    again.append(entries(61, 5));
    await again.flush();
    expect(verifyAll(again)).toBe(65);
  });

  it('rejects non-contiguous or invalid entries and writes nothing from the rejected call', async () => {
    const journal = openJournal();
    journal.append(entries(1, 2));
    expect(() => journal.append([...entries(3, 1), ...entries(5, 1)])).toThrow(/not contiguous, expected 4/);
    expect(() => journal.append(entries(4, 1))).toThrow(/not contiguous, expected 3/);
    expect(() => journal.append(entries(2, 1))).toThrow(/not contiguous/);
    expect(() => journal.append([{ seq: 3, bytes: new Uint8Array(0) }])).toThrow(/bytes must be/);
    const notBytes = [{ seq: 3, bytes: 'abc' }] as unknown as JournalEntry[];
    expect(() => journal.append(notBytes)).toThrow(/bytes must be/);
    // A bad entry at the end of a batch must not let the good ones before it through.
    expect(() => journal.append([...entries(3, 5), { seq: 8, bytes: new Uint8Array(0) }])).toThrow();
    expect(journal.lastAppendedSeq()).toBe(2);
    await journal.flush();
    expect(verifyAll(journal)).toBe(2);
    journal.append(entries(3, 1));
    await journal.flush();
    expect(verifyAll(journal)).toBe(3);
  });

  it('reads ranges lazily and in order', async () => {
    const journal = openJournal();
    journal.append(entries(1, 100));
    await journal.flush();
    expect(seqsOf(journal.read(10, 14))).toEqual([10, 11, 12, 13, 14]);
    expect(seqsOf(journal.read(1, 1))).toEqual([1]);
    expect(seqsOf(journal.read(98))).toEqual([98, 99, 100]);
    expect(seqsOf(journal.read(99, 500))).toEqual([99, 100]);
    expect(seqsOf(journal.read(101))).toEqual([]);
    expect(seqsOf(journal.read(20, 19))).toEqual([]);
    expect(() => journal.read(0)).toThrow(/fromSeq/);

    const iterator = journal.read(1);
    expect(iterator[Symbol.iterator]()).toBe(iterator);
    const head = iterator.next();
    expect(head.done).toBe(false);
    expect(head.value.seq).toBe(1);
    expect(Buffer.from(head.value.bytes).equals(Buffer.from(expectedBytes(1)))).toBe(true);
    iterator.return?.(undefined); // Abandoning a read releases its cursor; the journal stays usable.
    journal.append(entries(101, 1));
    await journal.flush();
    expect(seqsOf(journal.read(100))).toEqual([100, 101]);
  });
});

describe('transient reads (replay)', () => {
  it('visits each entry once, in order, with exact bytes, over the range asked for', async () => {
    const journal = openJournal();
    // Sizes that vary, so that a view of a reused buffer with a stale length would show.
    journal.append(entries(1, 300));
    await journal.flush();
    const visited: number[] = [];
    const count = journal.forEachTransient(5, 250, (seq, bytes) => {
      visited.push(seq);
      expect(Buffer.from(bytes).equals(Buffer.from(expectedBytes(seq))), `entry ${seq}`).toBe(true);
    });
    expect(count).toBe(246);
    expect(visited).toEqual(Array.from({ length: 246 }, (_, i) => i + 5));
    expect(journal.forEachTransient(299, 900, () => {})).toBe(2);
    expect(journal.forEachTransient(301, 400, () => { throw new Error('nothing to visit'); })).toBe(0);
    expect(journal.forEachTransient(20, 19, () => { throw new Error('nothing to visit'); })).toBe(0);
    expect(() => journal.forEachTransient(0, 10, () => {})).toThrow(/fromSeq/);
    // The writer's own puts are unaffected by the transient handle.
    journal.append(entries(301, 1));
    await journal.flush();
    expect(verifyAll(journal)).toBe(301);
  });
});

describe('snapshots', () => {
  it('finds the latest snapshot at or before a seq and lists them', async () => {
    const journal = openJournal();
    journal.append(entries(1, 30));
    expect(journal.latestSnapshot()).toBeUndefined();
    const big = Buffer.alloc(300_000, 7);
    await journal.putSnapshot({ seq: 10, state_hash: 'a10', bytes: Buffer.from('ten'), time_us: 10 });
    await journal.putSnapshot({ seq: 20, state_hash: 'b20', bytes: big, time_us: 20 });
    await journal.putSnapshot({ seq: 30, state_hash: 'c30', bytes: Buffer.from('thirty'), time_us: 30 });

    expect(journal.latestSnapshot()?.seq).toBe(30);
    expect(journal.latestSnapshot(29)?.seq).toBe(20);
    expect(journal.latestSnapshot(20)?.seq).toBe(20);
    expect(journal.latestSnapshot(10)?.seq).toBe(10);
    expect(journal.latestSnapshot(9)).toBeUndefined();
    const twenty = journal.latestSnapshot(25);
    expect(twenty?.state_hash).toBe('b20');
    expect(twenty?.time_us).toBe(20);
    expect(Buffer.from(twenty?.bytes ?? new Uint8Array()).equals(big)).toBe(true);
    expect(journal.listSnapshots()).toEqual([
      { seq: 10, state_hash: 'a10', time_us: 10, size_bytes: 3 },
      { seq: 20, state_hash: 'b20', time_us: 20, size_bytes: 300_000 },
      { seq: 30, state_hash: 'c30', time_us: 30, size_bytes: 6 },
    ]);
    // A durable snapshot implies durable entries up to it.
    expect(journal.lastSeq()).toBe(30);
  });

  it('rejects snapshots past the journal, is idempotent per hash, and refuses a conflicting hash', async () => {
    const journal = openJournal();
    journal.append(entries(1, 5));
    expect(() => journal.putSnapshot({ seq: 6, state_hash: 'x', bytes: Buffer.from('s'), time_us: 1 })).toThrow(/past the last appended/);
    await journal.putSnapshot({ seq: 5, state_hash: 'h', bytes: Buffer.from('s'), time_us: 1 });
    await journal.putSnapshot({ seq: 5, state_hash: 'h', bytes: Buffer.from('s'), time_us: 2 });
    expect(() => journal.putSnapshot({ seq: 5, state_hash: 'other', bytes: Buffer.from('s'), time_us: 3 })).toThrow(/already stored/);
    expect(journal.listSnapshots()).toEqual([{ seq: 5, state_hash: 'h', time_us: 1, size_bytes: 1 }]);
  });

  it('keeps the newest snapshots and deletes the older ones', async () => {
    const journal = openJournal();
    journal.append(entries(1, 50));
    for (const seq of [10, 20, 30, 40, 50]) await journal.putSnapshot({ seq, state_hash: `h${seq}`, bytes: Buffer.from(`s${seq}`), time_us: seq });
    expect(() => journal.keepNewestSnapshots(0)).toThrow(/positive integer/);
    await expect(journal.keepNewestSnapshots(2)).resolves.toBe(3);
    expect(journal.listSnapshots().map((s) => s.seq)).toEqual([40, 50]);
    expect(journal.latestSnapshot(35)).toBeUndefined();
    await expect(journal.keepNewestSnapshots(2)).resolves.toBe(0);
    await journal.close();
    const reopened = openJournal();
    expect(reopened.listSnapshots().map((s) => s.seq)).toEqual([40, 50]);
    expect(Buffer.from(reopened.latestSnapshot()!.bytes).toString()).toBe('s50');
  });

  it('reads a snapshot written inline (version 1, before chunks) and prunes it like any other', async () => {
    const journal = openJournal();
    journal.append(entries(1, 5));
    await journal.flush();
    await journal.close();
    // A version-1 record as the journal wrote it until 2026-11-25: header, hash, payload in one value.
    const hash = Buffer.from('v1hash');
    const payload = Buffer.from('inline state');
    const record = Buffer.alloc(28 + hash.length + payload.length);
    record.writeUInt32LE(0x4f4d5353, 0);
    record.writeUInt16LE(1, 4);
    record.writeUInt16LE(hash.length, 6);
    record.writeDoubleLE(3, 8);
    record.writeDoubleLE(42, 16);
    record.writeUInt32LE(payload.length, 24);
    hash.copy(record, 28);
    payload.copy(record, 28 + hash.length);
    const env = openLmdb({ path: dir, maxDbs: 4 });
    const key = Buffer.alloc(8);
    key.writeUInt32BE(3, 4);
    await env.openDB<Uint8Array, Buffer>({ name: 'snapshots', encoding: 'binary', keyEncoding: 'binary' }).put(key, record);
    await env.close();
    const reopened = openJournal();
    expect(reopened.listSnapshots()).toEqual([{ seq: 3, state_hash: 'v1hash', time_us: 42, size_bytes: payload.length }]);
    expect(Buffer.from(reopened.latestSnapshot()!.bytes).toString()).toBe('inline state');
    await reopened.putSnapshot({ seq: 5, state_hash: 'h5', bytes: Buffer.from('chunked'), time_us: 50 });
    await expect(reopened.keepNewestSnapshots(1)).resolves.toBe(1);
    expect(reopened.listSnapshots().map((s) => s.seq)).toEqual([5]);
  });

  it('stores a large snapshot in chunks and reads it back whole, across a reopen', async () => {
    const journal = openJournal();
    journal.append(entries(1, 5));
    // Two whole chunks and a short third.
    const big = Buffer.alloc(2 * SNAPSHOT_CHUNK_BYTES + 1234);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    await journal.putSnapshot({ seq: 4, state_hash: 'h4', bytes: big, time_us: 7 });
    await journal.putSnapshot({ seq: 5, state_hash: 'h5', bytes: Buffer.alloc(0), time_us: 8 });
    expect(journal.snapshotChunkCount()).toBe(3);
    expect(journal.listSnapshots()).toEqual([
      { seq: 4, state_hash: 'h4', time_us: 7, size_bytes: big.length }, { seq: 5, state_hash: 'h5', time_us: 8, size_bytes: 0 },
    ]);
    expect(Buffer.from(journal.latestSnapshot(4)!.bytes).equals(big)).toBe(true);
    expect(journal.latestSnapshot()!.bytes.length).toBe(0);
    await journal.close();
    const reopened = openJournal();
    expect(Buffer.from(reopened.latestSnapshot(4)!.bytes).equals(big)).toBe(true);
    // Deleting a snapshot deletes its chunks.
    await expect(reopened.keepNewestSnapshots(1)).resolves.toBe(1);
    expect(reopened.snapshotChunkCount()).toBe(0);
    expect(reopened.latestSnapshot(4)).toBeUndefined();
  });
});

describe('read-only and writer lock', () => {
  it('a read-only process sees what the writer made durable, while the writer is open', async () => {
    const writer = openJournal();
    writer.append(entries(1, 100));
    await writer.flush();
    const [first] = await runToEnd('read');
    expect(JSON.parse(first)).toEqual({
      lastSeq: 100, count: 100, firstSeq: 1, lastHex: Buffer.from(expectedBytes(100)).toString('hex'),
    });
    writer.append(entries(101, 50));
    await writer.flush();
    const [second] = await runToEnd('read');
    expect(JSON.parse(second)).toMatchObject({ lastSeq: 150, count: 150 });
  });

  it('a read-only open in this process sees the data and refuses writes', async () => {
    const writer = openJournal();
    writer.append(entries(1, 10));
    await writer.putSnapshot({ seq: 10, state_hash: 'h', bytes: Buffer.from('s'), time_us: 1 });
    await writer.close();
    const reader = openJournal(true);
    expect(verifyAll(reader)).toBe(10);
    expect(reader.latestSnapshot()?.seq).toBe(10);
    expect(() => reader.append(entries(11, 1))).toThrow(/read-only/);
    expect(() => reader.flush()).toThrow(/read-only/);
  });

  it('read-only open of a missing journal fails clearly', () => {
    expect(() => Journal.open({ path: join(dir, 'nothing-here'), readOnly: true })).toThrow(/no journal/);
  });

  it('a second writer is refused, in this process and in another', async () => {
    openJournal();
    expect(() => Journal.open({ path: dir })).toThrow(/already open for writing in this process/);
    const [line] = await runToEnd('open-writer');
    expect(line).toMatch(/^error .*already open for writing by pid/);
  });
});

describe('writer lock recovery', () => {
  it('takes over a lock whose holder pid was recycled, and refuses an unreadable one', async () => {
    const journal = openJournal();
    journal.append(entries(1, 1));
    await journal.close();
    // Same pid as ours but another start time: the process that wrote it is gone (container restart).
    writeFileSync(join(dir, 'writer.lock'), `${process.pid} 1\n`);
    const again = openJournal();
    expect(again.lastSeq()).toBe(1);
    await again.close();
    writeFileSync(join(dir, 'writer.lock'), 'garbage');
    expect(() => Journal.open({ path: dir })).toThrow(/unreadable writer lock/);
  });
});

describe('fail-stop', () => {
  it('after a failed commit, flush rejects and nothing more can be appended', async () => {
    const journal = openJournal();
    journal.append(entries(1, 3));
    await journal.flush();
    // Simulate an LMDB commit failure (e.g. EIO on write) by making the next put's commit reject.
    const inner = journal as unknown as { journal: { put: (key: number, value: Uint8Array) => Promise<boolean> } };
    const realPut = inner.journal.put;
    inner.journal.put = () => Promise.reject(new Error('simulated EIO'));
    journal.append(entries(4, 1));
    await expect(journal.flush()).rejects.toThrow(/write failed.*simulated EIO/);
    inner.journal.put = realPut;
    expect(() => journal.append(entries(5, 1))).toThrow(/write failed/);
    await expect(journal.flush()).rejects.toThrow(/write failed/);
    await expect(journal.putSnapshot({ seq: 3, state_hash: 'h', bytes: Buffer.from('s'), time_us: 1 })).rejects.toThrow(/write failed/);
    expect(journal.lastSeq()).toBe(3);
  });
});

describe('crash safety', () => {
  it('a snapshot write killed between its chunk transactions leaves no partial snapshot, and its chunks are cleaned up', async () => {
    const chunksPerSnapshot = Math.ceil(SNAPSHOT_TEST_BYTES / SNAPSHOT_CHUNK_BYTES);
    // First a writer that kills itself 3 chunks into a snapshot (orphans for certain), then kills from outside
    // at varying moments (wherever they land).
    const rounds: Array<{ mode: string; afterMs: number }> = [
      { mode: 'snapshot-dies', afterMs: -1 }, { mode: 'snapshots', afterMs: 5 }, { mode: 'snapshots', afterMs: 40 }, { mode: 'snapshots', afterMs: 120 },
    ];
    for (const [round, { mode, afterMs }] of rounds.entries()) {
      const child = runFixture(mode);
      await child.waitFor((lines) => lines.some((line) => line.startsWith('stored ')), 30_000);
      if (afterMs >= 0) {
        await new Promise((resolve) => setTimeout(resolve, afterMs));
        child.kill();
      }
      await child.exited;
      const stored = child.lines.filter((line) => line.startsWith('stored ')).map((line) => Number(line.slice(7)));
      const journal = Journal.open({ path: dir });
      try {
        const listed = journal.listSnapshots().map((info) => info.seq);
        // Durable means listed; whatever is listed reads back whole.
        expect(listed).toContain(Math.max(...stored));
        for (const seq of listed) expect(Buffer.from(journal.latestSnapshot(seq)!.bytes).equals(expectedSnapshot(seq)), `snapshot ${seq}`).toBe(true);
        const orphans = journal.snapshotChunkCount() - listed.length * chunksPerSnapshot;
        if (round === 0) expect(orphans).toBe(3);
        expect(orphans).toBeGreaterThanOrEqual(0);
        await journal.keepNewestSnapshots(2);
        expect(journal.snapshotChunkCount()).toBe(Math.min(listed.length, 2) * chunksPerSnapshot);
      } finally {
        await journal.close();
      }
    }
  });

  it('every seq reported durable survives SIGKILL of the writer, with no gaps or partial entries', async () => {
    const ROUNDS = 5;
    let lastPrinted = 0;
    let lastStored = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = runFixture('write');
      await child.waitFor((lines) => lines.length > 0, 15_000);
      expect(child.lines[0]).toBe(`start ${lastStored}`); // The new writer resumes exactly where storage ends.
      // Let it run for a varying number of group commits, then kill it with more in flight.
      const target = 5 + round * 40;
      await child.waitFor((lines) => lines.filter((line) => line.startsWith('durable ')).length >= target, 15_000);
      child.kill();
      await child.exited;
      const printed = child.lines.filter((line) => line.startsWith('durable ')).map((line) => Number(line.slice(8)));
      expect(printed.length).toBeGreaterThanOrEqual(target);
      const maxPrinted = Math.max(...printed);
      expect(maxPrinted).toBeGreaterThan(lastPrinted);
      lastPrinted = maxPrinted;

      // Reopen as the writer: this also takes over the lock file the killed process left behind.
      const journal = Journal.open({ path: dir });
      try {
        const last = verifyAll(journal);
        expect(last).toBeGreaterThanOrEqual(maxPrinted);
        if (process.env.JOURNAL_TEST_VERBOSE) console.log(`round ${round}: printed ${maxPrinted}, stored ${last}`);
        lastStored = last;
      } finally {
        await journal.close();
      }
    }
  });
});
