// Piscina task: one order's full history, by deterministic replay of the journal (persistence/audit.ts).
// Replaying a journal takes seconds for millions of commands, so the HTTP API runs it here, in a pool
// thread, never on the gateway's event loop, at the lowest CPU priority. The thread keeps the journal open
// read-only (see journalFor): nothing but the answer leaves the thread.
//
// Loaded through gateway/history-task-boot.mjs, which registers the TypeScript loader in the pool thread
// (worker threads do not inherit the main thread's loader).

import type { AuditRecord } from '../persistence/audit.js';
import { newOrderClOrdIdAt, orderHistoryFrom } from '../persistence/audit.js';
import { Journal } from '../persistence/journal.js';
import { assert } from '../core/assert.js';
import { lowerThisThreadsPriority } from '../persistence/thread-priority.js';

/** Records one answer carries at most; a longer history is cut (oldest kept) and flagged `truncated`. */
export const HISTORY_RECORDS_MAX = 10_000;

// Replays are reports, never the order path (persistence/thread-priority.ts).
lowerThisThreadsPriority();

export interface HistoryTask {
  journal_path: string;
  /** Journal seq of the order's NewOrder (Order.createdSeq): its ClOrdID starts the chain. */
  created_seq: number;
  /**
   * The last seq the gateway has acknowledged (its replica's): later entries may be journaled but not yet
   * durable, so they are left out and the history agrees with what the API has answered.
   */
  to_seq: number;
}

export interface HistoryResult {
  /** The ClOrdID the order was entered with (the start of its chain). */
  original_cl_ord_id: string;
  records: AuditRecord[];
  truncated: boolean;
}

/**
 * The journal, opened read-only once per pool thread and kept: opening and closing it per task maps and
 * unmaps the whole file each time, and an munmap in a multi-threaded process stalls every thread's page
 * faults (the core's included) while it runs. Each read transaction still sees the latest commit. The
 * thread's environment goes with the thread (Piscina's idle timeout).
 */
const journals = new Map<string, Journal>();
/** Journals one pool thread keeps open (one per service; more would mean a misuse). */
const JOURNALS_PER_THREAD_MAX = 4;

function journalFor(path: string): Journal {
  const open = journals.get(path);
  if (open !== undefined) return open;
  assert(journals.size < JOURNALS_PER_THREAD_MAX, `a pool thread asked for more than ${JOURNALS_PER_THREAD_MAX} journals`);
  const journal = Journal.open({ path, readOnly: true });
  journals.set(path, journal);
  return journal;
}

export default async function historyTask(task: HistoryTask): Promise<HistoryResult> {
  assert(typeof task.journal_path === 'string' && task.journal_path.length > 0, 'journal_path is required');
  assert(Number.isSafeInteger(task.created_seq) && task.created_seq >= 1, `created_seq must be a positive integer, got ${task.created_seq}`);
  assert(Number.isSafeInteger(task.to_seq) && task.to_seq >= task.created_seq, `to_seq ${task.to_seq} is before created_seq ${task.created_seq}`);
  const journal = journalFor(task.journal_path);
  // The replica gave us the order's createdSeq, so its first ClOrdID is one journal read away (no recovery).
  const original = newOrderClOrdIdAt(journal, task.created_seq);
  assert(original !== null, `journal entry ${task.created_seq} is not the order's NewOrder`);
  const all = orderHistoryFrom(journal, original).filter((r) => r.seq <= task.to_seq);
  return { original_cl_ord_id: original, records: all.slice(0, HISTORY_RECORDS_MAX), truncated: all.length > HISTORY_RECORDS_MAX };
}


