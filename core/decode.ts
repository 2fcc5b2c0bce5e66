// Decodes one untrusted CommandEnvelope frame into plain, reused command objects. Checks structure (bounds,
// identifier, unknown fields), 64-bit ranges, string lengths and enum membership; the meaning of values
// (instrument exists, tick size, entitlements) is the core's business, because it needs state.
//
// Reuse: each command type has one object that every decode overwrites, so a caller must finish with a
// decoded command before decoding the next frame. Only strings are allocated.

import * as flatbuffers from 'flatbuffers';
import {
  AssetClass, Command, CxlRejReason, CxlRejResponseTo, ExecType, KillScope, LimitScope, OrdStatus, OrdType,
  PutCall, RejectCode, Role, Side, TickKind, TimeInForce,
} from '../schemas/generated/oms_generated.js';
import type {
  CancelOrderCmd, CommandBody, DefineAccountCmd, DefineInstrumentCmd, DefineUserCmd, DefineVenueCmd,
  EnvelopeHeader, KillSwitchCmd, NewOrderCmd, ReplaceOrderCmd, SetLimitsCmd, SetMarkCmd, TickCmd,
  VenueCancelRejectCmd, VenueExecReportCmd,
} from '../schemas/commands.js';
import { ENVELOPE_FIELDS, STAMPED_FIELD_COUNT, STAMPED_FIELDS } from '../schemas/commands.js';
import { hasIdentifier, rootPosition, STAMPED_FILE_IDENTIFIER, TableReader, WireError } from '../schemas/wire.js';

export interface DecodeLimits {
  /** Whole frame; larger frames are refused before any byte is read. */
  frame_bytes_max: number;
  /** ClOrdID, ExecID and other identifiers. */
  id_bytes_max: number;
  /** Free text and names. */
  text_bytes_max: number;
  /** Accounts listed in one user's entitlements. */
  entitlements_max: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  frame_bytes_max: 4096,
  id_bytes_max: 64,
  text_bytes_max: 256,
  entitlements_max: 4096,
};

export class DecodeError extends Error {
  constructor(readonly code: RejectCode, message: string) {
    super(message);
  }
}

/** Field counts per table, so that a field from a newer schema is refused rather than silently ignored. */
const FIELD_COUNT: Record<Command, number> = {
  [Command.NONE]: 0, [Command.NewOrder]: 13, [Command.CancelOrder]: 3, [Command.ReplaceOrder]: 8,
  [Command.VenueExecReport]: 12, [Command.VenueCancelReject]: 6, [Command.DefineInstrument]: 17,
  [Command.DefineAccount]: 3, [Command.DefineUser]: 5, [Command.DefineVenue]: 2, [Command.SetLimits]: 9,
  [Command.SetMark]: 2, [Command.KillSwitch]: 4, [Command.Tick]: 1,
};
const ENVELOPE_FIELD_COUNT = 6;
/**
 * What a stamp adds to a client's frame (schemas/stamped.fbs: root offset, identifier, vtable, table, vector
 * length, alignment padding): a stamped frame may exceed frame_bytes_max by this much, its inner frame not.
 */
export const STAMP_OVERHEAD_BYTES_MAX = 64;

/** Lookup of the defined values of a generated numeric enum, without its Unset (0) member. */
function enumValues(enumObject: object, keepZero = false): Set<number> {
  const values = Object.values(enumObject).filter((v): v is number => typeof v === 'number');
  return new Set(values.filter((v) => keepZero || v !== 0));
}

const SIDES = enumValues(Side);
const ORD_TYPES = enumValues(OrdType);
const TIFS = enumValues(TimeInForce);
const EXEC_TYPES = enumValues(ExecType);
const ORD_STATUSES = enumValues(OrdStatus, true);
const ASSET_CLASSES = enumValues(AssetClass);
const PUT_CALLS = enumValues(PutCall, true);
const ROLES = enumValues(Role);
const LIMIT_SCOPES = enumValues(LimitScope);
const KILL_SCOPES = enumValues(KillScope);
const TICK_KINDS = enumValues(TickKind);
const CXL_RESPONSE_TO = enumValues(CxlRejResponseTo);
const CXL_REASONS = enumValues(CxlRejReason, true);
const REJECT_CODES = enumValues(RejectCode, true);

