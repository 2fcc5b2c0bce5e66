// Reads the core's ResultBatch into plain objects, for clients, tests, the gateway and the CLI. The bytes
// come from our own core (trusted), so this uses the generated accessors; it is not on the core's hot path.

import * as flatbuffers from 'flatbuffers';
import {
  CommandAccepted, CommandReject, CxlRejReason, CxlRejResponseTo, Event, ExecType, ExecutionReport,
  OrderCancelReject, OrdStatus, OrdType, RejectCode, ResultBatch, Side, TimeInForce, VenueRequest,
  VenueRequestKind, WorkflowState,
} from './generated/oms_generated.js';
import type { OrderTerms } from './commands.js';

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
  for (let i = 0; i < batch.resultsLength(); i++) {
    const r = batch.results(i)!;
    const events: EventData[] = [];
    for (let j = 0; j < r.eventsLength(); j++) {
      const type = r.eventsType(j) ?? Event.NONE;
      events.push(readEvent(type, <T extends EventTable>(obj: T) => r.events(j, obj) as T | null));
    }
    results.push({ seq: n(r.seq()), requestId: n(r.requestId()), userId: r.userId(), sessionId: r.sessionId(), events });
  }
  return results;
}
