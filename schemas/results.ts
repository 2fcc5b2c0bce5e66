// Reads the core's ResultBatch into plain objects, for clients, tests, the gateway and the CLI, and writes
// plain results back (the gateway's Reports to each client). The bytes come from our own core, but are still
// read through the bounds-checked TableReader: a corrupt buffer fails loudly instead of misreading money.

import * as flatbuffers from 'flatbuffers';
import {
  CommandResult, CxlRejReason, CxlRejResponseTo, Event, ExecType, OrdStatus, OrdType, RejectCode, Side, TimeInForce,
  VenueRequestKind, WorkflowState,
} from './generated/oms_generated.js';
import type { OrderTerms } from './commands.js';
import type { FlatWriter } from './flat-writer.js';
import {
  COMMAND_ACCEPTED, COMMAND_REJECT, COMMAND_RESULT, CR, ER, ER_ORIG, ER_TEXT, ER_VENUE_EXEC, EXECUTION_REPORT, OCR,
  ORDER_CANCEL_REJECT, VR,
} from './result-layouts.js';
import { TableReader, WireError } from './wire.js';

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

// Read through TableReader rather than the generated accessors: those return every int64 as a bigint (one
// allocation each, eleven per execution report) on a path the gateway and every client run per result.
// Absent fields read as the schema's defaults, exactly as the generated accessors would.

/**
 * Results may come from a newer gateway whose schema appended fields (FlatBuffers evolution): a client
 * ignores them, as the generated accessors did. (The core, reading commands from clients, refuses them.)
 */
const NEWER_FIELDS_IGNORED = 0x7FFF;
/** Our own strings are short; a bound still keeps a corrupt length from allocating gigabytes. */
const RESULT_STRING_BYTES_MAX = 1 << 20;
const resultReader = new TableReader();
const eventReader = new TableReader();

function str(t: TableReader, index: number): string {
  return t.str(index, RESULT_STRING_BYTES_MAX) ?? '';
}

function readExecutionReport(t: TableReader): ExecutionReportData {
  return {
    kind: 'execution_report', orderId: t.u64(ER.orderId), clOrdId: str(t, ER.clOrdId), origClOrdId: str(t, ER.origClOrdId),
    execId: str(t, ER.execId), execType: t.u8(ER.execType), ordStatus: t.u8(ER.ordStatus), accountId: t.u32(ER.accountId),
    instrumentId: t.u32(ER.instrumentId), side: t.u8(ER.side), ordType: t.u8(ER.ordType),
    timeInForce: t.u8(ER.timeInForce, TimeInForce.Day), orderQty: t.i64(ER.orderQty), price: t.i64(ER.price),
    stopPx: t.i64(ER.stopPx), lastQty: t.i64(ER.lastQty), lastPx: t.i64(ER.lastPx), cumQty: t.i64(ER.cumQty),
    leavesQty: t.i64(ER.leavesQty), avgPx: t.i64(ER.avgPx), ordRejReason: t.u16(ER.ordRejReason, RejectCode.None),
    text: str(t, ER.text), parentOrderId: t.u64(ER.parentOrderId), venueId: t.u32(ER.venueId),
    workflowState: t.u8(ER.workflowState), transactTimeUs: t.i64(ER.transactTimeUs), venueExecId: str(t, ER.venueExecId),
  };
}

function readCancelReject(t: TableReader): OrderCancelRejectData {
  return {
    kind: 'cancel_reject', orderId: t.u64(OCR.orderId), clOrdId: str(t, OCR.clOrdId), origClOrdId: str(t, OCR.origClOrdId),
    ordStatus: t.u8(OCR.ordStatus), cxlRejResponseTo: t.u8(OCR.responseTo), cxlRejReason: t.u8(OCR.reason, CxlRejReason.Other),
    rejectCode: t.u16(OCR.rejectCode, RejectCode.None), text: str(t, OCR.text), transactTimeUs: t.i64(OCR.transactTimeUs),
  };
}

function readVenueRequest(t: TableReader): VenueRequestData {
  return {
    kind: 'venue_request', requestKind: t.u8(VR.kind), venueId: t.u32(VR.venueId), orderId: t.u64(VR.orderId),
    clOrdId: str(t, VR.clOrdId), origClOrdId: str(t, VR.origClOrdId), accountId: t.u32(VR.accountId),
    instrumentId: t.u32(VR.instrumentId), side: t.u8(VR.side), ordType: t.u8(VR.ordType),
    timeInForce: t.u8(VR.timeInForce, TimeInForce.Day), orderQty: t.i64(VR.orderQty), price: t.i64(VR.price),
    stopPx: t.i64(VR.stopPx), expireTimeUs: t.i64(VR.expireTimeUs),
  };
}

