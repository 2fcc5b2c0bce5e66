// Reads the core's ResultBatch into plain objects, for clients, tests, the gateway and the CLI. The bytes
// come from our own core (trusted), so this uses the generated accessors; it is not on the core's hot path.

import * as flatbuffers from 'flatbuffers';
import {
  CommandAccepted, CommandReject, CommandResult, CxlRejReason, CxlRejResponseTo, Event, ExecType, ExecutionReport,
  OrderCancelReject, OrdStatus, OrdType, RejectCode, ResultBatch, Side, TimeInForce, VenueRequest,
  VenueRequestKind, WorkflowState,
} from './generated/oms_generated.js';
import type { OrderTerms } from './commands.js';
import type { FlatWriter } from './flat-writer.js';
import {
  COMMAND_ACCEPTED, COMMAND_REJECT, COMMAND_RESULT, CR, ER, ER_ORIG, ER_TEXT, ER_VENUE_EXEC, EXECUTION_REPORT, OCR,
  ORDER_CANCEL_REJECT,
} from './result-layouts.js';

export interface ExecutionReportData {
  kind: 'execution_report';
  orderId: number;
  clOrdId: string;
  origClOrdId: string;
  execId: string;
  execType: ExecType;
  ordStatus: OrdStatus;
  accountId: number;
  instrumentId: number;
  side: Side;
  ordType: OrdType;
  timeInForce: TimeInForce;
  orderQty: number;
  price: number;
  stopPx: number;
  lastQty: number;
  lastPx: number;
  cumQty: number;
  leavesQty: number;
  /** Price units x 10^AVG_PX_EXTRA_DIGITS. */
  avgPx: number;
  ordRejReason: RejectCode;
  text: string;
  parentOrderId: number;
  venueId: number;
  workflowState: WorkflowState;
  transactTimeUs: number;
  venueExecId: string;
}

export interface OrderCancelRejectData {
  kind: 'cancel_reject';
  orderId: number;
  clOrdId: string;
  origClOrdId: string;
  ordStatus: OrdStatus;
  cxlRejResponseTo: CxlRejResponseTo;
  cxlRejReason: CxlRejReason;
  rejectCode: RejectCode;
  text: string;
  transactTimeUs: number;
}

export interface CommandRejectData {
  kind: 'command_reject';
  rejectCode: RejectCode;
  text: string;
}

export interface CommandAcceptedData {
  kind: 'accepted';
  commandType: number;
}

export interface VenueRequestData extends OrderTerms {
  kind: 'venue_request';
  requestKind: VenueRequestKind;
  venueId: number;
  orderId: number;
  clOrdId: string;
  origClOrdId: string;
  accountId: number;
  instrumentId: number;
}

export type EventData =
  | ExecutionReportData | OrderCancelRejectData | CommandRejectData | CommandAcceptedData | VenueRequestData;

export interface CommandResultData {
  seq: number;
  requestId: number;
  userId: number;
  sessionId: number;
  events: EventData[];
}

const n = (value: bigint): number => Number(value);

function readExecutionReport(e: ExecutionReport): ExecutionReportData {
  return {
    kind: 'execution_report', orderId: n(e.orderId()), clOrdId: e.clOrdId() ?? '', origClOrdId: e.origClOrdId() ?? '',
    execId: e.execId() ?? '', execType: e.execType(), ordStatus: e.ordStatus(), accountId: e.accountId(),
    instrumentId: e.instrumentId(), side: e.side(), ordType: e.ordType(), timeInForce: e.timeInForce(),
    orderQty: n(e.orderQty()), price: n(e.price()), stopPx: n(e.stopPx()), lastQty: n(e.lastQty()),
    lastPx: n(e.lastPx()), cumQty: n(e.cumQty()), leavesQty: n(e.leavesQty()), avgPx: n(e.avgPx()),
    ordRejReason: e.ordRejReason(), text: e.text() ?? '', parentOrderId: n(e.parentOrderId()), venueId: e.venueId(),
    workflowState: e.workflowState(), transactTimeUs: n(e.transactTimeUs()), venueExecId: e.venueExecId() ?? '',
  };
}

