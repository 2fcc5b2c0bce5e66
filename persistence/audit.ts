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

/** The ClOrdID of the NewOrder journaled at `seq` (an order's createdSeq), or null if that entry is not one. */
export function newOrderClOrdIdAt(journal: Journal, seq: number): string | null {
  const entry = [...journal.read(seq, seq)][0];
  if (entry === undefined) return null;
  const body = new CommandDecoder().decode(entry.bytes);
  return body.type === Command.NewOrder ? body.clOrdId : null;
}

/**
 * The full history of an order, from the ClOrdID it was entered with: replays the journal with events on,
 * and keeps each command that names any ClOrdID of the order's chain, with the events it produced. The chain
 * is followed forwards, so a later ClOrdID (after a replace) would miss what came before it: see orderHistory.
 */
export function orderHistoryFrom(journal: Journal, originalClOrdId: string): AuditRecord[] {
  const core = new Core();
  const decoder = new CommandDecoder();
  const chain = new Set([originalClOrdId]);
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

/**
 * The full history of the order that ever carried `clOrdId` (any ClOrdID of its chain). Finding the order's
 * first ClOrdID takes a recovery; a caller that knows the order's createdSeq should use newOrderClOrdIdAt and
 * orderHistoryFrom instead (the HTTP API's history task does).
 */
export function orderHistory(journal: Journal, clOrdId: string): AuditRecord[] {
  const order = recover(journal).core.state.ordersByClOrdId.get(clOrdId);
  const original = order === undefined ? null : newOrderClOrdIdAt(journal, order.createdSeq);
  return orderHistoryFrom(journal, original ?? clOrdId);
}
