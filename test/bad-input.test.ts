// Hostile and invalid input: every case is refused with the right code and changes nothing.
//
// Two kinds of refusal:
// - a frame that does not decode gets seq 0, is not journaled, and leaves the state hash exactly as it was;
//   it echoes the request id whenever the envelope could be read;
// - a command that decodes but is invalid is journaled (lastSeq advances: its reject is part of the audit
//   trail) and changes nothing else, which the hash of the state without lastSeq shows.

import * as flatbuffers from 'flatbuffers';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Command, CxlRejReason, ExecType, KillScope, LimitScope, OrdStatus, OrdType, RejectCode, Side, TickKind, TimeInForce,
} from '../schemas/generated/oms_generated.js';
import type { CommandBody, EnvelopeHeader, NewOrderCmd, ReplaceOrderCmd } from '../schemas/commands.js';
import { encodeCommandCopy, stampCommandView } from '../schemas/commands.js';
import type { CommandResultData, ExecutionReportData } from '../schemas/results.js';
import { commandTypeOf, DEFAULT_DECODE_LIMITS, peekRequestId } from '../core/decode.js';
import { DEMO, demoInstruments, unsetLimits } from '../core/demo.js';
import type { CoreState } from '../core/state.js';
import { stateHash } from '../core/state.js';
import { CoreHarness } from './support/core-harness.js';

const U = DEMO.users;
const A = DEMO.accounts;
const I = DEMO.instruments;
const SIM = DEMO.venues.SIM;
const FRAME_MAX = DEFAULT_DECODE_LIMITS.frame_bytes_max;

let h: CoreHarness;
let requestSerial = 10_000;

beforeEach(() => {
  h = CoreHarness.withDemoData();
});

// ---- frames -------------------------------------------------------------------------------------------

function header(userId: number = U.trader): EnvelopeHeader {
  requestSerial += 1;
  return { requestId: requestSerial, timeUs: h.nowUs, userId, sessionId: 7 };
}

function frameOf(command: CommandBody, head: EnvelopeHeader = header()): Uint8Array {
  return encodeCommandCopy(new flatbuffers.Builder(256), { ...head, command });
}

function newOrder(partial: Partial<NewOrderCmd> = {}): NewOrderCmd {
  requestSerial += 1;
  return {
    type: Command.NewOrder, clOrdId: `BAD-${requestSerial}`, accountId: A.GROWTH, instrumentId: I.AAPL, side: Side.Buy,
    ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty: 100, price: 19_000, stopPx: 0, expireTimeUs: 0,
    parentClOrdId: '', venueId: SIM, text: '', ...partial,
  };
}

interface RawEnvelope {
  requestId?: bigint;
  timeUs?: bigint;
  userId?: number;
  commandType?: number;
  /** Declares one field more than the schema has and sets it. */
  extraField?: boolean;
}

/** Builds an envelope by hand around a body built by `body`, so that any field can hold any bits. */
function rawFrame(body: (b: flatbuffers.Builder) => number, env: RawEnvelope = {}): Uint8Array {
  const b = new flatbuffers.Builder(256);
  const bodyOffset = body(b);
  b.startObject(env.extraField === true ? 7 : 6);
  b.addFieldInt64(0, env.requestId ?? 4242n, 0n);
  b.addFieldInt64(1, env.timeUs ?? BigInt(h.nowUs), 0n);
  b.addFieldInt32(2, env.userId ?? U.trader, 0);
  b.addFieldInt32(3, 1, 0);
  b.addFieldInt8(4, env.commandType ?? Command.NewOrder, 0);
  b.addFieldOffset(5, bodyOffset, 0);
  if (env.extraField === true) b.addFieldInt32(6, 1, 0);
  b.finish(b.endObject(), 'OMS1');
  return b.asUint8Array().slice();
}

interface RawNewOrder {
  orderQty?: bigint;
  price?: bigint;
  extraField?: boolean;
}

