// Piscina task: one order's full history, by deterministic replay of the journal (persistence/audit.ts).
// Replaying a journal takes seconds for millions of commands, so the HTTP API runs it here, in a pool
// thread, never on the gateway's event loop. The thread opens the journal read-only for the one task and
// closes it again: nothing but the answer leaves the thread.
//
// Loaded through gateway/history-task-boot.mjs, which registers the TypeScript loader in the pool thread
// (worker threads do not inherit the main thread's loader).

import type { AuditRecord } from '../persistence/audit.js';
import { newOrderClOrdIdAt, orderHistoryFrom } from '../persistence/audit.js';
import { Journal } from '../persistence/journal.js';

/** Records one answer carries at most; a longer history is cut (oldest kept) and flagged `truncated`. */
export const HISTORY_RECORDS_MAX = 10_000;

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

export default async function historyTask(task: HistoryTask): Promise<HistoryResult> {
  assert(typeof task.journal_path === 'string' && task.journal_path.length > 0, 'journal_path is required');
  assert(Number.isSafeInteger(task.created_seq) && task.created_seq >= 1, `created_seq must be a positive integer, got ${task.created_seq}`);
  assert(Number.isSafeInteger(task.to_seq) && task.to_seq >= task.created_seq, `to_seq ${task.to_seq} is before created_seq ${task.created_seq}`);
  const journal = Journal.open({ path: task.journal_path, readOnly: true });
  try {
    // The replica gave us the order's createdSeq, so its first ClOrdID is one journal read away (no recovery).
    const original = newOrderClOrdIdAt(journal, task.created_seq);
    assert(original !== null, `journal entry ${task.created_seq} is not the order's NewOrder`);
    const all = orderHistoryFrom(journal, original).filter((r) => r.seq <= task.to_seq);
    return { original_cl_ord_id: original, records: all.slice(0, HISTORY_RECORDS_MAX), truncated: all.length > HISTORY_RECORDS_MAX };
  } finally {
    await journal.close();
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`history: ${message}`);
}
