// The core's ClOrdID index against a Map as the model: same answers, same iteration order, through many
// growths of its table.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClOrdIdIndex, clOrdIdHash } from '../core/clordid-index.js';

describe('ClOrdIdIndex', () => {
  it('answers like a Map and iterates in insertion order (property)', () => {
    // Short keys over a small alphabet: many repeats (overwrites, hits) and many probes in each table size.
    const key = fc.string({ unit: fc.constantFrom('A', 'B', 'c', '1', '-', 'é'), maxLength: 6 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }),
      fc.record({ kind: fc.constant('get' as const), key }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 12_000 }), (ops) => {
      const index = new ClOrdIdIndex<number>();
      const model = new Map<string, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          index.set(o.key, o.value);
          model.set(o.key, o.value);
        } else {
          expect(index.get(o.key)).toBe(model.get(o.key));
          expect(index.has(o.key)).toBe(model.has(o.key));
        }
      }
      expect(index.size).toBe(model.size);
      expect([...index]).toEqual([...model]);
    }), { numRuns: 40 });
  });

  it('holds 100,000 ClOrdIDs and finds each, and no other', () => {
    const index = new ClOrdIdIndex<number>();
    for (let i = 0; i < 100_000; i++) index.set(`ORD-${i}`, i);
    for (let i = 0; i < 100_000; i += 997) expect(index.get(`ORD-${i}`)).toBe(i);
    expect(index.has('ORD-100000')).toBe(false);
    expect(index.has('')).toBe(false);
    expect(index.size).toBe(100_000);
  });

  it('keeps keys apart whose hashes collide', () => {
    // Find two different keys with the same 32-bit hash: a birthday search over pseudo-random 8-letter keys
    // (about 10 collisions expected in 300,000; a fixed seed makes the search repeatable).
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    let state = 12345;
    const letter = (): string => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return String.fromCharCode(65 + (state >>> 16) % 26);
    };
    for (let i = 0; pair === null && i < 300_000; i++) {
      let k = '';
      for (let j = 0; j < 8; j++) k += letter();
      const h = clOrdIdHash(k);
      const other = seen.get(h);
      if (other !== undefined && other !== k) pair = [other, k];
      seen.set(h, k);
    }
    expect(pair).not.toBeNull();
    const [a, b] = pair as [string, string];
    const index = new ClOrdIdIndex<string>();
    index.set(a, 'a');
    expect(index.has(b)).toBe(false);
    index.set(b, 'b');
    expect([index.get(a), index.get(b), index.size]).toEqual(['a', 'b', 2]);
  });
});