/** A NewOrder body written field by field (13 fields, or 14 with an extra one). */
function rawNewOrder(o: RawNewOrder = {}): (b: flatbuffers.Builder) => number {
  return (b) => {
    requestSerial += 1;
    const cl = b.createString(`RAW-${requestSerial}`);
    b.startObject(o.extraField === true ? 14 : 13);
    b.addFieldOffset(0, cl, 0);
    b.addFieldInt32(1, A.GROWTH, 0);
    b.addFieldInt32(2, I.AAPL, 0);
    b.addFieldInt8(3, Side.Buy, 0);
    b.addFieldInt8(4, OrdType.Limit, 0);
    b.addFieldInt64(6, o.orderQty ?? 100n, 0n);
    b.addFieldInt64(7, o.price ?? 19_000n, 0n);
    b.addFieldInt32(11, SIM, 0);
    if (o.extraField === true) b.addFieldInt32(13, 1, 0);
    return b.endObject();
  };
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Position of the length prefix of the (unique) string `text` in a frame. */
function stringAt(frame: Uint8Array, text: string): number {
  const at = indexOfBytes(frame, new TextEncoder().encode(text));
  expect(at).toBeGreaterThanOrEqual(4);
  expect(indexOfBytes(frame, new TextEncoder().encode(text), at + 1)).toBe(-1);
  expect(new DataView(frame.buffer, frame.byteOffset).getUint32(at - 4, true)).toBe(text.length);
  return at - 4;
}

function writeU32(frame: Uint8Array, at: number, value: number): Uint8Array {
  const copy = frame.slice();
  new DataView(copy.buffer).setUint32(at, value >>> 0, true);
  return copy;
}

// ---- expectations ------------------------------------------------------------------------------------

function contentHash(state: CoreState): string {
  return stateHash({ ...state, lastSeq: 0 });
}

/** The frame is refused undecoded: seq 0, not journaled, the exact state hash unchanged. */
function expectUndecodable(frame: Uint8Array, code: RejectCode, echoedRequestId: number): CommandResultData {
  const before = h.core.hash();
  const lastSeq = h.core.lastSeq();
  const journalLength = h.journal.length;
  const result = h.sendFrame(frame);
  expect(result.seq).toBe(0);
  expect(result.requestId).toBe(echoedRequestId);
  expect(result.events).toHaveLength(1);
  const event = result.events[0];
  expect(event.kind).toBe('command_reject');
  if (event.kind === 'command_reject') expect(RejectCode[event.rejectCode]).toBe(RejectCode[code]);
  expect(h.core.lastSeq()).toBe(lastSeq);
  expect(h.journal).toHaveLength(journalLength);
  expect(h.core.hash()).toBe(before);
  return result;
}

type RejectKind = 'order_rejected' | 'cancel_reject' | 'command_reject';

/** The command decodes, is journaled, and is refused with `code`, changing nothing but lastSeq. */
function expectRefused(userId: number, command: CommandBody, code: RejectCode, kind: RejectKind, timeUs?: number): CommandResultData {
  const before = contentHash(h.core.state);
  const lastSeq = h.core.lastSeq();
  const result = h.send(userId, command, timeUs);
  expect(result.seq).toBe(lastSeq + 1);
  const refusal = result.events.filter((e) => e.kind === 'command_reject' || e.kind === 'cancel_reject' ||
    (e.kind === 'execution_report' && e.execType === ExecType.Rejected));
  expect(refusal, JSON.stringify(result.events)).toHaveLength(1);
  expect(result.events).toHaveLength(1);
  const event = refusal[0];
  if (kind === 'order_rejected') {
    expect(event.kind).toBe('execution_report');
    if (event.kind === 'execution_report') {
      expect(RejectCode[event.ordRejReason]).toBe(RejectCode[code]);
      expect(event.orderId).toBe(0);
      expect(event.ordStatus).toBe(OrdStatus.Rejected);
    }
  } else if (kind === 'cancel_reject') {
    expect(event.kind).toBe('cancel_reject');
    if (event.kind === 'cancel_reject') expect(RejectCode[event.rejectCode]).toBe(RejectCode[code]);
  } else {
    expect(event.kind).toBe('command_reject');
    if (event.kind === 'command_reject') expect(RejectCode[event.rejectCode]).toBe(RejectCode[code]);
  }
  expect(contentHash(h.core.state)).toBe(before);
  return result;
}

function accepted(result: CommandResultData): ExecutionReportData {
  const report = result.events.find((e): e is ExecutionReportData => e.kind === 'execution_report');
  if (report === undefined || report.orderId === 0) throw new Error(`not accepted: ${JSON.stringify(result.events)}`);
  return report;
}

/** Not refused: no CommandReject, no OrderCancelReject and no ExecutionReport rejecting a new order. */
function expectAccepted(userId: number, command: CommandBody, timeUs?: number): CommandResultData {
  const result = h.send(userId, command, timeUs);
  expect(result.events.length, 'no events').toBeGreaterThan(0);
  expect(result.events.some((e) => e.kind === 'command_reject' || e.kind === 'cancel_reject' ||
    (e.kind === 'execution_report' && e.execType === ExecType.Rejected && e.orderId === 0)), JSON.stringify(result.events)).toBe(false);
  return result;
}

function admin(command: CommandBody): void {
  const result = h.send(U.admin, command);
  expect(result.events.map((e) => e.kind)).toEqual(['accepted']);
}

/** A live, acknowledged AAPL buy of 100 at 190.00 on GROWTH, for the tests that need an order to refer to. */
function liveOrder(clOrdId: string, partial: Partial<NewOrderCmd> = {}): ExecutionReportData {
  const report = accepted(h.send(U.trader, newOrder({ clOrdId, ...partial })));
  h.venue(clOrdId, ExecType.New);
  return report;
}

// ---- malformed frames ------------------------------------------------------------------------------------

describe('frames that do not decode get seq 0, are not journaled and change nothing', () => {
  it('refuses every truncation of a valid NewOrder frame, echoing the request id once the envelope is whole', () => {
    const head = header();
    const frame = frameOf(newOrder({ clOrdId: 'TRUNC-1' }), head);
    // The last byte the frame references is its last string's NUL; beyond it lies only alignment padding.
    const dataEnd = stringAt(frame, 'TRUNC-1') + 4 + 'TRUNC-1'.length + 1;
    expect(frame[dataEnd - 1]).toBe(0);
    expect(frame.length - dataEnd).toBeLessThan(4);
    const journaled = h.journal.length;
    let echoedFrom = -1;
    for (let length = 0; length < dataEnd; length++) {
      const before = h.core.hash();
      const result = h.sendFrame(frame.slice(0, length));
      expect(result.seq).toBe(0);
      expect(result.events).toEqual([expect.objectContaining({ kind: 'command_reject', rejectCode: RejectCode.MalformedFrame })]);
      expect(h.core.hash()).toBe(before);
      expect([0, head.requestId]).toContain(result.requestId);
      if (result.requestId === head.requestId && echoedFrom < 0) echoedFrom = length;
      // Once the envelope is readable, every longer prefix echoes its request id.
      if (echoedFrom >= 0) expect(result.requestId).toBe(head.requestId);
    }
    expect(echoedFrom).toBeGreaterThan(0);
    expect(h.journal).toHaveLength(journaled);
    // Alignment padding is not data: the frame without it is still the whole command.
    for (let length = dataEnd; length <= frame.length; length++) {
      h = CoreHarness.withDemoData();
      expect(accepted(h.sendFrame(frame.slice(0, length))).clOrdId).toBe('TRUNC-1');
    }
  });

  it('refuses an empty frame and one shorter than a header', () => {
    expectUndecodable(new Uint8Array(0), RejectCode.MalformedFrame, 0);
    expectUndecodable(new Uint8Array([12, 0, 0, 0, 0x4f, 0x4d, 0x53, 0x31]), RejectCode.MalformedFrame, 0);
  });

  it('refuses random garbage', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
      expectUndecodable(bytes, RejectCode.MalformedFrame, 0);
    }), { numRuns: 300 });
  });

  it('never throws on mutated frames: each is refused undecoded or journaled, and replay agrees', () => {
    const base = frameOf(newOrder({ clOrdId: 'MUT-1', text: 'mutate me' }));
    const mutation = fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 });
    fc.assert(fc.property(mutation, fc.boolean(), (edits, plantIdentifier) => {
      const frame = base.slice();
      for (const [at, value] of edits) frame[at] = value;
      if (plantIdentifier) frame.set([0x4f, 0x4d, 0x53, 0x31], 4);
      const before = h.core.hash();
      const lastSeq = h.core.lastSeq();
      const result = h.sendFrame(frame);
      if (result.seq === 0) {
        expect(h.core.hash()).toBe(before);
        expect(result.events.map((e) => e.kind)).toEqual(['command_reject']);
      } else {
        expect(result.seq).toBe(lastSeq + 1);
      }
    }), { numRuns: 400 });
    expect(h.replayed().hash()).toBe(h.core.hash());
  });

  it(`refuses a frame over frame_bytes_max (${FRAME_MAX}) before reading it, and takes one of exactly that size`, () => {
    const frame = frameOf(newOrder({ clOrdId: 'BIG-1' }));
    const padded = (length: number): Uint8Array => {
      const bytes = new Uint8Array(length);
      bytes.set(frame);
      return bytes;
    };
    expectUndecodable(padded(FRAME_MAX + 1), RejectCode.OversizedFrame, 0);
    expectUndecodable(padded(1 << 20), RejectCode.OversizedFrame, 0);
    expect(accepted(h.sendFrame(padded(FRAME_MAX))).clOrdId).toBe('BIG-1');
  });

  it('refuses a wrong file identifier', () => {
    const frame = frameOf(newOrder());
    frame.set([0x4f, 0x4d, 0x53, 0x32], 4);
    expectUndecodable(frame, RejectCode.MalformedFrame, 0);
  });

  it('refuses out-of-bounds and misaligned offsets', () => {
    const head = header();
    const frame = frameOf(newOrder({ clOrdId: 'OOB-1' }), head);
    const view = new DataView(frame.buffer, frame.byteOffset);
    const root = view.getUint32(0, true);
    // Root offset: past the end, and misaligned.
    expectUndecodable(writeU32(frame, 0, 0xfffffff0), RejectCode.MalformedFrame, 0);
    expectUndecodable(writeU32(frame, 0, frame.length - 2), RejectCode.MalformedFrame, 0);
    expectUndecodable(writeU32(frame, 0, root + 1), RejectCode.MalformedFrame, 0);
    // The envelope's vtable offset: before the buffer, and past its end.
    expectUndecodable(writeU32(frame, root, 0x7fffffff), RejectCode.MalformedFrame, 0);
    expectUndecodable(writeU32(frame, root, -(frame.length)), RejectCode.MalformedFrame, 0);
    // The envelope's reference to its body: past the end (the header was read, so the request id is echoed).
    const vtable = root - view.getInt32(root, true);
    const commandField = root + view.getUint16(vtable + 4 + 2 * 5, true);
    expectUndecodable(writeU32(frame, commandField, 0x7ffffff0), RejectCode.MalformedFrame, head.requestId);
    // The body's own vtable offset.
    const body = commandField + view.getUint32(commandField, true);
    expectUndecodable(writeU32(frame, body, 0x7fffffff), RejectCode.MalformedFrame, head.requestId);
    // A vtable that claims a table larger than the buffer.
    const bodyVtable = body - view.getInt32(body, true);
    const huge = frame.slice();
    new DataView(huge.buffer).setUint16(bodyVtable + 2, 0xfff0, true);
    expectUndecodable(huge, RejectCode.MalformedFrame, head.requestId);
    // String lengths: within the id limit but past the end of the frame, and beyond the limit.
    const cl = stringAt(frame, 'OOB-1');
    expectUndecodable(writeU32(frame, cl, 60), RejectCode.MalformedFrame, head.requestId);
    expectUndecodable(writeU32(frame, cl, 0xffffffff), RejectCode.ValueOutOfRange, head.requestId);
    expectUndecodable(writeU32(frame, cl, DEFAULT_DECODE_LIMITS.id_bytes_max + 1), RejectCode.ValueOutOfRange, head.requestId);
    // A string whose NUL terminator was overwritten.
    const unterminated = frame.slice();
    unterminated[cl + 4 + 'OOB-1'.length] = 0x41;
    expectUndecodable(unterminated, RejectCode.MalformedFrame, head.requestId);
  });

  it('refuses invalid UTF-8 in short and long strings, and takes valid non-ASCII text', () => {
    const head = header();
    const frame = frameOf(newOrder({ clOrdId: 'UTF-1' }), head);
    const short = frame.slice();
    short[stringAt(frame, 'UTF-1') + 5] = 0xff;
    expectUndecodable(short, RejectCode.MalformedFrame, head.requestId);

    const longText = 'x'.repeat(60);
    const head2 = header();
    const longFrame = frameOf(newOrder({ clOrdId: 'UTF-2', text: longText }), head2);
    const at = stringAt(longFrame, longText) + 4 + 50;
    longFrame.set([0xc3, 0x28], at); // a lead byte followed by a non-continuation byte
    expectUndecodable(longFrame, RejectCode.MalformedFrame, head2.requestId);
    const head3 = header();
    const overlong = frameOf(newOrder({ clOrdId: 'UTF-3', text: longText }), head3);
    overlong.set([0xc0, 0xaf], stringAt(overlong, longText) + 4 + 10); // overlong encoding of '/'
    expectUndecodable(overlong, RejectCode.MalformedFrame, head3.requestId);

    // Valid multi-byte UTF-8 (longer than the ASCII fast path) decodes, and a venue's text is echoed intact.
    const text = 'Größe → 東京 '.repeat(4);
    expect(accepted(h.send(U.trader, newOrder({ clOrdId: 'UTF-4', text }))).orderId).toBeGreaterThan(0);
    const ack = h.send(U.venue, venueReport('UTF-4', ExecType.New, { text }));
    expect(ack.events).toEqual([expect.objectContaining({ execType: ExecType.New, text })]);
  });

  it('refuses an unknown command union type, a type that does not match its body, and a missing body', () => {
    for (const commandType of [0, 14, 99, 255]) {
      expectUndecodable(rawFrame(rawNewOrder(), { commandType, requestId: 31n }), RejectCode.UnknownCommand, 31);
    }
    // Tick has one field; a NewOrder body declares thirteen.
    expectUndecodable(rawFrame(rawNewOrder(), { commandType: Command.Tick, requestId: 32n }), RejectCode.InvalidField, 32);
    expectUndecodable(rawFrame(() => 0, { requestId: 33n }), RejectCode.MalformedFrame, 33);
  });

  it('refuses fields beyond the schema in a command and in the envelope', () => {
    expectUndecodable(rawFrame(rawNewOrder({ extraField: true }), { requestId: 41n }), RejectCode.InvalidField, 41);
    expectUndecodable(rawFrame((b) => {
      b.startObject(2);
      b.addFieldInt8(0, TickKind.Timer, 0);
      b.addFieldInt8(1, 1, 0);
      return b.endObject();
    }, { commandType: Command.Tick, userId: 0, requestId: 42n }), RejectCode.InvalidField, 42);
    const before = h.core.hash();
    const result = h.sendFrame(rawFrame(rawNewOrder(), { extraField: true, requestId: 43n }));
    expect(result.seq).toBe(0);
    expect(result.events).toEqual([expect.objectContaining({ kind: 'command_reject', rejectCode: RejectCode.InvalidField })]);
    expect(h.core.hash()).toBe(before);
    // Control: the same hand-built frame without the extra field is a valid order.
    expect(accepted(h.sendFrame(rawFrame(rawNewOrder(), { requestId: 44n }))).orderQty).toBe(100);
  });

  it('refuses enum values outside the schema, including the Unset (0) members', () => {
    const cases: Array<[string, CommandBody]> = [
      ['side 0', newOrder({ side: 0 as Side })],
      ['side 99', newOrder({ side: 99 as Side })],
      ['ord_type 0', newOrder({ ordType: 0 as OrdType })],
      ['ord_type 99', newOrder({ ordType: 99 as OrdType })],
      ['time_in_force 0', newOrder({ timeInForce: 0 as TimeInForce })],
      ['time_in_force 50 (FIX AtTheOpening, not supported)', newOrder({ timeInForce: 50 as TimeInForce })],
      ['replace time_in_force 99', { type: Command.ReplaceOrder, clOrdId: 'R', origClOrdId: 'O', accountId: 0, orderQty: 1, price: 1, stopPx: 0, timeInForce: 99 as TimeInForce, expireTimeUs: 0 } satisfies ReplaceOrderCmd],
      ['exec_type 0', venueReport('X', 0 as ExecType)],
      ['exec_type 99', venueReport('X', 99 as ExecType)],
      ['ord_status 99', { ...venueReport('X', ExecType.New), ordStatus: 99 as OrdStatus }],
      ['ord_rej_reason 7', { ...venueReport('X', ExecType.Rejected), ordRejReason: 7 }],
      ['kill switch scope 0', { type: Command.KillSwitch, scope: 0 as KillScope, scopeId: 0, engaged: true, text: '' }],
      ['tick kind 9', { type: Command.Tick, kind: 9 as TickKind }],
      ['limit scope 0', { ...unsetLimits(0 as LimitScope, 0) }],
    ];
    for (const [name, command] of cases) {
      const head = header(U.admin);
      const before = h.core.hash();
      const result = h.sendFrame(frameOf(command, head));
      expect(result.seq, name).toBe(0);
      expect(result.requestId, name).toBe(head.requestId);
      expect(result.events, name).toEqual([expect.objectContaining({ kind: 'command_reject', rejectCode: RejectCode.InvalidField })]);
      expect(h.core.hash(), name).toBe(before);
    }
  });

  it('refuses a boolean byte other than 0 or 1', () => {
    expectUndecodable(rawFrame((b) => {
      b.startObject(4);
      b.addFieldInt8(0, KillScope.Global, 0);
      b.addFieldInt8(2, 2, 0);
      return b.endObject();
    }, { commandType: Command.KillSwitch, userId: U.compliance, requestId: 51n }), RejectCode.ValueOutOfRange, 51);
  });

  it('refuses 64-bit values beyond a safe integer, and takes ±(2^53 − 1)', () => {
    const beyond = [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n];
    for (const value of beyond) {
      expectUndecodable(rawFrame(rawNewOrder({ orderQty: value }), { requestId: 61n }), RejectCode.ValueOutOfRange, 61);
      expectUndecodable(rawFrame(rawNewOrder({ price: value }), { requestId: 62n }), RejectCode.ValueOutOfRange, 62);
      expectUndecodable(rawFrame(rawNewOrder(), { timeUs: value, requestId: 63n }), RejectCode.ValueOutOfRange, 63);
      // The request id itself is out of range, so there is none to echo.
      expectUndecodable(rawFrame(rawNewOrder(), { requestId: value }), RejectCode.ValueOutOfRange, 0);
    }
    // A negative request id (uint64 above 2^63, read as int64) is out of range too.
    expectUndecodable(rawFrame(rawNewOrder(), { requestId: -1n }), RejectCode.ValueOutOfRange, 0);
    // Time must be positive.
    expectUndecodable(rawFrame(rawNewOrder(), { timeUs: -5n, requestId: 64n }), RejectCode.InvalidField, 64);
    expectUndecodable(rawFrame(rawNewOrder(), { timeUs: 0n, requestId: 65n }), RejectCode.InvalidField, 65);
    // The largest safe values decode; the core then refuses them on their merits (the global notional
    // limit is the first limit checked).
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    const result = h.sendFrame(rawFrame(rawNewOrder({ orderQty: max }), { requestId: 66n }));
    expect(result.seq).toBeGreaterThan(0);
    expect(result.requestId).toBe(66);
    expect(result.events).toEqual([expect.objectContaining({ ordRejReason: RejectCode.MaxOrderNotional, orderId: 0 })]);
    const negative = h.sendFrame(rawFrame(rawNewOrder({ orderQty: -max }), { requestId: 67n }));
    expect(negative.seq).toBeGreaterThan(0);
    expect(negative.events).toEqual([expect.objectContaining({ ordRejReason: RejectCode.IncorrectQuantity, orderId: 0 })]);
    const request = h.sendFrame(rawFrame(rawNewOrder(), { requestId: max }));
    expect(request.requestId).toBe(Number.MAX_SAFE_INTEGER);
    expect(accepted(request).orderQty).toBe(100);
  });

  it('refuses identifiers and text over their limits, and a required identifier that is empty', () => {
    expectUndecodable(frameOf(newOrder({ clOrdId: 'c'.repeat(DEFAULT_DECODE_LIMITS.id_bytes_max + 1) }), { ...header(), requestId: 71 }), RejectCode.ValueOutOfRange, 71);
    expectUndecodable(frameOf(newOrder({ text: 't'.repeat(DEFAULT_DECODE_LIMITS.text_bytes_max + 1) }), { ...header(), requestId: 72 }), RejectCode.ValueOutOfRange, 72);
    expectUndecodable(frameOf(newOrder({ clOrdId: '' }), { ...header(), requestId: 73 }), RejectCode.InvalidField, 73);
    expect(accepted(h.send(U.trader, newOrder({ clOrdId: 'c'.repeat(DEFAULT_DECODE_LIMITS.id_bytes_max) }))).orderId).toBeGreaterThan(0);
  });
});