function readCancelReject(e: OrderCancelReject): OrderCancelRejectData {
  return {
    kind: 'cancel_reject', orderId: n(e.orderId()), clOrdId: e.clOrdId() ?? '', origClOrdId: e.origClOrdId() ?? '',
    ordStatus: e.ordStatus(), cxlRejResponseTo: e.cxlRejResponseTo(), cxlRejReason: e.cxlRejReason(),
    rejectCode: e.rejectCode(), text: e.text() ?? '', transactTimeUs: n(e.transactTimeUs()),
  };
}

function readVenueRequest(e: VenueRequest): VenueRequestData {
  return {
    kind: 'venue_request', requestKind: e.kind(), venueId: e.venueId(), orderId: n(e.orderId()),
    clOrdId: e.clOrdId() ?? '', origClOrdId: e.origClOrdId() ?? '', accountId: e.accountId(),
    instrumentId: e.instrumentId(), side: e.side(), ordType: e.ordType(), timeInForce: e.timeInForce(),
    orderQty: n(e.orderQty()), price: n(e.price()), stopPx: n(e.stopPx()), expireTimeUs: n(e.expireTimeUs()),
  };
}

type EventTable = ExecutionReport | OrderCancelReject | CommandReject | CommandAccepted | VenueRequest;

function readEvent(type: Event, read: <T extends EventTable>(obj: T) => T | null): EventData {
  switch (type) {
    case Event.ExecutionReport: return readExecutionReport(read(new ExecutionReport())!);
    case Event.OrderCancelReject: return readCancelReject(read(new OrderCancelReject())!);
    case Event.CommandReject: {
      const e = read(new CommandReject())!;
      return { kind: 'command_reject', rejectCode: e.rejectCode(), text: e.text() ?? '' };
    }
    case Event.CommandAccepted: return { kind: 'accepted', commandType: read(new CommandAccepted())!.commandType() };
    case Event.VenueRequest: return readVenueRequest(read(new VenueRequest())!);
    default: throw new Error(`unknown event type ${type}`);
  }
}

export function decodeResultBatch(bytes: Uint8Array): CommandResultData[] {
  const batch = ResultBatch.getRootAsResultBatch(new flatbuffers.ByteBuffer(bytes));
  const results: CommandResultData[] = [];
  for (let i = 0; i < batch.resultsLength(); i++) results.push(readCommandResult(batch.results(i)!));
  return results;
}

/** One CommandResult table as plain data (used for Reports inside session messages). */
export function readCommandResult(r: CommandResult): CommandResultData {
  const events: EventData[] = [];
  for (let j = 0; j < r.eventsLength(); j++) {
    const type = r.eventsType(j) ?? Event.NONE;
    events.push(readEvent(type, <T extends EventTable>(obj: T) => r.events(j, obj) as T | null));
  }
  return { seq: n(r.seq()), requestId: n(r.requestId()), userId: r.userId(), sessionId: r.sessionId(), events };
}

// ---- encoding plain results (the gateway re-encodes each client's share of a batch) -----------------------

function writeExecutionReport(w: FlatWriter, e: ExecutionReportData): number {
  const cl = w.string(e.clOrdId);
  const orig = e.origClOrdId.length > 0 ? w.string(e.origClOrdId) : 0;
  const execId = w.string(e.execId);
  const text = e.text.length > 0 ? w.string(e.text) : 0;
  const venueExecId = e.venueExecId.length > 0 ? w.string(e.venueExecId) : 0;
  const t = EXECUTION_REPORT;
  w.beginTable(t);
  w.i64(t, ER.orderId, e.orderId);
  w.ref(t, ER.clOrdId, cl);
  if (orig !== 0) w.ref(t, ER.origClOrdId, orig);
  w.ref(t, ER.execId, execId);
  w.u8(t, ER.execType, e.execType);
  w.u8(t, ER.ordStatus, e.ordStatus);
  w.u32(t, ER.accountId, e.accountId);
  w.u32(t, ER.instrumentId, e.instrumentId);
  w.u8(t, ER.side, e.side);
  w.u8(t, ER.ordType, e.ordType);
  w.u8(t, ER.timeInForce, e.timeInForce);
  w.i64(t, ER.orderQty, e.orderQty);
  w.i64(t, ER.price, e.price);
  w.i64(t, ER.stopPx, e.stopPx);
  w.i64(t, ER.lastQty, e.lastQty);
  w.i64(t, ER.lastPx, e.lastPx);
  w.i64(t, ER.cumQty, e.cumQty);
  w.i64(t, ER.leavesQty, e.leavesQty);
  w.i64(t, ER.avgPx, e.avgPx);
  w.u16(t, ER.ordRejReason, e.ordRejReason);
  if (text !== 0) w.ref(t, ER.text, text);
  w.i64(t, ER.parentOrderId, e.parentOrderId);
  w.u32(t, ER.venueId, e.venueId);
  w.u8(t, ER.workflowState, e.workflowState);
  w.i64(t, ER.transactTimeUs, e.transactTimeUs);
  if (venueExecId !== 0) w.ref(t, ER.venueExecId, venueExecId);
  return w.endTable(t, (orig !== 0 ? ER_ORIG : 0) | (text !== 0 ? ER_TEXT : 0) | (venueExecId !== 0 ? ER_VENUE_EXEC : 0));
}

