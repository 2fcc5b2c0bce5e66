// A small seeded pseudo-random generator (mulberry32) for simulations and tests. Math.random cannot be
// seeded, so a run that used it could not be reproduced; with this, the same seed gives the same run.
// Not for anything secret: 32 bits of state, predictable by design.

const U32_RANGE = 2 ** 32;

export class Prng {
  private state: number;

  /** `seed` is any integer in [0, 2^32); two generators with the same seed yield the same sequence. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= U32_RANGE) {
      throw new Error(`invariant: PRNG seed must be an integer in [0, 2^32), got ${seed}`);
    }
    this.state = seed;
  }

  /** The next 32-bit unsigned integer (mulberry32: one add, two multiply-xorshift rounds). */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1): never 1, so `chance(1)` is always true and `chance(0)` always false. */
  nextFloat(): number {
    return this.nextU32() / U32_RANGE;
  }

  /** True with probability `probability` (0..1). */
  chance(probability: number): boolean {
    if (!(probability >= 0 && probability <= 1)) throw new Error(`invariant: probability ${probability} outside [0, 1]`);
    return this.nextFloat() < probability;
  }

  /** Uniform integer in [min, max] (inclusive); the span must fit 32 bits. */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min || max - min >= U32_RANGE) {
      throw new Error(`invariant: bad integer range [${min}, ${max}]`);
    }
    // Modulo bias is at most span / 2^32: irrelevant for simulation draws.
    return min + (this.nextU32() % (max - min + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('invariant: pick from an empty array');
    return items[this.int(0, items.length - 1)];
  }
}