function checkEnum(values: Set<number>, value: number, name: string): number {
  if (!values.has(value)) throw new DecodeError(RejectCode.InvalidField, `${name}: invalid value ${value}`);
  return value;
}

export class CommandDecoder {
  readonly header: EnvelopeHeader = { requestId: 0, timeUs: 0, userId: 0, sessionId: 0 };
  /**
   * Whether the last frame was a gateway-stamped one whose stamp was read: its header's time, user and
   * session are then the gateway's even if the inner frame failed to decode, so that a reject can be
   * routed back to the session that sent it.
   */
  stampRead = false;
  private readonly stamp = new TableReader();
  private readonly envelope = new TableReader();
  private readonly body = new TableReader();
  private readonly bb = new flatbuffers.ByteBuffer(new Uint8Array(0));

  private readonly newOrder: NewOrderCmd = {
    type: Command.NewOrder, clOrdId: '', accountId: 0, instrumentId: 0, side: Side.Unset, ordType: OrdType.Unset,
    timeInForce: TimeInForce.Day, orderQty: 0, price: 0, stopPx: 0, expireTimeUs: 0, parentClOrdId: '',
    venueId: 0, text: '',
  };
  private readonly cancel: CancelOrderCmd = { type: Command.CancelOrder, clOrdId: '', origClOrdId: '', accountId: 0 };
  private readonly replace: ReplaceOrderCmd = {
    type: Command.ReplaceOrder, clOrdId: '', origClOrdId: '', accountId: 0, orderQty: 0, price: 0, stopPx: 0,
    timeInForce: TimeInForce.Day, expireTimeUs: 0,
  };
  private readonly execReport: VenueExecReportCmd = {
    type: Command.VenueExecReport, venueId: 0, execId: '', clOrdId: '', origClOrdId: '', execType: ExecType.Unset,
    ordStatus: OrdStatus.Unset, lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: RejectCode.None,
    venueOrderId: '', text: '',
  };

  /**
   * `timeRequired`: a plain (unstamped) frame must carry a positive time_us. The core always decodes with it
   * on; a reader of client frames as sent (tests, tools) may turn it off.
   */
  constructor(readonly limits: DecodeLimits = DEFAULT_DECODE_LIMITS, private readonly timeRequired = true) {}

  /**
   * Decodes a frame. Throws DecodeError with a reject code; the header is filled as far as it could be read,
   * so that a reject can still echo the request id.
   */
  decode(frame: Uint8Array): CommandBody {
    const h = this.header;
    h.requestId = 0;
    h.timeUs = 0;
    h.userId = 0;
    h.sessionId = 0;
    this.stampRead = false;
    // A stamped frame checks its sizes once its stamp is read (a few fixed reads, whatever the length), so
    // that even an oversized one is answered to the session that sent it.
    const isStamped = hasIdentifier(frame, STAMPED_FILE_IDENTIFIER);
    if (!isStamped && frame.length > this.limits.frame_bytes_max) {
      throw new DecodeError(RejectCode.OversizedFrame, `frame of ${frame.length} bytes exceeds ${this.limits.frame_bytes_max}`);
    }
    try {
      return isStamped ? this.decodeStamped(frame) : this.decodeEnvelope(frame, this.timeRequired);
    } catch (error) {
      throw toDecodeError(error);
    }
  }

  /** The stamp first, then the client's frame inside it, whose own time, user and session are overridden. */
  private decodeStamped(frame: Uint8Array): CommandBody {
    const stamp = this.stamp.init(retarget(this.bb, frame), rootPosition(this.bb, STAMPED_FILE_IDENTIFIER), STAMPED_FIELD_COUNT);
    const timeUs = stamp.i64(STAMPED_FIELDS.timeUs);
    const userId = stamp.u32(STAMPED_FIELDS.userId);
    const sessionId = stamp.u32(STAMPED_FIELDS.sessionId);
    if (timeUs <= 0) throw new DecodeError(RejectCode.InvalidField, 'stamp time_us must be positive');
    const h = this.header;
    h.timeUs = timeUs;
    h.userId = userId;
    h.sessionId = sessionId;
    // From here on a reject goes back to the stamped session, whatever is wrong with the inner frame.
    this.stampRead = true;
    const stampedBytesMax = this.limits.frame_bytes_max + STAMP_OVERHEAD_BYTES_MAX;
    if (frame.length > stampedBytesMax) {
      throw new DecodeError(RejectCode.OversizedFrame, `stamped frame of ${frame.length} bytes exceeds ${stampedBytesMax}`);
    }
    const inner = stampedEnvelope(stamp, frame);
    if (inner.length > this.limits.frame_bytes_max) {
      throw new DecodeError(RejectCode.OversizedFrame, `frame of ${inner.length} bytes exceeds ${this.limits.frame_bytes_max}`);
    }
    try {
      // The client's time is not checked: the stamp's is the command's.
      return this.decodeEnvelope(inner, false);
    } finally {
      h.timeUs = timeUs;
      h.userId = userId;
      h.sessionId = sessionId;
    }
  }

