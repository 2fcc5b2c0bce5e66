// Operator command line for the journal: inspect, history, verify, replay, snapshot, export, and start.
// Usage: npm run oms -- <command> [options]      (see README "Operations")

import { createWriteStream, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatScaled, MONEY_SCALE_DIGITS } from '../core/fixed.js';
import { unrealisedPnl } from '../core/risk.js';
import { Core } from '../core/core.js';
import { exportCommands, orderHistory, seqAtTime } from './audit.js';
import { Journal } from './journal.js';
import { recover } from './recovery.js';
import type { RecoveryReport } from './recovery.js';
import { exitQuietlyOnClosedStdout, isMainModule } from '../gateway/program.js';

/** The data root, as in the service's configuration (data.dir); the journal lives in <root>/journal. */
export const DATA_DIR_DEFAULT = 'data';

const USAGE = `oms <command> [--data DIR]
  start [--config FILE]         run the OMS (same as npm start)
  inspect                       journal counts, sequence and time ranges, snapshots
  history CLORDID               every command and result of one order (who, when, what)
  verify                        replay from scratch; compare state hashes with every snapshot
  replay [--to-seq N | --to-time ISO] [--out FILE]
                                rebuild the state at a point; print its hash and summary
  snapshot                      recover and store a snapshot at the last sequence number
  export [--from N] [--to M] [--out FILE]
                                journal as JSON lines (decoded commands)
Options: --data DIR, the data root; the journal is DIR/journal (default ${DATA_DIR_DEFAULT}, env OMS_DATA_DIR)`;

function progress(label: string): (seq: number, last: number) => void {
  if (!process.stderr.isTTY) return () => {};
  return (seq, last) => process.stderr.write(`\r${label} ${seq}/${last} (${Math.floor((100 * seq) / Math.max(1, last))}%)`);
}

function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}

function isoOf(timeUs: number): string {
  return new Date(Math.floor(timeUs / 1000)).toISOString();
}

function inspect(journal: Journal): void {
  const first = journal.firstSeq();
  const last = journal.lastSeq();
  const firstTime = first === 0 ? null : [...exportCommands(journal, first, first)][0]?.time_us ?? null;
  const lastTime = last === 0 ? null : [...exportCommands(journal, last, last)][0]?.time_us ?? null;
  printJson({
    entries: journal.count(), first_seq: first, last_seq: last,
    first_time: firstTime === null ? null : isoOf(firstTime), last_time: lastTime === null ? null : isoOf(lastTime),
    snapshots: journal.listSnapshots().map((s) => ({ ...s, time: isoOf(s.time_us) })),
  });
}

function summary(core: Core, report: RecoveryReport): Record<string, unknown> {
  const s = core.state;
  return {
    ...report, duration_ms: Math.round(report.duration_ms), orders: s.orders.size, open_orders: s.openOrders.size,
    positions: [...s.positions.values()].filter((p) => p.qty !== 0).map((p) => {
      const instrument = s.instruments.get(p.instrumentId);
      const digits = instrument === undefined ? 0 : instrument.pricePrecision + instrument.qtyPrecision;
      return {
        account: p.accountId, instrument: instrument?.symbol ?? p.instrumentId,
        qty: formatScaled(p.qty, instrument?.qtyPrecision ?? 0), cost: formatScaled(p.cost, digits),
        realised_pnl: formatScaled(p.realisedPnl, digits),
        unrealised_pnl: instrument === undefined ? null : formatScaled(unrealisedPnl(instrument, p), digits),
        mark: instrument === undefined || instrument.markPx === 0 ? null : formatScaled(instrument.markPx, instrument.pricePrecision),
        exposure: formatScaled(p.exposureMoney, MONEY_SCALE_DIGITS), currency: instrument?.currency ?? null,
      };
    }),
  };
}

function verify(journal: Journal): boolean {
  const snapshots = new Map(journal.listSnapshots().map((s) => [s.seq, s.state_hash]));
  const mismatches: Array<{ seq: number; expected: string; actual: string }> = [];
  const scratch = recover(journal, {
    from_scratch: true, on_progress: progress('replay'),
    on_applied: (core, seq) => {
      const expected = snapshots.get(seq);
      if (expected === undefined) return;
      const actual = core.hash();
      if (actual !== expected) mismatches.push({ seq, expected, actual });
    },
  });
  endProgress();
  const fromSnapshot = recover(journal);
  const ok = mismatches.length === 0 && scratch.report.state_hash === fromSnapshot.report.state_hash;
  printJson({
    ok, last_seq: scratch.report.last_seq, replayed: scratch.report.replayed_count,
    state_hash_from_scratch: scratch.report.state_hash, state_hash_from_snapshot: fromSnapshot.report.state_hash,
    snapshot_seq: fromSnapshot.report.snapshot_seq, snapshots_checked: snapshots.size, mismatches,
    replay_commands_per_second: Math.round(scratch.report.replayed_count / (scratch.report.duration_ms / 1000)),
  });
  return ok;
}

