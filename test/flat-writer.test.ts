// The hand-laid FlatBuffers of the core's results (schemas/flat-writer.ts, core/events.ts) read back through
// the generated accessors and through TableReader (bounds, vtable and alignment checks), event by event,
// with optional fields present and absent, across buffer growth, interleaved writers and buffer reuse.

import * as flatbuffers from 'flatbuffers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Command, CommandAccepted, CommandResult, CxlRejReason, CxlRejResponseTo, Event, ExecType, ExecutionReport, OrderCancelReject, OrdStatus, OrdType, RejectCode,
  ResultBatch, Side, TimeInForce, VenueRequest, VenueRequestKind, WorkflowState,
} from '../schemas/generated/oms_generated.js';
import { FlatWriter, TableLayout } from '../schemas/flat-writer.js';
import { decodeResultBatch } from '../schemas/results.js';
import { TableReader } from '../schemas/wire.js';
import { ResultWriter } from '../core/events.js';
import { classifyFrame, decodeServerMessage, encodeReports } from '../gateway/protocol.js';
import { CommandDecoder } from '../core/decode.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommand, encodeCommandCopy } from '../schemas/commands.js';
import { AVG_PX_EXTRA_DIGITS } from '../core/fixed.js';
import type { Order, PendingRequest } from '../core/model.js';
import { PendingKind } from '../core/model.js';

function order(overrides: Partial<Order> = {}): Order {
  return {
    orderId: 7, clOrdId: 'C-7', origClOrdId: '', accountId: 3, instrumentId: 11, side: Side.Buy, ordType: OrdType.Limit,
    timeInForce: TimeInForce.GTC, orderQty: 5_000_000_000, price: 123_456_789, stopPx: 0, expireTimeUs: 0,
    cumQty: 1_000_000_000, cumNotional: 123_456_789_000_000_000n, baseStatus: OrdStatus.PartiallyFilled,
    pending: null, venueId: 2, parentOrderId: 5, childCommittedQty: 0, openChildCount: 0,
    workflowState: WorkflowState.Working, userId: 4, createdSeq: 9, transactTimeUs: 1_790_000_000_000_000,
    exposureMoney: 0n, riskLeavesQty: 0, parentCommittedQty: 0, openSlot: -1, ...overrides,
  };
}

const REPLACE: PendingRequest = {
  kind: PendingKind.Replace, clOrdId: 'C-7b', orderQty: 6_000_000_000, price: 99, stopPx: 0,
  timeInForce: TimeInForce.Day, expireTimeUs: 0, userId: 4,
};

/** Every table of a batch through TableReader: tables 4-aligned, vtables inside, no field beyond the schema. */
function checkWithTableReader(bytes: Uint8Array): void {
  const bb = new flatbuffers.ByteBuffer(bytes);
  const reader = new TableReader();
  const batch = ResultBatch.getRootAsResultBatch(bb);
  reader.init(bb, bb.readUint32(0), 1);
  for (let i = 0; i < batch.resultsLength(); i++) {
    const result = batch.results(i) as CommandResult;
    reader.init(bb, result.bb_pos, 6);
    expect(result.bb_pos % 4).toBe(0);
    // The 8-byte fields (seq, request id) must be naturally aligned from the buffer's start.
    expect((result.bb_pos + 4) % 8).toBe(0);
    for (let j = 0; j < result.eventsLength(); j++) {
      const type = result.eventsType(j);
      if (type === Event.ExecutionReport) {
        const report = result.events(j, new ExecutionReport()) as ExecutionReport;
        reader.init(bb, report.bb_pos, 26);
        expect((report.bb_pos + 4) % 8).toBe(0);
        expect(reader.i64(24)).toBe(Number(report.transactTimeUs()));
      } else if (type === Event.VenueRequest) {
        const request = result.events(j, new VenueRequest()) as VenueRequest;
        reader.init(bb, request.bb_pos, 14);
        expect((request.bb_pos + 4) % 8).toBe(0);
        expect(reader.i64(10)).toBe(Number(request.orderQty()));
      } else if (type === Event.OrderCancelReject) {
        const reject = result.events(j, new OrderCancelReject()) as OrderCancelReject;
        reader.init(bb, reject.bb_pos, 9);
        expect((reject.bb_pos + 4) % 8).toBe(0);
      }
    }
  }
}

