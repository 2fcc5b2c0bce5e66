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
import type { VenueCancelRejectCmd, VenueExecReportCmd } from '../schemas/commands.js';
import type { CommandResultData, VenueRequestData } from '../schemas/results.js';
import type { CoreState } from '../core/state.js';
import { backoffDelayMs } from '../gateway/client.js';
import type { FixVenueConfig } from './fix-venue-config.js';
import { inSchedule } from './fix-venue-config.js';
import type { Inbound, SentRequest } from './fix-mapping.js';
import {
  MSG_TYPE, TAG, findOrder, fromExecutionReport, fromOrderCancelReject, fromRequestReject, outboundFor, statusRequestFor, unsentAnswer,
} from './fix-mapping.js';
import type { FixLog, SessionHooks } from './fix-session.js';
import { SeqStore, SessionId, sessionDescription, VenueFixSession, VenueLauncher } from './fix-session.js';

export type VenueCommand = VenueExecReportCmd | VenueCancelRejectCmd;

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

/** A command the core could not take (queue full, restarting) is retried this often before the session resyncs. */
export const SUBMIT_ATTEMPTS_MAX = 5;
const SUBMIT_RETRY_MS = 50;
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
    if (order === undefined || instrument === undefined || account === undefined) throw new Error(`invariant: venue request for an order the replica does not know (${request.clOrdId})`);
    const session = this.session;
    if (!this.loggedOn || session === null) {
      this.refuseUnsent(request, order.orderId, `venue ${this.venue.name} is not logged on (${this.state}); not sent`);
      return;
    }
    const message = outboundFor(request, instrument, account.name, new Date(this.nowMs()));
    const sent: SentRequest = { msgType: message.msgType, clOrdId: request.clOrdId, origClOrdId: request.origClOrdId };
    session.sendMessage(message.msgType, message.body).then(
      (seq) => this.remember(seq, sent),
      (error: unknown) => {
        // The encoder refused or the transport was gone: the venue never saw it.
        this.refuseUnsent(request, order.orderId, `venue ${this.venue.name}: not sent (${String(error)})`);
      },
    );
  }

  private refuseUnsent(request: VenueRequestData, orderId: number, why: string): void {
    this.deps.log({ event: 'fix_request_not_sent', venue: this.venue.name, cl_ord_id: request.clOrdId, why });
    this.submitCommand(unsentAnswer(request, orderId, why), null);
  }

  private remember(seq: number, sent: SentRequest): void {
    if (seq > 0) this.sentBySeq.set(seq, sent);
    this.sentByClOrdId.set(sent.clOrdId, sent);
    // Maps keep insertion order: the first keys are the oldest.
    while (this.sentBySeq.size > this.venue.in_flight_requests_max) this.sentBySeq.delete(this.sentBySeq.keys().next().value as number);
    while (this.sentByClOrdId.size > this.venue.in_flight_requests_max) this.sentByClOrdId.delete(this.sentByClOrdId.keys().next().value as string);
  }

  /** After a logon: ask about every order whose last request to this venue is unanswered. */
  private reconcile(session: VenueFixSession): void {
    const state = this.deps.state;
    let asked = 0;
    for (const order of state.openOrders) {
      if (asked >= this.venue.in_flight_requests_max) break;
      if (order.venueId !== this.venue.venue_id) continue;
      if (order.baseStatus !== OrdStatus.PendingNew && order.pending === null) continue;
      const instrument = state.instruments.get(order.instrumentId);
      if (instrument === undefined) continue;
      const message = statusRequestFor(order, instrument);
      asked += 1;
      this.counters.status_requests_sent += 1;
      session.sendMessage(message.msgType, message.body).then(
        (seq) => this.remember(seq, { msgType: message.msgType, clOrdId: order.clOrdId, origClOrdId: '' }),
        () => {},
      );
    }
    if (asked > 0) this.deps.log({ event: 'fix_reconcile', venue: this.venue.name, status_requests: asked });
  }

  // ---- inbound ---------------------------------------------------------------------------------------------

  private onApplication(msgType: string, view: MsgView, seq: number): void {
    const epoch = this.store.epoch;
    const state = this.deps.state;
    let inbound: Inbound;
    switch (msgType) {
      case MSG_TYPE.ExecutionReport: inbound = fromExecutionReport(state, this.venue.venue_id, view); break;
      case MSG_TYPE.OrderCancelReject: inbound = fromOrderCancelReject(state, this.venue.venue_id, view); break;
      case MSG_TYPE.BusinessMessageReject: inbound = this.fromReject(msgType, view); break;
      default:
        inbound = { kind: 'refused', reason: 'unsupported_msg_type', why: `MsgType ${msgType} is not handled` };
        this.session?.sendMessage('j', { RefSeqNum: seq, RefMsgType: msgType, BusinessRejectReason: 3, Text: 'Unsupported Message Type' }).catch(() => {});
    }
    this.apply(inbound, seq, epoch, view);
  }

  private onSession(msgType: string, view: MsgView, seq: number): void {
    const epoch = this.store.epoch;
    if (msgType === MSG_TYPE.Reject) {
      this.apply(this.fromReject(msgType, view), seq, epoch, view);
      return;
    }
    if (msgType === '4') {
      const newSeq = Number(view.getString(36) ?? 0);
      if (view.getString(123) === 'Y') {
        if (Number.isSafeInteger(newSeq) && newSeq > seq && seq >= 1) this.markHandled(seq, newSeq, epoch);
      } else if (Number.isSafeInteger(newSeq) && newSeq >= 1) {
        this.store.resetInbound(newSeq);
      }
      return;
    }
    if (msgType === '5') this.lastError = `venue logout: ${(view.getString(TAG.Text) ?? '').slice(0, LOG_TEXT_CHARS_MAX)}`;
    if (msgType === 'A') this.reconcileAfterSeq = seq;
    if (seq >= 1) this.markHandled(seq, seq + 1, epoch);
  }

  /** A Reject (3) or BusinessMessageReject (j) of something we sent. */
  private fromReject(msgType: string, view: MsgView): Inbound {
    this.counters.rejects_in += 1;
    const refSeq = Number(view.getString(TAG.RefSeqNum) ?? 0);
    const sent = this.sentBySeq.get(refSeq) ?? this.sentByClOrdId.get(view.getString(TAG.BusinessRejectRefID) ?? '') ?? this.sentAfterRestart(view);
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

  private apply(inbound: Inbound, seq: number, epoch: number, view: MsgView): void {
    if (inbound.kind === 'command') {
      this.submitCommand(inbound.command, { seq, epoch });
      return;
    }
    if (inbound.kind === 'refused') {
      this.counters.refused_in += 1;
      this.deps.log({ event: 'fix_message_refused', venue: this.venue.name, reason: inbound.reason, why: inbound.why.slice(0, LOG_TEXT_CHARS_MAX), seq, message: view.toString().slice(0, LOG_TEXT_CHARS_MAX) });
    }
    // Refused or ignored: nothing to journal, and asking for it again would give the same answer.
    if (seq >= 1) this.markHandled(seq, seq + 1, epoch);
  }

  /** Journals a command; the incoming message it came from counts as handled once that is durable. */
  private submitCommand(command: VenueCommand, from: { seq: number; epoch: number } | null, attempt = 1): void {
    this.deps.submit(command).then(
      (result) => {
        this.noteCoreRefusal(command, result);
        if (from !== null && from.seq >= 1) this.markHandled(from.seq, from.seq + 1, from.epoch);
      },
      (error: unknown) => {
        if (attempt < SUBMIT_ATTEMPTS_MAX && !this.closed) {
          setTimeout(() => this.submitCommand(command, from, attempt + 1), SUBMIT_RETRY_MS * 2 ** attempt).unref();
          return;
        }
        // Not journaled: the watermark stays below it, so the venue is asked for it again at the next logon.
        this.deps.log({ event: 'fix_submit_failed', venue: this.venue.name, error: String(error), cl_ord_id: command.clOrdId });
        this.session?.kill('a venue message could not be journaled; resynchronising');
      },
    );
  }

  /** The core refused what the venue said (overfill, a fill for a rejected order, ...): flagged, except a resent duplicate. */
  private noteCoreRefusal(command: VenueCommand, result: CommandResultData): void {
    for (const event of result.events) {
      if (event.kind !== 'command_reject' || event.rejectCode === RejectCode.DuplicateExecId) continue;
      this.counters.refused_in += 1;
      this.deps.log({ event: 'fix_message_refused', venue: this.venue.name, reason: `core_${RejectCode[event.rejectCode] ?? event.rejectCode}`, why: event.text, cl_ord_id: command.clOrdId, seq: result.seq });
    }
  }

  private markHandled(from: number, to: number, epoch: number): void {
    if (!this.store.markHandled(from, to, epoch)) this.session?.kill('too many incoming messages out of order; resynchronising');
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

  private hooks(): SessionHooks {
    return {
      onCreated: (session) => {
        this.session = session;
      },
      onReady: () => {
        this.loggedOn = true;
        this.state = 'logged_on';
        this.counters.logons += 1;
        this.lastLogonTime = new Date(this.nowMs()).toISOString();
        this.deps.log({ event: 'fix_logon', venue: this.venue.name, next_sender_seq: this.store.senderSeqNum, durable_target_seq: this.store.inbound.next });
        this.reconcilePending = true;
        // A gap the venue never fills must not keep the outcome of orders unknown for ever.
        this.reconcileTimer = setTimeout(() => this.reconcileNow(), this.venue.logon_timeout_ms);
        this.reconcileTimer.unref();
        this.maybeReconcile();
      },
      onStopped: (error) => {
        if (error !== undefined) this.lastError = error.message;
        this.loggedOn = false;
        this.reconcilePending = false;
        this.reconcileAfterSeq = null;
        if (this.reconcileTimer !== null) clearTimeout(this.reconcileTimer);
      },
      onApplication: (msgType, view, seq) => this.onApplication(msgType, view, seq),
      onSession: (msgType, view, seq) => this.onSession(msgType, view, seq),
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
      failures = this.counters.logons > loggedOnBefore ? 0 : failures + 1;
      if (failures > 0) this.counters.connect_failures += 1;
      if (this.adminDown) continue;
      this.state = 'backoff';
      await this.sleep(backoffDelayMs(failures, this.venue.reconnect_backoff_ms_min, this.venue.reconnect_backoff_ms_max));
    }
  }

  private async runOnce(): Promise<void> {
    this.state = 'connecting';
    const launcher = new VenueLauncher(sessionDescription(this.venue), this.store, this.hooks(), this.deps.log);
    const logonTimer = setTimeout(() => {
      if (!this.loggedOn) launcher.session?.kill(`no logon within ${this.venue.logon_timeout_ms} ms`);
    }, this.venue.logon_timeout_ms);
    try {
      await launcher.run().catch((error: unknown) => {
        this.lastError = error instanceof Error ? error.message : String(error);
      });
    } finally {
      clearTimeout(logonTimer);
      this.loggedOn = false;
      this.session = null;
    }
    this.deps.log({ event: 'fix_session_ended', venue: this.venue.name, last_error: this.lastError });
  }

  /** Logout if logged on (dropping the connection if the venue does not answer), else drop the attempt. */
  private endSession(reason: string): void {
    const session = this.session;
    if (session === null) return;
    if (this.loggedOn) {
      this.deps.log({ event: 'fix_logout', venue: this.venue.name, reason });
      session.done();
      setTimeout(() => session.kill(`logout not confirmed within ${LOGOUT_WAIT_MS} ms`), LOGOUT_WAIT_MS).unref();
    } else {
      session.kill(reason);
    }
  }

  private checkSchedule(): void {
    if (this.loggedOn && !inSchedule(this.venue, this.nowMs())) this.endSession('end of the session schedule');
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