  private decodeEnvelope(frame: Uint8Array, timeRequired: boolean): CommandBody {
    const bb = retarget(this.bb, frame);
    const env = this.envelope.init(bb, rootPosition(bb), ENVELOPE_FIELD_COUNT);
    const h = this.header;
    h.requestId = env.u64(ENVELOPE_FIELDS.requestId);
    h.timeUs = env.i64(ENVELOPE_FIELDS.timeUs);
    h.userId = env.u32(ENVELOPE_FIELDS.userId);
    h.sessionId = env.u32(ENVELOPE_FIELDS.sessionId);
    if (timeRequired && h.timeUs <= 0) throw new DecodeError(RejectCode.InvalidField, 'time_us must be positive');
    const type = env.u8(ENVELOPE_FIELDS.commandType) as Command;
    const fieldCount = FIELD_COUNT[type];
    if (fieldCount === undefined || type === Command.NONE) {
      throw new DecodeError(RejectCode.UnknownCommand, `unknown command type ${type}`);
    }
    const bodyPos = env.ref(ENVELOPE_FIELDS.command);
    if (bodyPos === 0) throw new DecodeError(RejectCode.MalformedFrame, 'command body missing');
    return this.decodeBody(type, this.body.init(bb, bodyPos, fieldCount));
  }

  private id(t: TableReader, index: number, name: string, required: boolean): string {
    const value = t.str(index, this.limits.id_bytes_max);
    if (value === null || value.length === 0) {
      if (required) throw new DecodeError(RejectCode.InvalidField, `${name} is required`);
      return '';
    }
    return value;
  }

  private text(t: TableReader, index: number): string {
    return t.str(index, this.limits.text_bytes_max) ?? '';
  }

  private decodeBody(type: Command, t: TableReader): CommandBody {
    switch (type) {
      case Command.NewOrder: return this.decodeNewOrder(t);
      case Command.CancelOrder: {
        const c = this.cancel;
        c.clOrdId = this.id(t, 0, 'cl_ord_id', true);
        c.origClOrdId = this.id(t, 1, 'orig_cl_ord_id', true);
        c.accountId = t.u32(2);
        return c;
      }
      case Command.ReplaceOrder: return this.decodeReplace(t);
      case Command.VenueExecReport: return this.decodeExecReport(t);
      case Command.VenueCancelReject: return this.decodeCancelReject(t);
      case Command.DefineInstrument: return this.decodeInstrument(t);
      case Command.DefineAccount: return this.decodeAccount(t);
      case Command.DefineUser: return this.decodeUser(t);
      case Command.DefineVenue: return this.decodeVenue(t);
      case Command.SetLimits: return this.decodeLimits(t);
      case Command.SetMark: {
        const c: SetMarkCmd = { type: Command.SetMark, instrumentId: t.u32(0), price: t.i64(1) };
        return c;
      }
      case Command.KillSwitch: {
        const c: KillSwitchCmd = {
          type: Command.KillSwitch, scope: checkEnum(KILL_SCOPES, t.u8(0), 'scope'), scopeId: t.u32(1),
          engaged: t.bool(2), text: this.text(t, 3),
        };
        return c;
      }
      case Command.Tick: {
        const c: TickCmd = { type: Command.Tick, kind: checkEnum(TICK_KINDS, t.u8(0), 'kind') };
        return c;
      }
      default: throw new DecodeError(RejectCode.UnknownCommand, `unknown command type ${type}`);
    }
  }

