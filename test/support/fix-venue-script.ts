// Scripted FIX 4.4 venues for the FIX adapter's tests: the OMS is the initiator (CompID OMS), these are the
// acceptor (CompID VENUE). Nothing here answers an order by itself: the test decides what the venue says.
//
//   ScriptedVenue  a jspurefix 5.11.4 acceptor. It records every message it receives (type, MsgSeqNum, raw
//                  fields, and jspurefix's toObject() for application messages), keeps a small order book so
//                  that its ExecutionReports carry consistent OrderID / CumQty / LeavesQty / AvgPx, and keeps its
//                  sequence numbers across OMS reconnects (one in-memory store for the venue's life). Controls:
//                  lose() (consume a sequence number without sending: a gap, or a message "sent" while the OMS
//                  was down), skip(), resend() with PossDupFlag=Y, duplicate(), drop(), and how it answers the
//                  OMS's ResendRequest (replay what it sent with PossDupFlag=Y and gap-fill the rest, gap-fill
//                  everything, or ignore it).
//   RawVenue       a plain net.Server for byte-level malformed input: it completes the logon by hand, answers
//                  TestRequests, heartbeats, answers ResendRequests from its own journal, and writes whatever
//                  bytes it is told to (bad CheckSum, wrong BodyLength, missing tags, garbled values, ...).
//
// jspurefix notes (5.11.4): the acceptor builds one session per TCP connection via makeFactory().makeSession;
// `send` is protected; decimals passed as strings are written verbatim; a message sent with
// StandardHeader { PossDupFlag, MsgSeqNum, SendingTime } goes out with that MsgSeqNum, 43=Y and 122=SendingTime
// without consuming a number; its acceptor checks message integrity by default (turned off here, as a venue
// that refused our malformed-on-purpose messages would be useless); its logger factory is registered globally
// by every launcher, so the venue's own (silent) factory is passed explicitly.

import 'reflect-metadata';
import net from 'node:net';
import { AsciiSession, JsFixLoggerFactory, SessionLauncher, SessionState } from 'jspurefix';
import type {
  EngineFactory, IFixMsgStoreRecord, IFixSessionStore, IFixSessionStoreFactory, IJsFixConfig, IJsFixLogger, ISessionDescription, MsgView,
  SessionId,
} from 'jspurefix';
import { pickFreePort } from './quickfix-executor.js';

const SOH = '\x01';
const SOH_CODE = 0x01;
const DEFAULT_WAIT_MS = 10_000;
const POLL_MS = 10;

export type Field = readonly [number | string, string | number];

// ---- frames ----------------------------------------------------------------------------------------------

/** One FIX message as seen on the wire (received or sent). */
export class FixFrame {
  constructor(
    readonly index: number,
    readonly raw: string,
    readonly fields: ReadonlyArray<readonly [string, string]>,
    readonly at: number,
    /** jspurefix's toObject() of an application message the ScriptedVenue received. */
    public body: Record<string, unknown> | null = null,
  ) {}

  get msgType(): string {
    return this.get(35) ?? '';
  }

  get seq(): number {
    return Number(this.get(34) ?? 0);
  }

  get possDup(): boolean {
    return this.get(43) === 'Y';
  }

  /** The first value of a tag, or undefined. */
  get(tag: number | string): string | undefined {
    const key = String(tag);
    for (const [t, v] of this.fields) if (t === key) return v;
    return undefined;
  }

  getAll(tag: number | string): string[] {
    const key = String(tag);
    return this.fields.filter(([t]) => t === key).map(([, v]) => v);
  }

  /** Readable: SOH shown as '|'. */
  toString(): string {
    return this.raw.replaceAll(SOH, '|');
  }
}