describe('ResultWriter output', () => {
  it('reads back every event kind with the values written', () => {
    const w = new ResultWriter(64);
    w.beginBatch();
    w.beginCommand(41, 9_007_199_254_740_991, 4, 2, 1_790_000_000_000_001);
    w.executionReport(order(), { execType: ExecType.Trade, lastQty: 1_000_000_000, lastPx: 123_456_789, venueExecId: 'V-1', text: '' });
    w.executionReport(order({ pending: REPLACE, origClOrdId: 'C-6' }), { execType: ExecType.PendingReplace, lastQty: 0, lastPx: 0, venueExecId: '', text: 'é ascii-less text' });
    w.venueRequest(VenueRequestKind.Replace, order({ pending: REPLACE }), REPLACE);
    w.venueRequest(VenueRequestKind.New, order({ stopPx: -5, expireTimeUs: 2 ** 52 }), null);
    w.endCommand();
    w.beginCommand(42, 1, 4, 2, 5);
    w.orderRejected('BAD', 3, 11, RejectCode.UnknownSymbol, 'unknown instrument 11');
    w.cancelReject(null, 'X2', 'X1', CxlRejResponseTo.Cancel, CxlRejReason.UnknownOrder, RejectCode.UnknownOrder, 'unknown order X1');
    w.cancelReject(order(), 'X3', 'C-7', CxlRejResponseTo.Replace, CxlRejReason.TooLateToCancel, RejectCode.None, 'too late');
    w.endCommand();
    w.beginCommand(0, 3, 0, 0, 0);
    w.commandReject(RejectCode.MalformedFrame, 'truncated frame');
    w.accepted(12);
    w.endCommand();
    w.beginCommand(43, 4, 1, 1, 6);
    w.endCommand();
    const bytes = w.finishBatch();
    checkWithTableReader(bytes);
    const [first, second, third, empty] = decodeResultBatch(bytes);
    expect(first).toMatchObject({ seq: 41, requestId: 9_007_199_254_740_991, userId: 4, sessionId: 2 });
    expect(first.events[0]).toEqual({
      kind: 'execution_report', orderId: 7, clOrdId: 'C-7', origClOrdId: '', execId: '41.1', execType: ExecType.Trade,
      ordStatus: OrdStatus.PartiallyFilled, accountId: 3, instrumentId: 11, side: Side.Buy, ordType: OrdType.Limit,
      timeInForce: TimeInForce.GTC, orderQty: 5_000_000_000, price: 123_456_789, stopPx: 0, lastQty: 1_000_000_000,
      lastPx: 123_456_789, cumQty: 1_000_000_000, leavesQty: 4_000_000_000, avgPx: 123_456_789 * 10 ** AVG_PX_EXTRA_DIGITS,
      ordRejReason: RejectCode.None, text: '', parentOrderId: 5, venueId: 2, workflowState: WorkflowState.Working,
      transactTimeUs: 1_790_000_000_000_001, venueExecId: 'V-1',
    });
    expect(first.events[1]).toMatchObject({
      clOrdId: 'C-7b', origClOrdId: 'C-7', execId: '41.2', execType: ExecType.PendingReplace,
      ordStatus: OrdStatus.PendingReplace, text: 'é ascii-less text', venueExecId: '',
    });
    expect(first.events[2]).toMatchObject({
      kind: 'venue_request', requestKind: VenueRequestKind.Replace, clOrdId: 'C-7b', origClOrdId: 'C-7',
      orderQty: 6_000_000_000, price: 99, timeInForce: TimeInForce.Day,
    });
    expect(first.events[3]).toMatchObject({ origClOrdId: '', stopPx: -5, expireTimeUs: 2 ** 52, orderQty: 5_000_000_000 });
    expect(second.events[0]).toEqual({
      kind: 'execution_report', orderId: 0, clOrdId: 'BAD', origClOrdId: '', execId: '42.1', execType: ExecType.Rejected,
      ordStatus: OrdStatus.Rejected, accountId: 3, instrumentId: 11, side: 0, ordType: 0, timeInForce: TimeInForce.Day,
      orderQty: 0, price: 0, stopPx: 0, lastQty: 0, lastPx: 0, cumQty: 0, leavesQty: 0, avgPx: 0,
      ordRejReason: RejectCode.UnknownSymbol, text: 'unknown instrument 11', parentOrderId: 0, venueId: 0,
      workflowState: WorkflowState.None, transactTimeUs: 5, venueExecId: '',
    });
    expect(second.events[1]).toEqual({
      kind: 'cancel_reject', orderId: 0, clOrdId: 'X2', origClOrdId: 'X1', ordStatus: OrdStatus.Rejected,
      cxlRejResponseTo: CxlRejResponseTo.Cancel, cxlRejReason: CxlRejReason.UnknownOrder,
      rejectCode: RejectCode.UnknownOrder, text: 'unknown order X1', transactTimeUs: 5,
    });
    expect(second.events[2]).toMatchObject({ orderId: 7, ordStatus: OrdStatus.PartiallyFilled, cxlRejReason: CxlRejReason.TooLateToCancel });
    expect(third.events).toEqual([
      { kind: 'command_reject', rejectCode: RejectCode.MalformedFrame, text: 'truncated frame' },
      { kind: 'accepted', commandType: 12 },
    ]);
    expect(empty).toEqual({ seq: 43, requestId: 4, userId: 1, sessionId: 1, events: [] });
  });

  it('reads fields absent from a table (bytes of another writer) as the schema defaults', () => {
    // Built with the generated Builder API, which omits fields: the plain-data reader must default them as
    // the generated accessors do (TimeInForce Day, RejectCode None, CxlRejReason Other).
    const b = new flatbuffers.Builder(256);
    const report = ExecutionReport.createExecutionReport(b, 5n, b.createString('C'), 0, b.createString('1.1'), ExecType.New, OrdStatus.New,
      3, 11, Side.Buy, OrdType.Limit, TimeInForce.Day, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, RejectCode.None, 0, 0n, 0, WorkflowState.None, 0n, 0);
    const minimal = (() => { ExecutionReport.startExecutionReport(b); return ExecutionReport.endExecutionReport(b); })();
    OrderCancelReject.startOrderCancelReject(b);
    const reject = OrderCancelReject.endOrderCancelReject(b);
    const types = CommandResult.createEventsTypeVector(b, [Event.ExecutionReport, Event.ExecutionReport, Event.OrderCancelReject]);
    const events = CommandResult.createEventsVector(b, [report, minimal, reject]);
    CommandResult.startCommandResult(b);
    CommandResult.addEventsType(b, types);
    CommandResult.addEvents(b, events);
    const result = CommandResult.endCommandResult(b);
    b.finish(ResultBatch.createResultBatch(b, ResultBatch.createResultsVector(b, [result])));
    const [decoded] = decodeResultBatch(b.asUint8Array());
    expect(decoded).toMatchObject({ seq: 0, requestId: 0, userId: 0, sessionId: 0 });
    expect(decoded.events[0]).toMatchObject({ orderId: 5, clOrdId: 'C', execId: '1.1', accountId: 3, timeInForce: TimeInForce.Day });
    expect(decoded.events[1]).toMatchObject({
      orderId: 0, clOrdId: '', timeInForce: TimeInForce.Day, ordRejReason: RejectCode.None, workflowState: WorkflowState.None, text: '',
    });
    expect(decoded.events[2]).toMatchObject({ cxlRejReason: CxlRejReason.Other, rejectCode: RejectCode.None, text: '' });
  });

  /** A ResultBatch of one CommandResult whose events are `tables` (built by `build`), by the generated Builder. */
  function batchOf(build: (b: flatbuffers.Builder) => { types: number[] | null; tables: number[] | null }): Uint8Array {
    const b = new flatbuffers.Builder(256);
    const { types, tables } = build(b);
    const typesVector = types === null ? 0 : CommandResult.createEventsTypeVector(b, types);
    const tablesVector = tables === null ? 0 : CommandResult.createEventsVector(b, tables);
    CommandResult.startCommandResult(b);
    if (typesVector !== 0) CommandResult.addEventsType(b, typesVector);
    if (tablesVector !== 0) CommandResult.addEvents(b, tablesVector);
    const result = CommandResult.endCommandResult(b);
    b.finish(ResultBatch.createResultBatch(b, ResultBatch.createResultsVector(b, [result])));
    return b.asUint8Array().slice();
  }

  it('ignores a field appended by a newer schema (a client of a newer gateway), as generated accessors do', () => {
    const bytes = batchOf((b) => {
      const cl = b.createString('NEWER');
      b.startObject(27);
      b.addFieldOffset(1, cl, 0);
      b.addFieldInt32(26, 7, 0);
      return { types: [Event.ExecutionReport], tables: [b.endObject()] };
    });
    expect(decodeResultBatch(bytes)[0].events[0]).toMatchObject({ kind: 'execution_report', clOrdId: 'NEWER' });
  });

  it('refuses rather than misreads: an order id beyond 2^53, union halves of different lengths, a vector past the end', () => {
    const huge = batchOf((b) => {
      ExecutionReport.startExecutionReport(b);
      ExecutionReport.addOrderId(b, 2n ** 64n - 1n);
      return { types: [Event.ExecutionReport], tables: [ExecutionReport.endExecutionReport(b)] };
    });
    expect(() => decodeResultBatch(huge)).toThrow(/safe integer/);
    const noTypes = batchOf((b) => {
      CommandAccepted.startCommandAccepted(b);
      return { types: null, tables: [CommandAccepted.endCommandAccepted(b)] };
    });
    expect(() => decodeResultBatch(noTypes)).toThrow(/halves differ/);
    const w = new ResultWriter();
    w.beginBatch();
    w.beginCommand(1, 1, 1, 1, 1);
    w.accepted(3);
    w.endCommand();
    const bytes = w.finishBatch();
    const bb = new flatbuffers.ByteBuffer(bytes);
    const resultsVector = new TableReader().init(bb, bb.readUint32(0), 1).ref(0);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(resultsVector, 1_000_000, true);
    expect(() => decodeResultBatch(bytes)).toThrow(/out of bounds/);
  });

  it('reads an absent optional string as absent, not empty', () => {
    const w = new ResultWriter();
    w.beginBatch();
    w.beginCommand(1, 1, 1, 1, 1);
    w.executionReport(order(), { execType: ExecType.New, lastQty: 0, lastPx: 0, venueExecId: '', text: '' });
    w.endCommand();
    const batch = ResultBatch.getRootAsResultBatch(new flatbuffers.ByteBuffer(w.finishBatch()));
    const report = batch.results(0)!.events(0, new ExecutionReport()) as ExecutionReport;
    expect(report.origClOrdId()).toBeNull();
    expect(report.text()).toBeNull();
    expect(report.venueExecId()).toBeNull();
  });

  it('writes the same bytes for the same results whatever the writer wrote before (no stale bytes)', () => {
    const emit = (w: ResultWriter, text: string): Uint8Array => {
      w.beginBatch();
      for (let i = 1; i <= 50; i++) {
        w.beginCommand(i, i, 1, 1, i);
        w.executionReport(order({ orderId: i, clOrdId: `C-${i}` }), { execType: ExecType.New, lastQty: 0, lastPx: 0, venueExecId: '', text });
        w.endCommand();
      }
      return w.finishBatch();
    };
    const reused = new ResultWriter(64);
    emit(reused, 'a much longer text that leaves other bytes behind it in the buffer');
    expect(emit(reused, 'x')).toEqual(emit(new ResultWriter(64), 'x'));
  });

  it('keeps interleaved writers apart (vtables are cached per writer and batch)', () => {
    const a = new ResultWriter(64);
    const b = new ResultWriter(64);
    a.beginBatch();
    b.beginBatch();
    for (let i = 1; i <= 20; i++) {
      for (const [w, prefix] of [[a, 'A'], [b, 'B']] as const) {
        w.beginCommand(i, i, 1, 1, i);
        w.executionReport(order({ clOrdId: `${prefix}${i}` }), { execType: ExecType.New, lastQty: 0, lastPx: 0, venueExecId: '', text: i % 3 === 0 ? 't' : '' });
        w.accepted(i);
        w.endCommand();
      }
    }
    for (const [w, prefix] of [[a, 'A'], [b, 'B']] as const) {
      const bytes = w.finishBatch();
      checkWithTableReader(bytes);
      const results = decodeResultBatch(bytes);
      expect(results.map((r) => r.events[0].kind === 'execution_report' ? r.events[0].clOrdId : '')).toEqual(
        Array.from({ length: 20 }, (_, i) => `${prefix}${i + 1}`));
      expect(results.map((r) => r.events[1])).toEqual(Array.from({ length: 20 }, (_, i) => ({ kind: 'accepted', commandType: i + 1 })));
    }
  });

  it('round-trips any values through buffer growth (property)', () => {
    const int64 = fc.maxSafeInteger().filter((v) => v >= Number.MIN_SAFE_INTEGER);
    fc.assert(fc.property(
      fc.array(fc.record({ qty: int64, px: int64, text: fc.string({ maxLength: 40 }), venueExecId: fc.string({ maxLength: 20 }) }), { minLength: 1, maxLength: 60 }),
      (rows) => {
        const w = new ResultWriter(64);
        w.beginBatch();
        rows.forEach((row, i) => {
          w.beginCommand(i + 1, i, 1, 1, row.px);
          w.executionReport(order({ orderQty: row.qty, price: row.px, cumQty: 0, cumNotional: 0n }), {
            execType: ExecType.Restated, lastQty: row.qty, lastPx: row.px, venueExecId: row.venueExecId, text: row.text,
          });
          w.endCommand();
        });
        const bytes = w.finishBatch();
        checkWithTableReader(bytes);
        decodeResultBatch(bytes).forEach((result, i) => {
          expect(result.events[0]).toMatchObject({
            orderQty: rows[i].qty, price: rows[i].px, lastQty: rows[i].qty, lastPx: rows[i].px, transactTimeUs: rows[i].px,
            text: rows[i].text, venueExecId: rows[i].venueExecId,
          });
        });
      },
    ), { numRuns: 200 });
  });

  it('refuses a value that is not a safe integer rather than writing a rounded one', () => {
    const w = new ResultWriter();
    w.beginBatch();
    w.beginCommand(1, 1, 1, 1, 1);
    expect(() => w.executionReport(order({ orderQty: 2 ** 53 }), { execType: ExecType.New, lastQty: 0, lastPx: 0, venueExecId: '', text: '' }))
      .toThrow(/not a safe integer/);
  });
});

