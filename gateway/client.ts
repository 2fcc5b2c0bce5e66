// A Node.js client of the OMS WebSocket session protocol (schemas/session.fbs, gateway/protocol.ts).
//
//   const client = await OmsClient.connect('ws://127.0.0.1:8080/v1/ws', 'demo-trader-token', {
//     on_report: (result) => { ... },          // every report once, in journal seq order
//   });
//   const result = await client.send(newOrder);  // the command's own answer (accept or reject)
//   await client.close();
//
// Two streams come out of one connection:
// - answers: `send()` resolves with the result whose request id is the one it sent (the immediate accept or
//   reject of that command). Request ids come from one counter per client, never reused, so an answer cannot
//   be mistaken for another command's, not even across reconnects.
// - reports: every result with a journal seq, delivered to `on_report` / `on('report')` once, in increasing
//   seq order; `lastSeq` is the highest seq delivered. After a reconnect the client sends
//   Resume{afterSeq: lastSeq} and buffers everything the new connection brings (replay and live reports
//   interleave) until ResumeComplete, then delivers the buffer sorted by seq, skipping seqs already delivered.
//   So a report missed while disconnected arrives exactly once, in order.
//
// What the client never does: resend a command. When the connection drops while a command is unanswered, the
// command may or may not have reached the journal; `send()` rejects with code 'connection_lost' and the
// caller reconciles — by watching the report stream (a journaled command's execution reports are replayed
// on resume, under the command's ClOrdID) or by resending under the SAME ClOrdID, which the core refuses as
// a duplicate if the first one was journaled. A new ClOrdID could place the order twice.
//
// Limits: pending requests, the resume buffer, subscriptions, listeners, outgoing buffered bytes and the
// size of an incoming message are all bounded (OmsClientOptions); beyond a limit the call fails at once.

import * as flatbuffers from 'flatbuffers';
import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import type { CommandResultData } from '../schemas/results.js';
import type { PositionData, ServerMessageData, SessionRequestData, SessionStatusData } from './protocol.js';
import { decodeServerMessage, encodeSessionRequest, SessionStatusCode, SubscriptionScope } from './protocol.js';
import { assert } from '../core/assert.js';

export { SessionStatusCode, SubscriptionScope };
export type { SessionStatusData };

/** The subprotocol both sides speak; a server that answers with anything else is not an OMS gateway. */
export const OMS_SUBPROTOCOL = 'oms.v1';
const TOKEN_SUBPROTOCOL_PREFIX = 'token.';
/** RFC 7230 token characters: a subprotocol (and so a token sent as one) must consist of these. */
const SUBPROTOCOL_TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TOKEN_CHARS_MAX = 256;
/** Close codes (RFC 6455): normal closure, and the code ws reports when no close frame arrived. */
const CLOSE_NORMAL = 1000;

export interface Subscription {
  scope: SubscriptionScope;
  /** Account scope only; 0 for OwnOrders. */
  accountId: number;
}

export interface OmsClientOptions {
  /** Send the token as the subprotocol `token.<token>` (what a browser must do) instead of an Authorization header. */
  subprotocol_auth?: boolean;
  /** Reconnect after a lost connection, then resume the report stream after `lastSeq`. Default true. */
  reconnect?: boolean;
  /** Backoff between reconnect attempts: doubles from min to max, with jitter in [delay/2, delay]. */
  reconnect_delay_ms_min?: number;
  reconnect_delay_ms_max?: number;
  /** Consecutive failed reconnect attempts before the client gives up and closes. */
  reconnect_attempts_max?: number;
  /** Until the WebSocket is open and the server's LoggedOn has arrived. */
  connect_timeout_ms?: number;
  /** Until a command's answer or a session request's status arrives. */
  request_timeout_ms?: number;
  /** Until ResumeComplete arrives (a large replay takes longer than one answer). */
  resume_timeout_ms?: number;
  /** Commands and session requests awaiting their answer; beyond it send() fails with 'pending_full'. */
  pending_requests_max?: number;
  /** Reports held while a resume is in progress; beyond it the client closes (resync over HTTP). */
  resume_buffer_results_max?: number;
  /** Outgoing bytes queued in the socket; beyond it send() fails with 'backpressure'. */
  send_buffer_bytes_max?: number;
  /** Largest server message accepted (a resume sends up to 256 results per message). */
  message_bytes_max?: number;
  /** When nothing arrived for this long, send a heartbeat; if it goes unanswered, drop and reconnect. 0: off. */
  keepalive_interval_ms?: number;
  /**
   * Where the report stream starts on the first connection. Unset: at the server's lastSeq at logon (only
   * reports from now on). A number N: resume after seq N (e.g. the lastSeq a previous run persisted).
   */
  resume_after_seq?: number;
  /** Subscriptions besides the default OwnOrders; made before connect() resolves, and again after every reconnect. */
  subscriptions?: Subscription[];
  on_report?: (result: CommandResultData) => void;
  on_reconnect?: (info: ReconnectInfo) => void;
  /** ResumeTooOld, also on the first connection (resume_after_seq older than the server's window). */
  on_gap?: (info: GapInfo) => void;
}

type ResolvedOptions = Required<Omit<OmsClientOptions, 'resume_after_seq' | 'subscriptions' | 'on_report' | 'on_reconnect' | 'on_gap'>>;

