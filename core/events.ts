// Encodes what the core emits into one ResultBatch per batch of commands: a single reused builder, one
// buffer handed to the feeding thread. Results stay in command order, each with the events it caused.

import * as flatbuffers from 'flatbuffers';
import {
  CommandAccepted, CommandReject, CommandResult, CxlRejReason, CxlRejResponseTo, Event,
  ExecType, ExecutionReport, OrderCancelReject, OrdStatus, RejectCode, ResultBatch, VenueRequest,
  VenueRequestKind,
} from '../schemas/generated/oms_generated.js';
import { addI64, createAsciiString, createDottedIdString } from '../schemas/wire.js';
import { avgPx } from './fixed.js';
import type { Order, PendingRequest } from './model.js';
import { leavesQty, reportedStatus } from './model.js';

/** Execution-specific fields of one ExecutionReport; the rest comes from the order. */
export interface ExecDetail {
  execType: ExecType;
  lastQty: number;
  lastPx: number;
  venueExecId: string;
  text: string;
  /** RejectCode carried on a venue's reject (FIX OrdRejReason); absent = none. */
  ordRejReason?: RejectCode;
}

export class ResultWriter {
  private readonly builder: flatbuffers.Builder;
  // Offsets of the current batch's results and the current command's events; counted rather than
  // truncated, because setting an array's length is a runtime call in V8.
  private readonly results: number[] = [];
  private resultsCount = 0;
  private readonly events: number[] = [];
  private readonly eventTypes: number[] = [];
  private eventsCount = 0;
  private seq = 0;
  private requestId = 0;
  private userId = 0;
  private sessionId = 0;
  private eventSerial = 0;
  private timeUs = 0;
  private inCommand = false;
  /**
   * Replay and verification need the state, not the events: muted, every emit is a no-op, which makes
   * recovery several times faster. Event content never feeds back into state, so muting cannot change it.
   */
  muted = false;

  constructor(initialBytes = 1 << 20) {
    this.builder = new flatbuffers.Builder(initialBytes);
  }

  beginBatch(): void {
    this.builder.clear();
    this.resultsCount = 0;
    this.inCommand = false;
  }

  beginCommand(seq: number, requestId: number, userId: number, sessionId: number, timeUs: number): void {
    if (this.inCommand) throw new Error('invariant: beginCommand inside a command');
    this.inCommand = true;
    this.eventsCount = 0;
    this.seq = seq;
    this.requestId = requestId;
    this.userId = userId;
    this.sessionId = sessionId;
    this.timeUs = timeUs;
    this.eventSerial = 0;
  }

  endCommand(): void {
    if (!this.inCommand) throw new Error('invariant: endCommand outside a command');
    if (this.muted) {
      this.inCommand = false;
      return;
    }
    const b = this.builder;
    const types = typeVector(b, this.eventTypes, this.eventsCount);
    const vector = offsetVector(b, this.events, this.eventsCount);
    CommandResult.startCommandResult(b);
    addI64(b, 0, this.seq);
    addI64(b, 1, this.requestId);
    CommandResult.addUserId(b, this.userId);
    CommandResult.addSessionId(b, this.sessionId);
    CommandResult.addEventsType(b, types);
    CommandResult.addEvents(b, vector);
    this.results[this.resultsCount++] = CommandResult.endCommandResult(b);
    this.inCommand = false;
  }

  resultCount(): number {
    return this.resultsCount;
  }

  /** The finished batch as a fresh copy (the builder's memory is reused for the next batch). */
  finishBatch(): Uint8Array {
    if (this.inCommand) throw new Error('invariant: finishBatch inside a command');
    const b = this.builder;
    const vector = offsetVector(b, this.results, this.resultsCount);
    b.finish(ResultBatch.createResultBatch(b, vector));
    return b.asUint8Array().slice();
  }