// ---- commands that decode but are invalid -----------------------------------------------------------------

function venueReport(clOrdId: string, execType: ExecType, partial: Partial<Extract<CommandBody, { type: Command.VenueExecReport }>> = {}): Extract<CommandBody, { type: Command.VenueExecReport }> {
  requestSerial += 1;
  return {
    type: Command.VenueExecReport, venueId: SIM, execId: `VX-${requestSerial}`, clOrdId, origClOrdId: '', execType,
    ordStatus: OrdStatus.Unset, lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: 0xffff, venueOrderId: '', text: '', ...partial,
  };
}

describe('stamped client frames: the gateway wraps them undecoded, the core decodes them', () => {
  const stamp = (head: { userId: number; sessionId: number; timeUs?: number }, inner: Uint8Array): Uint8Array =>
    stampCommandView({ timeUs: head.timeUs ?? h.nowUs, userId: head.userId, sessionId: head.sessionId }, inner).slice();

  it('takes user, session and time from the stamp, never from the client frame inside it', () => {
    // The client claims to be the portfolio manager, session 99, at time 1; the stamp says trader, 42, now.
    const inner = frameOf(newOrder({ clOrdId: 'STAMP-1' }), { requestId: 777, timeUs: 1, userId: U.pm, sessionId: 99 });
    const result = h.sendFrame(stamp({ userId: U.trader, sessionId: 42 }, inner));
    expect(result).toMatchObject({ requestId: 777, userId: U.trader, sessionId: 42 });
    const order = h.core.state.ordersByClOrdId.get('STAMP-1');
    expect(order).toMatchObject({ userId: U.trader, transactTimeUs: h.nowUs });
    expect(commandTypeOf(h.journal[h.journal.length - 1].bytes)).toBe(Command.NewOrder);
    // Replay reads the journaled stamped frame the same way.
    expect(h.replayed().hash()).toBe(h.core.hash());
  });

  it('takes a client frame without a time of its own, and refuses a stamp without one', () => {
    const inner = frameOf(newOrder({ clOrdId: 'STAMP-2' }), { requestId: 778, timeUs: 0, userId: 0, sessionId: 0 });
    expect(accepted(h.sendFrame(stamp({ userId: U.trader, sessionId: 42 }, inner))).clOrdId).toBe('STAMP-2');
    const refused = expectUndecodable(stamp({ userId: U.trader, sessionId: 42, timeUs: 0 }, frameOf(newOrder())), RejectCode.InvalidField, 0);
    expect(refused.events[0]).toMatchObject({ text: 'stamp time_us must be positive' });
  });

  it('routes the reject of an undecodable client frame to the stamped session, not to the one the bytes claim', () => {
    const inner = frameOf(newOrder({ clOrdId: 'STAMP-3' }), { requestId: 779, timeUs: h.nowUs, userId: U.pm, sessionId: 99 });
    inner.set([0x4f, 0x4d, 0x53, 0x32], 4);
    const result = expectUndecodable(stamp({ userId: U.trader, sessionId: 42 }, inner), RejectCode.MalformedFrame, 0);
    expect(result).toMatchObject({ userId: U.trader, sessionId: 42 });
    // Garbage inside a stamp: refused, and still answered to the stamped session.
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
      expect(expectUndecodable(stamp({ userId: U.trader, sessionId: 43 }, bytes), RejectCode.MalformedFrame, 0)).toMatchObject({ sessionId: 43 });
    }), { numRuns: 200 });
    // A plain frame that does not decode names no session: its header is only what the bytes claim.
    expect(expectUndecodable(inner, RejectCode.MalformedFrame, 0)).toMatchObject({ userId: 0, sessionId: 0 });
  });

  it('refuses a stamp inside a stamp', () => {
    const inner = stamp({ userId: U.trader, sessionId: 42 }, frameOf(newOrder()));
    expectUndecodable(stamp({ userId: U.trader, sessionId: 42 }, inner), RejectCode.MalformedFrame, 0);
  });

  it(`holds a client frame of up to frame_bytes_max (${FRAME_MAX}) and refuses a larger one`, () => {
    const frame = frameOf(newOrder({ clOrdId: 'STAMP-BIG' }));
    const padded = (length: number): Uint8Array => {
      const bytes = new Uint8Array(length);
      bytes.set(frame);
      return bytes;
    };
    // Oversized by a little (the inner check) or by a lot (the whole stamped frame): refused, and still
    // answered to the stamped session.
    for (const length of [FRAME_MAX + 1, FRAME_MAX + 4, FRAME_MAX + 100, 1 << 16]) {
      expect(expectUndecodable(stamp({ userId: U.trader, sessionId: 42 }, padded(length)), RejectCode.OversizedFrame, 0)).toMatchObject({ userId: U.trader, sessionId: 42 });
    }
    expect(accepted(h.sendFrame(stamp({ userId: U.trader, sessionId: 42 }, padded(FRAME_MAX)))).clOrdId).toBe('STAMP-BIG');
  });

  it('reads the request id of a plain frame for answers the core never gives, and 0 from garbage', () => {
    expect(peekRequestId(frameOf(newOrder(), { requestId: 4711, timeUs: 0, userId: 0, sessionId: 0 }))).toBe(4711);
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (bytes) => {
      expect(Number.isSafeInteger(peekRequestId(bytes))).toBe(true);
    }), { numRuns: 200 });
    expect(peekRequestId(new Uint8Array(0))).toBe(0);
  });
});