export const OMS_CLIENT_DEFAULTS: Readonly<ResolvedOptions> = Object.freeze({
  subprotocol_auth: false,
  reconnect: true,
  reconnect_delay_ms_min: 100,
  reconnect_delay_ms_max: 5_000,
  reconnect_attempts_max: 1_000,
  connect_timeout_ms: 10_000,
  request_timeout_ms: 10_000,
  resume_timeout_ms: 30_000,
  pending_requests_max: 1_000,
  resume_buffer_results_max: 200_000,
  send_buffer_bytes_max: 4 * 1024 * 1024,
  message_bytes_max: 16 * 1024 * 1024,
  keepalive_interval_ms: 5_000,
});

const SUBSCRIPTIONS_MAX = 64;
const LISTENERS_PER_EVENT_MAX = 64;
const TIMEOUT_MS_MAX = 3_600_000;

export type OmsClientErrorCode =
  | 'timeout'          // no answer within request_timeout_ms (the command may still be journaled)
  | 'connection_lost'  // the connection dropped before the answer (the command may still be journaled)
  | 'not_connected'    // nothing was sent: the client is (re)connecting
  | 'closed'           // nothing was sent: close() was called or the client gave up
  | 'pending_full'     // nothing was sent: pending_requests_max answers outstanding
  | 'backpressure'     // nothing was sent: send_buffer_bytes_max bytes queued in the socket
  | 'auth_refused'     // the server refused the token (HTTP 401/403 on the upgrade)
  | 'handshake'        // the upgrade failed otherwise (network, wrong path, wrong subprotocol)
  | 'refused'          // the server answered a session request with status Error
  | 'resume_overflow'  // more than resume_buffer_results_max reports during one resume
  | 'protocol'         // the server sent something this client cannot read
  | 'listener';        // an event listener threw (reported, the client carries on)

export class OmsClientError extends Error {
  constructor(readonly code: OmsClientErrorCode, message: string, readonly status: SessionStatusData | null = null) {
    super(message);
    this.name = 'OmsClientError';
  }
}

export interface ReconnectInfo {
  /** Attempts it took, counting from 1. */
  attempts: number;
  userId: number;
  sessionId: number;
  /** The Resume sent: every report after this seq was requested. */
  resumedAfterSeq: number;
  /** Reports delivered from the resume (after de-duplication). */
  replayedCount: number;
  /** True when the server answered ResumeTooOld: reports were lost; resync over HTTP. */
  gap: boolean;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  /** Commands that were unanswered when the connection dropped: each rejected with 'connection_lost'. */
  unansweredCount: number;
}

export interface GapInfo {
  afterSeq: number;
  /** The oldest seq the server can resume after now (its retransmission window starts above it). */
  oldestSeq: number;
  /** The server's explanation. */
  text: string;
}

export interface CloseInfo {
  /** Null after close(); the cause when the client gave up by itself. */
  error: OmsClientError | null;
}

export interface OmsClientEventMap {
  report: CommandResultData;
  /** Positions moved by fills this session sees (sent right after those reports; not replayed on resume). */
  positions: PositionData[];
  reconnect: ReconnectInfo;
  disconnect: DisconnectInfo;
  /** ResumeTooOld: reports between afterSeq and the server's window were not delivered. */
  gap: GapInfo;
  /** An unsolicited status (e.g. Error for a malformed request), or any status the client does not route. */
  status: SessionStatusData;
  error: OmsClientError;
  close: CloseInfo;
}

export type OmsClientEvent = keyof OmsClientEventMap;
type Listener<K extends OmsClientEvent> = (value: OmsClientEventMap[K]) => void;
type ListenerSets = { [K in OmsClientEvent]: Set<Listener<K>> };

export interface OmsClientStats {
  lastSeq: number;
  userId: number;
  sessionId: number;
  connected: boolean;
  reconnects: number;
  reportsDelivered: number;
  /** Reports not delivered because their seq was already delivered (resume overlap). */
  duplicatesDropped: number;
  pendingRequests: number;
}

// ---- pending requests -------------------------------------------------------------------------------------------

interface PendingBase {
  readonly requestId: number;
  readonly timer: NodeJS.Timeout;
  readonly fail: (error: OmsClientError) => void;
}
interface PendingCommand extends PendingBase {
  readonly kind: 'command';
  readonly answer: (result: CommandResultData) => void;
}
interface PendingSession extends PendingBase {
  readonly kind: 'session';
  readonly answer: (status: SessionStatusData) => void;
}
interface PendingHeartbeat extends PendingBase {
  readonly kind: 'heartbeat';
  readonly timeUs: number;
  readonly answer: () => void;
}
type Pending = PendingCommand | PendingSession | PendingHeartbeat;

// ---- one WebSocket connection -----------------------------------------------------------------------------------

type Phase = 'logging_on' | 'resuming' | 'live' | 'closed';