  private push(type: Event, table: number): void {
    if (this.muted) return;
    this.eventTypes[this.eventsCount] = type;
    this.events[this.eventsCount++] = table;
  }

  /** OMS ExecID "<seq>.<n>": unique, and the same on every replay because seq is. */
  private execIdString(): number {
    this.eventSerial += 1;
    return createDottedIdString(this.builder, this.seq, this.eventSerial);
  }

  executionReport(order: Order, detail: ExecDetail, status: OrdStatus = reportedStatus(order)): void {
    if (this.muted) return;
    const b = this.builder;
    // FIX acknowledges a pending cancel/replace as Execution(Y,X): the request's ClOrdID, OrigClOrdID = the
    // order's current one. Everything else (fills meanwhile included) reports the order's own ClOrdID.
    const acked = detail.execType === ExecType.PendingCancel || detail.execType === ExecType.PendingReplace ? order.pending : null;
    const clOrdId = createAsciiString(b, acked === null ? order.clOrdId : acked.clOrdId);
    const origText = acked === null ? order.origClOrdId : order.clOrdId;
    const origClOrdId = origText.length > 0 ? createAsciiString(b, origText) : 0;
    const execId = this.execIdString();
    const text = detail.text.length > 0 ? createAsciiString(b, detail.text) : 0;
    const venueExecId = detail.venueExecId.length > 0 ? createAsciiString(b, detail.venueExecId) : 0;
    ExecutionReport.startExecutionReport(b);
    addI64(b, 0, order.orderId);
    ExecutionReport.addClOrdId(b, clOrdId);
    if (origClOrdId !== 0) ExecutionReport.addOrigClOrdId(b, origClOrdId);
    ExecutionReport.addExecId(b, execId);
    ExecutionReport.addExecType(b, detail.execType);
    ExecutionReport.addOrdStatus(b, status);
    ExecutionReport.addAccountId(b, order.accountId);
    ExecutionReport.addInstrumentId(b, order.instrumentId);
    ExecutionReport.addSide(b, order.side);
    ExecutionReport.addOrdType(b, order.ordType);
    ExecutionReport.addTimeInForce(b, order.timeInForce);
    addI64(b, 11, order.orderQty);
    addI64(b, 12, order.price);
    addI64(b, 13, order.stopPx);
    addI64(b, 14, detail.lastQty);
    addI64(b, 15, detail.lastPx);
    addI64(b, 16, order.cumQty);
    addI64(b, 17, leavesQty(order));
    addI64(b, 18, avgPx(order.cumNotional, order.cumQty));
    if (detail.ordRejReason !== undefined) ExecutionReport.addOrdRejReason(b, detail.ordRejReason);
    if (text !== 0) ExecutionReport.addText(b, text);
    addI64(b, 21, order.parentOrderId);
    ExecutionReport.addVenueId(b, order.venueId);
    ExecutionReport.addWorkflowState(b, order.workflowState);
    addI64(b, 24, this.timeUs);
    if (venueExecId !== 0) ExecutionReport.addVenueExecId(b, venueExecId);
    this.push(Event.ExecutionReport, ExecutionReport.endExecutionReport(b));
  }

  /** A new order refused before it existed: FIX ExecType=Rejected with OrdRejReason, no order id. */
  orderRejected(clOrdId: string, accountId: number, instrumentId: number, code: RejectCode, text: string): void {
    if (this.muted) return;
    const b = this.builder;
    const cl = createAsciiString(b, clOrdId);
    const execId = this.execIdString();
    const textOffset = createAsciiString(b, text);
    ExecutionReport.startExecutionReport(b);
    ExecutionReport.addClOrdId(b, cl);
    ExecutionReport.addExecId(b, execId);
    ExecutionReport.addExecType(b, ExecType.Rejected);
    ExecutionReport.addOrdStatus(b, OrdStatus.Rejected);
    ExecutionReport.addAccountId(b, accountId);
    ExecutionReport.addInstrumentId(b, instrumentId);
    ExecutionReport.addOrdRejReason(b, code);
    ExecutionReport.addText(b, textOffset);
    addI64(b, 24, this.timeUs);
    this.push(Event.ExecutionReport, ExecutionReport.endExecutionReport(b));
  }

