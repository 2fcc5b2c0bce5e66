// The uWebSockets.js app: WebSocket order entry and the operational HTTP endpoints. Everything here runs on
// the main thread; the core runs in its worker behind CoreHost.
//
// A client's command frame is stamped, inside the uWS callback (which owns the buffer), with the session's
// user, session id and the gateway's clock (schemas/stamped.fbs): identity comes from the token, never from
// the client's bytes. The core decodes and checks the frame; one it cannot decode is answered with a reject
// and never journaled.

import * as flatbuffers from 'flatbuffers';
import { Command, RejectCode } from '../schemas/generated/oms_generated.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy, stampCommandView } from '../schemas/commands.js';
import type { CommandResultData } from '../schemas/results.js';
import { DEFAULT_DECODE_LIMITS, peekRequestId } from '../core/decode.js';
import type { Config } from './config.js';
import type { GatewayMetrics } from './metrics.js';
import {
  classifyFrame, encodeHeartbeat, encodePositions, encodeReports, encodeStatus, SessionRequestDecoder, SessionStatusCode, SubscriptionScope,
} from './protocol.js';
import type { PositionData, SessionRequestData } from './protocol.js';
import type { ReportRouter, SessionView } from './router.js';
import type { HttpResponse, TemplatedApp, UwsModule, WebSocket, us_listen_socket } from './uws.js';

export const WS_PATH = '/v1/ws';
export const WS_SUBPROTOCOL = 'oms.v1';
const TOKEN_SUBPROTOCOL_PREFIX = 'token.';
/** Working orders cancelled for one session when it disconnects with cancel-on-disconnect on. */
export const CANCEL_ON_DISCONNECT_ORDERS_MAX = 10_000;

interface SessionData {
  userId: number;
  sessionId: number;
}

/**
 * Why a socket closed, from its close code. uWS closes without a close frame (1006, "abnormal") whatever the
 * limit that cut it: a message over maxPayloadLength, the backpressure limit, or the idle timeout; a vanished
 * peer looks the same. Backpressure drops are also counted on their own (oms_ws_backpressure_drops_total).
 */
function closeReason(code: number): string {
  if (code === 1006) return 'abnormal';
  if (code === 1001) return 'server';
  return 'client';
}

/** What waits for a session's next flush, in the order it must arrive. */
type Outgoing = { kind: 'report'; share: CommandResultData } | { kind: 'bytes'; bytes: Uint8Array };

/** Reports in one WebSocket message at most (a flush or a resume sends more as several messages). */
export const REPORTS_PER_MESSAGE_MAX = 256;

class Session implements SessionView {
  /** Filled by route()/sendTo() during an event-loop turn, sent by the next flush. */
  readonly outbox: Outgoing[] = [];
  ownOrders = true;
  readonly accounts = new Set<number>();
  cancelOnDisconnect = false;
  closed = false;
  rateWindowSecond = 0;
  rateWindowCount = 0;
  constructor(readonly sessionId: number, readonly userId: number, readonly ws: WebSocket<SessionData>) {}
}

/** What the server needs from the service around it. */
export interface GatewayDeps {
  config: Config;
  router: ReportRouter;
  metrics: GatewayMetrics;
  /** Token -> user id, from the configuration. */
  tokens: ReadonlyMap<string, number>;
  userExists(userId: number): boolean;
  lastSeq(): number;
  nowUs(): number;
  /** Submits a stamped frame; resolves with its durable result (already applied to the replica and routed). */
  submit(frame: Uint8Array): Promise<CommandResultData>;
  /** Working orders a user entered through `sessionId`, for cancel-on-disconnect. */
  openOrdersOfSession(sessionId: number): Array<{ clOrdId: string; accountId: number }>;
  ready(): boolean;
  /** Metrics from other threads (the core worker), in the Prometheus text format, appended to the scrape. */
  threadMetrics?(): Promise<string>;
  /** More HTTP routes (the JSON API), mounted before the 404 catch-all. */
  mountRoutes?(app: TemplatedApp): void;
}

