// Profiles the core's new-order path in-process (CPU profile of the timed loop only, not the setup).
// Usage: node --import tsx bench/profile.ts [--muted] [--journal] [--orders N] -> bench/results/core.cpuprofile
// --journal appends each batch to a durable LMDB journal in a temporary directory, eight group commits in
// flight, as the core bench does. Open the file in Chrome DevTools (Performance) or any .cpuprofile viewer.
// For line-level ticks, bundle first (tsx emits single-line code): npx esbuild bench/profile.ts --bundle
// --platform=node --format=esm --external:lmdb --outfile=/tmp/profile.mjs && node /tmp/profile.mjs

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as flatbuffers from 'flatbuffers';
import { Core } from '../core/core.js';
import { Journal } from '../persistence/journal.js';
import type { JournalEntry } from '../persistence/journal.js';
import { newOrderFrames, setupFrames } from './support.js';

const FLUSHES_IN_FLIGHT_MAX = 8;
const { values } = parseArgs({ options: { muted: { type: 'boolean' }, journal: { type: 'boolean' }, orders: { type: 'string' } } });
const count = Number(values.orders ?? 300_000);
const batchSize = 1024;
const builder = new flatbuffers.Builder(1024);
const frames = newOrderFrames(builder, count);
const core = new Core();
const setup = setupFrames(builder);
core.out.beginBatch();
for (const frame of setup) core.submit(frame);
core.out.finishBatch();
// The journal below stores the setup as seqs 1..n: the core must have taken exactly those.
if (core.lastSeq() !== setup.length) throw new Error('setup frames were not all journaled');
core.out.muted = values.muted === true;
const journalDir = values.journal === true ? mkdtempSync(join(tmpdir(), 'oms-profile-')) : null;
const journal = journalDir === null ? null : Journal.open({ path: journalDir });
journal?.append(setup.map((bytes, i) => ({ seq: i + 1, bytes })));

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const inFlight: Array<Promise<void>> = [];
for (let i = 0; i < count; i += batchSize) {
  const entries: JournalEntry[] = [];
  core.out.beginBatch();
  for (let j = i; j < Math.min(count, i + batchSize); j++) {
    const seq = core.submit(frames[j]);
    if (seq === 0) throw new Error('bench frame undecodable');
    entries.push({ seq, bytes: frames[j] });
  }
  core.out.finishBatch();
  if (journal === null) continue;
  journal.append(entries);
  inFlight.push(journal.flush());
  if (inFlight.length >= FLUSHES_IN_FLIGHT_MAX) await inFlight.shift();
}
await Promise.all(inFlight);
const { profile } = await session.post('Profiler.stop');
await journal?.close();
if (journalDir !== null) rmSync(journalDir, { recursive: true, force: true });
const dir = new URL('./results/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}core.cpuprofile`, JSON.stringify(profile));
process.stdout.write(`wrote ${dir}core.cpuprofile\n`);