  cancelReject(
    order: Order | null, clOrdId: string, origClOrdId: string, responseTo: CxlRejResponseTo,
    reason: CxlRejReason, code: RejectCode, text: string,
  ): void {
    if (this.muted) return;
    const b = this.builder;
    const cl = createAsciiString(b, clOrdId);
    const orig = createAsciiString(b, origClOrdId);
    const textOffset = createAsciiString(b, text);
    OrderCancelReject.startOrderCancelReject(b);
    if (order !== null) addI64(b, 0, order.orderId);
    OrderCancelReject.addClOrdId(b, cl);
    OrderCancelReject.addOrigClOrdId(b, orig);
    OrderCancelReject.addOrdStatus(b, order === null ? OrdStatus.Rejected : reportedStatus(order));
    OrderCancelReject.addCxlRejResponseTo(b, responseTo);
    OrderCancelReject.addCxlRejReason(b, reason);
    OrderCancelReject.addRejectCode(b, code);
    OrderCancelReject.addText(b, textOffset);
    addI64(b, 8, this.timeUs);
    this.push(Event.OrderCancelReject, OrderCancelReject.endOrderCancelReject(b));
  }

  commandReject(code: RejectCode, text: string): void {
    if (this.muted) return;
    const b = this.builder;
    const textOffset = createAsciiString(b, text);
    this.push(Event.CommandReject, CommandReject.createCommandReject(b, code, textOffset));
  }

  accepted(commandType: number): void {
    if (this.muted) return;
    this.push(Event.CommandAccepted, CommandAccepted.createCommandAccepted(this.builder, commandType));
  }

  /** Asks the venue layer to send a new order, or the pending cancel/replace of `order`. */
  venueRequest(kind: VenueRequestKind, order: Order, pending: PendingRequest | null): void {
    if (this.muted) return;
    const b = this.builder;
    const cl = createAsciiString(b, pending === null ? order.clOrdId : pending.clOrdId);
    const orig = pending === null ? 0 : createAsciiString(b, order.clOrdId);
    VenueRequest.startVenueRequest(b);
    VenueRequest.addKind(b, kind);
    VenueRequest.addVenueId(b, order.venueId);
    addI64(b, 2, order.orderId);
    VenueRequest.addClOrdId(b, cl);
    if (orig !== 0) VenueRequest.addOrigClOrdId(b, orig);
    VenueRequest.addAccountId(b, order.accountId);
    VenueRequest.addInstrumentId(b, order.instrumentId);
    VenueRequest.addSide(b, order.side);
    VenueRequest.addOrdType(b, order.ordType);
    VenueRequest.addTimeInForce(b, pending === null ? order.timeInForce : pending.timeInForce);
    addI64(b, 10, pending === null ? order.orderQty : pending.orderQty);
    addI64(b, 11, pending === null ? order.price : pending.price);
    addI64(b, 12, pending === null ? order.stopPx : pending.stopPx);
    addI64(b, 13, pending === null ? order.expireTimeUs : pending.expireTimeUs);
    this.push(Event.VenueRequest, VenueRequest.endVenueRequest(b));
  }
}

/** The union-type half of a union vector: one byte per event. */
function typeVector(b: flatbuffers.Builder, types: number[], count: number): number {
  b.startVector(1, count, 1);
  for (let i = count - 1; i >= 0; i--) b.addInt8(types[i]);
  return b.endVector();
}

/** A vector of table offsets from the first `count` entries of `offsets` (what create*Vector does for a whole array). */
function offsetVector(b: flatbuffers.Builder, offsets: number[], count: number): number {
  b.startVector(4, count, 4);
  for (let i = count - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}