describe('invalid values', () => {
  it('refuses zero and negative quantities and prices', () => {
    expectRefused(U.trader, newOrder({ orderQty: 0 }), RejectCode.IncorrectQuantity, 'order_rejected');
    expectRefused(U.trader, newOrder({ orderQty: -100 }), RejectCode.IncorrectQuantity, 'order_rejected');
    expectRefused(U.trader, newOrder({ price: -19_000 }), RejectCode.ValueOutOfRange, 'order_rejected');
    expectRefused(U.trader, newOrder({ ordType: OrdType.Stop, price: 0, stopPx: -1 }), RejectCode.ValueOutOfRange, 'order_rejected');
    liveOrder('Q-1');
    expectRefused(U.trader, { type: Command.ReplaceOrder, clOrdId: 'Q-2', origClOrdId: 'Q-1', accountId: 0, orderQty: 0, price: 19_000, stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0 }, RejectCode.IncorrectQuantity, 'cancel_reject');
    expectRefused(U.venue, venueReport('Q-1', ExecType.Trade, { lastQty: 0, lastPx: 19_000 }), RejectCode.ValueOutOfRange, 'command_reject');
    expectRefused(U.venue, venueReport('Q-1', ExecType.Trade, { lastQty: -10, lastPx: 19_000 }), RejectCode.ValueOutOfRange, 'command_reject');
    expectRefused(U.venue, venueReport('Q-1', ExecType.Trade, { lastQty: 10, lastPx: 0 }), RejectCode.ValueOutOfRange, 'command_reject');
    expectRefused(U.venue, venueReport('Q-1', ExecType.Trade, { lastQty: 10, lastPx: -1 }), RejectCode.ValueOutOfRange, 'command_reject');
    expectRefused(U.venue, venueReport('Q-1', ExecType.Restated, { leavesQty: -1 }), RejectCode.ValueOutOfRange, 'command_reject');
    expectRefused(U.admin, { type: Command.SetMark, instrumentId: I.AAPL, price: 0 }, RejectCode.ValueOutOfRange, 'command_reject');
    expectRefused(U.admin, { type: Command.SetMark, instrumentId: I.AAPL, price: -5 }, RejectCode.ValueOutOfRange, 'command_reject');
  });

  it('refuses prices off the tick grid and quantities off the lot size', () => {
    // ESZ6 trades in quarter points: 25 in two decimals.
    expectRefused(U.trader, newOrder({ instrumentId: I.ESZ6, orderQty: 1, price: 600_010 }), RejectCode.InvalidPriceIncrement, 'order_rejected');
    expectRefused(U.trader, newOrder({ instrumentId: I.ESZ6, orderQty: 1, ordType: OrdType.Stop, price: 0, stopPx: 600_001 }), RejectCode.InvalidPriceIncrement, 'order_rejected');
    expectRefused(U.admin, { type: Command.SetMark, instrumentId: I.ESZ6, price: 600_005 }, RejectCode.InvalidPriceIncrement, 'command_reject');
    expectAccepted(U.trader, newOrder({ instrumentId: I.ESZ6, orderQty: 1, price: 600_025 }));
    // TOYOTA trades in lots of 100 shares.
    expectRefused(U.trader, newOrder({ instrumentId: I.TOYOTA, orderQty: 150, price: 2_800 }), RejectCode.LotSize, 'order_rejected');
    expectRefused(U.trader, newOrder({ instrumentId: I.TOYOTA, orderQty: 1, price: 2_800 }), RejectCode.LotSize, 'order_rejected');
    liveOrder('LOT-1', { instrumentId: I.TOYOTA, orderQty: 200, price: 2_800 });
    expectRefused(U.trader, { type: Command.ReplaceOrder, clOrdId: 'LOT-2', origClOrdId: 'LOT-1', accountId: 0, orderQty: 250, price: 2_800, stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0 }, RejectCode.LotSize, 'cancel_reject');
  });

  it('refuses prices that the order type does not take, and GTD terms that do not fit', () => {
    expectRefused(U.trader, newOrder({ ordType: OrdType.Market, price: 19_000 }), RejectCode.InvalidField, 'order_rejected');
    expectRefused(U.trader, newOrder({ ordType: OrdType.Limit, price: 0 }), RejectCode.InvalidField, 'order_rejected');
    expectRefused(U.trader, newOrder({ ordType: OrdType.Limit, stopPx: 19_000 }), RejectCode.InvalidField, 'order_rejected');
    expectRefused(U.trader, newOrder({ ordType: OrdType.Stop, price: 0, stopPx: 0 }), RejectCode.InvalidField, 'order_rejected');
    expectRefused(U.trader, newOrder({ ordType: OrdType.StopLimit, price: 19_000, stopPx: 0 }), RejectCode.InvalidField, 'order_rejected');
    expectRefused(U.trader, newOrder({ timeInForce: TimeInForce.GTD, expireTimeUs: 0 }), RejectCode.TooLateToEnter, 'order_rejected');
    expectRefused(U.trader, newOrder({ timeInForce: TimeInForce.GTD, expireTimeUs: h.nowUs - 1 }), RejectCode.TooLateToEnter, 'order_rejected');
    // Exactly now is not in the future either (the command is stamped with h.nowUs).
    expectRefused(U.trader, newOrder({ timeInForce: TimeInForce.GTD, expireTimeUs: h.nowUs }), RejectCode.TooLateToEnter, 'order_rejected');
    expectRefused(U.trader, newOrder({ timeInForce: TimeInForce.Day, expireTimeUs: h.nowUs + 1_000_000 }), RejectCode.InvalidField, 'order_rejected');
    expectRefused(U.trader, newOrder({ timeInForce: TimeInForce.GTC, expireTimeUs: h.nowUs + 1_000_000 }), RejectCode.InvalidField, 'order_rejected');
    expectAccepted(U.trader, newOrder({ ordType: OrdType.Market, price: 0 }));
    expectAccepted(U.trader, newOrder({ timeInForce: TimeInForce.GTD, expireTimeUs: h.nowUs + 1_000_000 }));
  });

  it('refuses a duplicate ClOrdID, and a cancel/replace that names a stale one', () => {
    liveOrder('DUP-1');
    expectRefused(U.trader, newOrder({ clOrdId: 'DUP-1' }), RejectCode.DuplicateOrder, 'order_rejected');
    expectRefused(U.trader, { type: Command.CancelOrder, clOrdId: 'DUP-1', origClOrdId: 'DUP-1', accountId: 0 }, RejectCode.DuplicateOrder, 'cancel_reject');
    expectAccepted(U.trader, { type: Command.ReplaceOrder, clOrdId: 'DUP-2', origClOrdId: 'DUP-1', accountId: 0, orderQty: 200, price: 19_000, stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0 });
    h.venue('DUP-2', ExecType.Replaced, { origClOrdId: 'DUP-1' });
    expectRefused(U.trader, { type: Command.CancelOrder, clOrdId: 'DUP-3', origClOrdId: 'DUP-1', accountId: 0 }, RejectCode.StaleOrder, 'cancel_reject');
  });
});