function readEvent(bb: flatbuffers.ByteBuffer, type: Event, at: number): EventData {
  const t = eventReader;
  switch (type) {
    case Event.ExecutionReport: return readExecutionReport(t.init(bb, at, NEWER_FIELDS_IGNORED));
    case Event.OrderCancelReject: return readCancelReject(t.init(bb, at, NEWER_FIELDS_IGNORED));
    case Event.CommandReject:
      t.init(bb, at, NEWER_FIELDS_IGNORED);
      return { kind: 'command_reject', rejectCode: t.u16(0, RejectCode.BrokerOption), text: str(t, 1) };
    case Event.CommandAccepted: return { kind: 'accepted', commandType: t.init(bb, at, NEWER_FIELDS_IGNORED).u8(0) };
    case Event.VenueRequest: return readVenueRequest(t.init(bb, at, NEWER_FIELDS_IGNORED));
    default: throw new WireError('malformed', `unknown event type ${type}`);
  }
}

/** Length of the vector at `vector` (0 when absent), checked to lie inside the buffer. */
function vectorLength(bb: flatbuffers.ByteBuffer, vector: number, elementBytes: number): number {
  if (vector === 0) return 0;
  const length = bb.readUint32(vector);
  if (vector + 4 + length * elementBytes > bb.capacity()) throw new WireError('malformed', 'vector out of bounds');
  return length;
}

/** Position of element `i` of the offset vector at `vector` (the table it points at). */
function vectorTable(bb: flatbuffers.ByteBuffer, vector: number, i: number): number {
  const element = vector + 4 + 4 * i;
  return element + bb.readUint32(element);
}

/** The CommandResult table at `at`, as plain data. */
function readResultAt(bb: flatbuffers.ByteBuffer, at: number): CommandResultData {
  const r = resultReader.init(bb, at, NEWER_FIELDS_IGNORED);
  const seq = r.u64(CR.seq);
  const requestId = r.u64(CR.requestId);
  const userId = r.u32(CR.userId);
  const sessionId = r.u32(CR.sessionId);
  const types = r.ref(CR.eventsType);
  const tables = r.ref(CR.events);
  const count = vectorLength(bb, types, 1);
  if (vectorLength(bb, tables, 4) !== count) throw new WireError('malformed', 'union vector halves differ in length');
  const events: EventData[] = [];
  for (let j = 0; j < count; j++) events.push(readEvent(bb, bb.readUint8(types + 4 + j), vectorTable(bb, tables, j)));
  return { seq, requestId, userId, sessionId, events };
}

export function decodeResultBatch(bytes: Uint8Array): CommandResultData[] {
  const bb = new flatbuffers.ByteBuffer(bytes);
  const vector = resultVector(bb);
  const count = vectorLength(bb, vector, 4);
  const results: CommandResultData[] = [];
  for (let i = 0; i < count; i++) results.push(readResultAt(bb, vectorTable(bb, vector, i)));
  return results;
}

/** Result `index` of a ResultBatch, alone (the resume ring keeps batches as bytes, not objects). */
export function decodeResultInBatch(bytes: Uint8Array, index: number): CommandResultData {
  const bb = new flatbuffers.ByteBuffer(bytes);
  const vector = resultVector(bb);
  const count = vectorLength(bb, vector, 4);
  if (!(Number.isInteger(index) && index >= 0 && index < count)) throw new RangeError(`result ${index} of a batch of ${count}`);
  return readResultAt(bb, vectorTable(bb, vector, index));
}

function resultVector(bb: flatbuffers.ByteBuffer): number {
  return resultReader.init(bb, bb.readUint32(0), NEWER_FIELDS_IGNORED).ref(0);
}

/** One CommandResult table as plain data (used for Reports inside session messages). */
export function readCommandResult(r: CommandResult): CommandResultData {
  if (r.bb === null) throw new Error('invariant: a CommandResult read from a buffer has one');
  return readResultAt(r.bb, r.bb_pos);
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

/** Writes one event (not a venue request: those never leave the OMS); returns its table's offset. */
export function writeEvent(w: FlatWriter, e: EventData): number {
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
  return writeResultTable(w, result, eventTypes, eventOffsets, count);
}

/**
 * The CommandResult table around events already written (`types[i]` and `offsets[i]`, i < count): shared by
 * the gateway (writeCommandResult) and the core's ResultWriter, which writes its events straight from the order.
 */
export function writeResultTable(
  w: FlatWriter, header: Omit<CommandResultData, 'events'>, types: readonly number[], offsets: readonly number[], count: number,
): number {
  const typeVector = w.byteVector(types, count);
  const eventVector = w.offsetVector(offsets, count);
  const t = COMMAND_RESULT;
  w.beginTable(t);
  w.i64(t, CR.seq, header.seq);
  w.i64(t, CR.requestId, header.requestId);
  w.u32(t, CR.userId, header.userId);
  w.u32(t, CR.sessionId, header.sessionId);
  w.ref(t, CR.eventsType, typeVector);
  w.ref(t, CR.events, eventVector);
  return w.endTable(t, 0);
}
