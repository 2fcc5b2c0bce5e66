// The operator CLI as an operator runs it: a real journal is built through the core worker (CoreHost), then
// `persistence/cli.ts` is started as a child process for every command, and its output and exit code are
// checked against what the journal holds and what in-process recovery computes.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as flatbuffers from 'flatbuffers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, ExecType, OrdStatus, OrdType, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import type { CommandBody, NewOrderCmd, VenueExecReportCmd } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import type { CommandResultData } from '../schemas/results.js';
import { CoreHost } from '../core/core-host.js';
import { DEMO, demoReferenceData } from '../core/demo.js';
import { hashBytes } from '../core/state.js';
import { Journal } from '../persistence/journal.js';
import { recover } from '../persistence/recovery.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = 'persistence/cli.ts';
/** Command i is stamped T0 + i seconds: distinct at the millisecond precision of ISO times. */
const T0_US = Date.UTC(2026, 8, 21, 13, 30) * 1000;
const STEP_US = 1_000_000;

const dir = mkdtempSync(join(tmpdir(), 'oms-cli-'));
const data = join(dir, 'journal');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliRun> {
  return cliAt(CLI, args);
}

function cliAt(script: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO, timeout: 15_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`cli ${args.join(' ')} did not exit normally (${error.message}): ${stderr}`));
          return;
        }
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      });
  });
}

async function cliJson(...args: string[]): Promise<unknown> {
  const run = await cli(...args, '--data', data);
  expect(run.stderr, `stderr of ${args.join(' ')}`).toBe('');
  expect(run.code, `exit code of ${args.join(' ')}`).toBe(0);
  return JSON.parse(run.stdout) as unknown;
}

function asRecord(value: unknown): Record<string, unknown> {
  expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
  return value as Record<string, unknown>;
}

function asArray(value: unknown): unknown[] {
  expect(Array.isArray(value)).toBe(true);
  return value as unknown[];
}

function withJournal<T>(use: (journal: Journal) => T): Promise<T> {
  const journal = Journal.open({ path: join(data, 'journal'), readOnly: true });
  return (async () => {
    try {
      return use(journal);
    } finally {
      await journal.close();
    }
  })();
}

// ---- building the journal ----------------------------------------------------------------------------------

interface Built {
  /** One entry per journaled command, by seq - 1. */
  sent: Array<{ seq: number; timeUs: number; userId: number; requestId: number; command: CommandBody }>;
  snapshotSeq: number;
  snapshotHash: string;
  lastSeq: number;
  lastHash: string;
  refusedSeq: number;
  /** Seq of every command that touches order A1 (A1, then A1-R after the replace). */
  a1Seqs: number[];
}

let built: Built;