  private decodeNewOrder(t: TableReader): NewOrderCmd {
    const c = this.newOrder;
    c.clOrdId = this.id(t, 0, 'cl_ord_id', true);
    c.accountId = t.u32(1);
    c.instrumentId = t.u32(2);
    c.side = checkEnum(SIDES, t.u8(3), 'side');
    c.ordType = checkEnum(ORD_TYPES, t.u8(4), 'ord_type');
    c.timeInForce = checkEnum(TIFS, t.u8(5, TimeInForce.Day), 'time_in_force');
    c.orderQty = t.i64(6);
    c.price = t.i64(7);
    c.stopPx = t.i64(8);
    c.expireTimeUs = t.i64(9);
    c.parentClOrdId = this.id(t, 10, 'parent_cl_ord_id', false);
    c.venueId = t.u32(11);
    c.text = this.text(t, 12);
    return c;
  }

  private decodeReplace(t: TableReader): ReplaceOrderCmd {
    const c = this.replace;
    c.clOrdId = this.id(t, 0, 'cl_ord_id', true);
    c.origClOrdId = this.id(t, 1, 'orig_cl_ord_id', true);
    c.accountId = t.u32(2);
    c.orderQty = t.i64(3);
    c.price = t.i64(4);
    c.stopPx = t.i64(5);
    c.timeInForce = checkEnum(TIFS, t.u8(6, TimeInForce.Day), 'time_in_force');
    c.expireTimeUs = t.i64(7);
    return c;
  }

  private decodeExecReport(t: TableReader): VenueExecReportCmd {
    const c = this.execReport;
    c.venueId = t.u32(0);
    c.execId = this.id(t, 1, 'exec_id', true);
    c.clOrdId = this.id(t, 2, 'cl_ord_id', true);
    c.origClOrdId = this.id(t, 3, 'orig_cl_ord_id', false);
    c.execType = checkEnum(EXEC_TYPES, t.u8(4), 'exec_type');
    c.ordStatus = checkEnum(ORD_STATUSES, t.u8(5), 'ord_status');
    c.lastQty = t.i64(6);
    c.lastPx = t.i64(7);
    c.leavesQty = t.i64(8);
    c.ordRejReason = checkEnum(REJECT_CODES, t.u16(9, RejectCode.None), 'ord_rej_reason');
    c.venueOrderId = this.id(t, 10, 'venue_order_id', false);
    c.text = this.text(t, 11);
    return c;
  }

  private decodeCancelReject(t: TableReader): VenueCancelRejectCmd {
    return {
      type: Command.VenueCancelReject, venueId: t.u32(0), clOrdId: this.id(t, 1, 'cl_ord_id', true),
      origClOrdId: this.id(t, 2, 'orig_cl_ord_id', true),
      cxlRejResponseTo: checkEnum(CXL_RESPONSE_TO, t.u8(3), 'cxl_rej_response_to'),
      cxlRejReason: checkEnum(CXL_REASONS, t.u8(4, CxlRejReason.Other), 'cxl_rej_reason'), text: this.text(t, 5),
    };
  }

  private decodeInstrument(t: TableReader): DefineInstrumentCmd {
    return {
      type: Command.DefineInstrument, instrumentId: t.u32(0), symbol: this.id(t, 1, 'symbol', true),
      assetClass: checkEnum(ASSET_CLASSES, t.u8(2), 'asset_class'), currency: this.id(t, 3, 'currency', true),
      pricePrecision: t.u8(4), qtyPrecision: t.u8(5), tickSize: t.i64(6), lotSize: t.i64(7),
      multiplier: t.i64(8, 1), expiryYyyymmdd: t.u32(9), strike: t.i64(10),
      putCall: checkEnum(PUT_CALLS, t.u8(11), 'put_call'), baseCurrency: this.id(t, 12, 'base_currency', false),
      quoteCurrency: this.id(t, 13, 'quote_currency', false), settleYyyymmdd: t.u32(14),
      tradable: t.bool(15, true), restricted: t.bool(16, false),
    };
  }

  private decodeAccount(t: TableReader): DefineAccountCmd {
    return {
      type: Command.DefineAccount, accountId: t.u32(0), name: this.id(t, 1, 'name', true),
      portfolio: this.id(t, 2, 'portfolio', false),
    };
  }

