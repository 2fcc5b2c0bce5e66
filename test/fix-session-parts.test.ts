// The pure parts of the FIX venue adapter: the durable incoming watermark (InboundWatermark), the sequence
// number store and its file (SeqStore), frame integrity (frameProblem), and the `fix.venues` configuration
// (venue/fix-venue-config.ts on its own and through gateway/config.ts loadConfig). No socket, no FIX engine.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO } from '../core/demo.js';
import { loadConfig } from '../gateway/config.js';
import { frameProblem, INBOUND_OUT_OF_ORDER_MAX, InboundWatermark, SeqStore, SessionId } from '../venue/fix-session.js';
import type { FixVenueConfig } from '../venue/fix-venue-config.js';
import { checkFixVenue, FIX_VENUE_DEFAULTS, FIX_VENUES_MAX, fixVenuesProblems, inSchedule } from '../venue/fix-venue-config.js';
import { HELD_MESSAGES_MAX, InOrderGate } from '../venue/inbound-order.js';
import { configProblems } from './support/config-problems.js';

const root = mkdtempSync(join(tmpdir(), 'oms-fix-parts-'));
let dirs = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

function freshDir(): string {
  dirs += 1;
  return join(root, `case-${dirs}`);
}

// ---- InboundWatermark -------------------------------------------------------------------------------------