describe('session Reports (the gateway re-encoding plain results for a client)', () => {
  it('carries every event of every result unchanged, under the session file identifier', () => {
    const w = new ResultWriter(64);
    w.beginBatch();
    for (let i = 1; i <= 30; i++) {
      w.beginCommand(i, i * 3, 4, 2, 1_790_000_000_000_000 + i);
      w.executionReport(order({ orderId: i, clOrdId: `R-${i}`, origClOrdId: i % 4 === 0 ? `R-${i - 1}` : '' }), {
        execType: i % 2 === 0 ? ExecType.Trade : ExecType.New, lastQty: i % 2 === 0 ? 1_000_000_000 : 0, lastPx: i % 2 === 0 ? 123_456_789 : 0,
        venueExecId: i % 2 === 0 ? `V${i}` : '', text: i % 5 === 0 ? 'note' : '',
      });
      if (i % 3 === 0) w.cancelReject(order(), `X${i}`, `R-${i}`, CxlRejResponseTo.Cancel, CxlRejReason.TooLateToCancel, RejectCode.None, 'too late');
      if (i % 7 === 0) w.commandReject(RejectCode.InvalidField, 'bad field');
      if (i % 11 === 0) w.accepted(3);
      w.endCommand();
    }
    const results = decodeResultBatch(w.finishBatch());
    const bytes = encodeReports(results);
    expect(classifyFrame(bytes)).toBe('session');
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe('OMSS');
    expect(decodeServerMessage(bytes)).toEqual({ kind: 'reports', results });
    expect(decodeServerMessage(encodeReports([]))).toEqual({ kind: 'reports', results: [] });
  });
});