describe('unknown references', () => {
  it('refuses unknown instruments, accounts, venues and users', () => {
    expectRefused(U.trader, newOrder({ instrumentId: 999 }), RejectCode.UnknownSymbol, 'order_rejected');
    expectRefused(U.trader, newOrder({ accountId: 999 }), RejectCode.UnknownAccount, 'order_rejected');
    expectRefused(U.trader, newOrder({ venueId: 9 }), RejectCode.UnknownVenue, 'order_rejected');
    expectRefused(999, newOrder(), RejectCode.UnknownUser, 'command_reject');
    expectRefused(999, { type: Command.Tick, kind: TickKind.Timer }, RejectCode.UnknownUser, 'command_reject');
    expectRefused(U.admin, { type: Command.SetMark, instrumentId: 999, price: 100 }, RejectCode.UnknownInstrument, 'command_reject');
    expectRefused(U.admin, { ...unsetLimits(LimitScope.Account, 999), maxOpenOrders: 1 }, RejectCode.UnknownAccount, 'command_reject');
    expectRefused(U.admin, { ...unsetLimits(LimitScope.Instrument, 999), maxOrderQty: 1 }, RejectCode.UnknownInstrument, 'command_reject');
    expectRefused(U.compliance, { type: Command.KillSwitch, scope: KillScope.Account, scopeId: 999, engaged: true, text: '' }, RejectCode.UnknownAccount, 'command_reject');
    expectRefused(U.compliance, { type: Command.KillSwitch, scope: KillScope.User, scopeId: 999, engaged: true, text: '' }, RejectCode.UnknownUser, 'command_reject');
  });

  it('refuses cancels and replaces of unknown orders with OrderCancelReject UnknownOrder', () => {
    const cancel = expectRefused(U.trader, { type: Command.CancelOrder, clOrdId: 'C-1', origClOrdId: 'NOPE', accountId: 0 }, RejectCode.UnknownOrder, 'cancel_reject');
    expect(cancel.events[0]).toEqual(expect.objectContaining({ cxlRejReason: CxlRejReason.UnknownOrder, orderId: 0, origClOrdId: 'NOPE' }));
    expectRefused(U.trader, { type: Command.ReplaceOrder, clOrdId: 'C-2', origClOrdId: 'NOPE', accountId: 0, orderQty: 100, price: 19_000, stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0 }, RejectCode.UnknownOrder, 'cancel_reject');
    // An order that exists, named with the wrong account, is unknown too.
    liveOrder('ACC-1');
    expectRefused(U.trader, { type: Command.CancelOrder, clOrdId: 'C-3', origClOrdId: 'ACC-1', accountId: A.INCOME }, RejectCode.UnknownOrder, 'cancel_reject');
  });

  it('refuses venue reports for unknown venues and orders', () => {
    liveOrder('V-1');
    expectRefused(U.venue, venueReport('V-1', ExecType.Trade, { venueId: 9, lastQty: 1, lastPx: 19_000 }), RejectCode.UnknownVenue, 'command_reject');
    expectRefused(U.venue, venueReport('NOPE', ExecType.Trade, { lastQty: 1, lastPx: 19_000 }), RejectCode.UnknownOrder, 'command_reject');
    expectRefused(U.venue, { type: Command.VenueCancelReject, venueId: 9, clOrdId: 'X', origClOrdId: 'V-1', cxlRejResponseTo: 49, cxlRejReason: CxlRejReason.Other, text: '' }, RejectCode.UnknownVenue, 'command_reject');
    expectRefused(U.venue, { type: Command.VenueCancelReject, venueId: SIM, clOrdId: 'X', origClOrdId: 'V-1', cxlRejResponseTo: 49, cxlRejReason: CxlRejReason.Other, text: '' }, RejectCode.InvalidStateTransition, 'command_reject');
  });
});