/** What belongs to one socket; a reconnect makes a new one, so nothing of a dead socket leaks into the next. */
class Connection {
  phase: Phase = 'logging_on';
  userId = 0;
  sessionId = 0;
  /** Reports received while resuming, delivered sorted when the resume ends. */
  readonly resumeBuffer: CommandResultData[] = [];
  lastReceivedMs = Date.now();
  keepaliveTimer: NodeJS.Timeout | null = null;
  /** Set by dial(): settles the logon. */
  loggedOn: ((status: SessionStatusData) => void) | null = null;
  failed: ((error: OmsClientError) => void) | null = null;
  /** HTTP status of a refused upgrade, from 'unexpected-response'. */
  refusedStatus = 0;
  /** Set once setUp finished: from then on a drop triggers reconnect (before, the dialler handles failure). */
  ready = false;
  constructor(readonly ws: WebSocket) {}
}

// ---- the client -------------------------------------------------------------------------------------------------

export class OmsClient {
  private readonly options: ResolvedOptions;
  private readonly builder = new flatbuffers.Builder(1024);
  private readonly pending = new Map<number, Pending>();
  /** Heartbeat answers carry no request id: they are matched by the time_us the client sent. */
  private readonly heartbeatsByTimeUs = new Map<number, number>();
  private readonly subscriptions: Subscription[] = [];
  private readonly listeners: ListenerSets = {
    report: new Set(), positions: new Set(), reconnect: new Set(), disconnect: new Set(), gap: new Set(), status: new Set(), error: new Set(), close: new Set(),
  };
  private conn: Connection | null = null;
  private requestIdLast = 0;
  private heartbeatTimeUsLast = 0;
  private cancelOnDisconnectEnabled = false;
  /** The user the token logged on as first; a reconnect that logs on as someone else is refused. */
  private userIdFirst = 0;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectAttempts = 0;
  private counters = { reconnects: 0, reportsDelivered: 0, duplicatesDropped: 0 };
  /** Highest seq delivered to the report stream; -1 until the first logon fixes where the stream starts. */
  private lastSeqDelivered: number;

  private constructor(private readonly url: string, private readonly token: string, options: OmsClientOptions) {
    this.options = resolveOptions(options);
    checkToken(token, this.options.subprotocol_auth);
    this.lastSeqDelivered = options.resume_after_seq ?? -1;
    for (const s of options.subscriptions ?? []) this.remember(s);
    if (options.on_report !== undefined) this.on('report', options.on_report);
    if (options.on_reconnect !== undefined) this.on('reconnect', options.on_reconnect);
    if (options.on_gap !== undefined) this.on('gap', options.on_gap);
  }

  /**
   * Opens a session and resolves once the server's LoggedOn arrived and `options.subscriptions` (and the
   * resume, if `resume_after_seq` is set) are done. The first connection is not retried: a wrong URL or
   * token fails here, with code 'auth_refused' or 'handshake'.
   */
  static async connect(url: string, token: string, options: OmsClientOptions = {}): Promise<OmsClient> {
    const client = new OmsClient(url, token, options);
    await client.open(false);
    return client;
  }

  /** Highest journal seq delivered to the report stream (0 before any, on a new journal). */
  get lastSeq(): number {
    return Math.max(0, this.lastSeqDelivered);
  }

  get connected(): boolean {
    return this.conn !== null && this.conn.ready && this.conn.phase !== 'closed';
  }

  get userId(): number {
    return this.conn?.userId ?? 0;
  }

  get sessionId(): number {
    return this.conn?.sessionId ?? 0;
  }

  stats(): OmsClientStats {
    return {
      lastSeq: this.lastSeq, userId: this.userId, sessionId: this.sessionId, connected: this.connected,
      ...this.counters, pendingRequests: this.pending.size,
    };
  }

  /**
   * Adds a listener; returns the function that removes it. Listeners run synchronously, in order; one that
   * throws is reported as an 'error' event (code 'listener') and the others still run. Unlike a Node
   * EventEmitter, an 'error' nobody listens to is dropped: failures that matter also reject a promise or
   * end in the 'close' event.
   */
  on<K extends OmsClientEvent>(event: K, listener: Listener<K>): () => void {
    const set = this.listeners[event] as Set<Listener<K>>;
    if (set.size >= LISTENERS_PER_EVENT_MAX) throw new OmsClientError('pending_full', `more than ${LISTENERS_PER_EVENT_MAX} '${event}' listeners`);
    set.add(listener);
    return () => { set.delete(listener); };
  }

  // ---- requests ---------------------------------------------------------------------------------------------