describe('InboundWatermark', () => {
  it('starts at 1 and advances with in-order marks', () => {
    const w = new InboundWatermark();
    expect(w.next).toBe(1);
    for (let seq = 1; seq <= 5; seq += 1) {
      expect(w.mark(seq, seq + 1)).toBe(true);
      expect(w.next).toBe(seq + 1);
    }
  });

  it('holds marks above a gap, and drains them when the gap fills', () => {
    const w = new InboundWatermark();
    w.mark(1, 2);
    expect(w.mark(4, 5)).toBe(true);
    expect(w.mark(3, 4)).toBe(true);
    expect(w.mark(6, 7)).toBe(true);
    expect(w.next).toBe(2); // 2 is missing: nothing above it counts yet
    w.mark(2, 3);
    expect(w.next).toBe(5); // 2, 3, 4 contiguous; 5 still missing
    w.mark(5, 6);
    expect(w.next).toBe(7);
  });

  it('drains waiting marks in any insertion order', () => {
    const w = new InboundWatermark();
    for (const seq of [9, 3, 7, 2, 8, 5, 4, 6]) w.mark(seq, seq + 1);
    expect(w.next).toBe(1);
    w.mark(1, 2);
    expect(w.next).toBe(10);
  });

  it('takes ranges: a gap fill [k, m) moves the watermark to m', () => {
    const w = new InboundWatermark();
    w.mark(1, 2);
    expect(w.mark(2, 10)).toBe(true); // SequenceReset-GapFill at 2 with NewSeqNo 10
    expect(w.next).toBe(10);
    // A range waiting above a gap, then the gap below it.
    w.mark(15, 20);
    w.mark(12, 13);
    expect(w.next).toBe(10);
    w.mark(10, 12);
    expect(w.next).toBe(13);
    w.mark(13, 15);
    expect(w.next).toBe(20);
  });

  it('a range that overlaps the watermark moves it to the range end; overlapping waiting ranges merge', () => {
    const w = new InboundWatermark();
    w.mark(1, 5);
    w.mark(3, 8);
    expect(w.next).toBe(8);
    w.mark(10, 12);
    w.mark(10, 15); // same start, longer: the longer end is kept
    w.mark(10, 11); // same start, shorter: does not shrink it
    w.mark(8, 10);
    expect(w.next).toBe(15);
  });

  it('ignores duplicates below the watermark', () => {
    const w = new InboundWatermark();
    w.mark(1, 6);
    expect(w.mark(3, 4)).toBe(true);
    expect(w.mark(1, 6)).toBe(true);
    expect(w.mark(5, 6)).toBe(true);
    expect(w.next).toBe(6);
    // A duplicate of a waiting mark changes nothing either.
    w.mark(8, 9);
    w.mark(8, 9);
    w.mark(6, 7);
    expect(w.next).toBe(7);
    w.mark(7, 8);
    expect(w.next).toBe(9);
  });

  it('reset sets the watermark and forgets waiting marks', () => {
    const w = new InboundWatermark();
    w.mark(5, 6);
    w.reset(3);
    expect(w.next).toBe(3);
    w.mark(3, 4);
    expect(w.next).toBe(4); // 5 was forgotten: 4 is not followed by it
    w.mark(4, 5);
    expect(w.next).toBe(5);
    w.reset(1);
    expect(w.next).toBe(1);
  });

  it('refuses nonsense marks and resets', () => {
    const w = new InboundWatermark();
    expect(() => w.mark(0, 1)).toThrow();
    expect(() => w.mark(3, 3)).toThrow();
    expect(() => w.mark(4, 3)).toThrow();
    expect(() => w.mark(1.5, 3)).toThrow();
    expect(() => w.reset(0)).toThrow();
    expect(() => w.reset(Number.NaN)).toThrow();
    expect(w.next).toBe(1);
  });

  it(`returns false once more than INBOUND_OUT_OF_ORDER_MAX (${INBOUND_OUT_OF_ORDER_MAX}) marks wait above a gap`, () => {
    const w = new InboundWatermark();
    for (let i = 0; i < INBOUND_OUT_OF_ORDER_MAX; i += 1) {
      const seq = 2 + i;
      if (!w.mark(seq, seq + 1)) throw new Error(`mark ${seq} refused early, after ${i} waiting`);
    }
    expect(w.mark(2 + INBOUND_OUT_OF_ORDER_MAX, 3 + INBOUND_OUT_OF_ORDER_MAX)).toBe(false);
    expect(w.next).toBe(1);
    // The gap filling still drains everything waiting.
    expect(w.mark(1, 2)).toBe(true);
    expect(w.next).toBe(3 + INBOUND_OUT_OF_ORDER_MAX);
  });

  it('property: any permutation of the marks 1..n ends at n + 1, and never passes a missing number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }).chain((n) => fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i + 1), { minLength: n, maxLength: n })), (order) => {
        const w = new InboundWatermark();
        const seen = new Set<number>();
        for (const seq of order) {
          expect(w.mark(seq, seq + 1)).toBe(true);
          seen.add(seq);
          let expected = 1;
          while (seen.has(expected)) expected += 1;
          expect(w.next).toBe(expected);
        }
        expect(w.next).toBe(order.length + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('property: random ranges and duplicates end at the first number never covered', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 5 })), { maxLength: 80 }), (ranges) => {
        const w = new InboundWatermark();
        const covered = new Set<number>();
        for (const [from, length] of ranges) {
          w.mark(from, from + length);
          for (let s = from; s < from + length; s += 1) covered.add(s);
        }
        let expected = 1;
        while (covered.has(expected)) expected += 1;
        expect(w.next).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

// ---- SeqStore --------------------------------------------------------------------------------------------

const SESSION = new SessionId('FIX.4.4', 'OMS', 'EXEC');

function fileOf(dir: string): { sender_seq_next: number; target_seq_durable: number; created: string } {
  return JSON.parse(readFileSync(join(dir, 'seqnums.json'), 'utf8')) as { sender_seq_next: number; target_seq_durable: number; created: string };
}

async function opened(dir: string): Promise<SeqStore> {
  const store = new SeqStore(SESSION, dir);
  await store.initialize();
  return store;
}

describe('SeqStore', () => {
  it('a new store creates its folder and file at 1/1', async () => {
    const dir = freshDir();
    const store = await opened(dir);
    expect(store.sessionId).toBe(SESSION);
    expect(store.senderSeqNum).toBe(1);
    expect(store.targetSeqNum).toBe(1);
    expect(await store.nextSenderSeqNum()).toBe(1);
    expect(await store.nextTargetSeqNum()).toBe(1);
    expect(fileOf(dir)).toMatchObject({ sender_seq_next: 1, target_seq_durable: 1 });
    expect(existsSync(join(dir, 'seqnums.json.tmp'))).toBe(false);
  });

  it('persists the sender number and keeps it monotonic (a lower or equal value is ignored)', async () => {
    const dir = freshDir();
    const store = await opened(dir);
    await store.setSenderSeqNum(10);
    expect(store.senderSeqNum).toBe(10);
    expect(fileOf(dir).sender_seq_next).toBe(10);
    await store.setSenderSeqNum(4); // the library after answering a resend request with a gap fill
    expect(store.senderSeqNum).toBe(10);
    expect(await store.nextSenderSeqNum()).toBe(10);
    expect(fileOf(dir).sender_seq_next).toBe(10);
    await store.setSenderSeqNum(11);
    expect(fileOf(dir).sender_seq_next).toBe(11);
  });

  it('persists the incoming number only as the durable watermark, moved by markHandled', async () => {
    const dir = freshDir();
    const store = await opened(dir);
    await store.setTargetSeqNum(50); // what the library received: not journaled, not persisted
    expect(store.targetSeqNum).toBe(50);
    expect(await store.nextTargetSeqNum()).toBe(50);
    expect(fileOf(dir).target_seq_durable).toBe(1);

    expect(store.markHandled(1, 2, store.epoch)).toBe(true);
    expect(fileOf(dir).target_seq_durable).toBe(2);
    store.markHandled(3, 4, store.epoch); // above a gap: the durable watermark does not move
    expect(fileOf(dir).target_seq_durable).toBe(2);
    expect(store.inbound.next).toBe(2);
    store.markHandled(2, 3, store.epoch);
    expect(fileOf(dir).target_seq_durable).toBe(4);
  });

  it('a new instance reloads the file, and expects what was journaled rather than what was received', async () => {
    const dir = freshDir();
    const first = await opened(dir);
    await first.setSenderSeqNum(21);
    await first.setTargetSeqNum(30);
    for (let seq = 1; seq <= 7; seq += 1) first.markHandled(seq, seq + 1, first.epoch);
    const created = first.creationTime.toISOString();

    const second = new SeqStore(SESSION, dir);
    await second.initialize();
    expect(second.senderSeqNum).toBe(21);
    expect(second.targetSeqNum).toBe(8);
    expect(second.inbound.next).toBe(8);
    expect(second.creationTime.toISOString()).toBe(created);
  });

  it('initialize on reconnect rewinds the library\'s expected number to the durable watermark', async () => {
    const store = await opened(freshDir());
    store.markHandled(1, 4, store.epoch);
    await store.setTargetSeqNum(9); // received up to 8, journaled up to 3
    await store.initialize();
    expect(store.targetSeqNum).toBe(4);
  });

  it('reset starts both numbers at 1, persists, and bumps the epoch: a late markHandled of the old numbering changes nothing', async () => {
    const dir = freshDir();
    const store = await opened(dir);
    await store.setSenderSeqNum(40);
    store.markHandled(1, 30, store.epoch);
    const oldEpoch = store.epoch;
    await store.reset();
    expect(store.epoch).toBe(oldEpoch + 1);
    expect(store.senderSeqNum).toBe(1);
    expect(store.targetSeqNum).toBe(1);
    expect(fileOf(dir)).toMatchObject({ sender_seq_next: 1, target_seq_durable: 1 });

    expect(store.markHandled(1, 2, oldEpoch)).toBe(true); // a handling that finished after the reset
    expect(store.inbound.next).toBe(1);
    expect(fileOf(dir).target_seq_durable).toBe(1);
    store.markHandled(1, 2, store.epoch);
    expect(fileOf(dir).target_seq_durable).toBe(2);
  });

  it('markHandled returns false when too many marks wait above a gap', async () => {
    const store = await opened(freshDir());
    let ok = true;
    for (let i = 0; i <= INBOUND_OUT_OF_ORDER_MAX && ok; i += 1) ok = store.markHandled(2 + i, 3 + i, store.epoch);
    expect(ok).toBe(false);
  });

  it('keeps no messages (resends are gap-filled)', async () => {
    const store = await opened(freshDir());
    expect(await store.get(1)).toBeNull();
    expect(await store.getRange(1, 10)).toEqual([]);
  });

  it.each([
    ['a sender number of 0', '{"sender_seq_next":0,"target_seq_durable":1,"created":"2026-01-01T00:00:00.000Z"}'],
    ['a missing durable number', '{"sender_seq_next":3,"created":"2026-01-01T00:00:00.000Z"}'],
    ['a number written as text', '{"sender_seq_next":"3","target_seq_durable":1}'],
    ['a fractional number', '{"sender_seq_next":3.5,"target_seq_durable":1}'],
    ['an array', '[1,2]'],
  ])('refuses a corrupt file (%s), naming its path', async (_what, text) => {
    const dir = freshDir();
    await opened(dir);
    writeFileSync(join(dir, 'seqnums.json'), text);
    const store = new SeqStore(SESSION, dir);
    await expect(store.initialize()).rejects.toThrow(join(dir, 'seqnums.json'));
    // Every later attempt fails the same way, and nothing (not even a number reserved for a send) overwrites
    // the file an operator must fix.
    await expect(store.initialize()).rejects.toThrow(join(dir, 'seqnums.json'));
    store.reserveSender(50);
    await store.setSenderSeqNum(60);
    expect(readFileSync(join(dir, 'seqnums.json'), 'utf8')).toBe(text);
  });

  // A file that is not JSON at all (disk damage, a hand edit, an empty file) is named too, so that an operator
  // is told which file to fix.
  it.each([
    ['not JSON', 'sender_seq_next=3'],
    ['empty', ''],
    ['null', 'null'],
  ])('refuses a corrupt file that is %s, naming its path', async (_what, text) => {
    const dir = freshDir();
    await opened(dir);
    writeFileSync(join(dir, 'seqnums.json'), text);
    const store = new SeqStore(SESSION, dir);
    await expect(store.initialize()).rejects.toThrow(join(dir, 'seqnums.json'));
  });

  // `created` is validated too: an Invalid Date would make every later save throw.
  it('a file whose created time is not a date is refused at load, or the store keeps working', async () => {
    const dir = freshDir();
    await opened(dir);
    writeFileSync(join(dir, 'seqnums.json'), '{"sender_seq_next":3,"target_seq_durable":2,"created":"yesterday"}');
    const store = new SeqStore(SESSION, dir);
    const outcome = await store.initialize().then(() => null, (error: unknown) => error);
    if (outcome !== null) {
      expect(String(outcome)).toContain(join(dir, 'seqnums.json'));
      return;
    }
    expect(Number.isNaN(store.creationTime.getTime())).toBe(false);
    await store.setSenderSeqNum(5);
    expect(fileOf(dir).sender_seq_next).toBe(5);
  });
});

// ---- frameProblem ----------------------------------------------------------------------------------------

const SOH = '\x01';

/** A FIX frame from its body fields (`tag=value` strings), with the BodyLength and CheckSum it should have. */
function frame(fields: string[], tweak: { bodyLength?: number; checkSum?: number } = {}): Uint8Array {
  const body = Buffer.from(fields.map((f) => f + SOH).join(''), 'latin1');
  const head = Buffer.from(`8=FIX.4.4${SOH}9=${tweak.bodyLength ?? body.length}${SOH}`, 'latin1');
  const bytes = Buffer.concat([head, body]);
  const sum = bytes.reduce((total, byte) => total + byte, 0) % 256;
  return new Uint8Array(Buffer.concat([bytes, Buffer.from(`10=${String(tweak.checkSum ?? sum).padStart(3, '0')}${SOH}`, 'latin1')]));
}

const HEARTBEAT = ['35=0', '49=EXEC', '56=OMS', '34=2', '52=20260601-14:30:00.000'];
const FILL = ['35=8', '49=EXEC', '56=OMS', '34=3', '52=20260601-14:30:00.000', '11=F1', '17=E-1', '150=F', '39=2', '32=100', '31=190.05', '58=ok'];

describe('frameProblem', () => {
  it('accepts correct frames', () => {
    expect(frameProblem(frame(HEARTBEAT))).toBeNull();
    expect(frameProblem(frame(FILL))).toBeNull();
  });

  it('accepts a frame held in the middle of a larger buffer (the receive buffer is a view)', () => {
    const good = frame(FILL);
    const backing = new Uint8Array(good.length + 20).fill(0x41);
    backing.set(good, 7);
    const view = backing.subarray(7, 7 + good.length);
    expect(frameProblem(view)).toBeNull();
    backing[7 + 30] ^= 0x02; // one flipped bit inside the view
    expect(frameProblem(view)).toMatch(/CheckSum/);
  });

  it('refuses a wrong CheckSum, naming both figures', () => {
    const good = frame(FILL);
    const sum = Number(Buffer.from(good).toString('latin1').slice(-4, -1));
    const bad = frame(FILL, { checkSum: (sum + 1) % 256 });
    expect(frameProblem(bad)).toBe(`CheckSum ${(sum + 1) % 256} but the bytes sum to ${sum}`);
  });

  it('refuses a changed byte in the body (the checksum no longer matches)', () => {
    const good = frame(FILL);
    const text = Buffer.from(good).toString('latin1');
    const at = text.indexOf('190.05');
    const bad = new Uint8Array(good);
    bad[at + 5] = '6'.charCodeAt(0); // 190.06, same length
    expect(frameProblem(bad)).toMatch(/^CheckSum /);
  });

  it('refuses a wrong BodyLength, even when the checksum matches the bytes', () => {
    const body = FILL.map((f) => f + SOH).join('').length;
    expect(frameProblem(frame(FILL, { bodyLength: body + 1 }))).toBe(`BodyLength ${body + 1} but the body has ${body} bytes`);
    expect(frameProblem(frame(FILL, { bodyLength: body - 1 }))).toBe(`BodyLength ${body - 1} but the body has ${body} bytes`);
  });

  it('refuses a frame without a proper CheckSum trailer', () => {
    const good = Buffer.from(frame(HEARTBEAT));
    expect(frameProblem(new Uint8Array(good.subarray(0, good.length - 7)))).toBe('no CheckSum trailer'); // trailer cut off
    expect(frameProblem(new Uint8Array(good.subarray(0, good.length - 1)))).toBe('no CheckSum trailer'); // final SOH missing
    const text = good.toString('latin1');
    expect(frameProblem(Buffer.from(text.replace(/10=\d{3}\x01$/, `10=12${SOH}`), 'latin1'))).toBe('no CheckSum trailer'); // two digits
    // No SOH before 10=: the trailer is glued to the last value.
    const glued = `${text.slice(0, text.length - 8)}10=${text.slice(-4, -1)}${SOH}`;
    expect(frameProblem(Buffer.from(glued, 'latin1'))).toBe('no CheckSum trailer');
  });

  it('refuses a frame without BeginString and BodyLength first', () => {
    const good = Buffer.from(frame(HEARTBEAT)).toString('latin1');
    expect(frameProblem(Buffer.from(good.replace('9=', '9x'), 'latin1'))).toBe('no BeginString/BodyLength header');
    expect(frameProblem(Buffer.from(`35=0${SOH}${good}`, 'latin1'))).toBe('no BeginString/BodyLength header');
    expect(frameProblem(new Uint8Array(0))).toBe('no BeginString/BodyLength header');
  });

  it("accepts a '|' inside a value (SOH is the only delimiter)", () => {
    const fields = [...HEARTBEAT.slice(0, 4), '58=a|b||c', '52=20260601-14:30:00.000'];
    expect(frameProblem(frame(fields))).toBeNull();
  });

  it('counts a non-ASCII (latin1) byte as one byte in BodyLength and by its byte value in CheckSum', () => {
    const fields = [...HEARTBEAT, '58=caf\u00e9 \u00ff'];
    const good = frame(fields);
    expect(good.includes(0xe9)).toBe(true);
    expect(good.includes(0xff)).toBe(true);
    expect(frameProblem(good)).toBeNull();
    // Bytes that happen to form a valid UTF-8 sequence (C3 A9) are still two bytes of the body.
    expect(frameProblem(frame([...HEARTBEAT, '58=\u00c3\u00a9t\u00c3\u00a9']))).toBeNull();
    // The same text counted as UTF-8 (two bytes each) would be the wrong BodyLength.
    const body = fields.map((f) => f + SOH).join('');
    expect(frameProblem(frame(fields, { bodyLength: Buffer.byteLength(body, 'utf8') }))).toMatch(/^BodyLength /);
  });
});

// ---- fix venue configuration -----------------------------------------------------------------------------

const MINIMAL = Object.freeze({ venue_id: 2, name: 'EXEC', host: '127.0.0.1', port: 9878, sender_comp_id: 'OMS', target_comp_id: 'EXEC' });

function venue(overrides: Partial<FixVenueConfig> = {}): FixVenueConfig {
  const checked = checkFixVenue({ ...MINIMAL, ...overrides });
  if (!checked.ok) throw new Error(checked.problems.join('; '));
  return checked.venue;
}

function problemsOf(value: unknown): string[] {
  const checked = checkFixVenue(value);
  if (checked.ok) throw new Error(`expected problems, got ${JSON.stringify(checked.venue)}`);
  return checked.problems;
}

describe('checkFixVenue', () => {
  it('fills the defaults around the required keys', () => {
    const checked = checkFixVenue({ ...MINIMAL });
    expect(checked).toStrictEqual({ ok: true, venue: { ...MINIMAL, ...FIX_VENUE_DEFAULTS } });
    expect(Object.keys(checked.ok ? checked.venue : {}).sort()).toEqual([...Object.keys(MINIMAL), ...Object.keys(FIX_VENUE_DEFAULTS)].sort());
  });

  it('keeps given values over the defaults', () => {
    const v = venue({ heartbeat_interval_s: 5, reset_seq_num_on_logon: true, schedule_start_utc: '07:00:00', schedule_end_utc: '21:30:00', store_dir: '/var/fix/exec' });
    expect(v).toMatchObject({ heartbeat_interval_s: 5, reset_seq_num_on_logon: true, schedule_start_utc: '07:00:00', schedule_end_utc: '21:30:00', store_dir: '/var/fix/exec' });
    expect(venue({ host: 'fix.broker.example.com' }).host).toBe('fix.broker.example.com');
    expect(venue({ host: '::1' }).host).toBe('::1');
  });

  it('refuses an unknown key, naming it and what is allowed', () => {
    const problems = problemsOf({ ...MINIMAL, heartbeat_interval: 30 });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('unknown key "heartbeat_interval"');
    expect(problems[0]).toContain('heartbeat_interval_s');
  });

  it('refuses each missing required key, all at once', () => {
    const problems = problemsOf({ name: 'EXEC', port: 9878 });
    expect(problems).toEqual(['.venue_id is required', '.host is required', '.sender_comp_id is required', '.target_comp_id is required']);
    for (const key of Object.keys(MINIMAL)) {
      const rest: Record<string, unknown> = { ...MINIMAL };
      delete rest[key];
      expect(problemsOf(rest)).toEqual([`.${key} is required`]);
    }
  });

  it('refuses a value that is not an object', () => {
    for (const value of [null, 'EXEC', 2, [MINIMAL]]) expect(problemsOf(value)).toEqual(['must be an object']);
  });

  it.each([
    ['sender_comp_id', 'OMS=1'],
    ['target_comp_id', 'EX EC'],
    ['sender_comp_id', ''],
    ['target_comp_id', 'X'.repeat(65)],
    ['sender_comp_id', 'OMS\x01'],
    ['target_comp_id', 'B\u00d6RSE'],
  ])('refuses %s %j', (key, value) => {
    const problems = problemsOf({ ...MINIMAL, [key]: value });
    expect(problems).toEqual([`.${key} must be 1 to 64 visible ASCII characters without "="`]);
  });

  it('accepts a CompID of 64 visible characters with punctuation', () => {
    expect(venue({ sender_comp_id: `${'A'.repeat(60)}-_.:` }).sender_comp_id).toHaveLength(64);
  });

  it.each([['24:00:00'], ['7:00:00'], ['07:00'], ['07:60:00'], ['07:00:60'], ['07:00:00Z'], ['']])('refuses the schedule time %j', (time) => {
    expect(problemsOf({ ...MINIMAL, schedule_start_utc: time })).toEqual(['.schedule_start_utc must be a UTC time HH:MM:SS']);
    expect(problemsOf({ ...MINIMAL, schedule_end_utc: time })).toEqual(['.schedule_end_utc must be a UTC time HH:MM:SS']);
  });

  it('refuses a minimum back-off above the maximum; equal is fine', () => {
    expect(problemsOf({ ...MINIMAL, reconnect_backoff_ms_min: 5000, reconnect_backoff_ms_max: 1000 }))
      .toEqual(['.reconnect_backoff_ms_min must not exceed .reconnect_backoff_ms_max']);
    // Against the default maximum (30 s) too.
    expect(problemsOf({ ...MINIMAL, reconnect_backoff_ms_min: 60_000 })).toEqual(['.reconnect_backoff_ms_min must not exceed .reconnect_backoff_ms_max']);
    expect(venue({ reconnect_backoff_ms_min: 1000, reconnect_backoff_ms_max: 1000 }).reconnect_backoff_ms_max).toBe(1000);
  });

  it.each([
    ['venue_id', 0], ['venue_id', 2 ** 32], ['venue_id', 1.5], ['venue_id', '2'],
    ['port', 0], ['port', 65_536], ['heartbeat_interval_s', 0], ['heartbeat_interval_s', 301],
    ['reconnect_backoff_ms_min', 9], ['logon_timeout_ms', 99], ['in_flight_requests_max', 0],
    ['reset_seq_num_on_logon', 'true'], ['name', 'has space'], ['name', 'X'.repeat(17)], ['host', 'bad_host!'], ['store_dir', 'a\0b'],
  ])('refuses %s = %j, naming the key', (key, value) => {
    const problems = problemsOf({ ...MINIMAL, [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0].startsWith(`.${key} must be`)).toBe(true);
  });
});

describe('fixVenuesProblems', () => {
  it('no problems for distinct venues', () => {
    expect(fixVenuesProblems([venue(), venue({ venue_id: 3, name: 'EXEC2', target_comp_id: 'EXEC2' })])).toEqual([]);
  });

  it('a venue id, a name or a session used twice', () => {
    expect(fixVenuesProblems([venue(), venue({ name: 'OTHER', target_comp_id: 'OTHER' })])).toEqual(['item 1.venue_id 2 repeats item 0']);
    expect(fixVenuesProblems([venue(), venue({ venue_id: 3, target_comp_id: 'OTHER' })])).toEqual(['item 1.name EXEC repeats item 0']);
    expect(fixVenuesProblems([venue(), venue({ venue_id: 3, name: 'OTHER' })])).toEqual(['item 1.session OMS->EXEC@127.0.0.1:9878 repeats item 0']);
    expect(fixVenuesProblems([venue(), venue({ venue_id: 3, name: 'B' }), venue({ venue_id: 4, name: 'C', port: 9879 }), venue()])).toEqual([
      'item 1.session OMS->EXEC@127.0.0.1:9878 repeats item 0',
      'item 3.venue_id 2 repeats item 0', 'item 3.name EXEC repeats item 0', 'item 3.session OMS->EXEC@127.0.0.1:9878 repeats item 0',
    ]);
  });

  it('the same CompIDs at another address are another session', () => {
    expect(fixVenuesProblems([venue(), venue({ venue_id: 3, name: 'BACKUP', host: '127.0.0.2' })])).toEqual([]);
  });

  // Two sessions sharing one seqnums.json would overwrite each other's numbers.
  it('a store_dir used by two venues is a problem (they would share seqnums.json)', () => {
    const shared = '/var/lib/oms/fix/shared';
    expect(fixVenuesProblems([
      venue({ store_dir: shared }), venue({ venue_id: 3, name: 'OTHER', target_comp_id: 'OTHER', store_dir: shared }),
    ])).toEqual([`item 1.store_dir ${shared} repeats item 0`]);
  });

  it('venues with the default store_dir (empty) do not clash with each other', () => {
    expect(fixVenuesProblems([venue(), venue({ venue_id: 3, name: 'OTHER', target_comp_id: 'OTHER' })])).toEqual([]);
  });
});

describe('inSchedule', () => {
  const at = (time: string, day = '2026-06-01'): number => Date.parse(`${day}T${time}Z`);

  it('start == end is always on', () => {
    const always = { schedule_start_utc: '00:00:00', schedule_end_utc: '00:00:00' };
    for (const time of ['00:00:00', '06:59:59', '12:00:00', '23:59:59']) expect(inSchedule(always, at(time))).toBe(true);
    expect(inSchedule({ schedule_start_utc: '13:00:00', schedule_end_utc: '13:00:00' }, at('02:00:00'))).toBe(true);
  });

  it('a day window [start, end)', () => {
    const day = { schedule_start_utc: '07:00:00', schedule_end_utc: '21:30:00' };
    expect(inSchedule(day, at('06:59:59'))).toBe(false);
    expect(inSchedule(day, at('07:00:00'))).toBe(true);
    expect(inSchedule(day, at('12:00:00'))).toBe(true);
    expect(inSchedule(day, at('21:29:59'))).toBe(true);
    expect(inSchedule(day, at('21:30:00'))).toBe(false);
    expect(inSchedule(day, at('23:00:00'))).toBe(false);
    expect(inSchedule(day, at('12:00:00', '1999-12-31'))).toBe(true); // any date
    expect(inSchedule(day, at('21:29:59') + 999)).toBe(true); // milliseconds do not round up
  });

  it('an overnight window wraps midnight', () => {
    const night = { schedule_start_utc: '22:00:00', schedule_end_utc: '06:00:00' };
    expect(inSchedule(night, at('21:59:59'))).toBe(false);
    expect(inSchedule(night, at('22:00:00'))).toBe(true);
    expect(inSchedule(night, at('23:59:59'))).toBe(true);
    expect(inSchedule(night, at('00:00:00'))).toBe(true);
    expect(inSchedule(night, at('05:59:59'))).toBe(true);
    expect(inSchedule(night, at('06:00:00'))).toBe(false);
    expect(inSchedule(night, at('12:00:00'))).toBe(false);
  });
});

describe('loadConfig: fix.venues', () => {
  const refused = configProblems;

  function writeConfig(contents: unknown): string {
    const path = join(root, `config-${(dirs += 1)}.json`);
    writeFileSync(path, JSON.stringify(contents));
    return path;
  }

  it('defaults to no venues', () => {
    expect(loadConfig([], {}).fix.venues).toEqual([]);
  });

  it('takes a JSON array from OMS_FIX_VENUES, with defaults filled and the result frozen', () => {
    const config = loadConfig([], { OMS_FIX_VENUES: JSON.stringify([MINIMAL, { ...MINIMAL, venue_id: 3, name: 'EXEC2', port: 9879, heartbeat_interval_s: 10 }]) });
    expect(config.fix.venues).toStrictEqual([
      { ...MINIMAL, ...FIX_VENUE_DEFAULTS },
      { ...MINIMAL, ...FIX_VENUE_DEFAULTS, venue_id: 3, name: 'EXEC2', port: 9879, heartbeat_interval_s: 10 },
    ]);
    expect(Object.isFrozen(config.fix.venues[0])).toBe(true);
    expect(loadConfig([], { OMS_FIX_VENUES: '  []  ' }).fix.venues).toEqual([]);
    expect(loadConfig([], { OMS_FIX_VENUES: '' }).fix.venues).toEqual([]);
  });

  it('takes the list from a config file, and the environment wins over the file', () => {
    const path = writeConfig({ fix: { venues: [{ ...MINIMAL, schedule_start_utc: '06:00:00', schedule_end_utc: '22:00:00' }] } });
    expect(loadConfig(['--config', path], {}).fix.venues).toStrictEqual([
      { ...MINIMAL, ...FIX_VENUE_DEFAULTS, schedule_start_utc: '06:00:00', schedule_end_utc: '22:00:00' },
    ]);
    expect(loadConfig(['--config', path], { OMS_FIX_VENUES: '[]' }).fix.venues).toEqual([]);
  });

  it('refuses bad items, naming the key, the item and the source', () => {
    const fromEnv = refused([], { OMS_FIX_VENUES: JSON.stringify([MINIMAL, { ...MINIMAL, venue_id: 3, name: 'B', sender_comp_id: 'A=B', colour: 'red' }]) });
    expect(fromEnv).toHaveLength(1);
    expect(fromEnv[0]).toContain('fix.venues');
    expect(fromEnv[0]).toContain('(from env OMS_FIX_VENUES)');
    expect(fromEnv[0]).toContain('item 1 has unknown key "colour"');
    expect(fromEnv[0]).toContain('item 1.sender_comp_id must be');

    const path = writeConfig({ fix: { venues: [{ ...MINIMAL, port: 0 }] } });
    const fromFile = refused(['--config', path], {});
    expect(fromFile).toHaveLength(1);
    expect(fromFile[0]).toContain(`(from config file ${path})`);
    expect(fromFile[0]).toContain('item 0.port must be an integer from 1 to 65535');
  });

  it('refuses duplicates across items, malformed JSON, a non-list and too many venues', () => {
    expect(refused([], { OMS_FIX_VENUES: JSON.stringify([MINIMAL, { ...MINIMAL, name: 'OTHER', port: 1 }]) })[0]).toContain('item 1.venue_id 2 repeats item 0');
    expect(refused([], { OMS_FIX_VENUES: '[{"venue_id": 2' })[0]).toContain('is not valid JSON');
    expect(refused([], { OMS_FIX_VENUES: 'EXEC' })[0]).toContain('item 0 must be an object');
    const path = writeConfig({ fix: { venues: MINIMAL } });
    expect(refused(['--config', path], {})[0]).toContain('must be a list');
    const many = Array.from({ length: FIX_VENUES_MAX + 1 }, (_, i) => ({ ...MINIMAL, venue_id: 2 + i, name: `V${i}`, port: 1000 + i }));
    expect(refused([], { OMS_FIX_VENUES: JSON.stringify(many) })[0]).toContain(`has ${FIX_VENUES_MAX + 1} venues, at most ${FIX_VENUES_MAX} allowed`);
  });

  it("refuses the simulated venue's id while the simulated venue is enabled, and allows it once disabled", () => {
    const clash = JSON.stringify([{ ...MINIMAL, venue_id: DEMO.venues.SIM }]);
    const problems = refused([], { OMS_FIX_VENUES: clash });
    expect(problems).toEqual([`fix.venues: venue_id ${DEMO.venues.SIM} (EXEC) is the simulated venue's; disable sim_venue or pick another id`]);
    const config = loadConfig([], { OMS_FIX_VENUES: clash, OMS_SIM_VENUE_ENABLED: 'false' });
    expect(config.fix.venues[0].venue_id).toBe(DEMO.venues.SIM);
    const path = writeConfig({ sim_venue: { enabled: true }, fix: { venues: [{ ...MINIMAL, venue_id: DEMO.venues.SIM }] } });
    expect(refused(['--config', path], {})[0]).toContain("is the simulated venue's");
  });
});

describe('InOrderGate: venue messages reach the core in MsgSeqNum order', () => {
  function gate(next = 1): { g: InOrderGate<string>; out: Array<[string, number]> } {
    const out: Array<[string, number]> = [];
    const g = new InOrderGate<string>((item, seq) => out.push([item, seq]));
    g.reset(next);
    return { g, out };
  }

  it('delivers the next number at once, holds those above a gap, and releases them in order when it fills', () => {
    const { g, out } = gate(5);
    expect(g.offer(5, 'a', 0)).toBe('delivered');
    expect(g.offer(8, 'd', 10)).toBe('held');
    expect(g.offer(7, 'c', 20)).toBe('held');
    expect(g.waitingMs(110)).toBe(100);
    expect(out).toEqual([['a', 5]]);
    expect(g.offer(6, 'b', 30)).toBe('delivered');
    expect(out).toEqual([['a', 5], ['b', 6], ['c', 7], ['d', 8]]);
    expect(g.next).toBe(9);
    expect(g.waitingMs(1_000)).toBe(0);
  });

  it('a gap fill jumps over the numbers it covers, dropping what waited below its end, and releases what follows', () => {
    const { g, out } = gate(1);
    expect(g.offer(3, 'held-under-fill', 0)).toBe('held');
    expect(g.offer(6, 'f', 0)).toBe('held');
    expect(g.offerGapFill(1, 6, 0)).toBe('delivered');
    expect(out).toEqual([['f', 6]]);
    expect(g.next).toBe(7);
    // A gap fill above the next number waits its turn like any message.
    expect(g.offerGapFill(9, 12, 0)).toBe('held');
    expect(g.offer(12, 'l', 0)).toBe('held');
    expect(g.offer(7, 'g', 0)).toBe('delivered');
    expect(g.offer(8, 'h', 0)).toBe('delivered');
    expect(out.map(([item]) => item)).toEqual(['f', 'g', 'h', 'l']);
    expect(g.next).toBe(13);
  });

  it('duplicates (below the next number, or already waiting) are refused; beyond HELD_MESSAGES_MAX waiting is an overflow', () => {
    const { g, out } = gate(10);
    expect(g.offer(9, 'old', 0)).toBe('duplicate');
    expect(g.offer(12, 'x', 0)).toBe('held');
    expect(g.offer(12, 'x-again', 0)).toBe('duplicate');
    expect(g.offerGapFill(3, 10, 0)).toBe('duplicate');
    for (let seq = 13; seq < 12 + HELD_MESSAGES_MAX; seq += 1) expect(g.offer(seq, 'w', 0)).toBe('held');
    expect(g.heldCount).toBe(HELD_MESSAGES_MAX);
    expect(g.offer(20_000_000, 'too many', 0)).toBe('overflow');
    expect(out).toEqual([]);
    g.reset(1);
    expect(g.heldCount).toBe(0);
    expect(g.offer(1, 'fresh', 0)).toBe('delivered');
  });

  it('any arrival order of 1..n is delivered as 1..n (property)', () => {
    fc.assert(fc.property(fc.shuffledSubarray(Array.from({ length: 40 }, (_, i) => i + 1), { minLength: 40, maxLength: 40 }), (order) => {
      const { g, out } = gate(1);
      for (const seq of order) g.offer(seq, `m${seq}`, 0);
      expect(out.map(([, seq]) => seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }), { numRuns: 200 });
  });
});