async function buildJournal(): Promise<Built> {
  const host = await CoreHost.start({ journal_path: join(data, 'journal'), batch_frames_max: 64 });
  const builder = new flatbuffers.Builder(1024);
  const sent: Built['sent'] = [];
  let requestId = 0;
  let tick = 0;
  try {
    const send = async (userId: number, command: CommandBody): Promise<CommandResultData> => {
      requestId += 1;
      const timeUs = T0_US + tick * STEP_US;
      tick += 1;
      const result = await host.submit(encodeCommandCopy(builder, { requestId, timeUs, userId, sessionId: 3, command }));
      expect(result.seq, `journaled ${JSON.stringify(command)}`).toBe(sent.length + 1);
      sent.push({ seq: result.seq, timeUs, userId, requestId, command });
      return result;
    };
    const accepted = async (userId: number, command: CommandBody): Promise<CommandResultData> => {
      const result = await send(userId, command);
      const refusal = result.events.find((e) => e.kind === 'command_reject' || e.kind === 'cancel_reject' ||
        (e.kind === 'execution_report' && e.execType === ExecType.Rejected));
      expect(refusal, `refused: ${JSON.stringify(command)}`).toBeUndefined();
      return result;
    };
    const order = (clOrdId: string, side: Side, orderQty: number, price: number): NewOrderCmd => ({
      type: Command.NewOrder, clOrdId, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL, side,
      ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty, price, stopPx: 0, expireTimeUs: 0,
      parentClOrdId: '', venueId: DEMO.venues.SIM, text: '',
    });
    let execSerial = 0;
    const venue = (clOrdId: string, execType: ExecType, partial: Partial<VenueExecReportCmd> = {}): VenueExecReportCmd => {
      execSerial += 1;
      return {
        type: Command.VenueExecReport, venueId: DEMO.venues.SIM, execId: `SIM-${execSerial}`, clOrdId, origClOrdId: '',
        execType, ordStatus: OrdStatus.Unset, lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: 0xffff,
        venueOrderId: '', text: '', ...partial,
      };
    };
    const { trader, venue: sim } = DEMO.users;
    const a1Seqs: number[] = [];
    const onA1 = async (userId: number, command: CommandBody): Promise<void> => {
      a1Seqs.push((await accepted(userId, command)).seq);
    };

    for (const command of demoReferenceData()) await accepted(0, command);
    await onA1(trader, order('A1', Side.Buy, 1000, 19_000));
    await accepted(trader, order('B1', Side.Sell, 500, 19_010));
    await onA1(sim, venue('A1', ExecType.New));
    await accepted(sim, venue('B1', ExecType.New));
    await onA1(sim, venue('A1', ExecType.Trade, { lastQty: 300, lastPx: 19_000 }));
    const snapshot = await host.snapshot();
    await onA1(trader, {
      type: Command.ReplaceOrder, clOrdId: 'A1-R', origClOrdId: 'A1', accountId: 0, orderQty: 1500, price: 19_050,
      stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0,
    });
    await onA1(sim, venue('A1-R', ExecType.Replaced, { origClOrdId: 'A1' }));
    // Refused by the core (over the AAPL max order quantity) but journaled: every decodable command is.
    const refused = await send(trader, order('X1', Side.Buy, 2_000_000, 19_000));
    expect(refused.events.some((e) => e.kind === 'command_reject' ||
      (e.kind === 'execution_report' && e.execType === ExecType.Rejected))).toBe(true);
    await accepted(trader, { type: Command.CancelOrder, clOrdId: 'B1-C', origClOrdId: 'B1', accountId: 0 });
    await accepted(sim, venue('B1-C', ExecType.Canceled, { origClOrdId: 'B1' }));
    await onA1(sim, venue('A1-R', ExecType.Trade, { lastQty: 1200, lastPx: 19_050 }));
    await accepted(trader, order('C1', Side.Buy, 200, 19_000));
    await accepted(sim, venue('C1', ExecType.New));
    await accepted(sim, venue('C1', ExecType.Trade, { lastQty: 100, lastPx: 19_000 }));
    const status = await host.status();
    expect(status.last_seq).toBe(sent.length);
    return {
      sent, snapshotSeq: snapshot.seq, snapshotHash: snapshot.state_hash, lastSeq: status.last_seq,
      lastHash: status.state_hash, refusedSeq: refused.seq, a1Seqs,
    };
  } finally {
    await host.close();
  }
}