  /**
   * Sends one command; resolves with the result answering it (its events say accepted or rejected).
   * Rejects with 'timeout' or 'connection_lost' when the answer did not arrive — the command may or may not
   * have been journaled, and it is NOT resent (see the file comment) — or, without sending anything, with
   * 'not_connected', 'closed', 'pending_full' or 'backpressure'. The envelope's user, session and time are
   * placeholders: the gateway stamps them from the session.
   */
  send(command: CommandBody): Promise<CommandResultData> {
    return new Promise((resolve, reject) => {
      const conn = this.usable(reject);
      if (conn === null) return;
      const requestId = this.nextRequestId();
      let frame: Uint8Array;
      try {
        // The gateway overwrites user, session and time, but checks the frame with the core's decoder first,
        // which refuses a time_us that is not positive: send the client's clock.
        frame = encodeCommandCopy(this.builder, { requestId, timeUs: Date.now() * 1000, userId: 0, sessionId: 0, command });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.track(conn, frame, this.options.request_timeout_ms, (timer, fail) => ({ kind: 'command', requestId, timer, fail, answer: resolve }), reject);
    });
  }

  /**
   * Adds a subscription (OwnOrders is on by default). Resolves on Subscribed; rejects with 'refused'
   * (status attached: rejectCode NotEntitled, text) when the user may not see the account. Kept and
   * re-made after every reconnect.
   */
  async subscribe(scope: SubscriptionScope, accountId = 0): Promise<SessionStatusData> {
    const subscription: Subscription = { scope, accountId: scope === SubscriptionScope.Account ? accountId : 0 };
    if (!this.isRemembered(subscription) && this.subscriptions.length >= SUBSCRIPTIONS_MAX) {
      throw new OmsClientError('pending_full', `more than ${SUBSCRIPTIONS_MAX} subscriptions`);
    }
    const status = await this.subscribeOn(this.requireConn(), subscription);
    this.remember(subscription);
    return status;
  }

  /**
   * Turns cancel-on-disconnect on or off for this session (the gateway cancels the session's working orders
   * when its connection closes). Re-applied to the new session after a reconnect.
   */
  async cancelOnDisconnect(enabled: boolean): Promise<SessionStatusData> {
    const status = await this.sessionRequest(this.requireConn(), { kind: 'cancel_on_disconnect', requestId: this.nextRequestId(), enabled }, this.options.request_timeout_ms);
    this.cancelOnDisconnectEnabled = enabled;
    return status;
  }

  /** One heartbeat round trip, in milliseconds. */
  heartbeat(): Promise<number> {
    return new Promise((resolve, reject) => {
      const conn = this.usable(reject);
      if (conn === null) return;
      this.heartbeatOn(conn).then(resolve, reject);
    });
  }

  /** Closes the session (normal closure) and stops reconnecting; unanswered requests reject with 'closed'. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.shutDown(null);
    const conn = this.conn;
    if (conn === null || conn.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { conn.ws.terminate(); resolve(); }, this.options.request_timeout_ms);
      conn.ws.once('close', () => { clearTimeout(timer); resolve(); });
      conn.ws.close(CLOSE_NORMAL, 'client closed');
    });
  }

  /**
   * Drops the socket without a closing handshake, as a network failure would; the client then reconnects
   * (if enabled) and resumes. For tests and failover drills.
   */
  dropConnection(): void {
    this.conn?.ws.terminate();
  }

  // ---- connecting -------------------------------------------------------------------------------------------

  /** Dials, logs on and sets the session up; on failure the socket is closed and the error thrown. */
  private async open(reconnecting: boolean): Promise<void> {
    const conn = this.dial();
    this.conn = conn;
    const logon = await new Promise<SessionStatusData>((resolve, reject) => {
      const timer = setTimeout(() => reject(new OmsClientError('timeout', `no LoggedOn within ${this.options.connect_timeout_ms} ms from ${this.url}`)), this.options.connect_timeout_ms);
      conn.loggedOn = (status) => { clearTimeout(timer); resolve(status); };
      conn.failed = (error) => { clearTimeout(timer); reject(error); };
    }).catch((error: unknown) => {
      conn.ws.terminate();
      throw error;
    });
    try {
      await this.setUp(conn, logon, reconnecting);
    } catch (error) {
      conn.ws.terminate();
      throw error;
    }
  }

  private dial(): Connection {
    const protocols = this.options.subprotocol_auth ? [OMS_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + this.token] : [OMS_SUBPROTOCOL];
    const headers: Record<string, string> = this.options.subprotocol_auth ? {} : { authorization: `Bearer ${this.token}` };
    const ws = new WebSocket(this.url, protocols, {
      headers, maxPayload: this.options.message_bytes_max, handshakeTimeout: this.options.connect_timeout_ms, perMessageDeflate: false,
    });
    ws.binaryType = 'nodebuffer';
    const conn = new Connection(ws);
    ws.on('unexpected-response', (_request, response) => {
      conn.refusedStatus = response.statusCode ?? 0;
      response.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      if (ws.protocol !== OMS_SUBPROTOCOL) {
        this.failConnection(conn, new OmsClientError('handshake', `server chose subprotocol '${ws.protocol}', expected '${OMS_SUBPROTOCOL}'`));
      }
    });
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('error', (error) => this.failConnection(conn, this.handshakeError(conn, error)));
    ws.on('close', (code, reason) => this.onClose(conn, code, reason.toString('utf8')));
    return conn;
  }

  private handshakeError(conn: Connection, error: Error): OmsClientError {
    if (conn.refusedStatus === 401) return new OmsClientError('auth_refused', 'the server refused the token (HTTP 401)');
    // The gateway answers 403 for a browser Origin it does not allow: as final as a bad token.
    if (conn.refusedStatus === 403) return new OmsClientError('auth_refused', 'the server refused the upgrade (HTTP 403 forbidden)');
    if (conn.refusedStatus !== 0) return new OmsClientError('handshake', `the server refused the upgrade (HTTP ${conn.refusedStatus})`);
    return new OmsClientError('handshake', error.message);
  }

  /** A failure before logon settles the dialler; after it, the close that follows triggers the reconnect. */
  private failConnection(conn: Connection, error: OmsClientError): void {
    const failed = conn.failed;
    conn.failed = null;
    conn.loggedOn = null;
    if (failed !== null) failed(error);
    if (conn.ws.readyState !== WebSocket.CLOSED) conn.ws.terminate();
  }

  /**
   * At LoggedOn, synchronously: reports may follow in the same socket read, before any promise continuation
   * runs, so where the stream starts and whether reports are buffered must be decided here.
   */
  private onLogon(conn: Connection, logon: SessionStatusData): void {
    conn.userId = logon.userId;
    conn.sessionId = logon.sessionId;
    if (this.lastSeqDelivered >= 0) {
      // Buffer from the logon on: live reports and the replay may interleave until ResumeComplete.
      conn.phase = 'resuming';
    } else {
      conn.phase = 'live';
      this.lastSeqDelivered = logon.lastSeq;
    }
  }

  /** After LoggedOn: subscriptions, cancel-on-disconnect, then the resume (when the stream has a position). */
  private async setUp(conn: Connection, logon: SessionStatusData, reconnecting: boolean): Promise<void> {
    if (this.userIdFirst === 0) this.userIdFirst = logon.userId;
    if (logon.userId !== this.userIdFirst) {
      throw new OmsClientError('protocol', `the token logged on as user ${logon.userId}, before as user ${this.userIdFirst}`);
    }
    const resumeAfterSeq = conn.phase === 'resuming' ? this.lastSeqDelivered : -1;
    for (const subscription of [...this.subscriptions]) {
      try {
        await this.subscribeOn(conn, subscription);
      } catch (error) {
        if (!reconnecting || !(error instanceof OmsClientError) || error.code !== 'refused') throw error;
        // Entitlements changed while we were away: the subscription is gone; say so and carry on.
        this.forget(subscription);
        this.emit('error', error);
      }
    }
    if (this.cancelOnDisconnectEnabled) {
      await this.sessionRequest(conn, { kind: 'cancel_on_disconnect', requestId: this.nextRequestId(), enabled: true }, this.options.request_timeout_ms);
    }
    const resume = resumeAfterSeq >= 0 ? await this.resume(conn, resumeAfterSeq) : { replayedCount: 0, gap: false };
    conn.ready = true;
    this.startKeepalive(conn);
    if (reconnecting) {
      this.counters.reconnects += 1;
      this.emit('reconnect', { attempts: this.reconnectAttempts, userId: conn.userId, sessionId: conn.sessionId, resumedAfterSeq: resumeAfterSeq, ...resume });
      this.reconnectAttempts = 0;
    }
  }

  private async resume(conn: Connection, afterSeq: number): Promise<{ replayedCount: number; gap: boolean }> {
    const status = await this.sessionRequest(conn, { kind: 'resume', requestId: this.nextRequestId(), afterSeq }, this.options.resume_timeout_ms);
    const gap = status.code === SessionStatusCode.ResumeTooOld;
    if (!gap && status.code !== SessionStatusCode.ResumeComplete) {
      throw new OmsClientError('protocol', `Resume answered with status ${SessionStatusCode[status.code] ?? status.code}`, status);
    }
    const before = this.counters.reportsDelivered;
    this.flushResumeBuffer(conn);
    if (gap) {
      // Reports up to the server's seq at that moment are lost to this stream; resuming from before them
      // again would only fail again.
      this.lastSeqDelivered = Math.max(this.lastSeqDelivered, status.lastSeq);
      this.emit('gap', { afterSeq, oldestSeq: status.oldestSeq, text: status.text });
    }
    return { replayedCount: this.counters.reportsDelivered - before, gap };
  }

  private flushResumeBuffer(conn: Connection): void {
    const buffered = conn.resumeBuffer.splice(0, conn.resumeBuffer.length);
    buffered.sort((a, b) => a.seq - b.seq);
    conn.phase = 'live';
    for (const result of buffered) this.deliver(result);
  }

  private subscribeOn(conn: Connection, s: Subscription): Promise<SessionStatusData> {
    return this.sessionRequest(conn, { kind: 'subscribe', requestId: this.nextRequestId(), scope: s.scope, accountId: s.accountId }, this.options.request_timeout_ms)
      .then((status) => {
        if (status.code !== SessionStatusCode.Subscribed) {
          throw new OmsClientError('protocol', `Subscribe answered with status ${SessionStatusCode[status.code] ?? status.code}`, status);
        }
        return status;
      });
  }

  // ---- losing the connection and reconnecting ---------------------------------------------------------------

  private onClose(conn: Connection, code: number, reason: string): void {
    const wasReady = conn.ready;
    conn.phase = 'closed';
    conn.ready = false;
    if (conn.keepaliveTimer !== null) clearInterval(conn.keepaliveTimer);
    conn.keepaliveTimer = null;
    this.failConnection(conn, new OmsClientError('connection_lost', `connection closed before logon (${code}${reason.length > 0 ? ` ${reason}` : ''})`));
    if (this.conn !== conn) return;
    const unansweredCount = this.failPending(new OmsClientError(this.closed ? 'closed' : 'connection_lost', `connection closed (${code}${reason.length > 0 ? ` ${reason}` : ''}) before the answer`));
    // A connection that never finished setting up: its dialler reports the failure.
    if (!wasReady || this.closed) return;
    this.emit('disconnect', { code, reason, unansweredCount });
    if (!this.options.reconnect) {
      this.shutDown(new OmsClientError('connection_lost', `connection closed (${code}) and reconnect is off`));
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    assert(this.reconnectTimer === null, 'one reconnect at a time');
    if (this.reconnectAttempts >= this.options.reconnect_attempts_max) {
      this.shutDown(new OmsClientError('connection_lost', `gave up after ${this.reconnectAttempts} reconnect attempts`));
      return;
    }
    const delayMs = backoffDelayMs(this.reconnectAttempts, this.options.reconnect_delay_ms_min, this.options.reconnect_delay_ms_max);
    this.reconnectAttempts += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closed) return;
      this.open(true).catch((error: unknown) => this.reconnectFailed(error));
    }, delayMs);
  }

  private reconnectFailed(error: unknown): void {
    if (this.closed) return;
    const clientError = error instanceof OmsClientError ? error : new OmsClientError('protocol', String(error));
    // A token the server refuses now will be refused on every attempt.
    if (clientError.code === 'auth_refused' || clientError.code === 'resume_overflow') {
      this.shutDown(clientError);
      return;
    }
    this.scheduleReconnect();
  }

  /** Stops for good: no reconnect, unanswered requests rejected, the 'close' event once. */
  private shutDown(error: OmsClientError | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.failPending(error ?? new OmsClientError('closed', 'the client was closed before the answer'));
    if (this.conn !== null && this.conn.ws.readyState !== WebSocket.CLOSED && error !== null) this.conn.ws.terminate();
    this.emit('close', { error });
  }

  private startKeepalive(conn: Connection): void {
    const intervalMs = this.options.keepalive_interval_ms;
    if (intervalMs === 0) return;
    conn.keepaliveTimer = setInterval(() => {
      if (Date.now() - conn.lastReceivedMs < intervalMs || conn.phase !== 'live') return;
      // A socket that silently died (no FIN: cable, NAT) only shows as an unanswered heartbeat.
      this.heartbeatOn(conn).catch(() => { if (conn.ws.readyState === WebSocket.OPEN) conn.ws.terminate(); });
    }, intervalMs);
  }

  // ---- incoming -----------------------------------------------------------------------------------------------

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn !== this.conn || conn.phase === 'closed') return; // a dropped socket's last words: its successor resumes them
    conn.lastReceivedMs = Date.now();
    let message: ServerMessageData;
    try {
      if (!isBinary || !Buffer.isBuffer(data)) throw new Error('a text or fragmented message');
      message = decodeServerMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (error) {
      this.protocolFailure(conn, `unreadable server message: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    switch (message.kind) {
      case 'reports': return this.onReports(conn, message.results);
      case 'status': return this.onStatus(conn, message.status);
      case 'heartbeat': return this.onHeartbeat(message.timeUs);
      case 'positions': return this.emit('positions', message.positions);
    }
  }

  private onReports(conn: Connection, results: readonly CommandResultData[]): void {
    if (conn.phase === 'logging_on') {
      this.protocolFailure(conn, 'reports before LoggedOn');
      return;
    }
    for (const result of results) {
      this.answerCommand(conn, result);
      if (result.seq === 0) continue; // refused before the journal: an answer only, not part of the stream
      if (conn.phase === 'resuming') {
        if (conn.resumeBuffer.length >= this.options.resume_buffer_results_max) {
          const error = new OmsClientError('resume_overflow', `more than ${this.options.resume_buffer_results_max} reports during one resume; resync over HTTP`);
          this.emit('error', error);
          this.shutDown(error);
          return;
        }
        conn.resumeBuffer.push(result);
      } else {
        this.deliver(result);
      }
    }
  }

  /** The result answers a command of ours when it carries our request id and our session (or none: seq 0). */
  private answerCommand(conn: Connection, result: CommandResultData): void {
    if (result.requestId === 0) return;
    const pending = this.pending.get(result.requestId);
    if (pending === undefined || pending.kind !== 'command') return;
    const ours = result.sessionId === 0 || (result.sessionId === conn.sessionId && result.userId === conn.userId);
    if (!ours) return;
    this.settle(pending);
    pending.answer(result);
  }

  private deliver(result: CommandResultData): void {
    if (result.seq <= this.lastSeqDelivered) {
      this.counters.duplicatesDropped += 1;
      return;
    }
    this.lastSeqDelivered = result.seq;
    this.counters.reportsDelivered += 1;
    this.emit('report', result);
  }

  private onStatus(conn: Connection, status: SessionStatusData): void {
    if (conn.phase === 'logging_on') {
      if (status.code !== SessionStatusCode.LoggedOn || status.requestId !== 0) {
        this.failConnection(conn, new OmsClientError(status.code === SessionStatusCode.Error ? 'refused' : 'protocol', `expected LoggedOn, got ${describeStatus(status)}`, status));
        return;
      }
      const loggedOn = conn.loggedOn;
      conn.loggedOn = null;
      conn.failed = null;
      this.onLogon(conn, status);
      if (loggedOn !== null) loggedOn(status);
      return;
    }
    const pending = status.requestId === 0 ? undefined : this.pending.get(status.requestId);
    if (pending === undefined) {
      if (status.code === SessionStatusCode.Error) this.emit('error', new OmsClientError('refused', `server error: ${describeStatus(status)}`, status));
      else this.emit('status', status);
      return;
    }
    this.settle(pending);
    if (status.code === SessionStatusCode.Error) {
      pending.fail(new OmsClientError('refused', describeStatus(status), status));
      return;
    }
    if (pending.kind === 'session') pending.answer(status);
    else pending.fail(new OmsClientError('protocol', `a ${pending.kind} answered by status ${describeStatus(status)}`, status));
  }

  private onHeartbeat(timeUs: number): void {
    const requestId = this.heartbeatsByTimeUs.get(timeUs);
    if (requestId === undefined) return; // the server's own periodic heartbeat: it only proves the link is alive
    const pending = this.pending.get(requestId);
    assert(pending !== undefined && pending.kind === 'heartbeat', 'a heartbeat time without its pending request');
    this.settle(pending);
    pending.answer();
  }

  private protocolFailure(conn: Connection, message: string): void {
    const error = new OmsClientError('protocol', message);
    this.emit('error', error);
    this.failConnection(conn, error);
  }

  // ---- outgoing -----------------------------------------------------------------------------------------------

  private sessionRequest(conn: Connection, request: SessionRequestData, timeoutMs: number): Promise<SessionStatusData> {
    return new Promise((resolve, reject) => {
      const frame = encodeSessionRequest(this.builder, request);
      this.track(conn, frame, timeoutMs, (timer, fail) => ({ kind: 'session', requestId: request.requestId, timer, fail, answer: resolve }), reject);
    });
  }

  private heartbeatOn(conn: Connection): Promise<number> {
    return new Promise((resolve, reject) => {
      const requestId = this.nextRequestId();
      // The answer is found by this value, so it must never equal a server heartbeat's: those carry the
      // gateway's epoch microseconds (~1.8e15), these this process's monotonic clock (far smaller).
      const sentMs = performance.now();
      const timeUs = Math.max(this.heartbeatTimeUsLast + 1, Math.round(sentMs * 1000));
      this.heartbeatTimeUsLast = timeUs;
      const frame = encodeSessionRequest(this.builder, { kind: 'heartbeat', requestId, timeUs });
      const tracked = this.track(conn, frame, this.options.request_timeout_ms, (timer, fail) => ({
        kind: 'heartbeat', requestId, timer, fail, timeUs, answer: () => resolve(performance.now() - sentMs),
      }), reject);
      if (tracked) this.heartbeatsByTimeUs.set(timeUs, requestId);
    });
  }

  /** Registers the pending answer and sends the frame; returns false (after rejecting) when nothing was sent. */
  private track(conn: Connection, frame: Uint8Array, timeoutMs: number, make: (timer: NodeJS.Timeout, fail: (e: OmsClientError) => void) => Pending,
    reject: (error: OmsClientError) => void): boolean {
    if (this.closed) { reject(new OmsClientError('closed', 'the client is closed')); return false; }
    if (conn.phase === 'closed' || conn.ws.readyState !== WebSocket.OPEN) { reject(new OmsClientError('not_connected', 'not connected')); return false; }
    if (this.pending.size >= this.options.pending_requests_max) {
      reject(new OmsClientError('pending_full', `${this.pending.size} requests await their answer (pending_requests_max)`));
      return false;
    }
    if (conn.ws.bufferedAmount + frame.length > this.options.send_buffer_bytes_max) {
      reject(new OmsClientError('backpressure', `${conn.ws.bufferedAmount} bytes queued in the socket (send_buffer_bytes_max)`));
      return false;
    }
    let pending: Pending | null = null;
    const timer = setTimeout(() => {
      if (pending === null) return;
      this.settle(pending);
      pending.fail(new OmsClientError('timeout', `no answer to request ${pending.requestId} within ${timeoutMs} ms`));
    }, timeoutMs);
    pending = make(timer, reject);
    this.pending.set(pending.requestId, pending);
    conn.ws.send(frame, { binary: true });
    return true;
  }

  /** Removes a pending request (its answer, timeout or failure comes next, exactly once). */
  private settle(pending: Pending): void {
    clearTimeout(pending.timer);
    const removed = this.pending.delete(pending.requestId);
    assert(removed, `request ${pending.requestId} settled twice`);
    if (pending.kind === 'heartbeat') this.heartbeatsByTimeUs.delete(pending.timeUs);
  }

  private failPending(error: OmsClientError): number {
    const all = [...this.pending.values()];
    for (const pending of all) {
      this.settle(pending);
      pending.fail(error);
    }
    return all.filter((p) => p.kind === 'command').length;
  }

  private nextRequestId(): number {
    this.requestIdLast += 1;
    assert(Number.isSafeInteger(this.requestIdLast), 'request ids exhausted');
    return this.requestIdLast;
  }

  /** The live connection, or null after rejecting: requests are refused while (re)connecting. */
  private usable(reject: (error: OmsClientError) => void): Connection | null {
    if (this.closed) { reject(new OmsClientError('closed', 'the client is closed')); return null; }
    if (this.conn === null || !this.conn.ready) { reject(new OmsClientError('not_connected', 'not connected (reconnecting)')); return null; }
    return this.conn;
  }

  private requireConn(): Connection {
    if (this.closed) throw new OmsClientError('closed', 'the client is closed');
    if (this.conn === null || !this.conn.ready) throw new OmsClientError('not_connected', 'not connected (reconnecting)');
    return this.conn;
  }

  // ---- subscriptions and events ---------------------------------------------------------------------------

  private isRemembered(s: Subscription): boolean {
    return this.subscriptions.some((t) => t.scope === s.scope && t.accountId === s.accountId);
  }

  private remember(s: Subscription): void {
    assert(s.scope === SubscriptionScope.OwnOrders || s.scope === SubscriptionScope.Account, `subscription scope ${s.scope}`);
    assert(Number.isInteger(s.accountId) && s.accountId >= 0, `subscription account ${s.accountId}`);
    if (this.isRemembered(s)) return;
    if (this.subscriptions.length >= SUBSCRIPTIONS_MAX) throw new OmsClientError('pending_full', `more than ${SUBSCRIPTIONS_MAX} subscriptions`);
    this.subscriptions.push(s);
  }

  private forget(s: Subscription): void {
    const index = this.subscriptions.findIndex((t) => t.scope === s.scope && t.accountId === s.accountId);
    if (index >= 0) this.subscriptions.splice(index, 1);
  }

  private emit<K extends OmsClientEvent>(event: K, value: OmsClientEventMap[K]): void {
    for (const listener of [...(this.listeners[event] as Set<Listener<K>>)]) {
      try {
        listener(value);
      } catch (error) {
        // A listener's bug must not desynchronise the stream (lastSeq already moved): report it and go on.
        if (event === 'error') throw error;
        this.emit('error', new OmsClientError('listener', `a '${event}' listener threw: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
  }
}

// ---- helpers --------------------------------------------------------------------------------------------------

function resolveOptions(options: OmsClientOptions): ResolvedOptions {
  const o: ResolvedOptions = { ...OMS_CLIENT_DEFAULTS };
  for (const key of Object.keys(OMS_CLIENT_DEFAULTS) as Array<keyof ResolvedOptions>) {
    const value = options[key];
    if (value !== undefined) (o as Record<keyof ResolvedOptions, number | boolean>)[key] = value;
  }
  const positive = (name: keyof ResolvedOptions, value: number, max: number, zeroAllowed = false): void => {
    if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1) || value > max) {
      throw new RangeError(`OmsClientOptions.${name} must be an integer from ${zeroAllowed ? 0 : 1} to ${max}, got ${value}`);
    }
  };
  positive('reconnect_delay_ms_min', o.reconnect_delay_ms_min, TIMEOUT_MS_MAX);
  positive('reconnect_delay_ms_max', o.reconnect_delay_ms_max, TIMEOUT_MS_MAX);
  if (o.reconnect_delay_ms_max < o.reconnect_delay_ms_min) throw new RangeError('OmsClientOptions.reconnect_delay_ms_max must be at least reconnect_delay_ms_min');
  positive('reconnect_attempts_max', o.reconnect_attempts_max, 1_000_000);
  positive('connect_timeout_ms', o.connect_timeout_ms, TIMEOUT_MS_MAX);
  positive('request_timeout_ms', o.request_timeout_ms, TIMEOUT_MS_MAX);
  positive('resume_timeout_ms', o.resume_timeout_ms, TIMEOUT_MS_MAX);
  positive('pending_requests_max', o.pending_requests_max, 1_000_000);
  positive('resume_buffer_results_max', o.resume_buffer_results_max, 10_000_000);
  positive('send_buffer_bytes_max', o.send_buffer_bytes_max, 1024 * 1024 * 1024);
  positive('message_bytes_max', o.message_bytes_max, 1024 * 1024 * 1024);
  positive('keepalive_interval_ms', o.keepalive_interval_ms, TIMEOUT_MS_MAX, true);
  const resumeAfter = options.resume_after_seq;
  if (resumeAfter !== undefined && !(Number.isSafeInteger(resumeAfter) && resumeAfter >= 0)) {
    throw new RangeError(`OmsClientOptions.resume_after_seq must be a non-negative integer, got ${resumeAfter}`);
  }
  if ((options.subscriptions?.length ?? 0) > SUBSCRIPTIONS_MAX) throw new RangeError(`at most ${SUBSCRIPTIONS_MAX} subscriptions`);
  return o;
}

/** Exponential backoff with jitter in [delay/2, delay], so that many clients do not reconnect in step. */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number): number {
  assert(Number.isInteger(attempt) && attempt >= 0, `attempt ${attempt}`);
  const ceilingMs = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceilingMs / 2 + Math.random() * (ceilingMs / 2));
}

export function describeStatus(status: SessionStatusData): string {
  const code = SessionStatusCode[status.code] ?? String(status.code);
  return `${code}${status.text.length > 0 ? `: ${status.text}` : ''}`;
}

/** Checks a token before it goes on the wire (as a header or a subprotocol). */
export function checkToken(token: string, asSubprotocol: boolean): void {
  if (token.length === 0 || token.length > TOKEN_CHARS_MAX) throw new RangeError(`a token has 1 to ${TOKEN_CHARS_MAX} characters`);
  if (asSubprotocol && !SUBPROTOCOL_TOKEN_PATTERN.test(token)) {
    throw new RangeError('this token cannot be sent as a subprotocol (RFC 7230 token characters only); use header auth');
  }
  if (/[\r\n]/.test(token)) throw new RangeError('a token cannot contain line breaks');
}