export class Gateway {
  private readonly sessions = new Map<number, Session>();
  private nextSessionId = 1;
  private readonly builder = new flatbuffers.Builder(4096);
  private readonly sessionDecoder = new SessionRequestDecoder();
  private listenSocket: us_listen_socket | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private codSerial = 0;
  /** Sessions with something in their outbox; flushed once per event-loop turn (setImmediate). */
  private readonly pendingSessions = new Set<Session>();
  private flushScheduled = false;
  port = 0;

  constructor(private readonly uws: UwsModule, private readonly deps: GatewayDeps) {}

  listen(app: TemplatedApp = this.uws.App()): Promise<number> {
    this.mount(app);
    return new Promise((resolve, reject) => {
      app.listen(this.deps.config.gateway.host, this.deps.config.gateway.port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${this.deps.config.gateway.host}:${this.deps.config.gateway.port}`));
          return;
        }
        this.listenSocket = socket;
        this.port = this.uws.us_socket_local_port(socket);
        this.heartbeatTimer = setInterval(() => this.heartbeatAll(), this.deps.config.gateway.heartbeat_interval_ms);
        resolve(this.port);
      });
    });
  }

  /** Stops intake: no new connections, open sockets closed (cancel-on-disconnect still runs). */
  stopIntake(): void {
    // What was routed this turn still goes out before the sockets close.
    this.flush();
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    if (this.listenSocket !== null) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    for (const session of [...this.sessions.values()]) if (!session.closed) session.ws.end(1001, 'server shutting down');
  }

  /** Whether a session id is an open WebSocket session (HTTP and system commands carry ids that never disconnect). */
  isLiveSession(sessionId: number): boolean {
    return this.sessions.has(sessionId);
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  private mount(app: TemplatedApp): void {
    const g = this.deps.config.gateway;
    app.ws<SessionData>(WS_PATH, {
      maxPayloadLength: g.max_payload_bytes,
      maxBackpressure: g.max_backpressure_bytes,
      closeOnBackpressureLimit: 1,
      idleTimeout: g.idle_timeout_s,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.upgrade(res, req.getHeader('authorization'), req.getHeader('sec-websocket-protocol'),
        req.getHeader('origin'), req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-extensions'), context),
      open: (ws) => this.open(ws),
      message: (ws, message, isBinary) => this.message(ws, message, isBinary),
      close: (ws, code) => this.close(ws, code),
    });
    app.get('/health', (res) => { res.writeHeader('content-type', 'application/json').end('{"status":"ok"}'); });
    app.get('/ready', (res) => {
      const ready = this.deps.ready();
      res.writeStatus(ready ? '200 OK' : '503 Service Unavailable').writeHeader('content-type', 'application/json')
        .end(JSON.stringify({ ready, last_seq: this.deps.lastSeq() }));
    });
    app.get('/metrics', (res) => this.metricsEndpoint(res));
    this.deps.mountRoutes?.(app);
    // Anything else is a clear 404, so that a client can tell "no such endpoint" from "gateway down".
    app.any('/*', (res) => {
      res.writeStatus('404 Not Found').writeHeader('content-type', 'application/problem+json')
        .end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
    });
  }

  private metricsEndpoint(res: HttpResponse): void {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    Promise.all([this.deps.metrics.registry.metrics(), this.deps.threadMetrics?.() ?? Promise.resolve('')]).then(([own, threads]) => {
      if (aborted) return;
      res.cork(() => res.writeHeader('content-type', this.deps.metrics.registry.contentType).end(own + threads));
    }, () => {
      if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end());
    });
  }

  // ---- connection lifecycle ---------------------------------------------------------------------------------

  private upgrade(res: HttpResponse, authorization: string, protocols: string, origin: string, key: string, extensions: string, context: unknown): void {
    const offered = protocols.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
    const token = authorization.startsWith('Bearer ') ? authorization.slice(7).trim()
      : offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))?.slice(TOKEN_SUBPROTOCOL_PREFIX.length) ?? '';
    const userId = this.deps.tokens.get(token);
    if (userId === undefined || !this.deps.userExists(userId)) {
      this.deps.metrics.upgradesRefused.inc({ reason: 'unauthenticated' });
      res.writeStatus('401 Unauthorized').writeHeader('content-type', 'application/json').end('{"error":"missing or unknown token"}');
      return;
    }
    if (origin.length > 0 && !this.deps.config.gateway.origins_allowed.includes(origin)) {
      this.deps.metrics.upgradesRefused.inc({ reason: 'origin' });
      res.writeStatus('403 Forbidden').writeHeader('content-type', 'application/json').end('{"error":"origin not allowed"}');
      return;
    }
    const sessionId = this.nextSessionId++;
    const protocol = offered.length > 0 ? WS_SUBPROTOCOL : '';
    res.upgrade<SessionData>({ userId, sessionId }, key, protocol, extensions, context as Parameters<HttpResponse['upgrade']>[4]);
  }

  private open(ws: WebSocket<SessionData>): void {
    const { userId, sessionId } = ws.getUserData();
    const session = new Session(sessionId, userId, ws);
    this.sessions.set(sessionId, session);
    this.deps.metrics.connections.inc();
    this.deps.metrics.connectionsTotal.inc();
    this.status(session, SessionStatusCode.LoggedOn, 0, RejectCode.None, '');
  }

  private close(ws: WebSocket<SessionData>, code: number): void {
    this.deps.metrics.closes.inc({ reason: closeReason(code) });
    const session = this.sessions.get(ws.getUserData().sessionId);
    if (session === undefined) return;
    session.closed = true;
    session.outbox.length = 0;
    this.sessions.delete(session.sessionId);
    this.deps.metrics.connections.dec();
    if (session.cancelOnDisconnect) this.cancelSessionOrders(session);
  }

  private cancelSessionOrders(session: Session): void {
    const orders = this.deps.openOrdersOfSession(session.sessionId).slice(0, CANCEL_ON_DISCONNECT_ORDERS_MAX);
    for (const order of orders) {
      this.codSerial += 1;
      const command: CommandBody = { type: Command.CancelOrder, clOrdId: `COD-${session.sessionId}-${this.codSerial}`, origClOrdId: order.clOrdId, accountId: order.accountId };
      const frame = encodeCommandCopy(this.builder, { requestId: 0, timeUs: this.deps.nowUs(), userId: session.userId, sessionId: session.sessionId, command });
      this.deps.submit(frame).catch(() => { /* the core refused or stopped: the order stays working, visible in the blotter */ });
    }
  }

  // ---- messages ---------------------------------------------------------------------------------------------

  private message(ws: WebSocket<SessionData>, message: ArrayBuffer, isBinary: boolean): void {
    const session = this.sessions.get(ws.getUserData().sessionId);
    if (session === undefined) return;
    this.deps.metrics.messagesIn.inc();
    this.deps.metrics.bytesIn.inc(message.byteLength);
    if (!this.withinRate(session)) {
      this.deps.metrics.rateLimited.inc();
      this.rejectFrame(session, 0, RejectCode.RateLimited, `over ${this.deps.config.gateway.messages_per_second_max} messages per second`);
      return;
    }
    // uWS reuses the buffer once this callback returns. Nothing keeps it: a command is stamped (copied into
    // the stamp writer, then into the core's next batch) before this returns.
    const bytes = new Uint8Array(message);
    const kind = isBinary ? classifyFrame(bytes) : 'unknown';
    if (kind === 'command') this.command(session, bytes);
    else if (kind === 'session') this.sessionRequest(session, bytes);
    else this.rejectFrame(session, 0, RejectCode.MalformedFrame, 'expected a binary CommandEnvelope (OMS1) or SessionRequest (OMSS)');
  }

  private withinRate(session: Session): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (session.rateWindowSecond !== second) {
      session.rateWindowSecond = second;
      session.rateWindowCount = 0;
    }
    session.rateWindowCount += 1;
    return session.rateWindowCount <= this.deps.config.gateway.messages_per_second_max;
  }

  /**
   * Not decoded here: the core decodes and checks every command anyway, so the gateway only stamps the
   * client's bytes with the session's user and the time (schemas/stamped.fbs). A frame the core cannot
   * decode comes back as a reject with seq 0, routed to this session, and is never journaled.
   */
  private command(session: Session, bytes: Uint8Array): void {
    // Read now: the buffer is gone once this callback returns, and the catch below runs later.
    const requestId = peekRequestId(bytes);
    // The core refuses it anyway; answered here, a frame over the core's limit (max_payload_bytes may be set
    // higher) is not copied twice and sent across to it.
    if (bytes.length > DEFAULT_DECODE_LIMITS.frame_bytes_max) {
      this.rejectFrame(session, requestId, RejectCode.OversizedFrame, `frame of ${bytes.length} bytes exceeds ${DEFAULT_DECODE_LIMITS.frame_bytes_max}`);
      return;
    }
    const frame = stampCommandView({ timeUs: this.deps.nowUs(), userId: session.userId, sessionId: session.sessionId }, bytes);
    this.deps.submit(frame).catch((error: unknown) => {
      this.rejectFrame(session, requestId, RejectCode.RateLimited, `core unavailable: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  private sessionRequest(session: Session, bytes: Uint8Array): void {
    let request: SessionRequestData;
    try {
      request = this.sessionDecoder.decode(bytes);
    } catch (error) {
      this.status(session, SessionStatusCode.Error, 0, RejectCode.MalformedFrame, error instanceof Error ? error.message : 'undecodable request');
      return;
    }
    switch (request.kind) {
      case 'subscribe': return this.subscribe(session, request);
      case 'resume': return this.resume(session, request.requestId, request.afterSeq);
      case 'heartbeat': return this.sendTo(session, encodeHeartbeat(this.builder, request.timeUs));
      case 'cancel_on_disconnect':
        session.cancelOnDisconnect = request.enabled;
        return this.status(session, SessionStatusCode.Ok, request.requestId, RejectCode.None, `cancel-on-disconnect ${request.enabled ? 'on' : 'off'}`);
    }
  }

  private subscribe(session: Session, request: Extract<SessionRequestData, { kind: 'subscribe' }>): void {
    if (request.scope === SubscriptionScope.OwnOrders) {
      session.ownOrders = true;
    } else if (!this.deps.router.entitled(session.userId, request.accountId)) {
      this.status(session, SessionStatusCode.Error, request.requestId, RejectCode.NotEntitled, `not entitled to account ${request.accountId}`);
      return;
    } else {
      session.accounts.add(request.accountId);
    }
    this.status(session, SessionStatusCode.Subscribed, request.requestId, RejectCode.None, '');
  }

  private resume(session: Session, requestId: number, afterSeq: number): void {
    const results = this.deps.router.resume(session, afterSeq);
    if (results === null) {
      const oldest = this.deps.router.oldestResumableSeq();
      this.status(session, SessionStatusCode.ResumeTooOld, requestId, RejectCode.Other, `seq ${afterSeq} is older than the retransmission window (${oldest})`, oldest);
      return;
    }
    // Everything after afterSeq, including results this connection may already have had live: the client
    // orders by seq and drops seqs it delivered, which is exact whatever the interleaving.
    for (let i = 0; i < results.length; i += REPORTS_PER_MESSAGE_MAX) this.sendTo(session, encodeReports(results.slice(i, i + REPORTS_PER_MESSAGE_MAX)));
    this.status(session, SessionStatusCode.ResumeComplete, requestId, RejectCode.None, `${results.length} results replayed`);
  }

  // ---- outbound ---------------------------------------------------------------------------------------------

  /**
   * Routes one durable result to every session that may see it (called in seq order by the service); a
   * session that sees a fill also gets the positions it moved. Queued, not sent: see flush().
   */
  route(result: CommandResultData): void {
    for (const session of this.sessions.values()) {
      const share = this.deps.router.shareFor(session, result, result.sessionId === session.sessionId && result.userId === session.userId);
      if (share !== null) this.enqueue(session, { kind: 'report', share });
    }
  }

  private rejectFrame(session: Session, requestId: number, code: RejectCode, text: string): void {
    this.deps.metrics.rejects.inc({ reason: RejectCode[code] ?? String(code) });
    const result: CommandResultData = {
      seq: 0, requestId, userId: session.userId, sessionId: session.sessionId,
      events: [{ kind: 'command_reject', rejectCode: code, text }],
    };
    this.sendTo(session, encodeReports([result]));
  }

  private status(session: Session, code: SessionStatusCode, requestId: number, rejectCode: RejectCode, text: string, oldestSeq = 0): void {
    this.sendTo(session, encodeStatus(this.builder, {
      code, requestId, userId: session.userId, sessionId: session.sessionId, lastSeq: this.deps.lastSeq(), rejectCode, text, oldestSeq,
    }));
  }

  private heartbeatAll(): void {
    const bytes = encodeHeartbeat(this.builder, this.deps.nowUs());
    for (const session of this.sessions.values()) this.sendTo(session, bytes);
  }

  /** Sends outside uWS callbacks too (hence cork); a slow consumer is closed by uWS at its backpressure limit. */
  private sendTo(session: Session, bytes: Uint8Array): void {
    this.enqueue(session, { kind: 'bytes', bytes });
  }

  private enqueue(session: Session, item: Outgoing): void {
    if (session.closed) return;
    session.outbox.push(item);
    this.pendingSessions.add(session);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Sends every session's outbox, once per event-loop turn: the results of a core batch (up to thousands per
   * turn) go out as a few WebSocket messages under one cork, one syscall per session, instead of a message
   * and a syscall per result (which was the gateway thread's largest cost in the transport benchmark).
   */
  private flush(): void {
    this.flushScheduled = false;
    const sessions = [...this.pendingSessions];
    this.pendingSessions.clear();
    for (const session of sessions) {
      const items = session.outbox.splice(0, session.outbox.length);
      if (!session.closed) session.ws.cork(() => this.sendItems(session, items));
    }
  }

  /** In order: runs of reports become Reports messages, each run followed by the positions its fills moved. */
  private sendItems(session: Session, items: readonly Outgoing[]): void {
    let run: CommandResultData[] = [];
    const sendRun = (): void => {
      if (run.length === 0) return;
      for (let i = 0; i < run.length; i += REPORTS_PER_MESSAGE_MAX) this.sendNow(session, encodeReports(run.slice(i, i + REPORTS_PER_MESSAGE_MAX)));
      const positions = new Map<string, PositionData>();
      for (const share of run) for (const p of this.deps.router.positionsMovedBy(share)) positions.set(`${p.accountId}:${p.instrumentId}`, p);
      if (positions.size > 0) this.sendNow(session, encodePositions(this.builder, [...positions.values()]));
      run = [];
    };
    for (const item of items) {
      if (item.kind === 'report') {
        run.push(item.share);
        continue;
      }
      sendRun();
      this.sendNow(session, item.bytes);
    }
    sendRun();
  }

  private sendNow(session: Session, bytes: Uint8Array): void {
    // A send over the backpressure limit closes the socket from inside send(): nothing more for it.
    if (session.closed) return;
    const status = session.ws.send(bytes, true);
    if (status === 2) {
      this.deps.metrics.backpressureDrops.inc();
      return;
    }
    this.deps.metrics.messagesOut.inc();
    this.deps.metrics.bytesOut.inc(bytes.length);
  }
}