/** Splits a frame into tag/value pairs (the delimiter is whatever follows "8=FIX.4.4"). */
export function parseFrame(raw: string, index = 0, at = Date.now()): FixFrame {
  const delimiter = /^8=[^\x01|]*([\x01|])/.exec(raw)?.[1] ?? SOH;
  const fields: Array<[string, string]> = [];
  for (const part of raw.split(delimiter)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    fields.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return new FixFrame(index, raw, fields, at);
}

/** FIX UTCTimestamp with milliseconds. */
export function utcTimestamp(date = new Date()): string {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 23)}`;
}

export interface EncodeOptions {
  beginString?: string;
  /** Written instead of the true BodyLength. */
  bodyLength?: number | string;
  /** CheckSum off by one. */
  badChecksum?: boolean;
}

/** A whole frame from the fields after BodyLength (35 first), with BodyLength and CheckSum computed. */
export function encodeFrame(fields: readonly Field[], options: EncodeOptions = {}): string {
  const body = fields.map(([tag, value]) => `${tag}=${value}${SOH}`).join('');
  const length = options.bodyLength ?? Buffer.byteLength(body, 'latin1');
  const head = `8=${options.beginString ?? 'FIX.4.4'}${SOH}9=${length}${SOH}`;
  let sum = 0;
  for (const byte of Buffer.from(head + body, 'latin1')) sum += byte;
  let checksum = sum % 256;
  if (options.badChecksum === true) checksum = (checksum + 1) % 256;
  return `${head}${body}10=${String(checksum).padStart(3, '0')}${SOH}`;
}

/** Complete frames at the start of `buffer` (split on the CheckSum trailer) and what is left over. */
export function splitFrames(buffer: string): { frames: string[]; rest: string } {
  const frames: string[] = [];
  const trailer = /\x0110=\d{3}\x01/g;
  let last = 0;
  let match: RegExpExecArray | null;
  while ((match = trailer.exec(buffer)) !== null) {
    const end = match.index + match[0].length;
    frames.push(buffer.slice(last, end));
    last = end;
  }
  return { frames, rest: buffer.slice(last) };
}


async function pollFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export interface WaitOptions {
  /** Only messages at or after this index of `received`. */
  from?: number;
  timeoutMs?: number;
}

function findFrame(list: readonly FixFrame[], msgType: string, predicate: (m: FixFrame) => boolean, from: number): FixFrame | undefined {
  for (let i = from; i < list.length; i += 1) {
    const m = list[i];
    if (m.msgType === msgType && predicate(m)) return m;
  }
  return undefined;
}

// ---- decimals (exact, as text) ------------------------------------------------------------------------------

const SCALE_DIGITS = 8;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

function toScaled(text: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null) throw new Error(`not a decimal: ${text}`);
  const fraction = (m[2] ?? '').padEnd(SCALE_DIGITS, '0');
  if (fraction.length > SCALE_DIGITS) throw new Error(`too many decimals: ${text}`);
  return BigInt(m[1]) * SCALE + BigInt(fraction);
}

/** Scaled value as trimmed text, rounded half up to `digits` decimals. */
function fromScaled(value: bigint, digits = SCALE_DIGITS): string {
  const drop = 10n ** BigInt(SCALE_DIGITS - digits);
  const rounded = (value + drop / 2n) / drop;
  const unit = 10n ** BigInt(digits);
  const whole = rounded / unit;
  const fraction = digits === 0 ? '' : (rounded % unit).toString().padStart(digits, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

// ---- jspurefix plumbing ------------------------------------------------------------------------------------

type Sink = (line: string) => void;

/** jspurefix's logger, silenced (warnings and errors go to `sink` when given). */
export class QuietLogFactory extends JsFixLoggerFactory {
  constructor(private readonly sink: Sink | null = null) {
    super();
  }
  logger(type: string): IJsFixLogger {
    const emit = (level: string, message: string): void => this.sink?.(`[jspurefix ${level}] [${type}] ${message}`);
    return {
      debug: () => {}, info: () => {},
      warning: (m: string) => emit('warning', m),
      error: (e: Error) => emit('error', e?.message ?? String(e)),
    } as IJsFixLogger;
  }
  plain(): IJsFixLogger {
    return this.logger('plain');
  }
}

/** The venue's sequence numbers for its whole life (every connection's session gets this same store). */
class VenueSeqStore implements IFixSessionStore {
  senderSeqNum = 1;
  targetSeqNum = 1;
  readonly creationTime = new Date();
  constructor(readonly sessionId: SessionId) {}
  async put(_record: IFixMsgStoreRecord): Promise<void> {}
  async get(_seqNum: number): Promise<IFixMsgStoreRecord | null> {
    return null;
  }
  async getRange(_from: number, _to: number): Promise<IFixMsgStoreRecord[]> {
    return [];
  }
  // jspurefix sets the sender number to (seq + 1) after every send, also after a PossDup replay of an old
  // number: kept monotonic, or the next connection would re-use numbers the OMS has seen.
  async setSenderSeqNum(value: number): Promise<void> {
    if (value > this.senderSeqNum) this.senderSeqNum = value;
  }
  async setTargetSeqNum(value: number): Promise<void> {
    this.targetSeqNum = value;
  }
  async nextSenderSeqNum(): Promise<number> {
    return this.senderSeqNum;
  }
  async nextTargetSeqNum(): Promise<number> {
    return this.targetSeqNum;
  }
  async reset(): Promise<void> {
    this.senderSeqNum = 1;
    this.targetSeqNum = 1;
  }
  async initialize(): Promise<void> {}
  async flush(): Promise<void> {}
  async dispose(): Promise<void> {}
}

interface Transmitter {
  msgSeqNum: number;
}

interface SocketDuplex {
  socket?: net.Socket;
  destroy(): void;
}

/** One connection's session at the venue; everything it sees goes to the ScriptedVenue. */
class VenueSession extends AsciiSession {
  constructor(config: IJsFixConfig, private readonly venue: ScriptedVenue) {
    super(config);
    this.logReceivedMsgs = false;
    // The acceptor checks integrity by default and would Reject (35=3) what the tests send on purpose.
    this.checkMsgIntegrity = false;
  }

  /** Resolves with the MsgSeqNum and the encoded text of what went out. */
  sendMessage(msgType: string, body: Record<string, unknown>): Promise<{ seq: number; encoded: string }> {
    return new Promise((resolve, reject) => {
      this.send(msgType, body, (error, record) => {
        const r = record as { header?: { MsgSeqNum?: unknown } | null; encoded?: unknown } | null;
        if (error !== null) reject(error);
        else resolve({ seq: Number(r?.header?.MsgSeqNum ?? 0), encoded: String(r?.encoded ?? '') });
      });
    });
  }

  get live(): boolean {
    return this.getState() !== SessionState.Stopped && this.transport !== null;
  }

  get loggedOn(): boolean {
    const state = this.getState();
    return this.transport !== null && state !== SessionState.Stopped && state !== SessionState.WaitingForALogon &&
      state !== SessionState.NetworkConnectionEstablished && state !== SessionState.Idle;
  }

  /** The number the next (non-PossDup) message will carry, or null without a transport. */
  get transmitter(): Transmitter | null {
    return (this.transport?.transmitter as unknown as Transmitter | undefined) ?? null;
  }

  writeRaw(text: string): void {
    const duplex = this.transport?.duplex as unknown as SocketDuplex | undefined;
    if (duplex?.socket === undefined) throw new Error('no connection to write to');
    duplex.socket.write(text, 'latin1');
  }

  /** Drops the TCP connection without a Logout. */
  drop(reason: string): void {
    const duplex = this.transport?.duplex as unknown as SocketDuplex | undefined;
    this.terminate(new Error(reason));
    duplex?.destroy();
  }

  logout(): void {
    this.done();
  }

  protected override onResendRequest(view: MsgView): void {
    const begin = Number(view.getString(7) ?? 0);
    const end = Number(view.getString(16) ?? 0);
    this.venue.answerResend(this, begin, end);
  }

  // Messages that cross a TestRequest or a ResendRequest are normal; the library would end the session.
  protected override validStateApplicationMsg(): boolean {
    switch (this.getState()) {
      case SessionState.AwaitingProcessingResponseToTestRequest:
      case SessionState.HandleResendRequest:
      case SessionState.AwaitingProcessingResponseToResendRequest:
        return true;
      default:
        return super.validStateApplicationMsg();
    }
  }

  protected onApplicationMsg(msgType: string, view: MsgView): void {
    this.venue.onApplication(msgType, view);
  }

  protected onReady(): void {
    this.venue.onReady(this);
  }

  protected onStopped(error?: Error): void {
    this.venue.onStopped(this, error);
  }

  protected onLogon(): boolean {
    return true;
  }

  protected onDecoded(_msgType: string, txt: string): void {
    this.venue.onDecoded(txt);
  }

  protected onEncoded(_msgType: string, txt: string): void {
    this.venue.onEncoded(txt);
  }
}

class VenueLauncher extends SessionLauncher {
  constructor(description: ISessionDescription, private readonly venue: ScriptedVenue, private readonly store: VenueSeqStore, logFactory: JsFixLoggerFactory) {
    super(null, description, logFactory);
  }

  protected override makeFactory(config: IJsFixConfig): EngineFactory {
    // Keep SOH in what onDecoded sees (the library otherwise rewrites it to '|' in its buffer).
    config.logDelimiter = SOH_CODE;
    const store = this.store;
    const factory: IFixSessionStoreFactory = { create: () => store };
    return {
      makeSession: (c: IJsFixConfig) => {
        c.sessionStoreFactory = factory;
        return new VenueSession(c, this.venue);
      },
    };
  }

  get listening(): boolean {
    // SessionLauncher.acceptorEntity (TcpAcceptorListener) .acceptor (TcpAcceptor) .server (net.Server): private.
    const entity = (this as unknown as { acceptorEntity?: { acceptor?: { server?: net.Server } | null } | null }).acceptorEntity;
    return entity?.acceptor?.server?.listening === true;
  }
}

// ---- the scripted venue -------------------------------------------------------------------------------------

/** What the venue sent (or pretends it sent), by MsgSeqNum: replayed on a ResendRequest. */
export interface SentMessage {
  seq: number;
  msgType: string;
  body: Record<string, unknown>;
  sentAt: Date;
  /** False for a message lost on purpose (lose()): never on the wire until resent. */
  transmitted: boolean;
}

/** The venue's view of one order. */
export interface VenueOrder {
  orderId: string;
  clOrdId: string;
  origClOrdId: string;
  side: string;
  symbol: string;
  orderQty: string;
  price: string | null;
  cumQty: string;
  avgPx: string;
  /** FIX OrdStatus character. */
  status: string;
}

interface BookEntry {
  orderId: string;
  clOrdId: string;
  origClOrdId: string;
  side: string;
  symbol: string;
  orderQty: bigint;
  price: string | null;
  cumQty: bigint;
  /** Sum of qty x px, at scale 10^16. */
  notional: bigint;
  status: string;
}

export type ResendMode = 'replay' | 'gapfill' | 'ignore';

export interface ScriptedVenueOptions {
  senderCompId?: string;
  targetCompId?: string;
  /** Our HeartBtInt (the OMS's Logon decides the session's). */
  heartbeatSeconds?: number;
  /** Wire and library log lines (debugging). */
  log?: Sink;
}

export interface ExecOptions {
  execId?: string;
  text?: string;
  /** Extra body fields, jspurefix names (override the computed ones). */
  extra?: Record<string, unknown>;
}

export class ScriptedVenue {
  port = 0;
  /** Every frame received, in order (session and application). */
  readonly received: FixFrame[] = [];
  /** Every frame written by the library (session and application), in order. */
  readonly wire: FixFrame[] = [];
  /** Application messages by the MsgSeqNum they went out (or were lost) with. */
  readonly journal = new Map<number, SentMessage>();
  readonly resendRequests: Array<{ begin: number; end: number; at: number }> = [];
  /** How the OMS's ResendRequest is answered. */
  resendMode: ResendMode = 'replay';
  connections = 0;
  logons = 0;
  private session: VenueSession | null = null;
  private launcher: VenueLauncher | null = null;
  private readonly store: VenueSeqStore;
  private running: Promise<unknown> | null = null;
  private readonly book = new Map<string, BookEntry>();
  private nextOrderId = 1;
  private nextExecId = 1;

  private constructor(private readonly options: Required<Pick<ScriptedVenueOptions, 'senderCompId' | 'targetCompId' | 'heartbeatSeconds'>> & { log: Sink | null }) {
    this.store = new VenueSeqStore({ toString: () => `FIX.4.4-${options.senderCompId}-${options.targetCompId}` } as unknown as SessionId);
  }

  static async start(options: ScriptedVenueOptions = {}): Promise<ScriptedVenue> {
    const venue = new ScriptedVenue({
      senderCompId: options.senderCompId ?? 'VENUE', targetCompId: options.targetCompId ?? 'OMS',
      heartbeatSeconds: options.heartbeatSeconds ?? 5, log: options.log ?? null,
    });
    await venue.listen();
    return venue;
  }

  private description(port: number): ISessionDescription {
    return {
      application: { name: 'scripted-venue', type: 'acceptor', protocol: 'ascii', dictionary: 'qf44', tcp: { host: '127.0.0.1', port } },
      Name: 'scripted-venue', BeginString: 'FIX.4.4', SenderCompId: this.options.senderCompId, TargetCompID: this.options.targetCompId,
      SenderSubID: '', TargetSubID: '', Username: '', Password: '', HeartBtInt: this.options.heartbeatSeconds, ResetSeqNumFlag: false,
    } as unknown as ISessionDescription;
  }

  private async listen(): Promise<void> {
    this.port = await pickFreePort();
    const launcher = new VenueLauncher(this.description(this.port), this, this.store, new QuietLogFactory(this.options.log));
    this.launcher = launcher;
    this.running = launcher.run().catch((error: unknown) => this.options.log?.(`launcher ended: ${String(error)}`));
    await pollFor('the venue to listen', DEFAULT_WAIT_MS, () => (launcher.listening ? true : undefined));
  }

  async stop(): Promise<void> {
    const session = this.session;
    if (session !== null && session.live) session.drop('venue stopping');
    this.launcher?.stop();
    await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, 2000))]);
  }

  // ---- state -------------------------------------------------------------------------------------------------

  get loggedOn(): boolean {
    return this.session?.loggedOn === true;
  }

  /** The MsgSeqNum the venue's next message will carry. */
  get nextSenderSeq(): number {
    return this.session?.transmitter?.msgSeqNum ?? this.store.senderSeqNum;
  }

  /** The MsgSeqNum the venue expects next from the OMS. */
  get nextTargetSeq(): number {
    return this.store.targetSeqNum;
  }

  order(clOrdId: string): VenueOrder {
    const o = this.entry(clOrdId);
    return {
      orderId: o.orderId, clOrdId: o.clOrdId, origClOrdId: o.origClOrdId, side: o.side, symbol: o.symbol, orderQty: fromScaled(o.orderQty),
      price: o.price, cumQty: fromScaled(o.cumQty), avgPx: this.avgPx(o), status: o.status,
    };
  }

  async waitForLogon(logonsAtLeast = 1, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await pollFor(`venue logon #${logonsAtLeast}`, timeoutMs, () => (this.logons >= logonsAtLeast && this.loggedOn ? true : undefined));
  }

  async waitForDisconnect(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await pollFor('the venue session to end', timeoutMs, () => (this.session === null || !this.session.live ? true : undefined));
  }

  /** The first received message of a type matching `predicate` (from `options.from`), waiting for it. */
  waitFor(msgType: string, predicate: (m: FixFrame) => boolean = () => true, options: WaitOptions = {}): Promise<FixFrame> {
    return pollFor(`a ${msgType} message at the venue`, options.timeoutMs ?? DEFAULT_WAIT_MS, () => findFrame(this.received, msgType, predicate, options.from ?? 0));
  }

  /** A received message (NewOrderSingle, cancel, replace, status request) naming this ClOrdID in 11. */
  waitForRequest(msgType: string, clOrdId: string, options: WaitOptions = {}): Promise<FixFrame> {
    return this.waitFor(msgType, (m) => m.get(11) === clOrdId, options);
  }

  receivedOf(msgType: string, from = 0): FixFrame[] {
    return this.received.slice(from).filter((m) => m.msgType === msgType);
  }

  // ---- session callbacks ----------------------------------------------------------------------------------------

  onReady(session: VenueSession): void {
    this.session = session;
    this.logons += 1;
  }

  onStopped(session: VenueSession, error?: Error): void {
    this.options.log?.(`venue session stopped${error === undefined ? '' : `: ${error.message}`}`);
    if (this.session === session) this.session = null;
  }

  onDecoded(txt: string): void {
    const frame = parseFrame(txt, this.received.length);
    this.received.push(frame);
    if (frame.msgType === 'A') this.connections += 1;
    if (frame.msgType === '2') this.resendRequests.push({ begin: Number(frame.get(7) ?? 0), end: Number(frame.get(16) ?? 0), at: Date.now() });
    this.options.log?.(`venue rx ${frame.toString()}`);
  }

  onEncoded(txt: string): void {
    const frame = parseFrame(txt, this.wire.length);
    this.wire.push(frame);
    this.options.log?.(`venue tx ${frame.toString()}`);
  }

  onApplication(msgType: string, view: MsgView): void {
    const frame = this.received[this.received.length - 1];
    if (frame !== undefined && frame.msgType === msgType) {
      try {
        frame.body = view.toObject() as Record<string, unknown>;
      } catch {
        frame.body = null;
      }
    }
    if (msgType === 'D' && frame !== undefined) this.bookNewOrder(frame);
  }

  /** A ResendRequest from the OMS, answered as `resendMode` says. */
  answerResend(session: VenueSession, begin: number, end: number): void {
    if (this.resendMode === 'ignore') return;
    const last = (session.transmitter?.msgSeqNum ?? this.store.senderSeqNum) - 1;
    const to = end === 0 || end > last ? last : end;
    let gapStart = 0;
    const flushGap = (next: number): void => {
      if (gapStart === 0) return;
      void session.sendMessage('4', { GapFillFlag: true, NewSeqNo: next, StandardHeader: { PossDupFlag: true, MsgSeqNum: gapStart, SendingTime: new Date() } }).catch(() => {});
      gapStart = 0;
    };
    for (let seq = begin; seq <= to; seq += 1) {
      const sent = this.resendMode === 'replay' ? this.journal.get(seq) : undefined;
      if (sent === undefined) {
        if (gapStart === 0) gapStart = seq;
        continue;
      }
      flushGap(seq);
      void session.sendMessage(sent.msgType, { ...sent.body, StandardHeader: { PossDupFlag: true, MsgSeqNum: seq, SendingTime: sent.sentAt } })
        .then(() => { sent.transmitted = true; }, () => {});
    }
    flushGap(to + 1);
  }

  // ---- low-level controls -----------------------------------------------------------------------------------------

  private live(): VenueSession {
    const session = this.session;
    if (session === null || !session.live) throw new Error('the venue has no live session');
    return session;
  }

  /** Sends an application message (jspurefix field names); resolves with its MsgSeqNum. */
  async send(msgType: string, body: Record<string, unknown>): Promise<SentMessage> {
    const sentAt = new Date();
    const { seq } = await this.live().sendMessage(msgType, body);
    const sent: SentMessage = { seq, msgType, body, sentAt, transmitted: true };
    this.journal.set(seq, sent);
    return sent;
  }

  /**
   * "Sends" a message that never reaches the OMS: it takes the next MsgSeqNum (so the OMS sees a gap at the
   * next message or logon) and is replayed with PossDupFlag=Y when the OMS asks. Works with or without a
   * connection (a message the venue sent while the OMS was down).
   */
  lose(msgType: string, body: Record<string, unknown>): SentMessage {
    const seq = this.consumeSeq();
    const sent: SentMessage = { seq, msgType, body, sentAt: new Date(), transmitted: false };
    this.journal.set(seq, sent);
    return sent;
  }

  /** Skips `count` outgoing numbers with nothing behind them (the answer to a ResendRequest is a gap fill). */
  skip(count: number): number[] {
    const seqs: number[] = [];
    for (let i = 0; i < count; i += 1) seqs.push(this.consumeSeq());
    return seqs;
  }

  private consumeSeq(): number {
    const transmitter = this.session?.live === true ? this.session.transmitter : null;
    let seq: number;
    if (transmitter !== null) {
      seq = transmitter.msgSeqNum;
      transmitter.msgSeqNum += 1;
    } else {
      seq = this.store.senderSeqNum;
    }
    void this.store.setSenderSeqNum(seq + 1);
    return seq;
  }

  /** Sends an earlier message again with PossDupFlag=Y, its original MsgSeqNum and OrigSendingTime. */
  async resend(seq: number): Promise<void> {
    const sent = this.journal.get(seq);
    if (sent === undefined) throw new Error(`the venue sent nothing at ${seq}`);
    await this.live().sendMessage(sent.msgType, { ...sent.body, StandardHeader: { PossDupFlag: true, MsgSeqNum: seq, SendingTime: sent.sentAt } });
    sent.transmitted = true;
  }

  /**
   * The same message again: as a PossDup resend at its own number (`possDup`, what a venue recovering does),
   * or as a new message at the next number (a venue bug: the same ExecID twice).
   */
  async duplicate(sent: SentMessage, options: { possDup: boolean }): Promise<SentMessage | null> {
    if (options.possDup) {
      await this.resend(sent.seq);
      return null;
    }
    return this.send(sent.msgType, sent.body);
  }

  /** Drops the TCP connection without a Logout. */
  drop(): void {
    this.live().drop('dropped by the test');
  }

  /** A Logout from the venue. */
  logout(): void {
    this.live().logout();
  }

  /** Writes bytes as they are on the current connection. */
  writeRaw(text: string): void {
    this.live().writeRaw(text);
  }

  /**
   * A hand-built frame with the venue's header (49, 56, 34, 52) and `fields` (MsgType first) written raw.
   * `consume: false` leaves the MsgSeqNum for the next message (a garbled frame is not counted by its reader).
   */
  writeFrame(fields: readonly Field[], options: EncodeOptions & { consume?: boolean } = {}): { seq: number; text: string } {
    const session = this.live();
    const transmitter = session.transmitter;
    if (transmitter === null) throw new Error('no transmitter');
    const seq = transmitter.msgSeqNum;
    if (options.consume !== false) {
      transmitter.msgSeqNum += 1;
      void this.store.setSenderSeqNum(seq + 1);
    }
    const [first, ...rest] = fields;
    const text = encodeFrame([first, [49, this.options.senderCompId], [56, this.options.targetCompId], [34, seq], [52, utcTimestamp()], ...rest], options);
    session.writeRaw(text);
    return { seq, text };
  }

  // ---- the order book ----------------------------------------------------------------------------------------------

  private bookNewOrder(frame: FixFrame): void {
    const clOrdId = frame.get(11) ?? '';
    if (clOrdId === '' || this.book.has(clOrdId)) return;
    this.book.set(clOrdId, {
      orderId: `V-${this.nextOrderId++}`, clOrdId, origClOrdId: '', side: frame.get(54) ?? '1', symbol: frame.get(55) ?? '',
      orderQty: toScaled(frame.get(38) ?? '0'), price: frame.get(44) ?? null, cumQty: 0n, notional: 0n, status: 'A',
    });
  }

  private entry(clOrdId: string): BookEntry {
    const entry = this.book.get(clOrdId);
    if (entry === undefined) throw new Error(`the venue has no order ${clOrdId}`);
    return entry;
  }

  private avgPx(o: BookEntry): string {
    return o.cumQty === 0n ? '0' : fromScaled(o.notional / o.cumQty, 6);
  }

  private leaves(o: BookEntry): bigint {
    return ['2', '4', '8', 'C', '3'].includes(o.status) ? 0n : o.orderQty - o.cumQty;
  }

  execId(): string {
    return `EX-${Date.now().toString(36)}-${this.nextExecId++}`;
  }

  /** The body of an ExecutionReport for an order, as the venue's book has it now. */
  executionReport(clOrdId: string, execType: string, options: ExecOptions & { lastQty?: string; lastPx?: string } = {}): Record<string, unknown> {
    const o = this.entry(clOrdId);
    const body: Record<string, unknown> = {
      OrderID: o.orderId, ClOrdID: o.clOrdId, ExecID: options.execId ?? this.execId(), ExecType: execType, OrdStatus: o.status, Side: o.side,
      Instrument: { Symbol: o.symbol }, OrderQtyData: { OrderQty: fromScaled(o.orderQty) },
      LeavesQty: fromScaled(this.leaves(o)), CumQty: fromScaled(o.cumQty), AvgPx: this.avgPx(o), TransactTime: new Date(),
    };
    if (o.origClOrdId !== '') body.OrigClOrdID = o.origClOrdId;
    if (o.price !== null) body.Price = o.price;
    if (options.lastQty !== undefined) body.LastQty = options.lastQty;
    if (options.lastPx !== undefined) body.LastPx = options.lastPx;
    if (options.text !== undefined) body.Text = options.text;
    return { ...body, ...options.extra };
  }

  /** ExecType 0 / OrdStatus 0. */
  ack(clOrdId: string, options: ExecOptions = {}): Promise<SentMessage> {
    this.entry(clOrdId).status = '0';
    return this.send('8', this.executionReport(clOrdId, '0', options));
  }

  /** The body of a fill (ExecType F), applied to the venue's book; `send` it, or lose() it. */
  fillBody(clOrdId: string, lastQty: string, lastPx: string, options: ExecOptions = {}): Record<string, unknown> {
    const o = this.entry(clOrdId);
    const qty = toScaled(lastQty);
    o.cumQty += qty;
    o.notional += qty * toScaled(lastPx);
    o.status = o.cumQty >= o.orderQty ? '2' : '1';
    return this.executionReport(clOrdId, 'F', { ...options, lastQty, lastPx });
  }

  /** A partial or full fill (ExecType F, OrdStatus 1 or 2 from the venue's book). */
  fill(clOrdId: string, lastQty: string, lastPx: string, options: ExecOptions = {}): Promise<SentMessage> {
    return this.send('8', this.fillBody(clOrdId, lastQty, lastPx, options));
  }

  /** ExecType 4 answering the OrderCancelRequest `cancelClOrdId` (which must have been received). */
  async canceled(cancelClOrdId: string, options: ExecOptions = {}): Promise<SentMessage> {
    const request = findFrame(this.received, 'F', (m) => m.get(11) === cancelClOrdId, 0);
    if (request === undefined) throw new Error(`no OrderCancelRequest ${cancelClOrdId} received`);
    const o = this.entry(request.get(41) ?? '');
    o.origClOrdId = o.clOrdId;
    o.clOrdId = cancelClOrdId;
    o.status = '4';
    this.book.set(cancelClOrdId, o);
    return this.send('8', this.executionReport(cancelClOrdId, '4', options));
  }

  /** ExecType 5 answering the OrderCancelReplaceRequest `replaceClOrdId` with the terms it asked for. */
  async replaced(replaceClOrdId: string, options: ExecOptions = {}): Promise<SentMessage> {
    const request = findFrame(this.received, 'G', (m) => m.get(11) === replaceClOrdId, 0);
    if (request === undefined) throw new Error(`no OrderCancelReplaceRequest ${replaceClOrdId} received`);
    const o = this.entry(request.get(41) ?? '');
    o.origClOrdId = o.clOrdId;
    o.clOrdId = replaceClOrdId;
    o.orderQty = toScaled(request.get(38) ?? fromScaled(o.orderQty));
    o.price = request.get(44) ?? o.price;
    o.status = o.cumQty >= o.orderQty ? '2' : o.cumQty > 0n ? '1' : '0';
    this.book.set(replaceClOrdId, o);
    return this.send('8', this.executionReport(replaceClOrdId, '5', options));
  }

  /** ExecType 8 / OrdStatus 8 of a new order, with Text and OrdRejReason. */
  rejectNew(clOrdId: string, text: string, options: ExecOptions & { ordRejReason?: number } = {}): Promise<SentMessage> {
    this.entry(clOrdId).status = '8';
    return this.send('8', this.executionReport(clOrdId, '8', { ...options, text, extra: { OrdRejReason: options.ordRejReason ?? 0, ...options.extra } }));
  }

  /** ExecType D: the venue changed the order's quantity on its own. */
  restated(clOrdId: string, orderQty: string, options: ExecOptions = {}): Promise<SentMessage> {
    const o = this.entry(clOrdId);
    o.orderQty = toScaled(orderQty);
    if (o.cumQty >= o.orderQty) o.status = o.cumQty > 0n ? '2' : '4';
    return this.send('8', this.executionReport(clOrdId, 'D', options));
  }

  /** ExecType I: the answer to an OrderStatusRequest, with the given OrdStatus (the book is left as it is). */
  orderStatus(clOrdId: string, ordStatus: string, options: ExecOptions = {}): Promise<SentMessage> {
    const o = this.entry(clOrdId);
    const saved = o.status;
    o.status = ordStatus;
    const body = this.executionReport(clOrdId, 'I', options);
    o.status = saved;
    return this.send('8', body);
  }

  /** OrderCancelReject (35=9) of the cancel (responseTo '1') or replace ('2') request `requestClOrdId`. */
  cancelReject(requestClOrdId: string, options: { reason?: number; responseTo?: '1' | '2'; text?: string } = {}): Promise<SentMessage> {
    const request = findFrame(this.received, options.responseTo === '2' ? 'G' : 'F', (m) => m.get(11) === requestClOrdId, 0);
    if (request === undefined) throw new Error(`no request ${requestClOrdId} received`);
    const origClOrdId = request.get(41) ?? '';
    const o = this.entry(origClOrdId);
    const body: Record<string, unknown> = {
      OrderID: o.orderId, ClOrdID: requestClOrdId, OrigClOrdID: origClOrdId, OrdStatus: o.status, CxlRejResponseTo: options.responseTo ?? '1',
      CxlRejReason: options.reason ?? 0, TransactTime: new Date(),
    };
    if (options.text !== undefined) body.Text = options.text;
    return this.send('9', body);
  }

  /** BusinessMessageReject (35=j) of a received application message. */
  businessReject(of: FixFrame, options: { reason?: number; text?: string; refId?: string | null } = {}): Promise<SentMessage> {
    const body: Record<string, unknown> = {
      RefSeqNum: of.seq, RefMsgType: of.msgType, BusinessRejectReason: options.reason ?? 0, Text: options.text ?? 'rejected',
    };
    const refId = options.refId === undefined ? of.get(11) : options.refId;
    if (refId !== null && refId !== undefined) body.BusinessRejectRefID = refId;
    return this.send('j', body);
  }
}