describe('order-flow commands (gateway re-stamping, simulated venue reports)', () => {
  const unicode = fc.constantFrom('é', 'Ünïcødé-1', '株式7203', 'x🙂y');
  const id = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), unicode);
  const optional = fc.oneof(fc.constant(''), fc.string({ minLength: 1, maxLength: 30 }), unicode);
  const int64 = fc.maxSafeInteger().filter((v) => v >= Number.MIN_SAFE_INTEGER);
  const u32 = fc.nat({ max: 0xFFFFFFFF });
  const tif = fc.constantFrom(TimeInForce.Day, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD);
  const command: fc.Arbitrary<CommandBody> = fc.oneof(
    fc.record({
      type: fc.constant(Command.NewOrder as const), clOrdId: id, accountId: u32, instrumentId: u32,
      side: fc.constantFrom(Side.Buy, Side.Sell, Side.SellShort), ordType: fc.constantFrom(OrdType.Market, OrdType.Limit, OrdType.Stop, OrdType.StopLimit),
      timeInForce: tif, orderQty: int64, price: int64, stopPx: int64, expireTimeUs: int64, parentClOrdId: optional, venueId: u32, text: optional,
    }),
    fc.record({ type: fc.constant(Command.CancelOrder as const), clOrdId: id, origClOrdId: id, accountId: u32 }),
    fc.record({
      type: fc.constant(Command.ReplaceOrder as const), clOrdId: id, origClOrdId: id, accountId: u32, orderQty: int64, price: int64,
      stopPx: int64, timeInForce: tif, expireTimeUs: int64,
    }),
    fc.record({
      type: fc.constant(Command.VenueExecReport as const), venueId: u32, execId: id, clOrdId: id, origClOrdId: optional,
      execType: fc.constantFrom(ExecType.New, ExecType.Trade, ExecType.Canceled, ExecType.Replaced, ExecType.Rejected),
      ordStatus: fc.constantFrom(OrdStatus.New, OrdStatus.PartiallyFilled, OrdStatus.Filled), lastQty: int64, lastPx: int64,
      leavesQty: int64, ordRejReason: fc.constantFrom(RejectCode.None, RejectCode.UnknownSymbol), venueOrderId: optional, text: optional,
    }),
    fc.record({
      type: fc.constant(Command.VenueCancelReject as const), venueId: u32, clOrdId: id, origClOrdId: id,
      cxlRejResponseTo: fc.constantFrom(CxlRejResponseTo.Cancel, CxlRejResponseTo.Replace),
      cxlRejReason: fc.constantFrom(CxlRejReason.TooLateToCancel, CxlRejReason.UnknownOrder, CxlRejReason.Other), text: optional,
    }),
  );

  it('decode to exactly what was encoded, through the decoder of the core (property)', () => {
    const decoder = new CommandDecoder();
    const builder = new flatbuffers.Builder(64);
    const reader = new TableReader();
    fc.assert(fc.property(command, fc.maxSafeNat(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), u32, u32, (body, requestId, timeUs, userId, sessionId) => {
      const envelope = { requestId, timeUs, userId, sessionId, command: body };
      const bytes = encodeCommandCopy(builder, envelope);
      expect(encodeCommand(builder, envelope)).toEqual(bytes);
      // Envelope and body tables: their 8-byte fields aligned from the buffer's start.
      const bb = new flatbuffers.ByteBuffer(bytes);
      const root = bb.readUint32(0);
      expect((root + 4) % 8).toBe(0);
      const bodyAt = reader.init(bb, root, 6).ref(5);
      if (body.type !== Command.CancelOrder && body.type !== Command.VenueCancelReject) expect((bodyAt + 4) % 8).toBe(0);
      expect(decoder.decode(bytes)).toEqual(body);
      expect(decoder.header).toMatchObject({ requestId, timeUs, userId, sessionId });
    }), { numRuns: 500 });
  });
});