  private decodeUser(t: TableReader): DefineUserCmd {
    return {
      type: Command.DefineUser, userId: t.u32(0), name: this.id(t, 1, 'name', true),
      role: checkEnum(ROLES, t.u8(2), 'role'), accountIds: t.u32Vector(3, this.limits.entitlements_max),
      allAccounts: t.bool(4),
    };
  }

  private decodeVenue(t: TableReader): DefineVenueCmd {
    return { type: Command.DefineVenue, venueId: t.u32(0), name: this.id(t, 1, 'name', true) };
  }

  private decodeLimits(t: TableReader): SetLimitsCmd {
    return {
      type: Command.SetLimits, scope: checkEnum(LIMIT_SCOPES, t.u8(0), 'scope'), scopeId: t.u32(1),
      maxOrderQty: t.i64(2, -1), maxOrderNotional: t.i64(3, -1), priceCollarBps: t.i64(4, -1),
      maxPosition: t.i64(5, -1), maxGrossExposure: t.i64(6, -1), maxOpenOrders: t.i64(7, -1),
      maxOrdersPerSecond: t.i64(8, -1),
    };
  }
}

/** Points a reused ByteBuffer at `frame`: ByteBuffer has no public re-target; its fields are the documented way generated code reads. */
function retarget(bb: flatbuffers.ByteBuffer, frame: Uint8Array): flatbuffers.ByteBuffer {
  (bb as unknown as { bytes_: Uint8Array }).bytes_ = frame;
  bb.setPosition(0);
  return bb;
}

/** The client's frame inside a stamp (a view of `frame`), whose stamp table `stamp` has read. */
function stampedEnvelope(stamp: TableReader, frame: Uint8Array): Uint8Array {
  const inner = stamp.byteVector(STAMPED_FIELDS.envelope, frame.length);
  if (inner === null) throw new DecodeError(RejectCode.MalformedFrame, 'stamped command without its envelope');
  return inner;
}

const EMPTY_FRAME = new Uint8Array(0);
const peekBuffer = new flatbuffers.ByteBuffer(EMPTY_FRAME);
const peekStamp = new TableReader();
const peekReader = new TableReader();

/**
 * The request id of a plain client frame, or 0 when it cannot be read. For answering a frame the core never
 * saw (its queue was full): everything else about the frame is the core's to check.
 */
export function peekRequestId(frame: Uint8Array): number {
  try {
    const bb = retarget(peekBuffer, frame);
    return peekReader.init(bb, rootPosition(bb), ENVELOPE_FIELD_COUNT).u64(ENVELOPE_FIELDS.requestId);
  } catch {
    return 0;
  } finally {
    // The frame may be a socket's buffer that is invalid after its callback: keep no reference to it.
    retarget(peekBuffer, EMPTY_FRAME);
  }
}

/**
 * The command type of a frame the core has journaled (so decodable: the reader's checks cannot fail), plain
 * or stamped. For metrics by type without a full decode.
 */
export function commandTypeOf(frame: Uint8Array): Command {
  try {
    let bb = retarget(peekBuffer, frame);
    if (hasIdentifier(frame, STAMPED_FILE_IDENTIFIER)) {
      const stamp = peekStamp.init(bb, rootPosition(bb, STAMPED_FILE_IDENTIFIER), STAMPED_FIELD_COUNT);
      bb = retarget(peekBuffer, stampedEnvelope(stamp, frame));
    }
    return peekReader.init(bb, rootPosition(bb), ENVELOPE_FIELD_COUNT).u8(ENVELOPE_FIELDS.commandType) as Command;
  } finally {
    retarget(peekBuffer, EMPTY_FRAME);
  }
}

function toDecodeError(error: unknown): DecodeError {
  if (error instanceof DecodeError) return error;
  if (error instanceof WireError) {
    const code = error.kind === 'unknown_field' ? RejectCode.InvalidField
      : error.kind === 'out_of_range' ? RejectCode.ValueOutOfRange : RejectCode.MalformedFrame;
    return new DecodeError(code, error.message);
  }
  // The runtime throws RangeError on reads past the end; anything else is still the frame's fault.
  const message = error instanceof Error ? error.message : String(error);
  return new DecodeError(RejectCode.MalformedFrame, `undecodable frame: ${message}`);
}
