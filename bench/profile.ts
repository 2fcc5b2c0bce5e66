// Profiles the core's new-order path in-process (CPU profile of the timed loop only, not the setup).
// Usage: node --import tsx bench/profile.ts [--muted] [--orders N]  -> bench/results/core.cpuprofile
// Open the file in Chrome DevTools (Performance) or any .cpuprofile viewer. For line-level ticks, bundle
// first (tsx emits single-line code): npx esbuild bench/profile.ts --bundle --platform=node --format=esm
// --outfile=/tmp/profile.mjs && node /tmp/profile.mjs

import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import * as flatbuffers from 'flatbuffers';
import { Core } from '../core/core.js';
import { newOrderFrames, setupFrames } from './support.js';

const { values } = parseArgs({ options: { muted: { type: 'boolean' }, orders: { type: 'string' } } });
const count = Number(values.orders ?? 300_000);
const batchSize = 1024;
const builder = new flatbuffers.Builder(1024);
const frames = newOrderFrames(builder, count);
const core = new Core();
core.out.beginBatch();
for (const frame of setupFrames(builder)) core.submit(frame);
core.out.finishBatch();
core.out.muted = values.muted === true;

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
for (let i = 0; i < count; i += batchSize) {
  core.out.beginBatch();
  for (let j = i; j < Math.min(count, i + batchSize); j++) core.submit(frames[j]);
  core.out.finishBatch();
}
const { profile } = await session.post('Profiler.stop');
const dir = new URL('./results/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}core.cpuprofile`, JSON.stringify(profile));
process.stdout.write(`wrote ${dir}core.cpuprofile\n`);