async function exportJsonLines(journal: Journal, from: number, to: number | undefined, out: string | undefined): Promise<void> {
  const last = to ?? journal.lastSeq();
  const tick = progress('export');
  function* lines(): Generator<string> {
    for (const record of exportCommands(journal, from, to)) {
      yield JSON.stringify(record) + '\n';
      if (record.seq % 10_000 === 0) tick(record.seq, last);
    }
  }
  if (out !== undefined) {
    // pipeline: backpressure, and a file that cannot be opened or written is an error, not a crash.
    await pipeline(Readable.from(lines()), createWriteStream(out));
  } else {
    for (const line of lines()) {
      if (!process.stdout.write(line)) await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
    }
  }
  endProgress();
}

const COMMANDS = new Set(['start', 'inspect', 'history', 'verify', 'replay', 'snapshot', 'export']);

/** The --to-time option as microseconds; an unparseable time must not silently mean "the end". */
function timeUsOf(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`--to-time must be an ISO time, got ${iso}`);
  return ms * 1000;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'start') {
    // The service has its own options (--config, OMS_* variables): hand them over untouched.
    const { runService } = await import('../gateway/main.js');
    return runService(argv.slice(1), process.env);
  }
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      data: { type: 'string' }, 'to-seq': { type: 'string' }, 'to-time': { type: 'string' }, out: { type: 'string' },
      from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  const command = positionals[0];
  if (command === undefined || values.help === true) {
    const usageError = command === undefined && values.help !== true;
    (usageError ? process.stderr : process.stdout).write(USAGE + '\n');
    return usageError ? 2 : 0;
  }
  // Before opening the journal: a typo is a usage error whether or not the data directory exists.
  if (!COMMANDS.has(command)) {
    process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
    return 2;
  }
  const path = join(values.data ?? process.env.OMS_DATA_DIR ?? DATA_DIR_DEFAULT, 'journal');
  const writes = command === 'snapshot';
  const journal = Journal.open({ path, readOnly: !writes });
  try {
    switch (command) {
      case 'inspect': inspect(journal); return 0;
      case 'history': {
        const clOrdId = positionals[1];
        if (clOrdId === undefined) throw new Error('history needs a ClOrdID');
        printJson(orderHistory(journal, clOrdId).map((r) => ({ ...r, time: isoOf(r.time_us) })));
        return 0;
      }
      case 'verify': return verify(journal) ? 0 : 1;
      case 'replay': {
        const toSeq = values['to-seq'] !== undefined ? Number(values['to-seq'])
          : values['to-time'] !== undefined ? seqAtTime(journal, timeUsOf(values['to-time'])) : undefined;
        if (toSeq !== undefined && !Number.isSafeInteger(toSeq)) throw new Error('--to-seq must be an integer');
        const { core, report } = recover(journal, { to_seq: toSeq, on_progress: progress('replay') });
        endProgress();
        if (values.out !== undefined) writeFileSync(values.out, core.snapshot());
        printJson(summary(core, report));
        return 0;
      }
      case 'snapshot': {
        const { core, report } = recover(journal, { on_progress: progress('replay') });
        endProgress();
        const bytes = core.snapshot();
        await journal.putSnapshot({ seq: core.lastSeq(), state_hash: report.state_hash, bytes, time_us: Date.now() * 1000 });
        printJson({ seq: core.lastSeq(), state_hash: report.state_hash, size_bytes: bytes.length });
        return 0;
      }
      case 'export':
        await exportJsonLines(journal, Number(values.from ?? journal.firstSeq()), values.to === undefined ? undefined : Number(values.to), values.out);
        return 0;
      default:
        process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
        return 2;
    }
  } finally {
    await journal.close();
  }
}

if (isMainModule(import.meta.url)) {
  exitQuietlyOnClosedStdout();
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`oms: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}

export { main };
