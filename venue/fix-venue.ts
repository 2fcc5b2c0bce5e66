// One execution venue reached over FIX 4.4: the adapter between the core's VenueRequest events and a FIX
// initiator session. It owns the session's life (connect, logon timeout, back-off, schedule, admin
// disconnect), sends what the core asks, and turns what the venue says into venue commands journaled
// like any other (via `submit`, as the Venue-role user).
//
// Guarantees, and how:
//   - Nothing the venue said is lost: an incoming number counts as handled only once its command is
//     journaled (SeqStore's durable watermark); a crash before that makes the next logon ask for it again.
//   - Nothing is applied twice: fills are de-duplicated by the core on (order, ExecID) (fix-mapping execKey).
//   - No outcome is guessed: a request the session cannot send is refused at once (the core answers the
//     client); a request sent but unanswered when the connection dropped is asked about (OrderStatusRequest)
//     after the next logon, and the order stays pending until the venue says.
//
// Interface:
//   const venue = new FixVenue(deps); venue.start();
//   venue.handle(request)        // a VenueRequestData for this venue
//   venue.disconnect() / venue.connect()   // admin: logout and stay down / reconnect
//   venue.status()               // for metrics and the HTTP API
//   await venue.close()          // logout, stop reconnecting

import { join } from 'node:path';
import type { MsgView } from 'jspurefix';
import { OrdStatus, RejectCode } from '../schemas/generated/oms_generated.js';
import { assert } from '../core/assert.js';
import type { VenueCancelRejectCmd, VenueExecReportCmd } from '../schemas/commands.js';
import type { CommandResultData, VenueRequestData } from '../schemas/results.js';
import type { Order } from '../core/model.js';
import type { CoreState } from '../core/state.js';
import { backoffDelayMs } from '../gateway/client.js';
import type { FixVenueConfig } from './fix-venue-config.js';
import { inSchedule } from './fix-venue-config.js';
import type { Inbound, SentRequest } from './fix-mapping.js';
import {
  MSG_TYPE, TAG, findOrder, fromExecutionReport, fromOrderCancelReject, fromRequestReject, outboundFor, statusRequestFor, unsentAnswer,
} from './fix-mapping.js';
import type { FixLog, SessionHooks } from './fix-session.js';
import { InOrderGate } from './inbound-order.js';
import { SeqStore, SessionId, sessionDescription, VenueFixSession, VenueLauncher } from './fix-session.js';

export type VenueCommand = VenueExecReportCmd | VenueCancelRejectCmd;

/** A venue message waiting for its turn (the view is a copy when it had to wait). */
interface Incoming {
  kind: 'application' | 'reject' | 'session';
  msgType: string;
  /** Null for a marker that only takes its number's turn (the venue's Logon). */
  view: MsgView | null;
  possDup: boolean;
  epoch: number;
}

export interface FixVenueDeps {
  venue: FixVenueConfig;
  /** Where the session's sequence numbers live (`<data.dir>/fix/<name>` unless configured). */
  storeDir: string;
  /** The gateway's replica: read only, to find orders and instruments. */
  state: CoreState;
  /** Journals a venue command; resolves with its durable result. */
  submit(command: VenueCommand): Promise<CommandResultData>;
  log: FixLog;
  nowMs?: () => number;
}

export type VenueSessionState = 'admin_down' | 'out_of_schedule' | 'connecting' | 'logged_on' | 'backoff' | 'closed';

export interface VenueStatus {
  venue_id: number;
  name: string;
  state: VenueSessionState;
  logged_on: boolean;
  host: string;
  port: number;
  sender_comp_id: string;
  target_comp_id: string;
  next_sender_seq: number;
  /** Incoming: everything below this is journaled. */
  durable_target_seq: number;
  messages_in: number;
  messages_out: number;
  /** Session Rejects (35=3) and BusinessMessageRejects (35=j) the venue sent us. */
  rejects_in: number;
  /** Venue messages we could not apply (unknown order, bad value, ...): flagged for operations. */
  refused_in: number;
  /** Garbled frames (bad checksum or body length) dropped before the session layer. */
  garbled_in: number;
  logons: number;
  connect_failures: number;
  status_requests_sent: number;
  last_error: string;
  last_logon_time: string;
}