describe('venue reports that would corrupt the books', () => {
  it('refuses a duplicate exec id, an overfill and a fill for a rejected order', () => {
    liveOrder('F-1');
    expectAccepted(U.venue, venueReport('F-1', ExecType.Trade, { execId: 'E-1', lastQty: 40, lastPx: 19_000 }));
    expectRefused(U.venue, venueReport('F-1', ExecType.Trade, { execId: 'E-1', lastQty: 40, lastPx: 19_000 }), RejectCode.DuplicateExecId, 'command_reject');
    expectRefused(U.venue, venueReport('F-1', ExecType.Trade, { lastQty: 61, lastPx: 19_000 }), RejectCode.Overfill, 'command_reject');
    expectAccepted(U.venue, venueReport('F-1', ExecType.Trade, { lastQty: 60, lastPx: 19_000 }));
    accepted(h.send(U.trader, newOrder({ clOrdId: 'F-2' })));
    expectAccepted(U.venue, venueReport('F-2', ExecType.Rejected));
    expectRefused(U.venue, venueReport('F-2', ExecType.Trade, { lastQty: 1, lastPx: 19_000 }), RejectCode.InvalidStateTransition, 'command_reject');
  });

  it('refuses a late fill on a done child when its parent has no room left, and takes it when it has', () => {
    accepted(h.send(U.pm, newOrder({ clOrdId: 'PAR-1', venueId: 0, orderQty: 1_000 })));
    liveOrder('CH-A', { parentClOrdId: 'PAR-1', orderQty: 1_000 });
    expectAccepted(U.venue, venueReport('CH-A', ExecType.Canceled));
    liveOrder('CH-B', { parentClOrdId: 'PAR-1', orderQty: 1_000 });
    // CH-A was canceled, but the venue reports it traded: the parent's 1,000 are all placed with CH-B.
    expectRefused(U.venue, venueReport('CH-A', ExecType.Trade, { lastQty: 500, lastPx: 19_000 }), RejectCode.ParentQtyExceeded, 'command_reject');
    const fill = expectAccepted(U.venue, venueReport('CH-B', ExecType.Trade, { lastQty: 1_000, lastPx: 19_000 }));
    const parentReport = fill.events.find((e): e is ExecutionReportData => e.kind === 'execution_report' && e.clOrdId === 'PAR-1');
    expect(parentReport?.cumQty).toBe(1_000);
    // With room in the parent, a late fill on a done child is applied: the venue is the authority on trades.
    accepted(h.send(U.pm, newOrder({ clOrdId: 'PAR-2', venueId: 0, orderQty: 1_000 })));
    liveOrder('CH-C', { parentClOrdId: 'PAR-2', orderQty: 600 });
    expectAccepted(U.venue, venueReport('CH-C', ExecType.Canceled));
    const late = expectAccepted(U.venue, venueReport('CH-C', ExecType.Trade, { lastQty: 200, lastPx: 19_000 }));
    expect(late.events.find((e): e is ExecutionReportData => e.kind === 'execution_report' && e.clOrdId === 'PAR-2')?.cumQty).toBe(200);
    expectRefused(U.trader, newOrder({ clOrdId: 'CH-D', parentClOrdId: 'PAR-2', orderQty: 801 }), RejectCode.ParentQtyExceeded, 'order_rejected');
    expectAccepted(U.trader, newOrder({ clOrdId: 'CH-E', parentClOrdId: 'PAR-2', orderQty: 800 }));
    expect(h.replayed().hash()).toBe(h.core.hash());
  });
});

