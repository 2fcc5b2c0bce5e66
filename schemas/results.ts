// Reads the core's ResultBatch into plain objects, for clients, tests, the gateway and the CLI. The bytes
// come from our own core (trusted), so this uses the generated accessors; it is not on the core's hot path.

import * as flatbuffers from 'flatbuffers';
import {
  CommandAccepted, CommandReject, CommandResult, CxlRejReason, CxlRejResponseTo, Event, ExecType, ExecutionReport,
  OrderCancelReject, OrdStatus, OrdType, RejectCode, ResultBatch, Side, TimeInForce, VenueRequest,
  VenueRequestKind, WorkflowState,
} from './generated/oms_generated.js';
import type { OrderTerms } from './commands.js';
import { addI64 } from './wire.js';

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

function str(b: flatbuffers.Builder, value: string): number {
  return value.length === 0 ? 0 : b.createString(value);
}

function encodeExecutionReport(b: flatbuffers.Builder, e: ExecutionReportData): number {
  const cl = str(b, e.clOrdId);
  const orig = str(b, e.origClOrdId);
  const execId = str(b, e.execId);
  const text = str(b, e.text);
  const venueExecId = str(b, e.venueExecId);
  ExecutionReport.startExecutionReport(b);
  addI64(b, 0, e.orderId);
  if (cl !== 0) ExecutionReport.addClOrdId(b, cl);
  if (orig !== 0) ExecutionReport.addOrigClOrdId(b, orig);
  if (execId !== 0) ExecutionReport.addExecId(b, execId);
  ExecutionReport.addExecType(b, e.execType);
  ExecutionReport.addOrdStatus(b, e.ordStatus);
  ExecutionReport.addAccountId(b, e.accountId);
  ExecutionReport.addInstrumentId(b, e.instrumentId);
  ExecutionReport.addSide(b, e.side);
  ExecutionReport.addOrdType(b, e.ordType);
  ExecutionReport.addTimeInForce(b, e.timeInForce);
  addI64(b, 11, e.orderQty);
  addI64(b, 12, e.price);
  addI64(b, 13, e.stopPx);
  addI64(b, 14, e.lastQty);
  addI64(b, 15, e.lastPx);
  addI64(b, 16, e.cumQty);
  addI64(b, 17, e.leavesQty);
  addI64(b, 18, e.avgPx);
  ExecutionReport.addOrdRejReason(b, e.ordRejReason);
  if (text !== 0) ExecutionReport.addText(b, text);
  addI64(b, 21, e.parentOrderId);
  ExecutionReport.addVenueId(b, e.venueId);
  ExecutionReport.addWorkflowState(b, e.workflowState);
  addI64(b, 24, e.transactTimeUs);
  if (venueExecId !== 0) ExecutionReport.addVenueExecId(b, venueExecId);
  return ExecutionReport.endExecutionReport(b);
}

function encodeCancelReject(b: flatbuffers.Builder, e: OrderCancelRejectData): number {
  const cl = str(b, e.clOrdId);
  const orig = str(b, e.origClOrdId);
  const text = str(b, e.text);
  OrderCancelReject.startOrderCancelReject(b);
  addI64(b, 0, e.orderId);
  if (cl !== 0) OrderCancelReject.addClOrdId(b, cl);
  if (orig !== 0) OrderCancelReject.addOrigClOrdId(b, orig);
  OrderCancelReject.addOrdStatus(b, e.ordStatus);
  OrderCancelReject.addCxlRejResponseTo(b, e.cxlRejResponseTo);
  OrderCancelReject.addCxlRejReason(b, e.cxlRejReason);
  OrderCancelReject.addRejectCode(b, e.rejectCode);
  if (text !== 0) OrderCancelReject.addText(b, text);
  addI64(b, 8, e.transactTimeUs);
  return OrderCancelReject.endOrderCancelReject(b);
}

function encodeEvent(b: flatbuffers.Builder, e: EventData): { type: Event; offset: number } {
  switch (e.kind) {
    case 'execution_report': return { type: Event.ExecutionReport, offset: encodeExecutionReport(b, e) };
    case 'cancel_reject': return { type: Event.OrderCancelReject, offset: encodeCancelReject(b, e) };
    case 'command_reject': return { type: Event.CommandReject, offset: CommandReject.createCommandReject(b, e.rejectCode, str(b, e.text)) };
    case 'accepted': return { type: Event.CommandAccepted, offset: CommandAccepted.createCommandAccepted(b, e.commandType) };
    case 'venue_request': throw new Error('invariant: venue requests are internal and never sent to clients');
  }
}

/** Encodes one result (typically a client's filtered share of a core result) into `b`. */
export function encodeCommandResult(b: flatbuffers.Builder, result: CommandResultData): number {
  const encoded = result.events.map((e) => encodeEvent(b, e));
  const types = CommandResult.createEventsTypeVector(b, encoded.map((e) => e.type));
  const events = CommandResult.createEventsVector(b, encoded.map((e) => e.offset));
  CommandResult.startCommandResult(b);
  addI64(b, 0, result.seq);
  addI64(b, 1, result.requestId);
  CommandResult.addUserId(b, result.userId);
  CommandResult.addSessionId(b, result.sessionId);
  CommandResult.addEventsType(b, types);
  CommandResult.addEvents(b, events);
  return CommandResult.endCommandResult(b);
}
