// Background threads that read the journal (order history in the pool, the snapshot builder) run at the
// lowest CPU priority: on a box with few cores the scheduler must hand the gateway and core threads the CPU
// first. Linux keeps a nice value per thread, and setpriority() given a thread id changes only that thread;
// Node has no API for its own thread id, /proc/thread-self names it.

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value of a background thread (19: the lowest priority). */
export const BACKGROUND_THREAD_NICE = 19;

/** Lowers the calling thread's priority; returns its thread id, or null where that is not possible. */
export function lowerThisThreadsPriority(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return null;
    setPriority(tid, BACKGROUND_THREAD_NICE);
    return tid;
  } catch {
    // Not Linux, or no /proc: the thread runs at normal priority (scenario 7 of the benchmarks shows the cost).
    return null;
  }
}