describe('open quantities beyond a safe integer', () => {
  it('refuses an order or restatement that would take open quantity past 2^53 - 1, with every limit cleared', () => {
    admin(unsetLimits(LimitScope.Global, 0));
    admin(unsetLimits(LimitScope.Instrument, DEMO.instruments.AAPL));
    const huge = Number.MAX_SAFE_INTEGER - 1;
    liveOrder('BIG-1', { orderQty: huge });
    // A second order of the same side would make the open buy quantity unrepresentable.
    expectRefused(U.trader, newOrder({ clOrdId: 'BIG-2', orderQty: 2 }), RejectCode.ValueOutOfRange, 'order_rejected');
    expectAccepted(U.trader, newOrder({ clOrdId: 'BIG-3', orderQty: 1 }));
    // A restatement that grows an order is held to the same bound.
    expectRefused(U.venue, venueReport('BIG-3', ExecType.Restated, { leavesQty: 2 }), RejectCode.ValueOutOfRange, 'command_reject');
    expectAccepted(U.venue, venueReport('BIG-1', ExecType.Canceled));
    expectAccepted(U.venue, venueReport('BIG-3', ExecType.Canceled));
    expect(h.replayed().hash()).toBe(h.core.hash());
  });
});

describe('authorisation', () => {
  it('refuses commands from roles that may not send them', () => {
    expectRefused(U.middle, newOrder(), RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.back, newOrder({ venueId: 0 }), RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.compliance, newOrder(), RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.venue, newOrder(), RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.pm, newOrder(), RejectCode.NotAuthorised, 'order_rejected'); // a PM may not place on a venue
    expectRefused(U.trader_income, newOrder({ accountId: A.GROWTH }), RejectCode.NotEntitled, 'order_rejected');
    expectRefused(U.pm, newOrder({ accountId: A.MACRO, venueId: 0 }), RejectCode.NotEntitled, 'order_rejected');
    expectRefused(U.trader, { ...demoInstruments()[0], symbol: 'AAPL2', instrumentId: 50 }, RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.trader, { type: Command.SetMark, instrumentId: I.AAPL, price: 1 }, RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.trader, { type: Command.KillSwitch, scope: KillScope.Global, scopeId: 0, engaged: false, text: '' }, RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.admin, { type: Command.Tick, kind: TickKind.EndOfDay }, RejectCode.NotAuthorised, 'command_reject');
    liveOrder('AUTH-1');
    expectRefused(U.trader, venueReport('AUTH-1', ExecType.Trade, { lastQty: 1, lastPx: 19_000 }), RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.pm, venueReport('AUTH-1', ExecType.Trade, { lastQty: 1, lastPx: 19_000 }), RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.middle, { type: Command.CancelOrder, clOrdId: 'AUTH-2', origClOrdId: 'AUTH-1', accountId: 0 }, RejectCode.NotAuthorised, 'command_reject');
    expectRefused(U.trader_income, { type: Command.CancelOrder, clOrdId: 'AUTH-3', origClOrdId: 'AUTH-1', accountId: 0 }, RejectCode.NotEntitled, 'cancel_reject');
    expectRefused(U.pm, { type: Command.CancelOrder, clOrdId: 'AUTH-4', origClOrdId: 'AUTH-1', accountId: 0 }, RejectCode.NotAuthorised, 'cancel_reject');
  });
});

describe('kill switches', () => {
  const kill = (scope: KillScope, scopeId: number, engaged: boolean): void => {
    const result = h.send(U.compliance, { type: Command.KillSwitch, scope, scopeId, engaged, text: 'test' });
    expect(result.events.map((e) => e.kind)).toEqual(['accepted']);
  };
  const replaceUp = (orig: string, cl: string): ReplaceOrderCmd => ({
    type: Command.ReplaceOrder, clOrdId: cl, origClOrdId: orig, accountId: 0, orderQty: 200, price: 19_000, stopPx: 0,
    timeInForce: TimeInForce.Day, expireTimeUs: 0,
  });

  it('global: refuses new orders and increases, and still lets orders be canceled', () => {
    liveOrder('K-1');
    liveOrder('K-2');
    kill(KillScope.Global, 0, true);
    expectRefused(U.trader, newOrder({ accountId: A.INCOME }), RejectCode.KillSwitchEngaged, 'order_rejected');
    expectRefused(U.pm, newOrder({ venueId: 0 }), RejectCode.KillSwitchEngaged, 'order_rejected');
    expectRefused(U.trader, replaceUp('K-1', 'K-1R'), RejectCode.KillSwitchEngaged, 'cancel_reject');
    const cancel = expectAccepted(U.trader, { type: Command.CancelOrder, clOrdId: 'K-1C', origClOrdId: 'K-1', accountId: 0 });
    expect(cancel.events.map((e) => e.kind)).toEqual(['execution_report', 'venue_request']);
    const done = h.venue('K-1C', ExecType.Canceled, { origClOrdId: 'K-1' });
    expect(done.events).toEqual([expect.objectContaining({ execType: ExecType.Canceled, ordStatus: OrdStatus.Canceled })]);
    // Fills still arrive for orders already at the venue.
    expectAccepted(U.venue, venueReport('K-2', ExecType.Trade, { lastQty: 10, lastPx: 19_000 }));
    kill(KillScope.Global, 0, false);
    expectAccepted(U.trader, newOrder());
  });

  it('account: refuses that account only', () => {
    liveOrder('KA-1');
    kill(KillScope.Account, A.GROWTH, true);
    expectRefused(U.trader, newOrder(), RejectCode.KillSwitchEngaged, 'order_rejected');
    expectAccepted(U.trader, newOrder({ accountId: A.INCOME }));
    expectAccepted(U.trader, { type: Command.CancelOrder, clOrdId: 'KA-1C', origClOrdId: 'KA-1', accountId: 0 });
    kill(KillScope.Account, A.GROWTH, false);
    expectAccepted(U.trader, newOrder());
  });

  it('user: refuses that user only', () => {
    liveOrder('KU-1');
    kill(KillScope.User, U.trader, true);
    expectRefused(U.trader, newOrder(), RejectCode.KillSwitchEngaged, 'order_rejected');
    expectRefused(U.trader, replaceUp('KU-1', 'KU-1R'), RejectCode.KillSwitchEngaged, 'cancel_reject');
    expectAccepted(U.trader_income, newOrder({ accountId: A.INCOME }));
    expectAccepted(U.trader, { type: Command.CancelOrder, clOrdId: 'KU-1C', origClOrdId: 'KU-1', accountId: 0 });
    kill(KillScope.User, U.trader, false);
    expectAccepted(U.trader, newOrder());
  });
});