function writeCancelReject(w: FlatWriter, e: OrderCancelRejectData): number {
  const cl = w.string(e.clOrdId);
  const orig = w.string(e.origClOrdId);
  const text = w.string(e.text);
  const t = ORDER_CANCEL_REJECT;
  w.beginTable(t);
  w.i64(t, OCR.orderId, e.orderId);
  w.ref(t, OCR.clOrdId, cl);
  w.ref(t, OCR.origClOrdId, orig);
  w.u8(t, OCR.ordStatus, e.ordStatus);
  w.u8(t, OCR.responseTo, e.cxlRejResponseTo);
  w.u8(t, OCR.reason, e.cxlRejReason);
  w.u16(t, OCR.rejectCode, e.rejectCode);
  w.ref(t, OCR.text, text);
  w.i64(t, OCR.transactTimeUs, e.transactTimeUs);
  return w.endTable(t, 0);
}

function writeEvent(w: FlatWriter, e: EventData): number {
  switch (e.kind) {
    case 'execution_report': return writeExecutionReport(w, e);
    case 'cancel_reject': return writeCancelReject(w, e);
    case 'command_reject': {
      const text = w.string(e.text);
      w.beginTable(COMMAND_REJECT);
      w.u16(COMMAND_REJECT, 0, e.rejectCode);
      w.ref(COMMAND_REJECT, 1, text);
      return w.endTable(COMMAND_REJECT, 0);
    }
    case 'accepted':
      w.beginTable(COMMAND_ACCEPTED);
      w.u8(COMMAND_ACCEPTED, 0, e.commandType);
      return w.endTable(COMMAND_ACCEPTED, 0);
    case 'venue_request': throw new Error('invariant: venue requests are internal and never sent to clients');
  }
}

const EVENT_TYPE: Record<EventData['kind'], Event> = {
  execution_report: Event.ExecutionReport, cancel_reject: Event.OrderCancelReject,
  command_reject: Event.CommandReject, accepted: Event.CommandAccepted, venue_request: Event.VenueRequest,
};

// Reused per thread: writes are synchronous and the offsets are consumed before the next result.
const eventOffsets: number[] = [];
const eventTypes: number[] = [];

/** Writes one result (typically a client's filtered share of a core result); returns its table's offset. */
export function writeCommandResult(w: FlatWriter, result: CommandResultData): number {
  const count = result.events.length;
  for (let i = 0; i < count; i++) {
    const event = result.events[i];
    eventTypes[i] = EVENT_TYPE[event.kind];
    eventOffsets[i] = writeEvent(w, event);
  }
  const types = w.byteVector(eventTypes, count);
  const events = w.offsetVector(eventOffsets, count);
  const t = COMMAND_RESULT;
  w.beginTable(t);
  w.i64(t, CR.seq, result.seq);
  w.i64(t, CR.requestId, result.requestId);
  w.u32(t, CR.userId, result.userId);
  w.u32(t, CR.sessionId, result.sessionId);
  w.ref(t, CR.eventsType, types);
  w.ref(t, CR.events, events);
  return w.endTable(t, 0);
}
