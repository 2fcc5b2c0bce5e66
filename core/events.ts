// Encodes what the core emits into one ResultBatch per batch of commands: a single reused writer, one
// buffer handed to the feeding thread. Results stay in command order, each with the events it caused.
// Tables are written with fixed layouts (schemas/flat-writer.ts): emitting results was the largest cost of
// a new order in the core profile while it went through the generic FlatBuffers Builder.

import {
  CxlRejReason, CxlRejResponseTo, Event, ExecType, OrdStatus, OrdType, RejectCode, Side, TimeInForce, VenueRequestKind,
  WorkflowState,
} from '../schemas/generated/oms_generated.js';
import { FlatWriter } from '../schemas/flat-writer.js';
import {
  ER, ER_ORIG, ER_TEXT, ER_VENUE_EXEC, EXECUTION_REPORT, RESULT_BATCH, VENUE_REQUEST, VR, VR_ORIG,
} from '../schemas/result-layouts.js';
import { writeEvent, writeResultTable } from '../schemas/results.js';
import { avgPx } from './fixed.js';
import type { Order, PendingRequest } from './model.js';
import { leavesQty, reportedStatus } from './model.js';

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
  private readonly w: FlatWriter;
  // Offsets of the current batch's results and the current command's events; counted rather than
  // truncated, because setting an array's length is a runtime call in V8.
  private readonly results: number[] = [];
  private resultsCount = 0;
  private readonly events: number[] = [];
  private readonly eventTypes: number[] = [];
  private eventsCount = 0;
  /** The current command's result header; one object, rewritten per command (no allocation per command). */
  private readonly header = { seq: 0, requestId: 0, userId: 0, sessionId: 0 };
  private eventSerial = 0;
  private timeUs = 0;
  private inCommand = false;
  /**
   * Replay and verification need the state, not the events: muted, every emit is a no-op, which makes
   * recovery several times faster. Event content never feeds back into state, so muting cannot change it.
   */
  muted = false;

  constructor(initialBytes = 1 << 20) {
    this.w = new FlatWriter(initialBytes);
  }

  beginBatch(): void {
    this.w.clear();
    this.resultsCount = 0;
    this.inCommand = false;
  }

  beginCommand(seq: number, requestId: number, userId: number, sessionId: number, timeUs: number): void {
    if (this.inCommand) throw new Error('invariant: beginCommand inside a command');
    this.inCommand = true;
    this.eventsCount = 0;
    const header = this.header;
    header.seq = seq;
    header.requestId = requestId;
    header.userId = userId;
    header.sessionId = sessionId;
    this.timeUs = timeUs;
    this.eventSerial = 0;
  }

  endCommand(): void {
    if (!this.inCommand) throw new Error('invariant: endCommand outside a command');
    this.inCommand = false;
    if (this.muted) return;
    this.results[this.resultsCount++] = writeResultTable(this.w, this.header, this.eventTypes, this.events, this.eventsCount);
  }

  resultCount(): number {
    return this.resultsCount;
  }

  /** The finished batch as a fresh copy (the writer's memory is reused for the next batch). */
  finishBatch(): Uint8Array {
    if (this.inCommand) throw new Error('invariant: finishBatch inside a command');
    const w = this.w;
    const vector = w.offsetVector(this.results, this.resultsCount);
    w.beginTable(RESULT_BATCH);
    w.ref(RESULT_BATCH, 0, vector);
    return w.finish(w.endTable(RESULT_BATCH, 0));
  }

  private push(type: Event, table: number): void {
    this.eventTypes[this.eventsCount] = type;
    this.events[this.eventsCount++] = table;
  }

  /** OMS ExecID "<seq>.<n>": unique, and the same on every replay because seq is. */
  private execIdString(): number {
    this.eventSerial += 1;
    return this.w.dottedId(this.header.seq, this.eventSerial);
  }

  executionReport(order: Order, detail: ExecDetail, status: OrdStatus = reportedStatus(order)): void {
    if (this.muted) return;
    const w = this.w;
    // FIX acknowledges a pending cancel/replace as Execution(Y,X): the request's ClOrdID, OrigClOrdID = the
    // order's current one. Everything else (fills meanwhile included) reports the order's own ClOrdID.
    const acked = detail.execType === ExecType.PendingCancel || detail.execType === ExecType.PendingReplace ? order.pending : null;
    const clOrdId = w.string(acked === null ? order.clOrdId : acked.clOrdId);
    const origText = acked === null ? order.origClOrdId : order.clOrdId;
    const origClOrdId = origText.length > 0 ? w.string(origText) : 0;
    const execId = this.execIdString();
    const text = detail.text.length > 0 ? w.string(detail.text) : 0;
    const venueExecId = detail.venueExecId.length > 0 ? w.string(detail.venueExecId) : 0;
    const t = EXECUTION_REPORT;
    w.beginTable(t);
    w.i64(t, ER.orderId, order.orderId);
    w.ref(t, ER.clOrdId, clOrdId);
    if (origClOrdId !== 0) w.ref(t, ER.origClOrdId, origClOrdId);
    w.ref(t, ER.execId, execId);
    w.u8(t, ER.execType, detail.execType);
    w.u8(t, ER.ordStatus, status);
    w.u32(t, ER.accountId, order.accountId);
    w.u32(t, ER.instrumentId, order.instrumentId);
    w.u8(t, ER.side, order.side);
    w.u8(t, ER.ordType, order.ordType);
    w.u8(t, ER.timeInForce, order.timeInForce);
    w.i64(t, ER.orderQty, order.orderQty);
    w.i64(t, ER.price, order.price);
    w.i64(t, ER.stopPx, order.stopPx);
    w.i64(t, ER.lastQty, detail.lastQty);
    w.i64(t, ER.lastPx, detail.lastPx);
    w.i64(t, ER.cumQty, order.cumQty);
    w.i64(t, ER.leavesQty, leavesQty(order));
    w.i64(t, ER.avgPx, avgPx(order.cumNotional, order.cumQty));
    w.u16(t, ER.ordRejReason, detail.ordRejReason ?? RejectCode.None);
    if (text !== 0) w.ref(t, ER.text, text);
    w.i64(t, ER.parentOrderId, order.parentOrderId);
    w.u32(t, ER.venueId, order.venueId);
    w.u8(t, ER.workflowState, order.workflowState);
    w.i64(t, ER.transactTimeUs, this.timeUs);
    if (venueExecId !== 0) w.ref(t, ER.venueExecId, venueExecId);
    const mask = (origClOrdId !== 0 ? ER_ORIG : 0) | (text !== 0 ? ER_TEXT : 0) | (venueExecId !== 0 ? ER_VENUE_EXEC : 0);
    this.push(Event.ExecutionReport, w.endTable(t, mask));
  }

  /** A new order refused before it existed: FIX ExecType=Rejected with OrdRejReason, no order id. */
  orderRejected(clOrdId: string, accountId: number, instrumentId: number, code: RejectCode, text: string): void {
    if (this.muted) return;
    // The ExecID of execIdString(), as text: this event goes through the plain-data writer.
    this.eventSerial += 1;
    // Every other field stays zero, as the Builder's omitted defaults read; TimeInForce's default is Day.
    this.push(Event.ExecutionReport, writeEvent(this.w, {
      kind: 'execution_report', orderId: 0, clOrdId, origClOrdId: '', execId: `${this.header.seq}.${this.eventSerial}`,
      execType: ExecType.Rejected, ordStatus: OrdStatus.Rejected, accountId, instrumentId, side: Side.Unset,
      ordType: OrdType.Unset, timeInForce: TimeInForce.Day, orderQty: 0, price: 0, stopPx: 0, lastQty: 0, lastPx: 0,
      cumQty: 0, leavesQty: 0, avgPx: 0, ordRejReason: code, text, parentOrderId: 0, venueId: 0,
      workflowState: WorkflowState.None, transactTimeUs: this.timeUs, venueExecId: '',
    }));
  }

  // The rarer events go through the plain-result writer the gateway uses (schemas/results.ts): one writer
  // per table; only the execution report and venue request, written per order, read the order directly.
  // (orderRejected above is one of them.)
  cancelReject(
    order: Order | null, clOrdId: string, origClOrdId: string, responseTo: CxlRejResponseTo,
    reason: CxlRejReason, code: RejectCode, text: string,
  ): void {
    if (this.muted) return;
    this.push(Event.OrderCancelReject, writeEvent(this.w, {
      kind: 'cancel_reject', orderId: order === null ? 0 : order.orderId, clOrdId, origClOrdId,
      ordStatus: order === null ? OrdStatus.Rejected : reportedStatus(order), cxlRejResponseTo: responseTo,
      cxlRejReason: reason, rejectCode: code, text, transactTimeUs: this.timeUs,
    }));
  }

  commandReject(code: RejectCode, text: string): void {
    if (this.muted) return;
    this.push(Event.CommandReject, writeEvent(this.w, { kind: 'command_reject', rejectCode: code, text }));
  }

  accepted(commandType: number): void {
    if (this.muted) return;
    this.push(Event.CommandAccepted, writeEvent(this.w, { kind: 'accepted', commandType }));
  }

  /** Asks the venue layer to send a new order, or the pending cancel/replace of `order`. */
  venueRequest(kind: VenueRequestKind, order: Order, pending: PendingRequest | null): void {
    if (this.muted) return;
    const w = this.w;
    const cl = w.string(pending === null ? order.clOrdId : pending.clOrdId);
    const orig = pending === null ? 0 : w.string(order.clOrdId);
    const t = VENUE_REQUEST;
    w.beginTable(t);
    w.u8(t, VR.kind, kind);
    w.u32(t, VR.venueId, order.venueId);
    w.i64(t, VR.orderId, order.orderId);
    w.ref(t, VR.clOrdId, cl);
    if (orig !== 0) w.ref(t, VR.origClOrdId, orig);
    w.u32(t, VR.accountId, order.accountId);
    w.u32(t, VR.instrumentId, order.instrumentId);
    w.u8(t, VR.side, order.side);
    w.u8(t, VR.ordType, order.ordType);
    w.u8(t, VR.timeInForce, pending === null ? order.timeInForce : pending.timeInForce);
    w.i64(t, VR.orderQty, pending === null ? order.orderQty : pending.orderQty);
    w.i64(t, VR.price, pending === null ? order.price : pending.price);
    w.i64(t, VR.stopPx, pending === null ? order.stopPx : pending.stopPx);
    w.i64(t, VR.expireTimeUs, pending === null ? order.expireTimeUs : pending.expireTimeUs);
    this.push(Event.VenueRequest, w.endTable(t, orig !== 0 ? VR_ORIG : 0));
  }
}