describe('limits', () => {
  it('max order quantity (AAPL: 1,000,000)', () => {
    // Without the global notional limit, which would refuse such an order first.
    admin({ ...unsetLimits(LimitScope.Global, 0), priceCollarBps: 1_000 });
    expectRefused(U.trader, newOrder({ orderQty: 1_000_001 }), RejectCode.MaxOrderQty, 'order_rejected');
    expectAccepted(U.trader, newOrder({ orderQty: 1_000_000 }));
    liveOrder('MQ-1');
    expectRefused(U.trader, { type: Command.ReplaceOrder, clOrdId: 'MQ-2', origClOrdId: 'MQ-1', accountId: 0, orderQty: 1_000_001, price: 19_000, stopPx: 0, timeInForce: TimeInForce.Day, expireTimeUs: 0 }, RejectCode.MaxOrderQty, 'cancel_reject');
  });

  it('max order notional (global: 50,000,000 USD)', () => {
    // 263,158 x 190.00 = 50,000,020 USD; 263,157 x 190.00 = 49,999,830 USD.
    expectRefused(U.trader, newOrder({ orderQty: 263_158 }), RejectCode.MaxOrderNotional, 'order_rejected');
    expectAccepted(U.trader, newOrder({ orderQty: 263_157 }));
    // A market order is valued at the mark; the ES future at its 50 multiplier: 167 x 6000.00 x 50 = 50.1M.
    expectRefused(U.trader, newOrder({ ordType: OrdType.Market, price: 0, orderQty: 263_158 }), RejectCode.MaxOrderNotional, 'order_rejected');
    expectRefused(U.trader, newOrder({ instrumentId: I.ESZ6, orderQty: 167, price: 600_000 }), RejectCode.MaxOrderNotional, 'order_rejected');
    expectAccepted(U.trader, newOrder({ instrumentId: I.ESZ6, orderQty: 166, price: 600_000 }));
  });

  it('price collar (global: 1,000 bps around the mark)', () => {
    expectRefused(U.trader, newOrder({ price: 20_901 }), RejectCode.PriceCollar, 'order_rejected');
    expectRefused(U.trader, newOrder({ price: 17_099 }), RejectCode.PriceCollar, 'order_rejected');
    expectRefused(U.trader, newOrder({ ordType: OrdType.Stop, price: 0, stopPx: 25_000 }), RejectCode.PriceCollar, 'order_rejected');
    expectAccepted(U.trader, newOrder({ price: 20_900 }));
    expectAccepted(U.trader, newOrder({ price: 17_100 }));
  });

  it('max position, counting working orders and fills', () => {
    admin({ ...unsetLimits(LimitScope.Instrument, I.AAPL), maxPosition: 500 });
    liveOrder('MP-1', { orderQty: 300 });
    expectRefused(U.trader, newOrder({ orderQty: 201 }), RejectCode.MaxPosition, 'order_rejected');
    expectAccepted(U.venue, venueReport('MP-1', ExecType.Trade, { lastQty: 300, lastPx: 19_000 }));
    expectRefused(U.trader, newOrder({ orderQty: 201 }), RejectCode.MaxPosition, 'order_rejected');
    expectAccepted(U.trader, newOrder({ orderQty: 200 }));
    // Short side: worst case is the position minus the working sells.
    expectRefused(U.trader, newOrder({ side: Side.Sell, orderQty: 801 }), RejectCode.MaxPosition, 'order_rejected');
    expectAccepted(U.trader, newOrder({ side: Side.Sell, orderQty: 800 }));
  });

  it('max gross exposure per account and currency', () => {
    // 300,000 units of the currency, in micro-units; 1,500 x 190.00 = 285,000 USD.
    admin({ ...unsetLimits(LimitScope.Account, A.GROWTH), maxGrossExposure: 300_000_000_000 });
    liveOrder('GX-1', { orderQty: 1_500 });
    expectRefused(U.trader, newOrder({ orderQty: 79 }), RejectCode.MaxGrossExposure, 'order_rejected');
    expectAccepted(U.trader, newOrder({ orderQty: 78 })); // 299,820 USD
    // A filled position counts at the mark, like the order it came from.
    expectAccepted(U.venue, venueReport('GX-1', ExecType.Trade, { lastQty: 1_500, lastPx: 19_000 }));
    expectRefused(U.trader, newOrder({ orderQty: 1 }), RejectCode.MaxGrossExposure, 'order_rejected');
    // Other currencies and other accounts are totalled separately: 100 x 2,800 JPY = 280,000 JPY.
    expectAccepted(U.trader, newOrder({ instrumentId: I.TOYOTA, orderQty: 100, price: 2_800 }));
    expectRefused(U.trader, newOrder({ instrumentId: I.TOYOTA, orderQty: 100, price: 2_800 }), RejectCode.MaxGrossExposure, 'order_rejected');
    expectAccepted(U.trader, newOrder({ accountId: A.INCOME, orderQty: 1_600 }));
  });

  it('max open orders per account, freed when an order is done', () => {
    admin({ ...unsetLimits(LimitScope.Account, A.GROWTH), maxOpenOrders: 2 });
    liveOrder('MO-1');
    liveOrder('MO-2');
    expectRefused(U.trader, newOrder(), RejectCode.MaxOpenOrders, 'order_rejected');
    expectRefused(U.pm, newOrder({ venueId: 0 }), RejectCode.MaxOpenOrders, 'order_rejected');
    expectAccepted(U.venue, venueReport('MO-1', ExecType.Canceled));
    expectAccepted(U.trader, newOrder());
  });

  it('orders per second per account, by command time', () => {
    admin({ ...unsetLimits(LimitScope.Account, A.GROWTH), maxOrdersPerSecond: 3 });
    const second = (Math.floor(h.nowUs / 1_000_000) + 1) * 1_000_000;
    expectAccepted(U.trader, newOrder(), second + 10);
    expectAccepted(U.trader, newOrder(), second + 20);
    expectAccepted(U.trader, newOrder(), second + 999_990);
    expectRefused(U.trader, newOrder(), RejectCode.OrderRateExceeded, 'order_rejected', second + 999_999);
    // Refused orders do not count, other accounts are not limited, and the next second starts afresh.
    expectAccepted(U.trader, newOrder({ accountId: A.INCOME }), second + 999_999);
    expectAccepted(U.trader, newOrder(), second + 1_000_000);
  });

  it('restricted and non-tradable instruments', () => {
    const aapl = demoInstruments()[0];
    admin({ ...aapl, restricted: true });
    expectRefused(U.trader, newOrder(), RejectCode.RestrictedInstrument, 'order_rejected');
    admin({ ...aapl, tradable: false });
    expectRefused(U.trader, newOrder(), RejectCode.InstrumentNotTradable, 'order_rejected');
    expectRefused(U.pm, newOrder({ venueId: 0 }), RejectCode.InstrumentNotTradable, 'order_rejected');
    admin(aapl);
    expectAccepted(U.trader, newOrder());
  });
});