describe('FlatWriter misuse', () => {
  const layout = new TableLayout('Test', 3, [{ index: 0, width: 8 }, { index: 2, width: 4, optional: true }]);

  it('refuses fields outside a table or the layout, masks outside it, and backward offsets', () => {
    const w = new FlatWriter(64);
    expect(() => w.u32(layout, 2, 1)).toThrow(/outside its table/);
    w.beginTable(layout);
    expect(() => w.u32(layout, 1, 1)).toThrow(/outside its table/);
    expect(() => w.beginTable(layout)).toThrow(/inside a table/);
    expect(() => w.endTable(layout, 2)).toThrow(/presence mask/);
    const table = w.endTable(layout, 0);
    w.beginTable(layout);
    expect(() => w.ref(layout, 2, w.offset() + 64)).toThrow(/point forward/);
    expect(table).toBeGreaterThan(0);
  });

  it('refuses an unsigned value it cannot hold rather than wrapping it', () => {
    const narrow = new TableLayout('Narrow', 3, [{ index: 0, width: 4 }, { index: 1, width: 2 }, { index: 2, width: 1 }]);
    const w = new FlatWriter(64);
    w.beginTable(narrow);
    expect(() => w.u32(narrow, 0, -1)).toThrow(/not a uint32/);
    expect(() => w.u32(narrow, 0, 2 ** 32)).toThrow(/not a uint32/);
    expect(() => w.u16(narrow, 1, 65_536)).toThrow(/not a uint16/);
    expect(() => w.u8(narrow, 2, 1.5)).toThrow(/not a uint8/);
    w.u32(narrow, 0, 2 ** 32 - 1);
    w.u16(narrow, 1, 65_535);
    w.u8(narrow, 2, 255);
    expect(w.endTable(narrow, 0)).toBeGreaterThan(0);
  });

  it('refuses layouts that name a field twice or beyond the table', () => {
    expect(() => new TableLayout('Twice', 2, [{ index: 0, width: 4 }, { index: 0, width: 4 }])).toThrow(/twice/);
    expect(() => new TableLayout('Beyond', 2, [{ index: 2, width: 4 }])).toThrow(/outside the table/);
  });
});
