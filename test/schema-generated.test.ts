// The generated TypeScript is committed (npm ci needs no compiler); this fails when it is stale, i.e. when
// schemas/oms.fbs changed without `npm run gen:schemas`. Without flatc it is skipped, and says so.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const hasFlatc = spawnSync('flatc', ['--version']).status === 0;
if (!hasFlatc) {
  process.stderr.write('schema-generated.test.ts: flatc is not installed (apt-get install flatbuffers-compiler); the freshness check is SKIPPED\n');
}

describe('generated schema code', () => {
  it.skipIf(!hasFlatc)('matches what flatc generates from schemas/oms.fbs', () => {
    const out = mkdtempSync(join(tmpdir(), 'oms-gen-'));
    try {
      execFileSync(join(root, 'scripts/gen-schemas.sh'), [out], { cwd: root });
      const committedDir = join(root, 'schemas/generated');
      const files = readdirSync(out).sort();
      expect(files).toEqual(readdirSync(committedDir).sort());
      for (const file of files) {
        expect(readFileSync(join(out, file), 'utf8'), `${file} is stale: run npm run gen:schemas`).toBe(readFileSync(join(committedDir, file), 'utf8'));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
