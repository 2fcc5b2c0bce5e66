// Invariants: an assertion is cheaper than a corrupted book. A failed one is a bug, never bad input (bad
// input gets a reject with a code); in the core it stops the worker before the command is journaled.

// The message is evaluated before the call: on a per-order path it must be a constant string, or the check
// becomes an `if` that builds its message only when it fails.
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant: ${message}`);
}
