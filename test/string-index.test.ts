// The core's string index (ClOrdIDs, venue exec ids) against a Map as the model: same answers, same iteration order, through many
// growths of its table, probe runs that wrap past its last slot, and full 32-bit hash collisions.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StringIndex, stringHash } from '../core/string-index.js';

const SEED = 0x5eed;

/** Keys whose slot in a table of `capacity` slots (seeded with SEED) is the last one. */
function keysAimedAtLastSlot(capacity: number, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count && i < 10_000_000; i++) {
    const key = `${prefix}${i}`;
    if ((stringHash(key, SEED) & (capacity - 1)) === capacity - 1) keys.push(key);
  }
  expect(keys.length).toBe(count);
  return keys;
}

describe('StringIndex', () => {
  it('answers like a Map and iterates in insertion order, through several growths (property)', () => {
    // Short keys over a small alphabet: many repeats (overwrites, hits), thousands of distinct keys (the
    // first growth is at 2,048 entries), and many probes per table size.
    const key = fc.string({ unit: fc.constantFrom('A', 'B', 'c', '1', '-', 'é'), minLength: 1, maxLength: 7 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }),
      fc.record({ kind: fc.constant('get' as const), key }),
    );
    let grown = 0;
    fc.assert(fc.property(fc.integer(), fc.array(op, { minLength: 6_000, maxLength: 12_000 }), (seed, ops) => {
      const index = new StringIndex<number>(seed);
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
      for (const k of model.keys()) expect(index.get(k)).toBe(model.get(k));
      if (index.capacity > 4096) grown += 1;
    }), { numRuns: 8 });
    expect(grown).toBeGreaterThan(0);
  });

  it('wraps a probe run past the last slot, before and after growing, and overwrites in place', () => {
    const index = new StringIndex<number>(SEED);
    const capacity = index.capacity;
    const [a, b, c, absent] = keysAimedAtLastSlot(capacity, 4, 'W');
    index.set(a, 1).set(b, 2).set(c, 3);
    expect([index.get(a), index.get(b), index.get(c), index.has(absent)]).toEqual([1, 2, 3, false]);
    for (let i = 0; i < capacity; i++) index.set(`fill-${i}`, i);
    expect(index.capacity).toBeGreaterThan(capacity);
    index.set(b, 20);
    expect([index.get(a), index.get(b), index.get(c), index.has(absent), index.size]).toEqual([1, 20, 3, false, capacity + 3]);
    expect([...index].slice(0, 3)).toEqual([[a, 1], [b, 20], [c, 3]]);
  });

  it('holds 100,000 ClOrdIDs and finds each, and no other', () => {
    const index = new StringIndex<number>();
    for (let i = 0; i < 100_000; i++) index.set(`ORD-${i}`, i);
    for (let i = 0; i < 100_000; i += 997) expect(index.get(`ORD-${i}`)).toBe(i);
    expect(index.has('ORD-100000')).toBe(false);
    expect(index.has('')).toBe(false);
    expect(index.size).toBe(100_000);
  });

  it('keeps keys apart whose hashes collide', () => {
    // Two different keys with the same 32-bit hash under SEED: a birthday search over pseudo-random 8-letter
    // keys (about 10 collisions expected in 300,000; a fixed PRNG seed makes the search repeatable).
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
      const h = stringHash(k, SEED);
      const other = seen.get(h);
      if (other !== undefined && other !== k) pair = [other, k];
      seen.set(h, k);
    }
    expect(pair).not.toBeNull();
    const [a, b] = pair as [string, string];
    const index = new StringIndex<string>(SEED);
    index.set(a, 'a');
    expect(index.has(b)).toBe(false);
    index.set(b, 'b');
    expect([index.get(a), index.get(b), index.size]).toEqual(['a', 'b', 2]);
  });

  it('scatters ids that collide under an unseeded FNV-1a (the precomputable attack)', () => {
    // Each block is a pair of 4-character strings that leave FNV-1a (standard basis) in the same state from
    // the state the previous block left (found by a birthday search): chained, 2^3 ids share one unseeded
    // hash, and 16 blocks in a 64-byte id would give 65,536. Seeded, they spread like any ids.
    const blocks = [['TGkH', 'h0AA'], ['IM8F', 'U2LA'], ['IA4x', 'e0PA']];
    const unseeded = (key: string): number => {
      let hash = 0x811c9dc5 | 0;
      for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
      return hash;
    };
    const ids = Array.from({ length: 8 }, (_, n) => blocks.map((pair, bit) => pair[(n >> bit) & 1]).join(''));
    expect(new Set(ids).size).toBe(8);
    expect(new Set(ids.map(unseeded)).size).toBe(1);
    expect(new Set(ids.map((id) => stringHash(id, SEED))).size).toBe(8);
  });
});