// ---- the raw venue ----------------------------------------------------------------------------------------------

export interface RawSendOptions extends EncodeOptions {
  /** MsgSeqNum to write (default: the next one). */
  seq?: number | string;
  /** False: the next message re-uses this number (a garbled frame its reader must not count). Default true. */
  consume?: boolean;
  /** Header fields after 34 (e.g. [[43, 'Y'], [122, ...]]). */
  header?: readonly Field[];
  /** What to replay for this number on a ResendRequest (default: these same fields; null: gap-fill it). */
  replayAs?: readonly Field[] | null;
}

/**
 * A FIX acceptor in plain TCP, for input the jspurefix encoder cannot produce. One connection at a time; its
 * sequence numbers survive reconnects. `fields` given to send() start with 35; the header (49, 56, 34, 52) is
 * added.
 */
export class RawVenue {
  port = 0;
  readonly received: FixFrame[] = [];
  /** Every frame written, in order (also raw writes). */
  readonly written: string[] = [];
  nextSeq = 1;
  logons = 0;
  connections = 0;
  /** Answer TestRequests with a Heartbeat. */
  autoHeartbeat = true;
  /** Send nothing on its own: no heartbeats, no answer to a TestRequest (a venue that hangs). */
  silent = false;
  /** Answer ResendRequests from the journal (PossDupFlag=Y) and gap-fill the rest. */
  autoResend = true;
  private readonly journal = new Map<number, { fields: readonly Field[]; sentAt: string }>();
  private socket: net.Socket | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly server: net.Server;

