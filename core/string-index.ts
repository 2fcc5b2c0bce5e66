// The core's large string-keyed tables: orders by ClOrdID (every ClOrdID ever accepted, originals and
// replacements, for duplicate detection and for the cancels, replaces and venue reports that name an order)
// and the venue executions already applied ("venueId:execId", so that a resent fill is ignored). Entries are
// never removed: FIX forbids reusing a ClOrdID, and a late or resent venue report must still be recognised.
//
// Why not a Map or Set: with a million entries, Map.has of a new key walked a bucket chain in V8's ordered
// hash table, touching each entry and its key string: it was the single largest cost of a new order in the
// core profile (about 0.5 us), and the Set of exec ids the largest of a replayed fill. Here one probe
// sequence in an Int32Array of (hash, entry) pairs answers a miss with one cache line; a hit compares one
// string.
//
// Iteration follows insertion order, like a Map's, so snapshots and state hashes do not depend on the
// table's layout.
//
// The hash is seeded per process, like V8's own string hash: ClOrdIDs come from clients (exec ids from
// venues), and with a fixed hash anyone who may place orders could precompute thousands of colliding ids
// (FNV-1a collisions chain block by block) and make every insert walk one long probe run — a quadratic
// slowdown that replay would repeat. The seed changes only where entries sit in the table, never an answer or the iteration order, so
// the core stays deterministic.

import { getRandomValues } from 'node:crypto';
import { assert } from './assert.js';

const EMPTY = 0;
/** Grow past half full: linear probing stays short (about 2.5 probes per miss at worst). */
const LOAD_FACTOR_MAX = 0.5;
const INITIAL_CAPACITY = 1 << 12;
/** 2^30 slots is 8 GiB of table: far beyond any journal we can replay; reaching it is a bug. */
const CAPACITY_MAX = 1 << 30;

const PROCESS_SEED = getRandomValues(new Int32Array(1))[0];

/**
 * FNV-1a over UTF-16 code units from a seeded basis, then murmur3's finaliser: cheap, keys that differ in
 * one character land apart, and colliding keys cannot be computed without the seed.
 */
export function stringHash(key: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) | 0;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}

export class StringIndex<V> {
  private readonly keys: string[] = [];
  private readonly values: V[] = [];
  /** Pairs (hash, entry index + 1); entry 0 marks an empty slot. */
  private table = new Int32Array(2 * INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  // The core asks has(key) and then set(key) for the same new key: hash it once.
  private lastKey = '';
  private lastHash: number;

  /** `seed`: tests fix it to place keys in chosen slots; otherwise the process's random seed. */
  constructor(private readonly seed: number = PROCESS_SEED) {
    this.lastHash = stringHash('', seed);
  }

  /** Slots in the table now (a power of two); tests use it to aim keys at its edges. */
  get capacity(): number {
    return this.mask + 1;
  }

  get size(): number {
    return this.keys.length;
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  get(key: string): V | undefined {
    const entry = this.find(key);
    return entry < 0 ? undefined : this.values[entry];
  }

  set(key: string, value: V): this {
    const hash = this.hash(key);
    const table = this.table;
    let slot = hash & this.mask;
    for (let probes = 0; probes <= this.mask; probes++) {
      const entry = table[2 * slot + 1];
      if (entry === EMPTY) {
        this.insert(slot, hash, key, value);
        return this;
      }
      if (table[2 * slot] === hash && this.keys[entry - 1] === key) {
        this.values[entry - 1] = value;
        return this;
      }
      slot = (slot + 1) & this.mask;
    }
    throw new Error('invariant: string index full');
  }

  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i], this.values[i]];
  }

  entries(): IterableIterator<[string, V]> {
    return this[Symbol.iterator]();
  }

  /** Entry index of `key`, or -1. */
  private find(key: string): number {
    const hash = this.hash(key);
    const table = this.table;
    let slot = hash & this.mask;
    for (let probes = 0; probes <= this.mask; probes++) {
      const entry = table[2 * slot + 1];
      if (entry === EMPTY) return -1;
      if (table[2 * slot] === hash && this.keys[entry - 1] === key) return entry - 1;
      slot = (slot + 1) & this.mask;
    }
    return -1;
  }

  private hash(key: string): number {
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastHash = stringHash(key, this.seed);
    }
    return this.lastHash;
  }

  private insert(slot: number, hash: number, key: string, value: V): void {
    this.keys.push(key);
    this.values.push(value);
    this.table[2 * slot] = hash;
    this.table[2 * slot + 1] = this.keys.length;
    if (this.keys.length > (this.mask + 1) * LOAD_FACTOR_MAX) this.grow();
  }

  private grow(): void {
    const capacity = 2 * (this.mask + 1);
    assert(capacity <= CAPACITY_MAX, 'string index beyond its maximum capacity');
    const old = this.table;
    const table = new Int32Array(2 * capacity);
    const mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      const entry = old[i + 1];
      if (entry === EMPTY) continue;
      // The new table is at most a quarter full: an empty slot is always near.
      let slot = old[i] & mask;
      for (let probes = 0; table[2 * slot + 1] !== EMPTY; probes++) {
        assert(probes <= mask, 'string index rehash found no empty slot');
        slot = (slot + 1) & mask;
      }
      table[2 * slot] = old[i];
      table[2 * slot + 1] = entry;
    }
    this.table = table;
    this.mask = mask;
  }
}
