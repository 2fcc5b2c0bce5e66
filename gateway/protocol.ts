// The WebSocket session protocol (schemas/session.fbs) as plain data: what the gateway reads from clients
// (hostile bytes, checked with the same bounds-checked reader as commands) and what it sends them; the
// client side (gateway/client.ts) uses the mirror functions.

import * as flatbuffers from 'flatbuffers';
import { RejectCode } from '../schemas/generated/oms_generated.js';
import {
  CancelOnDisconnect, Heartbeat, PositionUpdate, Positions, Reports, Resume, ServerBody, ServerMessage, SessionRequest, SessionRequestBody,
  SessionStatus, SessionStatusCode, Subscribe, SubscriptionScope,
} from '../schemas/generated/session_generated.js';
import type { CommandResultData } from '../schemas/results.js';
import { readCommandResult, writeCommandResult } from '../schemas/results.js';
import { FlatWriter, TableLayout } from '../schemas/flat-writer.js';
import { addI64, FILE_IDENTIFIER, hasIdentifier, rootPosition, SESSION_FILE_IDENTIFIER, TableReader, WireError } from '../schemas/wire.js';

export { SessionStatusCode, SubscriptionScope };

export type SessionRequestData =
  | { kind: 'subscribe'; requestId: number; scope: SubscriptionScope; accountId: number }
  | { kind: 'resume'; requestId: number; afterSeq: number }
  | { kind: 'heartbeat'; requestId: number; timeUs: number }
  | { kind: 'cancel_on_disconnect'; requestId: number; enabled: boolean };

export interface SessionStatusData {
  code: SessionStatusCode;
  requestId: number;
  userId: number;
  sessionId: number;
  lastSeq: number;
  rejectCode: RejectCode;
  text: string;
  /** ResumeTooOld: the oldest seq a resume can start after; 0 otherwise. */
  oldestSeq: number;
}

export interface PositionData {
  seq: number;
  accountId: number;
  instrumentId: number;
  qty: number;
  /** Decimal text in the instrument's currency. */
  cost: string;
  realisedPnl: string;
  unrealisedPnl: string;
  markPx: number;
  currency: string;
}

export type ServerMessageData =
  | { kind: 'reports'; results: CommandResultData[] }
  | { kind: 'positions'; positions: PositionData[] }
  | { kind: 'status'; status: SessionStatusData }
  | { kind: 'heartbeat'; timeUs: number };

/** What a client frame is, from its file identifier alone (the body is checked by its own decoder). */
export function classifyFrame(bytes: Uint8Array): 'command' | 'session' | 'unknown' {
  if (hasIdentifier(bytes, FILE_IDENTIFIER)) return 'command';
  if (hasIdentifier(bytes, SESSION_FILE_IDENTIFIER)) return 'session';
  return 'unknown';
}

// ---- server side: read requests, write messages -------------------------------------------------------------

const REQUEST_FIELDS = 3;
const BODY_FIELDS: Record<number, number> = {
  [SessionRequestBody.Subscribe]: 2, [SessionRequestBody.Resume]: 1, [SessionRequestBody.Heartbeat]: 1,
  [SessionRequestBody.CancelOnDisconnect]: 1,
};

export class SessionRequestDecoder {
  private readonly request = new TableReader();
  private readonly body = new TableReader();

  /** Throws WireError (malformed / unknown_field / out_of_range) on anything but a well-formed request. */
  decode(bytes: Uint8Array): SessionRequestData {
    const bb = new flatbuffers.ByteBuffer(bytes);
    const request = this.request.init(bb, rootPosition(bb, SESSION_FILE_IDENTIFIER), REQUEST_FIELDS);
    const requestId = request.u64(0);
    const type = request.u8(1);
    const fields = BODY_FIELDS[type];
    const at = request.ref(2);
    if (fields === undefined || at === 0) throw new WireError('malformed', `unknown session request type ${type}`);
    const body = this.body.init(bb, at, fields);
    switch (type) {
      case SessionRequestBody.Subscribe: {
        const scope = body.u8(0);
        if (scope !== SubscriptionScope.OwnOrders && scope !== SubscriptionScope.Account) {
          throw new WireError('out_of_range', `subscription scope ${scope}`);
        }
        return { kind: 'subscribe', requestId, scope, accountId: body.u32(1) };
      }
      case SessionRequestBody.Resume: return { kind: 'resume', requestId, afterSeq: body.u64(0) };
      case SessionRequestBody.Heartbeat: return { kind: 'heartbeat', requestId, timeUs: body.i64(0) };
      default: return { kind: 'cancel_on_disconnect', requestId, enabled: body.bool(0) };
    }
  }
}