/** An answer to a request we could not send is retried this often (the core queue full) before it is given up. */
export const UNSENT_ANSWER_ATTEMPTS_MAX = 8;
const UNSENT_ANSWER_RETRY_MS_MIN = 50;
const UNSENT_ANSWER_RETRY_MS_MAX = 5_000;
/** Status requests sent after one logon at most (the rest wait for the next logon, and are logged). */
export const RECONCILE_REQUESTS_MAX = 5_000;
/** A session that stays logged on this many heartbeat intervals resets the reconnect back-off. */
const STABLE_SESSION_HEARTBEATS = 2;
/** A gap in the venue's numbers left open this many heartbeat intervals resynchronises the session. */
const GAP_WAIT_HEARTBEATS = 2;
/** How often the schedule window is re-checked, while out of it and while logged on. */
const SCHEDULE_CHECK_MS = 1000;
/** A graceful logout waits this long for the venue's answer before the connection is dropped. */
const LOGOUT_WAIT_MS = 3000;
/** The venue's text (58) kept in a refusal we log. */
const LOG_TEXT_CHARS_MAX = 300;

export class FixVenue {
  private readonly venue: FixVenueConfig;
  private readonly store: SeqStore;
  private readonly nowMs: () => number;
  private state: VenueSessionState = 'connecting';
  private session: VenueFixSession | null = null;
  private loggedOn = false;
  private adminDown = false;
  private closed = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private scheduleTimer: NodeJS.Timeout | null = null;
  /** Requests sent and not yet answered, by our MsgSeqNum and by ClOrdID; oldest evicted beyond the limit. */
  private readonly sentBySeq = new Map<number, SentRequest>();
  private readonly sentByClOrdId = new Map<string, SentRequest>();
  private readonly counters = {
    messages_in: 0, messages_out: 0, rejects_in: 0, refused_in: 0, garbled_in: 0, logons: 0, connect_failures: 0, status_requests_sent: 0,
  };
  private lastError = '';
  private lastLogonTime = '';
  /** Venue messages in their MsgSeqNum order (see inbound-order.ts). */
  private readonly gate = new InOrderGate<Incoming>((item, seq) => this.deliver(item, seq));
  /** Set when we logged out: nothing more is sent on this session. */
  private loggingOut = false;
  /** Ends the current attempt's wait for the library (a connect that never completes cannot hold us). */
  private abortAttempt: (() => void) | null = null;
  private loggedOnAtMs = 0;
  /** Numbers connection attempts, so that a late callback of an abandoned one is recognised. */
  private attemptSerial = 0;
  /** The store epoch the request maps belong to: after a sequence reset their numbers mean nothing. */
  private sentEpoch = 0;
  /** Reconciliation waits until every message before the venue's Logon is journaled (its resend done). */
  private reconcileAfterSeq: number | null = null;
  private reconcilePending = false;
  private reconcileTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: FixVenueDeps) {
    this.venue = deps.venue;
    this.nowMs = deps.nowMs ?? Date.now;
    this.store = new SeqStore(new SessionId('FIX.4.4', this.venue.sender_comp_id, this.venue.target_comp_id), deps.storeDir);
  }

  start(): void {
    if (this.loop !== null) return;
    this.loop = this.supervise().catch((error: unknown) => {
      this.deps.log({ event: 'fix_venue_failed', venue: this.venue.name, error: String(error) });
    });
    this.scheduleTimer = setInterval(() => this.checkSchedule(), SCHEDULE_CHECK_MS);
    this.scheduleTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.scheduleTimer !== null) clearInterval(this.scheduleTimer);
    this.endSession('OMS shutting down');
    this.wake?.();
    await this.loop;
    // Handlings still in flight keep their marks in memory only: the next start asks the venue again.
    this.store.close();
    this.state = 'closed';
  }

  /** Admin: log out and stay down until connect(). */
  disconnect(): void {
    this.adminDown = true;
    this.endSession('disconnected by an administrator');
    this.wake?.();
  }

  /** Admin: (re)connect now, skipping any back-off wait. */
  connect(): void {
    this.adminDown = false;
    this.wake?.();
  }

  status(): VenueStatus {
    return {
      venue_id: this.venue.venue_id, name: this.venue.name, state: this.state, logged_on: this.loggedOn,
      host: this.venue.host, port: this.venue.port, sender_comp_id: this.venue.sender_comp_id, target_comp_id: this.venue.target_comp_id,
      next_sender_seq: this.store.senderSeqNum, durable_target_seq: this.store.inbound.next, ...this.counters,
      last_error: this.lastError, last_logon_time: this.lastLogonTime,
    };
  }

  // ---- outbound ------------------------------------------------------------------------------------------

  handle(request: VenueRequestData): void {
    const order = this.deps.state.orders.get(request.orderId);
    const instrument = this.deps.state.instruments.get(request.instrumentId);
    const account = this.deps.state.accounts.get(request.accountId);
    assert(order !== undefined && instrument !== undefined && account !== undefined, `venue request for an order the replica does not know (${request.clOrdId})`);
    const session = this.session;
    if (!this.loggedOn || this.loggingOut || session === null) {
      this.refuseUnsent(request, order.orderId, `venue ${this.venue.name} is not logged on (${this.state}); not sent`);
      return;
    }
    const message = outboundFor(request, instrument, account.name, new Date(this.nowMs()));
    const sent: SentRequest = { msgType: message.msgType, clOrdId: request.clOrdId, origClOrdId: request.origClOrdId };
    const epoch = this.store.epoch;
    session.sendMessage(message.msgType, message.body).then(
      (seq) => this.remember(seq, sent, epoch),
      (error: unknown) => {
        // The encoder refused or the transport was gone: the venue never saw it.
        this.refuseUnsent(request, order.orderId, `venue ${this.venue.name}: not sent (${String(error)})`);
      },
    );
  }

  private refuseUnsent(request: VenueRequestData, orderId: number, why: string): void {
    this.deps.log({ event: 'fix_request_not_sent', venue: this.venue.name, cl_ord_id: request.clOrdId, why });
    this.submitUnsentAnswer(unsentAnswer(request, orderId, why), 0);
  }

  /** Not a venue message (no order among them to keep): retried with back-off while the core's queue is full. */
  private submitUnsentAnswer(command: VenueCommand, attempt: number): void {
    this.deps.submit(command).catch((error: unknown) => {
      if (attempt + 1 < UNSENT_ANSWER_ATTEMPTS_MAX && !this.closed) {
        setTimeout(() => this.submitUnsentAnswer(command, attempt + 1), backoffDelayMs(attempt, UNSENT_ANSWER_RETRY_MS_MIN, UNSENT_ANSWER_RETRY_MS_MAX)).unref();
        return;
      }
      this.deps.log({ event: 'fix_unsent_answer_lost', venue: this.venue.name, cl_ord_id: command.clOrdId, error: String(error), action: 'the order stays pending at the OMS: cancel it there' });
    });
  }

  private remember(seq: number, sent: SentRequest, epoch: number): void {
    if (epoch !== this.store.epoch) return;
    if (this.sentEpoch !== epoch) {
      // A sequence reset happened since these numbers were used: a Reject quoting them means something else.
      this.sentBySeq.clear();
      this.sentEpoch = epoch;
    }
    assert(seq > 0, `a sent message without a MsgSeqNum (${sent.clOrdId})`);
    this.sentBySeq.set(seq, sent);
    this.sentByClOrdId.set(sent.clOrdId, sent);
    // Maps keep insertion order: the first keys are the oldest.
    while (this.sentBySeq.size > this.venue.in_flight_requests_max) this.sentBySeq.delete(this.sentBySeq.keys().next().value as number);
    while (this.sentByClOrdId.size > this.venue.in_flight_requests_max) this.sentByClOrdId.delete(this.sentByClOrdId.keys().next().value as string);
  }

  /** After a logon: ask about every order whose last request to this venue is unanswered. */
  private reconcile(session: VenueFixSession): void {
    const state = this.deps.state;
    let asked = 0;
    let deferred = 0;
    for (const order of state.openOrders) {
      if (order.venueId !== this.venue.venue_id) continue;
      if (order.baseStatus !== OrdStatus.PendingNew && order.pending === null) continue;
      if (asked >= RECONCILE_REQUESTS_MAX) {
        deferred += 1;
        continue;
      }
      asked += 1;
      this.askStatus(session, order);
    }
    if (asked + deferred > 0) this.deps.log({ event: 'fix_reconcile', venue: this.venue.name, status_requests: asked, deferred_to_next_logon: deferred });
  }

  // ---- inbound ---------------------------------------------------------------------------------------------

  /** Every venue message, application or session, enters the gate in the library's delivery order. */
  private receive(kind: Incoming['kind'], msgType: string, view: MsgView, seq: number): void {
    if (seq < 1) return;
    const item: Incoming = { kind, msgType, view, possDup: view.getString(TAG.PossDupFlag) === 'Y' || view.getString(TAG.PossResend) === 'Y', epoch: this.store.epoch };
    // A message that must wait outlives the library's view of it: copied only then.
    const outcome = this.gate.offer(seq, this.gate.isNext(seq) ? item : { ...item, view: view.clone() }, this.nowMs());
    if (outcome === 'overflow') this.resync('too many venue messages waiting above a gap');
  }

  /** A message's turn has come: mapped against the state as it is after every earlier message. */
  private deliver(item: Incoming, seq: number): void {
    if (item.kind === 'session') {
      this.markHandled(seq, seq + 1, item.epoch);
      return;
    }
    assert(item.view !== null, `${item.kind} message ${seq} without a view`);
    this.apply(item.kind === 'reject' ? this.fromReject(item.msgType, item.view) : this.mapApplication(item.msgType, item.view, seq), seq, item);
  }

  private mapApplication(msgType: string, view: MsgView, seq: number): Inbound {
    const state = this.deps.state;
    switch (msgType) {
      case MSG_TYPE.ExecutionReport: return fromExecutionReport(state, this.venue.venue_id, view);
      case MSG_TYPE.OrderCancelReject: {
        this.askAboutIfVenueLostIt(view);
        return fromOrderCancelReject(state, this.venue.venue_id, view);
      }
      case MSG_TYPE.BusinessMessageReject: return this.fromReject(msgType, view);
      default:
        this.session?.sendMessage(MSG_TYPE.BusinessMessageReject, { RefSeqNum: seq, RefMsgType: msgType, BusinessRejectReason: 3, Text: 'Unsupported Message Type' }).catch(() => {});
        return { kind: 'refused', reason: 'unsupported_msg_type', why: `MsgType ${msgType} is not handled` };
    }
  }

  private onSession(msgType: string, view: MsgView, seq: number): void {
    if (msgType === MSG_TYPE.Reject) {
      this.receive('reject', msgType, view, seq);
      return;
    }
    if (msgType === MSG_TYPE.SequenceReset) {
      this.onSequenceReset(view, seq);
      return;
    }
    if (msgType === MSG_TYPE.Logout) this.lastError = `venue logout: ${(view.getString(TAG.Text) ?? '').slice(0, LOG_TEXT_CHARS_MAX)}`;
    this.receive('session', msgType, view, seq);
  }

  private onSequenceReset(view: MsgView, seq: number): void {
    const newSeq = Number(view.getString(TAG.NewSeqNo) ?? 0);
    if (!Number.isSafeInteger(newSeq) || newSeq < 1) return;
    if (view.getString(TAG.GapFillFlag) === 'Y') {
      if (newSeq <= seq) return;
      this.store.markHandled(seq, newSeq, this.store.epoch);
      if (this.gate.offerGapFill(seq, newSeq, this.nowMs()) === 'overflow') this.resync('too many venue messages waiting above a gap');
      this.maybeReconcile();
      return;
    }
    // SequenceReset-Reset: the venue declares every number below NewSeqNo gone for good.
    this.store.resetInbound(newSeq);
    this.gate.reset(newSeq);
  }

  /**
   * A cancel reject saying the venue does not know the order (CxlRejReason 1) or has it done (OrdStatus
   * filled, canceled, rejected, expired) while the OMS has it working: the cancel reject alone would leave
   * it working at the OMS for ever, so the venue is asked for the order's status, whose answer settles it.
   */
  private askAboutIfVenueLostIt(view: MsgView): void {
    const venueDone = ['2', '4', '8', 'C'].includes(view.getString(TAG.OrdStatus) ?? '');
    if (view.getString(TAG.CxlRejReason) !== '1' && !venueDone) return;
    const order = findOrder(this.deps.state, this.venue.venue_id, view.getString(TAG.ClOrdID) ?? '', view.getString(TAG.OrigClOrdID) ?? '');
    const session = this.session;
    if (order === undefined || session === null || !this.loggedOn || this.loggingOut) return;
    this.askStatus(session, order);
  }

  /** OrderStatusRequest for one order; remembered, so that the venue's refusal of it finds the order. */
  private askStatus(session: VenueFixSession, order: Order): void {
    const instrument = this.deps.state.instruments.get(order.instrumentId);
    assert(instrument !== undefined, `order ${order.clOrdId} of an unknown instrument`);
    const message = statusRequestFor(order, instrument);
    const epoch = this.store.epoch;
    session.sendMessage(message.msgType, message.body).then(
      (seq) => {
        this.counters.status_requests_sent += 1;
        this.remember(seq, { msgType: message.msgType, clOrdId: order.clOrdId, origClOrdId: '' }, epoch);
      },
      // The session ended under us: the next logon asks again.
      () => {},
    );
  }

  /** A Reject (3) or BusinessMessageReject (j) of something we sent. */
  private fromReject(msgType: string, view: MsgView): Inbound {
    this.counters.rejects_in += 1;
    const refSeq = Number(view.getString(TAG.RefSeqNum) ?? 0);
    const refMsgType = view.getString(TAG.RefMsgType);
    const bySeq = this.sentBySeq.get(refSeq);
    // A number quoted with another message type is not the request we remember (our gap fills re-use numbers).
    const matching = bySeq !== undefined && (refMsgType === null || refMsgType === bySeq.msgType) ? bySeq : undefined;
    const sent = matching ?? this.sentByClOrdId.get(view.getString(TAG.BusinessRejectRefID) ?? '') ?? this.sentAfterRestart(view);
    if (sent === undefined) {
      return { kind: 'refused', reason: 'unknown_reference', why: `${msgType === MSG_TYPE.Reject ? 'Reject' : 'BusinessMessageReject'} of our MsgSeqNum ${refSeq}, which we no longer remember: ${view.getString(TAG.Text) ?? ''}` };
    }
    return fromRequestReject(this.deps.state, this.venue.venue_id, sent, view, msgType);
  }

  /** A BusinessMessageReject naming our ClOrdID for a request sent before a restart: rebuilt from the order. */
  private sentAfterRestart(view: MsgView): SentRequest | undefined {
    const clOrdId = view.getString(TAG.BusinessRejectRefID) ?? '';
    const refMsgType = view.getString(TAG.RefMsgType) ?? '';
    const order = clOrdId === '' ? undefined : findOrder(this.deps.state, this.venue.venue_id, clOrdId, '');
    if (order === undefined) return undefined;
    return { msgType: refMsgType, clOrdId, origClOrdId: order.pending?.clOrdId === clOrdId ? order.clOrdId : order.origClOrdId };
  }

  private apply(inbound: Inbound, seq: number, item: Incoming): void {
    if (inbound.kind === 'command') {
      this.submitCommand(inbound.command, seq, item);
      return;
    }
    if (inbound.kind === 'refused') {
      this.counters.refused_in += 1;
      this.deps.log({ event: 'fix_message_refused', venue: this.venue.name, reason: inbound.reason, why: inbound.why.slice(0, LOG_TEXT_CHARS_MAX), seq, message: (item.view?.toString() ?? '').slice(0, LOG_TEXT_CHARS_MAX) });
    }
    // Refused or ignored: nothing to journal, and asking for it again would give the same answer.
    this.markHandled(seq, seq + 1, item.epoch);
  }

  /**
   * Journals a venue message's command; the message counts as handled once that is durable. Commands go to
   * the core in the venue's order (the host keeps submission order); one the core cannot take (queue full)
   * is not retried out of order: the session is resynchronised, and the venue resends from the watermark.
   */
  private submitCommand(command: VenueCommand, seq: number, item: Incoming): void {
    const session = this.session;
    this.deps.submit(command).then(
      (result) => {
        this.noteCoreRefusal(command, result, item.possDup);
        this.markHandled(seq, seq + 1, item.epoch);
      },
      (error: unknown) => {
        this.deps.log({ event: 'fix_submit_failed', venue: this.venue.name, error: String(error), cl_ord_id: command.clOrdId, seq });
        if (this.session === session) this.resync('a venue message could not be journaled');
      },
    );
  }

  /**
   * The core refused what the venue said (overfill, a fill for a rejected order, ...): flagged. A duplicate
   * ExecID is expected on a resend (PossDupFlag/PossResend); without one it is a venue re-using an ExecID.
   */
  private noteCoreRefusal(command: VenueCommand, result: CommandResultData, possDup: boolean): void {
    for (const event of result.events) {
      if (event.kind !== 'command_reject' || (event.rejectCode === RejectCode.DuplicateExecId && possDup)) continue;
      this.counters.refused_in += 1;
      this.deps.log({ event: 'fix_message_refused', venue: this.venue.name, reason: `core_${RejectCode[event.rejectCode] ?? event.rejectCode}`, why: event.text, cl_ord_id: command.clOrdId, seq: result.seq });
    }
  }

  /** Drops the connection; the next logon expects the durable watermark, so the venue resends what is missing. */
  private resync(why: string): void {
    this.lastError = `resynchronising: ${why}`;
    this.session?.kill(why);
    this.abortAttempt?.();
  }

  private markHandled(from: number, to: number, epoch: number): void {
    try {
      if (!this.store.markHandled(from, to, epoch)) this.resync('too many incoming messages out of order');
    } catch (error) {
      // The sequence file cannot be written (disk full, I/O error): stop talking rather than lose track.
      this.deps.log({ event: 'fix_store_failed', venue: this.venue.name, error: String(error) });
      this.resync('the sequence file cannot be written');
    }
    this.maybeReconcile();
  }

  private maybeReconcile(): void {
    if (this.reconcilePending && this.reconcileAfterSeq !== null && this.store.inbound.next > this.reconcileAfterSeq) this.reconcileNow();
  }

  private reconcileNow(): void {
    if (!this.reconcilePending || !this.loggedOn || this.session === null) return;
    this.reconcilePending = false;
    if (this.reconcileTimer !== null) clearTimeout(this.reconcileTimer);
    this.reconcile(this.session);
  }

  // ---- session life ----------------------------------------------------------------------------------------

  /**
   * The library's callbacks for attempt `attempt`. An attempt given up (aborted while connecting) may still
   * produce a session later: it is killed on sight and its callbacks change nothing of the current one.
   */
  private hooks(attempt: number): SessionHooks {
    const current = (): boolean => attempt === this.attemptSerial;
    return {
      onCreated: (session) => {
        if (!current()) {
          session.kill('superseded by a newer attempt');
          return;
        }
        this.session = session;
        // Closed, disconnected or out of schedule while the library was still building the attempt.
        if (!this.wanted()) session.kill('not wanted any more');
      },
      onReady: (logonSeq) => {
        if (current()) this.onLogon(logonSeq);
      },
      onStopped: (error) => {
        if (current()) this.onSessionStopped(error);
      },
      onApplication: (msgType, view, seq) => {
        if (current()) this.receive('application', msgType, view, seq);
      },
      onSession: (msgType, view, seq) => {
        if (current()) this.onSession(msgType, view, seq);
      },
      onEncoded: () => {
        this.counters.messages_out += 1;
      },
      onDecoded: () => {
        this.counters.messages_in += 1;
      },
      onGarbled: (problem) => {
        this.counters.garbled_in += 1;
        this.deps.log({ event: 'fix_garbled', venue: this.venue.name, problem });
      },
    };
  }

  private onSessionStopped(error: Error | undefined): void {
    // The venue's own words (a Logout's text) say more than the library's "transport failed".
    if (error !== undefined && !this.lastError.startsWith('venue logout')) this.lastError = error.message;
    this.loggedOn = false;
    this.reconcilePending = false;
    this.reconcileAfterSeq = null;
    if (this.reconcileTimer !== null) clearTimeout(this.reconcileTimer);
  }

  private onLogon(logonSeq: number): void {
    this.loggedOn = true;
    this.loggingOut = false;
    this.loggedOnAtMs = this.nowMs();
    this.state = 'logged_on';
    this.counters.logons += 1;
    this.lastLogonTime = new Date(this.loggedOnAtMs).toISOString();
    this.deps.log({ event: 'fix_logon', venue: this.venue.name, next_sender_seq: this.store.senderSeqNum, durable_target_seq: this.store.inbound.next, venue_logon_seq: logonSeq });
    // The gate starts where the library does: the durable watermark (or 1 after a reset at this logon).
    this.gate.reset(this.store.inbound.next);
    if (logonSeq >= 1 && this.gate.offer(logonSeq, this.sessionMarker(), this.nowMs()) === 'overflow') this.resync('gap at logon');
    this.reconcileAfterSeq = logonSeq;
    this.reconcilePending = true;
    // A gap the venue never fills must not keep the outcome of orders unknown for ever.
    this.reconcileTimer = setTimeout(() => this.reconcileNow(), this.venue.logon_timeout_ms);
    this.reconcileTimer.unref();
    if (!this.wanted()) this.endSession('not wanted any more');
    this.maybeReconcile();
  }

  /** The venue's Logon in the gate: only marks its number handled when its turn comes. */
  private sessionMarker(): Incoming {
    return { kind: 'session', msgType: MSG_TYPE.Logon, view: null, possDup: false, epoch: this.store.epoch };
  }

  /** Whether a session should be up now. */
  private wanted(): boolean {
    return !this.closed && !this.adminDown && inSchedule(this.venue, this.nowMs());
  }

  private async supervise(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      if (this.adminDown) {
        this.state = 'admin_down';
        await this.sleep(null);
        continue;
      }
      if (!inSchedule(this.venue, this.nowMs())) {
        this.state = 'out_of_schedule';
        await this.sleep(SCHEDULE_CHECK_MS);
        continue;
      }
      const loggedOnBefore = this.counters.logons;
      await this.runOnce();
      if (this.closed) break;
      // Only a session that stayed up resets the back-off: one dropped right after logon must not reconnect
      // in a tight loop.
      const stable = this.counters.logons > loggedOnBefore && this.nowMs() - this.loggedOnAtMs >= STABLE_SESSION_HEARTBEATS * this.venue.heartbeat_interval_s * 1000;
      failures = stable ? 0 : failures + 1;
      if (this.counters.logons === loggedOnBefore) this.counters.connect_failures += 1;
      if (this.adminDown) continue;
      this.state = 'backoff';
      await this.sleep(backoffDelayMs(failures, this.venue.reconnect_backoff_ms_min, this.venue.reconnect_backoff_ms_max));
    }
  }

  /**
   * One connection attempt. The library's run() does not settle while a TCP connect hangs (no timeout of its
   * own), so the attempt also ends when aborted (logon timeout, close, disconnect, resync); an abandoned
   * session that connects later is closed unused (VenueFixSession.run).
   */
  private async runOnce(): Promise<void> {
    this.state = 'connecting';
    this.attemptSerial += 1;
    let timedOut = false;
    const launcher = new VenueLauncher(sessionDescription(this.venue), this.store, this.hooks(this.attemptSerial), this.deps.log);
    const aborted = new Promise<void>((resolve) => {
      this.abortAttempt = resolve;
    });
    const logonTimer = setTimeout(() => {
      if (this.loggedOn) return;
      timedOut = true;
      this.lastError = `no logon within ${this.venue.logon_timeout_ms} ms`;
      launcher.session?.kill(this.lastError);
      this.abortAttempt?.();
    }, this.venue.logon_timeout_ms);
    const ran = launcher.run().then(() => {}, (error: unknown) => {
      if (!timedOut) this.lastError = error instanceof Error ? error.message : String(error);
    });
    try {
      await Promise.race([ran, aborted]);
    } finally {
      clearTimeout(logonTimer);
      launcher.finish();
      this.abortAttempt = null;
      this.loggedOn = false;
      this.session = null;
    }
    this.deps.log({ event: 'fix_session_ended', venue: this.venue.name, last_error: this.lastError });
  }

  /**
   * Logout if logged on (dropping the connection if the venue does not answer), else drop the attempt.
   * Nothing is sent after our Logout (handle() refuses), and a second call changes nothing.
   */
  private endSession(reason: string): void {
    const session = this.session;
    if (session === null || this.loggingOut) {
      if (session === null) this.abortAttempt?.();
      return;
    }
    if (this.loggedOn) {
      this.loggingOut = true;
      this.deps.log({ event: 'fix_logout', venue: this.venue.name, reason });
      session.done();
      setTimeout(() => session.kill(`logout not confirmed within ${LOGOUT_WAIT_MS} ms`), LOGOUT_WAIT_MS).unref();
    } else {
      session.kill(reason);
      this.abortAttempt?.();
    }
  }

  /** Every second: the schedule window, and a gap the venue leaves open too long. */
  private checkSchedule(): void {
    if (this.loggedOn && !inSchedule(this.venue, this.nowMs())) this.endSession('end of the session schedule');
    const gapWaitMs = GAP_WAIT_HEARTBEATS * this.venue.heartbeat_interval_s * 1000;
    if (this.loggedOn && this.gate.waitingMs(this.nowMs()) > gapWaitMs) this.resync(`a gap in the venue's numbers stayed open over ${gapWaitMs} ms`);
  }

  /** Waits `ms` (null: until woken); connect(), disconnect() and close() wake it early. */
  private sleep(ms: number | null): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === null ? null : setTimeout(done, ms);
      const self = this;
      function done(): void {
        if (timer !== null) clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  /** Where a venue's sequence numbers are kept when its config does not say. */
  static defaultStoreDir(dataDir: string, venue: FixVenueConfig): string {
    return venue.store_dir !== '' ? venue.store_dir : join(dataDir, 'fix', venue.name);
  }
}