beforeAll(async () => {
  built = await buildJournal();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function isoOf(timeUs: number): string {
  return new Date(timeUs / 1000).toISOString();
}

// ---- the commands -------------------------------------------------------------------------------------------

describe('oms CLI on a real journal', () => {
  it('inspect: counts, sequence and time range, the snapshot', async () => {
    expect(built.snapshotSeq).toBeGreaterThan(1);
    expect(built.snapshotSeq).toBeLessThan(built.lastSeq);
    const out = asRecord(await cliJson('inspect'));
    expect(out).toMatchObject({
      entries: built.sent.length, first_seq: 1, last_seq: built.sent.length,
      first_time: isoOf(built.sent[0].timeUs), last_time: isoOf(built.sent[built.sent.length - 1].timeUs),
    });
    const snapshots = asArray(out.snapshots).map(asRecord);
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatchObject({ seq: built.snapshotSeq, state_hash: built.snapshotHash });
    expect(snapshots[0].size_bytes).toEqual(expect.any(Number));
  });

  it('history: every command of the replaced and filled order, with who, when and the reports', async () => {
    const out = asArray(await cliJson('history', 'A1')).map(asRecord);
    expect(out.map((r) => r.seq)).toEqual(built.a1Seqs);
    for (const record of out) {
      const sent = built.sent[Number(record.seq) - 1];
      expect(record).toMatchObject({
        time_us: sent.timeUs, time: isoOf(sent.timeUs), user_id: sent.userId, session_id: 3, request_id: sent.requestId,
      });
    }
    const commands = out.map((r) => asRecord(r.command));
    expect(commands.map((c) => [c.type, c.clOrdId, c.execType ?? null])).toEqual([
      ['NewOrder', 'A1', null],
      ['VenueExecReport', 'A1', 'New'],
      ['VenueExecReport', 'A1', 'Trade'],
      ['ReplaceOrder', 'A1-R', null],
      ['VenueExecReport', 'A1-R', 'Replaced'],
      ['VenueExecReport', 'A1-R', 'Trade'],
    ]);
    expect(commands[0]).toMatchObject({ side: 'Buy', ordType: 'Limit', timeInForce: 'Day', orderQty: 1000, price: 19_000 });
    expect(commands[3]).toMatchObject({ origClOrdId: 'A1', orderQty: 1500, price: 19_050 });
    expect(out.map((r) => r.user_id)).toEqual([
      DEMO.users.trader, DEMO.users.venue, DEMO.users.venue, DEMO.users.trader, DEMO.users.venue, DEMO.users.venue,
    ]);
    const reports = out.map((r) => asArray(r.events).map(asRecord).filter((e) => e.kind === 'execution_report'));
    expect(reports.map((rs) => rs.map((e) => [e.execType, e.ordStatus, e.clOrdId, e.cumQty, e.leavesQty]))).toEqual([
      [['PendingNew', 'PendingNew', 'A1', 0, 1000]],
      [['New', 'New', 'A1', 0, 1000]],
      [['Trade', 'PartiallyFilled', 'A1', 300, 700]],
      [['PendingReplace', 'PendingReplace', 'A1-R', 300, 700]],
      [['Replaced', 'PartiallyFilled', 'A1-R', 300, 1200]],
      [['Trade', 'Filled', 'A1-R', 1500, 0]],
    ]);
    expect(reports[4][0]).toMatchObject({ origClOrdId: 'A1', orderQty: 1500, price: 19_050, side: 'Buy' });
    expect(reports[5][0]).toMatchObject({ lastQty: 1200, lastPx: 19_050 });
    // Nothing of the other orders leaks in: not B1, not the refused X1.
    expect(out.some((r) => r.seq === built.refusedSeq)).toBe(false);
    // The replacement's ClOrdID finds the same, whole history, from the NewOrder on.
    expect(asArray(await cliJson('history', 'A1-R')).map((r) => asRecord(r).seq)).toEqual(built.a1Seqs);
  });

  it('verify: replay from scratch agrees with the snapshot and with recovery from it', async () => {
    const out = asRecord(await cliJson('verify'));
    expect(out).toMatchObject({
      ok: true, last_seq: built.lastSeq, replayed: built.lastSeq, state_hash_from_scratch: built.lastHash,
      state_hash_from_snapshot: built.lastHash, snapshot_seq: built.snapshotSeq, snapshots_checked: 1, mismatches: [],
    });
  });

  it('replay --to-seq: the state at that point, as in-process recovery computes it; --out writes its bytes', async () => {
    const toSeq = built.refusedSeq;
    const expected = await withJournal((journal) => recover(journal, { to_seq: toSeq }).report);
    expect(expected.last_seq).toBe(toSeq);
    const file = join(dir, 'state.bin');
    const out = asRecord(await cliJson('replay', '--to-seq', String(toSeq), '--out', file));
    expect(out).toMatchObject({
      last_seq: toSeq, state_hash: expected.state_hash, snapshot_seq: built.snapshotSeq,
      replayed_count: toSeq - built.snapshotSeq,
    });
    expect(expected.state_hash).not.toBe(built.lastHash);
    expect(hashBytes(readFileSync(file))).toBe(expected.state_hash);
    // At the refused order A1 is open and partly filled; B1 is still working.
    expect(out).toMatchObject({ orders: 2, open_orders: 2 });
    // 300 bought at 190.00 with the mark at 190.00: cost and gross exposure 57,000 USD, no P&L yet.
    expect(out.positions).toEqual([{
      account: DEMO.accounts.GROWTH, instrument: 'AAPL', qty: '300', cost: '57000.00', realised_pnl: '0.00',
      unrealised_pnl: '0.00', mark: '190.00', exposure: `57000.${'0'.repeat(18)}`, currency: 'USD',
    }]);
  });

  it('replay --to-time: the last command at or before the time', async () => {
    const seq = built.a1Seqs[2];
    const between = isoOf(built.sent[seq - 1].timeUs + STEP_US / 2);
    const expected = await withJournal((journal) => recover(journal, { to_seq: seq }).report.state_hash);
    const out = asRecord(await cliJson('replay', '--to-time', between));
    expect(out).toMatchObject({ last_seq: seq, state_hash: expected });
    // A time that does not parse is an error, not a silent replay to the end.
    const bad = await cli('replay', '--to-time', 'yesterday-ish', '--data', data);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'oms: --to-time must be an ISO time, got yesterday-ish\n' });
  });

  it('export: JSON lines of every command in order, to a file and a range to stdout', async () => {
    const file = join(dir, 'export.jsonl');
    const run = await cli('export', '--out', file, '--data', data);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((line) => asRecord(JSON.parse(line) as unknown));
    expect(records.map((r) => r.seq)).toEqual(built.sent.map((s) => s.seq));
    records.forEach((record, i) => {
      const sent = built.sent[i];
      expect(record).toMatchObject({ time_us: sent.timeUs, user_id: sent.userId, session_id: 3, request_id: sent.requestId });
      expect(asRecord(record.command).type).toBe(Command[sent.command.type]);
    });
    expect(asRecord(records[0].command)).toEqual({ type: 'DefineVenue', venueId: DEMO.venues.SIM, name: 'SIM' });
    expect(asRecord(records[built.refusedSeq - 1].command)).toMatchObject({ type: 'NewOrder', clOrdId: 'X1', side: 'Buy', orderQty: 2_000_000 });

    // Run through a symlinked path with a space in it: the CLI must still recognise itself as the program.
    const linkDir = join(dir, 'with space');
    mkdirSync(linkDir);
    symlinkSync(REPO, join(linkDir, 'repo'), 'dir');
    const range = await cliAt(join(linkDir, 'repo', CLI), ['export', '--from', '5', '--to', '7', '--data', data]);
    expect(range.stderr).toBe('');
    expect(range.code).toBe(0);
    const rangeLines = range.stdout.trimEnd().split('\n');
    expect(rangeLines).toEqual(lines.slice(4, 7));
  });

  it('usage errors: an unknown command exits 2 with the usage, history without a ClOrdID exits 1', async () => {
    // Checked before the journal is opened: no data directory needed to be told about a typo.
    const unknown = await cli('frobnicate', '--data', join(dir, 'no-such-journal'));
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('unknown command frobnicate');
    expect(unknown.stderr).toContain('oms <command> [--data DIR]');
    const missing = await cli('history', '--data', data);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('oms: history needs a ClOrdID\n');
  });

  it('snapshot: stores one at the last seq, which inspect then lists', async () => {
    const out = asRecord(await cliJson('snapshot'));
    expect(out).toMatchObject({ seq: built.lastSeq, state_hash: built.lastHash });
    const snapshots = asArray(asRecord(await cliJson('inspect')).snapshots).map(asRecord);
    expect(snapshots.map((s) => [s.seq, s.state_hash])).toEqual([
      [built.snapshotSeq, built.snapshotHash], [built.lastSeq, built.lastHash],
    ]);
  });

  it('verify fails when a snapshot holds a different state than its seq', async () => {
    // A well-formed snapshot (its bytes hash to its recorded hash) filed under the wrong seq: only a replay
    // from scratch compared at that seq can tell.
    const badSeq = built.snapshotSeq + 2;
    const journal = Journal.open({ path: join(data, 'journal') });
    try {
      const { core } = recover(journal, { to_seq: badSeq - 1, from_scratch: true });
      const bytes = core.snapshot();
      await journal.putSnapshot({ seq: badSeq, state_hash: hashBytes(bytes), bytes, time_us: built.sent[badSeq - 1].timeUs });
    } finally {
      await journal.close();
    }
    const expectedAtBad = await withJournal((j) => recover(j, { to_seq: badSeq, from_scratch: true }).report.state_hash);
    const run = await cli('verify', '--data', data);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const out = asRecord(JSON.parse(run.stdout) as unknown);
    expect(out).toMatchObject({ ok: false, snapshots_checked: 3, state_hash_from_scratch: built.lastHash });
    const mismatches = asArray(out.mismatches).map(asRecord);
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({ seq: badSeq, actual: expectedAtBad });
    expect(mismatches[0].expected).not.toBe(expectedAtBad);
  });
});