function finish(b: flatbuffers.Builder, bodyType: ServerBody, body: number): Uint8Array {
  ServerMessage.startServerMessage(b);
  ServerMessage.addBodyType(b, bodyType);
  ServerMessage.addBody(b, body);
  b.finish(ServerMessage.endServerMessage(b), SESSION_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

// Reports are most of what the gateway sends: written with fixed layouts, like the core's results.
const REPORTS = new TableLayout('Reports', 1, [{ index: 0, width: 4 }]);
const SERVER_MESSAGE = new TableLayout('ServerMessage', 2, [{ index: 1, width: 4 }, { index: 0, width: 1 }]);
/** One per thread: encoding is synchronous and finish() returns a copy. */
const reportsWriter = new FlatWriter(1 << 16);
const resultOffsets: number[] = [];

export function encodeReports(results: readonly CommandResultData[]): Uint8Array {
  const w = reportsWriter;
  w.clear();
  for (let i = 0; i < results.length; i++) resultOffsets[i] = writeCommandResult(w, results[i]);
  const vector = w.offsetVector(resultOffsets, results.length);
  w.beginTable(REPORTS);
  w.ref(REPORTS, 0, vector);
  const reports = w.endTable(REPORTS, 0);
  w.beginTable(SERVER_MESSAGE);
  w.u8(SERVER_MESSAGE, 0, ServerBody.Reports);
  w.ref(SERVER_MESSAGE, 1, reports);
  return w.finish(w.endTable(SERVER_MESSAGE, 0), SESSION_FILE_IDENTIFIER);
}

export function encodeStatus(b: flatbuffers.Builder, s: SessionStatusData): Uint8Array {
  b.clear();
  const text = s.text.length > 0 ? b.createString(s.text) : 0;
  SessionStatus.startSessionStatus(b);
  SessionStatus.addCode(b, s.code);
  addI64(b, 1, s.requestId);
  SessionStatus.addUserId(b, s.userId);
  SessionStatus.addSessionId(b, s.sessionId);
  addI64(b, 4, s.lastSeq);
  SessionStatus.addRejectCode(b, s.rejectCode);
  if (text !== 0) SessionStatus.addText(b, text);
  addI64(b, 7, s.oldestSeq);
  return finish(b, ServerBody.SessionStatus, SessionStatus.endSessionStatus(b));
}

export function encodePositions(b: flatbuffers.Builder, positions: readonly PositionData[]): Uint8Array {
  b.clear();
  const offsets = positions.map((p) => {
    const cost = b.createString(p.cost);
    const realised = b.createString(p.realisedPnl);
    const unrealised = b.createString(p.unrealisedPnl);
    const currency = b.createString(p.currency);
    PositionUpdate.startPositionUpdate(b);
    addI64(b, 0, p.seq);
    PositionUpdate.addAccountId(b, p.accountId);
    PositionUpdate.addInstrumentId(b, p.instrumentId);
    addI64(b, 3, p.qty);
    PositionUpdate.addCost(b, cost);
    PositionUpdate.addRealisedPnl(b, realised);
    PositionUpdate.addUnrealisedPnl(b, unrealised);
    addI64(b, 7, p.markPx);
    PositionUpdate.addCurrency(b, currency);
    return PositionUpdate.endPositionUpdate(b);
  });
  const vector = Positions.createPositionsVector(b, offsets);
  return finish(b, ServerBody.Positions, Positions.createPositions(b, vector));
}

export function encodeHeartbeat(b: flatbuffers.Builder, timeUs: number): Uint8Array {
  b.clear();
  Heartbeat.startHeartbeat(b);
  addI64(b, 0, timeUs);
  return finish(b, ServerBody.Heartbeat, Heartbeat.endHeartbeat(b));
}

// ---- client side: write requests, read messages -------------------------------------------------------------

export function encodeSessionRequest(b: flatbuffers.Builder, r: SessionRequestData): Uint8Array {
  b.clear();
  let type: SessionRequestBody;
  let body: number;
  switch (r.kind) {
    case 'subscribe': type = SessionRequestBody.Subscribe; body = Subscribe.createSubscribe(b, r.scope, r.accountId); break;
    case 'resume': type = SessionRequestBody.Resume; Resume.startResume(b); addI64(b, 0, r.afterSeq); body = Resume.endResume(b); break;
    case 'heartbeat': type = SessionRequestBody.Heartbeat; Heartbeat.startHeartbeat(b); addI64(b, 0, r.timeUs); body = Heartbeat.endHeartbeat(b); break;
    case 'cancel_on_disconnect': type = SessionRequestBody.CancelOnDisconnect; body = CancelOnDisconnect.createCancelOnDisconnect(b, r.enabled); break;
  }
  SessionRequest.startSessionRequest(b);
  addI64(b, 0, r.requestId);
  SessionRequest.addBodyType(b, type);
  SessionRequest.addBody(b, body);
  b.finish(SessionRequest.endSessionRequest(b), SESSION_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

/** Reads a server message (trusted: it comes from our gateway). */
export function decodeServerMessage(bytes: Uint8Array): ServerMessageData {
  const message = ServerMessage.getRootAsServerMessage(new flatbuffers.ByteBuffer(bytes));
  switch (message.bodyType()) {
    case ServerBody.Reports: {
      const reports = message.body(new Reports()) as Reports;
      const results: CommandResultData[] = [];
      for (let i = 0; i < reports.resultsLength(); i++) results.push(readCommandResult(reports.results(i)!));
      return { kind: 'reports', results };
    }
    case ServerBody.SessionStatus: {
      const s = message.body(new SessionStatus()) as SessionStatus;
      return {
        kind: 'status', status: {
          code: s.code(), requestId: Number(s.requestId()), userId: s.userId(), sessionId: s.sessionId(),
          lastSeq: Number(s.lastSeq()), rejectCode: s.rejectCode(), text: s.text() ?? '', oldestSeq: Number(s.oldestSeq()),
        },
      };
    }
    case ServerBody.Heartbeat: return { kind: 'heartbeat', timeUs: Number((message.body(new Heartbeat()) as Heartbeat).timeUs()) };
    case ServerBody.Positions: {
      const list = message.body(new Positions()) as Positions;
      const positions: PositionData[] = [];
      for (let i = 0; i < list.positionsLength(); i++) {
        const p = list.positions(i)!;
        positions.push({
          seq: Number(p.seq()), accountId: p.accountId(), instrumentId: p.instrumentId(), qty: Number(p.qty()), cost: p.cost() ?? '0',
          realisedPnl: p.realisedPnl() ?? '0', unrealisedPnl: p.unrealisedPnl() ?? '0', markPx: Number(p.markPx()), currency: p.currency() ?? '',
        });
      }
      return { kind: 'positions', positions };
    }
    default: throw new Error(`unknown server message type ${message.bodyType()}`);
  }
}
