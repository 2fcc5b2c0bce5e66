// Invariants: an assertion is cheaper than a corrupted book. A failed one is a bug, never bad input (bad
// input gets a reject with a code); in the core it stops the worker before the command is journaled.

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant: ${message}`);
}
