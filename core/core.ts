// The single writer. Takes command frames one at a time, in journal order, and turns each into state
// changes plus events. Deterministic: it reads no clock, randomness or environment (the ClOrdID index's
// per-process hash seed moves entries in its table only, see core/string-index.ts); time, ids and prices
// arrive inside commands, so replaying the journal reproduces the state byte for byte (stateHash).
//
// Pipeline per frame: decode -> authorise -> validate -> apply -> emit. A frame that does not decode never
// gets a sequence number and is never journaled; a frame that decodes is journaled whatever its outcome,
// because its reject is part of the audit trail and replay must reproduce it.

import { Command, RejectCode } from '../schemas/generated/oms_generated.js';
import type { CommandBody, EnvelopeHeader } from '../schemas/commands.js';
import { authoriseCommand, resolveUser, SYSTEM_USER } from './checks.js';
import type { DecodeLimits } from './decode.js';
import { CommandDecoder, DecodeError, DEFAULT_DECODE_LIMITS } from './decode.js';
import { ResultWriter } from './events.js';
import { cancelOrder, expireOrders, newOrder, replaceOrder } from './orders.js';
import type { OrderContext } from './orders.js';
import * as reference from './reference.js';
import type { CoreState } from './state.js';
import { deserializeState, emptyState, serializeState, stateHash } from './state.js';
import { venueCancelReject, venueExecReport } from './venue-reports.js';

export interface CoreOptions {
  decode_limits?: DecodeLimits;
  /** Initial size of the per-batch result buffer; it grows as needed. */
  result_buffer_bytes?: number;
}

export class Core {
  readonly out: ResultWriter;
  private readonly decoder: CommandDecoder;
  state: CoreState;
  /** The handlers' context, rewritten per command: one object, not one per command on the hot path. */
  private readonly ctx: OrderContext;

  constructor(options: CoreOptions = {}, state: CoreState = emptyState()) {
    this.decoder = new CommandDecoder(options.decode_limits ?? DEFAULT_DECODE_LIMITS);
    this.out = new ResultWriter(options.result_buffer_bytes);
    this.state = state;
    this.ctx = { state, out: this.out, user: SYSTEM_USER, nowUs: 0, seq: 0 };
  }

  static fromSnapshot(bytes: Uint8Array, options: CoreOptions = {}): Core {
    return new Core(options, deserializeState(bytes));
  }

  lastSeq(): number {
    return this.state.lastSeq;
  }

  /**
   * Applies one frame from outside and writes its result. Returns the sequence number it was given (the
   * caller journals the frame under it), or 0 when the frame was refused undecoded and is not journaled.
   */
  submit(frame: Uint8Array): number {
    let body: CommandBody;
    try {
      body = this.decoder.decode(frame);
    } catch (error) {
      this.rejectUndecodable(error);
      return 0;
    }
    const seq = this.state.lastSeq + 1;
    this.apply(seq, this.decoder.header, body);
    return seq;
  }

  /** Re-applies a journaled frame during recovery; its results are written like live ones. */
  replay(seq: number, frame: Uint8Array): void {
    if (seq !== this.state.lastSeq + 1) {
      throw new Error(`invariant: journal gap: expected seq ${this.state.lastSeq + 1}, got ${seq}`);
    }
    const body = this.decoder.decode(frame);
    this.apply(seq, this.decoder.header, body);
  }

  snapshot(): Uint8Array {
    return serializeState(this.state);
  }

  hash(): string {
    return stateHash(this.state);
  }

  private rejectUndecodable(error: unknown): void {
    const code = error instanceof DecodeError ? error.code : RejectCode.MalformedFrame;
    const text = error instanceof Error ? error.message : 'undecodable frame';
    const h = this.decoder.header;
    // A stamped frame's user and session are the gateway's, so its reject can go back to that session; a
    // plain frame's header is whatever the undecodable bytes claimed, and is not repeated.
    const stamped = this.decoder.stampRead;
    this.out.beginCommand(0, h.requestId, stamped ? h.userId : 0, stamped ? h.sessionId : 0, stamped ? h.timeUs : 0);
    this.out.commandReject(code, text);
    this.out.endCommand();
  }

  private apply(seq: number, header: EnvelopeHeader, body: CommandBody): void {
    this.out.beginCommand(seq, header.requestId, header.userId, header.sessionId, header.timeUs);
    this.state.lastSeq = seq;
    const user = resolveUser(this.state, header.userId);
    const denied = authoriseCommand(user, body.type);
    if (denied !== null || user === null) {
      this.out.commandReject(denied?.code ?? RejectCode.UnknownUser, denied?.text ?? 'unknown user');
    } else {
      const ctx = this.ctx;
      ctx.state = this.state;
      ctx.user = user;
      ctx.nowUs = header.timeUs;
      ctx.seq = seq;
      this.dispatch(ctx, body);
    }
    this.out.endCommand();
  }

  private dispatch(ctx: OrderContext, body: CommandBody): void {
    switch (body.type) {
      case Command.NewOrder: return newOrder(ctx, body);
      case Command.CancelOrder: return cancelOrder(ctx, body);
      case Command.ReplaceOrder: return replaceOrder(ctx, body);
      case Command.VenueExecReport: return venueExecReport(ctx, body);
      case Command.VenueCancelReject: return venueCancelReject(ctx, body);
      case Command.Tick:
        expireOrders(ctx, body.kind, ctx.nowUs);
        return this.out.accepted(body.type);
      default: return this.applyReference(body);
    }
  }

  private applyReference(body: CommandBody): void {
    const s = this.state;
    const failure = (() => {
      switch (body.type) {
        case Command.DefineInstrument: return reference.validateInstrument(s, body);
        case Command.DefineAccount: return reference.validateAccount(body);
        case Command.DefineUser: return reference.validateUser(s, body);
        case Command.DefineVenue: return reference.validateVenue(body);
        case Command.SetLimits: return reference.validateLimits(s, body);
        case Command.SetMark: return reference.validateMark(s, body);
        case Command.KillSwitch: return reference.validateKill(s, body);
        default: throw new Error(`invariant: no handler for command ${(body as CommandBody).type}`);
      }
    })();
    if (failure !== null) {
      this.out.commandReject(failure.code, failure.text);
      return;
    }
    switch (body.type) {
      case Command.DefineInstrument: reference.applyInstrument(s, body); break;
      case Command.DefineAccount: reference.applyAccount(s, body); break;
      case Command.DefineUser: reference.applyUser(s, body); break;
      case Command.DefineVenue: reference.applyVenue(s, body); break;
      case Command.SetLimits: reference.applyLimits(s, body); break;
      case Command.SetMark: reference.applyMark(s, body); break;
      case Command.KillSwitch: reference.applyKill(s, body); break;
      default: throw new Error(`invariant: no handler for command ${(body as CommandBody).type}`);
    }
    this.out.accepted(body.type);
  }
}