  private constructor(private readonly sender: string, private readonly target: string, private readonly log: Sink | null) {
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  static async start(options: { senderCompId?: string; targetCompId?: string; log?: Sink } = {}): Promise<RawVenue> {
    const venue = new RawVenue(options.senderCompId ?? 'VENUE', options.targetCompId ?? 'OMS', options.log ?? null);
    await new Promise<void>((resolve, reject) => {
      venue.server.once('error', reject);
      venue.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = venue.server.address();
    venue.port = typeof address === 'object' && address !== null ? address.port : 0;
    return venue;
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.destroyed;
  }

  private onConnection(socket: net.Socket): void {
    this.socket?.destroy();
    this.socket = socket;
    this.connections += 1;
    socket.setNoDelay(true);
    let buffer = '';
    socket.on('data', (data) => {
      const split = splitFrames(buffer + data.toString('latin1'));
      buffer = split.rest;
      for (const text of split.frames) this.onFrame(socket, text);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.socket === socket) {
        this.socket = null;
        this.stopHeartbeats();
      }
    });
  }

  private onFrame(socket: net.Socket, text: string): void {
    const frame = parseFrame(text, this.received.length);
    this.received.push(frame);
    this.log?.(`raw venue rx ${frame.toString()}`);
    if (socket !== this.socket) return;
    switch (frame.msgType) {
      case 'A': {
        this.logons += 1;
        const heartbeat = Number(frame.get(108) ?? 30);
        this.send([['35', 'A'], [98, 0], [108, heartbeat]]);
        this.startHeartbeats(heartbeat);
        break;
      }
      case '1':
        if (this.autoHeartbeat && !this.silent) this.send([['35', '0'], [112, frame.get(112) ?? '']]);
        break;
      case '2':
        if (this.autoResend) this.answerResend(Number(frame.get(7) ?? 0), Number(frame.get(16) ?? 0));
        break;
      case '5':
        this.send([['35', '5'], [58, 'logout confirmed']]);
        socket.end();
        break;
      default:
        break;
    }
  }

  private startHeartbeats(seconds: number): void {
    this.stopHeartbeats();
    this.heartbeatTimer = setInterval(() => {
      if (this.connected && !this.silent) this.send([['35', '0']]);
    }, seconds * 1000);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private answerResend(begin: number, end: number): void {
    const last = this.nextSeq - 1;
    const to = end === 0 || end > last ? last : end;
    let gapStart = 0;
    const flushGap = (next: number): void => {
      if (gapStart === 0) return;
      this.send([['35', '4'], [123, 'Y'], [36, next]], { seq: gapStart, header: [[43, 'Y'], [122, utcTimestamp()]], consume: false, replayAs: null });
      gapStart = 0;
    };
    for (let seq = begin; seq <= to; seq += 1) {
      const sent = this.journal.get(seq);
      if (sent === undefined) {
        if (gapStart === 0) gapStart = seq;
        continue;
      }
      flushGap(seq);
      this.send(sent.fields, { seq, header: [[43, 'Y'], [122, sent.sentAt]], consume: false, replayAs: sent.fields });
    }
    flushGap(to + 1);
  }

  /** Writes a frame: `fields` from 35 on; returns its MsgSeqNum and text. */
  send(fields: readonly Field[], options: RawSendOptions = {}): { seq: number; text: string } {
    const socket = this.socket;
    if (socket === null) throw new Error('the raw venue has no connection');
    const seq = options.seq ?? this.nextSeq;
    if (options.seq === undefined && options.consume !== false) this.nextSeq += 1;
    const sentAt = utcTimestamp();
    const [first, ...rest] = fields;
    const text = encodeFrame([first, [49, this.sender], [56, this.target], [34, seq], ...(options.header ?? []), [52, sentAt], ...rest], options);
    const msgType = String(first[1]);
    if (typeof seq === 'number' && !['0', '1', '2', '4', '5', 'A'].includes(msgType) && options.replayAs !== null) {
      if (!this.journal.has(seq) || options.replayAs !== undefined) this.journal.set(seq, { fields: options.replayAs ?? fields, sentAt });
    }
    this.writeRaw(text);
    return { seq: typeof seq === 'number' ? seq : -1, text };
  }

  /** Bytes as they are. */
  writeRaw(text: string): void {
    if (this.socket === null) throw new Error('the raw venue has no connection');
    this.written.push(text);
    this.log?.(`raw venue tx ${text.replaceAll(SOH, '|')}`);
    this.socket.write(text, 'latin1');
  }

  waitFor(msgType: string, predicate: (m: FixFrame) => boolean = () => true, options: WaitOptions = {}): Promise<FixFrame> {
    return pollFor(`a ${msgType} message at the raw venue`, options.timeoutMs ?? DEFAULT_WAIT_MS, () => findFrame(this.received, msgType, predicate, options.from ?? 0));
  }

  waitForRequest(msgType: string, clOrdId: string, options: WaitOptions = {}): Promise<FixFrame> {
    return this.waitFor(msgType, (m) => m.get(11) === clOrdId, options);
  }

  async waitForLogon(logonsAtLeast = 1, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await pollFor(`raw venue logon #${logonsAtLeast}`, timeoutMs, () => (this.logons >= logonsAtLeast && this.connected ? true : undefined));
  }

  drop(): void {
    this.socket?.destroy();
    this.socket = null;
    this.stopHeartbeats();
  }

  async stop(): Promise<void> {
    this.drop();
    await new Promise((resolve) => this.server.close(() => resolve(undefined)));
  }
}

/** An ExecutionReport's fields (35 first) for the raw venue; `overrides` replace or (value null) remove tags. */
export function rawExecutionReport(values: {
  orderId: string; clOrdId: string; execId: string; execType: string; ordStatus: string; side?: string; symbol?: string;
  orderQty: string; lastQty?: string; lastPx?: string; leavesQty: string; cumQty: string; avgPx: string;
}, overrides: ReadonlyArray<readonly [number | string, string | null]> = []): Field[] {
  const fields: Array<[number | string, string]> = [
    ['35', '8'], [37, values.orderId], [11, values.clOrdId], [17, values.execId], [150, values.execType], [39, values.ordStatus],
    [55, values.symbol ?? 'AAPL'], [54, values.side ?? '1'], [38, values.orderQty],
  ];
  if (values.lastQty !== undefined) fields.push([32, values.lastQty]);
  if (values.lastPx !== undefined) fields.push([31, values.lastPx]);
  fields.push([151, values.leavesQty], [14, values.cumQty], [6, values.avgPx], [60, utcTimestamp()]);
  for (const [tag, value] of overrides) {
    const at = fields.findIndex(([t]) => String(t) === String(tag));
    if (value === null) {
      if (at >= 0) fields.splice(at, 1);
    } else if (at >= 0) {
      fields[at] = [tag, value];
    } else {
      fields.push([tag, value]);
    }
  }
  return fields;
}
