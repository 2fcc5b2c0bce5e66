// The journal as an audit trail. Results are not stored: the core is deterministic, so replaying the journal
// regenerates every result exactly as it was sent. An order's history is every command that touched it
// with who sent it, when, from which session, and what the core answered.

import { Command } from '../schemas/generated/oms_generated.js';
import type { CommandBody, EnvelopeHeader } from '../schemas/commands.js';
import { describeCommand, describeEvent } from '../schemas/describe.js';
import { decodeResultBatch } from '../schemas/results.js';
import { Core } from '../core/core.js';
import { CommandDecoder } from '../core/decode.js';
import type { Journal } from './journal.js';
import { recover } from './recovery.js';

export interface AuditRecord {
  seq: number;
  time_us: number;
  user_id: number;
  session_id: number;
  request_id: number;
  command: Record<string, unknown>;
  events?: Array<Record<string, unknown>>;
}

function record(seq: number, header: EnvelopeHeader, body: CommandBody): AuditRecord {
  return {
    seq, time_us: header.timeUs, user_id: header.userId, session_id: header.sessionId, request_id: header.requestId,
    command: describeCommand(body),
  };
}

/** Every journaled command in [fromSeq, toSeq], decoded; the caller streams them (JSON lines export). */
export function* exportCommands(journal: Journal, fromSeq: number, toSeq?: number): Generator<AuditRecord> {
  const decoder = new CommandDecoder();
  for (const entry of journal.read(fromSeq, toSeq)) {
    const body = decoder.decode(entry.bytes);
    yield record(entry.seq, decoder.header, body);
  }
}

/** Last sequence number whose command time is at or before timeUs (journal time is monotone per gateway). */
export function seqAtTime(journal: Journal, timeUs: number): number {
  const decoder = new CommandDecoder();
  let last = 0;
  for (const entry of journal.read(journal.firstSeq(), journal.lastSeq())) {
    decoder.decode(entry.bytes);
    if (decoder.header.timeUs > timeUs) break;
    last = entry.seq;
  }
  return last;
}

function mentions(body: CommandBody, clOrdIds: Set<string>): boolean {
  switch (body.type) {
    case Command.NewOrder: return clOrdIds.has(body.clOrdId) || clOrdIds.has(body.parentClOrdId);
    case Command.CancelOrder:
    case Command.ReplaceOrder:
    case Command.VenueExecReport:
    case Command.VenueCancelReject:
      return clOrdIds.has(body.clOrdId) || clOrdIds.has(body.origClOrdId);
    default: return false;
  }
}

/**
 * The ClOrdID the order was entered with, given any ClOrdID of its cancel/replace chain: the history is
 * followed forwards from the NewOrder, so starting from a later ClOrdID would lose what came before it.
 */
function originalClOrdId(journal: Journal, clOrdId: string): string {
  const order = recover(journal).core.state.ordersByClOrdId.get(clOrdId);
  if (order === undefined) return clOrdId;
  const entry = [...journal.read(order.createdSeq, order.createdSeq)][0];
  if (entry === undefined) return clOrdId;
  const body = new CommandDecoder().decode(entry.bytes);
  return body.type === Command.NewOrder ? body.clOrdId : clOrdId;
}

/**
 * The full history of the order that ever carried `clOrdId`: replays the journal with events on, and keeps
 * each command that names any ClOrdID of the order's chain, with the events it produced for that order.
 */
export function orderHistory(journal: Journal, clOrdId: string): AuditRecord[] {
  const core = new Core();
  const decoder = new CommandDecoder();
  const chain = new Set([originalClOrdId(journal, clOrdId)]);
  const history: AuditRecord[] = [];
  for (const entry of journal.read(journal.firstSeq(), journal.lastSeq())) {
    const body = decoder.decode(entry.bytes);
    const relevant = mentions(body, chain);
    // Only the commands that touch the order need their events encoded; the rest just advance the state.
    core.out.muted = !relevant;
    core.out.beginBatch();
    core.replay(entry.seq, entry.bytes);
    if (!relevant) continue;
    const events = decodeResultBatch(core.out.finishBatch())[0].events;
    for (const event of events) {
      if (event.kind === 'execution_report' || event.kind === 'cancel_reject') {
        if (event.clOrdId.length > 0) chain.add(event.clOrdId);
      }
    }
    history.push({ ...record(entry.seq, decoder.header, body), events: events.map(describeEvent) });
  }
  return history;
}
