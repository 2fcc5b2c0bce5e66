// jspurefix glue: one FIX 4.4 initiator session, hardened where the library, as shipped (5.11.4), can lose a
// message or kill a healthy session. What the library does and what we change (checked against it, see the
// README "FIX venues"):
//   - Its file store writes sequence numbers fire-and-forget and moves the sender number backwards after it
//     answers a resend request with a gap fill. SeqStore below writes synchronously, keeps the sender number
//     monotonic, and persists as the expected incoming number only what the OMS has journaled (the
//     "durable watermark"), so that a crash between receiving a fill and journaling it is repaired by the
//     venue's resend at the next logon instead of losing the fill.
//   - An application message that arrives while a TestRequest or a ResendRequest is outstanding is treated
//     as a protocol error and the session is terminated, the message lost: validStateApplicationMsg allows it.
//   - An incoming SequenceReset-GapFill can move its "last peer sequence number" backwards: kept monotonic.
//   - Session-level Rejects reach only onSessionMsg: passed on to the adapter.
//   - It never replays application messages on a resend request (it gap-fills): the adapter reconciles
//     unanswered orders with OrderStatusRequest after each logon.
//   - Its initiator does not reconnect after a logout or a refused first connect: the adapter owns the loop.
// The `reflect-metadata` import must come before jspurefix (tsyringe needs it).

import 'reflect-metadata';
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { DependencyContainer } from 'tsyringe';
import { AsciiSession, DefinitionFactory, DITokens, JsFixLoggerFactory, MsgType, SessionId, SessionLauncher, SessionState } from 'jspurefix';
import type {
  ElasticBuffer, EngineFactory, IFixMsgStoreRecord, MsgTransport, IFixSessionStore, IFixSessionStoreFactory, IJsFixConfig, IJsFixLogger, ISessionDescription, MsgView,
} from 'jspurefix';

// Only this module imports jspurefix (after reflect-metadata); the rest of the adapter gets what it needs here.
export { SessionId };

/**
 * The library parses its FIX dictionary (an XML file, 150-250 ms on the gateway's thread) for every
 * connection attempt, so a venue that is down stalled every client's order flow at each retry. The
 * definitions of a dictionary never change within a process (sessions only read them): the first parse
 * is kept, per dictionary path. A failed parse is not kept, so the next attempt tries again.
 */
const definitionsByPath = new Map<string, ReturnType<DefinitionFactory['getDefinitions']>>();
const parseDefinitions = DefinitionFactory.prototype.getDefinitions;
DefinitionFactory.prototype.getDefinitions = function cachedDefinitions(this: DefinitionFactory, ...args: Parameters<DefinitionFactory['getDefinitions']>) {
  const key = args[0];
  const cached = definitionsByPath.get(key);
  if (cached !== undefined) return cached;
  const parsed = parseDefinitions.apply(this, args);
  definitionsByPath.set(key, parsed);
  parsed.catch(() => definitionsByPath.delete(key));
  return parsed;
};
import type { FixVenueConfig } from './fix-venue-config.js';
import { assert } from '../core/assert.js';

/** Incoming sequence numbers handled out of order (waiting for a gap below them to fill) at most. */
export const INBOUND_OUT_OF_ORDER_MAX = 100_000;
const SEQ_FILE = 'seqnums.json';
/** Fixed size of the sequence record (JSON padded with spaces), rewritten in place. */
const SEQ_RECORD_BYTES = 160;

// ---- the durable incoming watermark --------------------------------------------------------------------

/**
 * The lowest incoming MsgSeqNum not yet handled: every message below it was journaled (application) or
 * needed nothing (session). Messages arrive out of order around a gap (the library delivers a too-high
 * message at once and the resent ones later), so handled numbers above the watermark wait in `ahead`.
 */
export class InboundWatermark {
  private nextSeq = 1;
  /** Start -> end (exclusive) of handled ranges above nextSeq. */
  private readonly ahead = new Map<number, number>();

  get next(): number {
    return this.nextSeq;
  }

  reset(next: number): void {
    assert(Number.isSafeInteger(next) && next >= 1, `watermark reset to ${next}`);
    this.nextSeq = next;
    this.ahead.clear();
  }

  /** Marks [from, to) handled; returns false when too many ranges wait above a gap (the caller resyncs). */
  mark(from: number, to: number): boolean {
    assert(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 1 && to > from, `mark [${from}, ${to})`);
    if (to <= this.nextSeq) return true;
    if (from > this.nextSeq) {
      this.ahead.set(from, Math.max(to, this.ahead.get(from) ?? 0));
      return this.ahead.size <= INBOUND_OUT_OF_ORDER_MAX;
    }
    this.nextSeq = to;
    this.drain();
    return true;
  }

  private drain(): void {
    // Each pass removes at least one range, so the loop is bounded by the map's size.
    for (let passes = this.ahead.size; passes >= 0; passes -= 1) {
      let advanced = false;
      for (const [start, end] of this.ahead) {
        if (start > this.nextSeq) continue;
        this.ahead.delete(start);
        if (end > this.nextSeq) this.nextSeq = end;
        advanced = true;
      }
      if (!advanced) return;
    }
  }
}

// ---- the sequence number store ----------------------------------------------------------------------------

/** The file's content when every field is valid (operators may edit it), else null. */
function parseSeqFile(text: string): SeqFile | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const file = value as Partial<SeqFile>;
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1;
  if (!valid(file.sender_seq_next) || !valid(file.target_seq_durable)) return null;
  if (typeof file.created !== 'string' || Number.isNaN(Date.parse(file.created))) return null;
  return { sender_seq_next: file.sender_seq_next, target_seq_durable: file.target_seq_durable, created: file.created };
}

interface SeqFile {
  sender_seq_next: number;
  target_seq_durable: number;
  created: string;
}

/**
 * The session's sequence numbers, one small JSON record rewritten in place synchronously (see persist). Not
 * fsync'd: it survives a process crash, not a power cut (then the venue's "MsgSeqNum too low" logout tells an
 * operator to set the numbers).
 */
export class SeqStore implements IFixSessionStore {
  readonly inbound = new InboundWatermark();
  private senderNext = 1;
  /** What the library believes it expects next; the file holds the durable watermark instead. */
  private targetNext = 1;
  private created = new Date();
  private loaded = false;
  private fd: number | null = null;
  private closed = false;
  /** Bumped on every reset, so that a handling that finishes after a reset does not mark the new numbering. */
  epoch = 0;

  constructor(readonly sessionId: SessionId, private readonly dir: string) {}

  get senderSeqNum(): number {
    return this.senderNext;
  }

  get targetSeqNum(): number {
    return this.targetNext;
  }

  get creationTime(): Date {
    return this.created;
  }

  async initialize(): Promise<void> {
    if (!this.loaded) this.load();
    // Every (re)connect expects what is journaled, not what was merely received: a message received and
    // not yet journaled when the connection dropped is asked for again and de-duplicated by the core.
    this.targetNext = this.inbound.next;
  }

  async setSenderSeqNum(value: number): Promise<void> {
    // The library moves this backwards after answering a resend request with a gap fill; reserveSender
    // ignores that: a sender number that went back would re-use numbers the venue has seen (a logout).
    this.reserveSender(value);
  }

  async setTargetSeqNum(value: number): Promise<void> {
    this.targetNext = value;
  }

  async nextSenderSeqNum(): Promise<number> {
    return this.senderNext;
  }

  async nextTargetSeqNum(): Promise<number> {
    return this.targetNext;
  }

  /** Marks incoming [from, to) handled; persists when the watermark moves. False: too far out of order. */
  markHandled(from: number, to: number, epoch: number): boolean {
    if (epoch !== this.epoch) return true;
    const before = this.inbound.next;
    const ok = this.inbound.mark(from, to);
    if (this.inbound.next !== before) this.persist();
    return ok;
  }

  /** SequenceReset-Reset: the venue declares every number below `next` gone for good. */
  resetInbound(next: number): void {
    this.epoch += 1;
    this.inbound.reset(next);
    this.persist();
  }

  async reset(): Promise<void> {
    this.epoch += 1;
    this.senderNext = 1;
    this.targetNext = 1;
    this.inbound.reset(1);
    this.created = new Date();
    this.persist();
  }

  // The library also offers sent messages for resends; it never replays them (it gap-fills), so they are
  // not kept: the journal is the record of what was sent.
  async put(_record: IFixMsgStoreRecord): Promise<void> {}
  async get(_seqNum: number): Promise<IFixMsgStoreRecord | null> {
    return null;
  }
  async getRange(_from: number, _to: number): Promise<IFixMsgStoreRecord[]> {
    return [];
  }
  async flush(): Promise<void> {}
  async dispose(): Promise<void> {}

  private path(): string {
    return join(this.dir, SEQ_FILE);
  }

  private load(): void {
    mkdirSync(this.dir, { recursive: true });
    let text: string;
    try {
      text = readFileSync(this.path(), 'utf8');
    } catch {
      this.loaded = true;
      this.persist();
      return;
    }
    const file = parseSeqFile(text);
    // Not marked loaded: every attempt fails the same way, and nothing overwrites the file an operator must fix.
    if (file === null) throw new Error(`corrupt FIX sequence file ${this.path()}: ${text.slice(0, 200)}`);
    this.loaded = true;
    this.senderNext = file.sender_seq_next;
    this.inbound.reset(file.target_seq_durable);
    this.created = new Date(file.created);
  }

  /**
   * Rewrites the record in place, at a fixed width, with one write() of less than a page: a process crash
   * cannot leave half of it (the kernel applies the write to the page cache whole), and there is no rename
   * per message (write + rename cost ~2/3 of a FIX client's time in the benchmark).
   */
  private persist(): void {
    // Before a successful load (a corrupt file) or after close, there is nothing this store may write.
    if (!this.loaded || this.closed) return;
    const file: SeqFile = { sender_seq_next: this.senderNext, target_seq_durable: this.inbound.next, created: this.created.toISOString() };
    const text = JSON.stringify(file);
    assert(text.length < SEQ_RECORD_BYTES, `sequence record of ${text.length} bytes`);
    if (this.fd === null) {
      this.fd = openSync(this.path(), constants.O_RDWR | constants.O_CREAT, 0o644);
      // An operator's hand-edited file may be longer than a record: what follows would break the JSON.
      ftruncateSync(this.fd, SEQ_RECORD_BYTES);
    }
    writeSync(this.fd, `${text.padEnd(SEQ_RECORD_BYTES - 1, ' ')}\n`, 0, 'latin1');
  }

  /** Closes the file; later changes are kept in memory only (a handling that finishes after shutdown). */
  close(): void {
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Marks `next - 1` sent, on disk, before the message exists (see reserveBeforeSending); throws if it cannot. */
  reserveSender(next: number): void {
    if (next <= this.senderNext) return;
    this.senderNext = next;
    this.persist();
  }
}

// ---- frame integrity -------------------------------------------------------------------------------------

const SOH = 0x01;
const CHECKSUM_TRAILER_BYTES = 7; // "10=NNN" + SOH

/**
 * Why a received frame is garbled, or null: BodyLength or CheckSum wrong, a field that is not `<tag>=`
 * (the library's parser would silently drop the fields after it and deliver the rest), or a MsgSeqNum that
 * is not a positive integer (the library would read a number out of it). FIX says a garbled message is
 * ignored without consuming its sequence number, so that the gap it leaves is asked for again; the library
 * (integrity checks off, see VenueFixSession) would deliver it. Raw data fields (95/96), which may hold SOH,
 * are not used by venues we speak to and would be refused here.
 */
export function frameProblem(raw: Uint8Array): string | null {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  const header = /^8=[^\x01]*\x019=(\d{1,7})\x01/.exec(text);
  if (header === null) return 'no BeginString/BodyLength header';
  const trailerAt = text.length - CHECKSUM_TRAILER_BYTES;
  if (!/^10=\d{3}\x01$/.test(text.slice(trailerAt)) || text.charCodeAt(trailerAt - 1) !== SOH) return 'no CheckSum trailer';
  const bodyLength = trailerAt - header[0].length;
  if (bodyLength !== Number(header[1])) return `BodyLength ${header[1]} but the body has ${bodyLength} bytes`;
  let sum = 0;
  for (let i = 0; i < trailerAt; i += 1) sum += raw[i];
  const expected = Number(text.slice(trailerAt + 3, trailerAt + 6));
  if (sum % 256 !== expected) return `CheckSum ${expected} but the bytes sum to ${sum % 256}`;
  const fields = text.slice(0, trailerAt - 1).split('\x01');
  const bad = fields.find((field) => !/^[1-9]\d{0,8}=/.test(field));
  if (bad !== undefined) return `field ${JSON.stringify(bad.slice(0, 40))} is not <tag>=<value>`;
  const seq = fields.find((field) => field.startsWith('34='));
  if (seq === undefined || !/^34=[1-9]\d{0,15}$/.test(seq)) return `MsgSeqNum ${seq === undefined ? 'missing' : JSON.stringify(seq.slice(3, 40))} is not a positive integer`;
  return null;
}

/** Who a frame must come from: FIX 4.4, the venue's CompID as sender, ours as target. */
export interface FrameIdentity {
  senderCompId: string;
  targetCompId: string;
}

/**
 * Why a well-formed frame is not from the session's peer (BeginString, SenderCompID 49, TargetCompID 56), or
 * null. The library checks CompIDs only until logon; a message from someone else must never move an order.
 */
export function identityProblem(raw: Uint8Array, identity: FrameIdentity): string | null {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  const value = (tag: number): string | undefined => new RegExp(`(?:^|\x01)${tag}=([^\x01]*)\x01`).exec(text)?.[1];
  if (value(8) !== 'FIX.4.4') return `BeginString ${JSON.stringify(value(8))} is not FIX.4.4`;
  if (value(49) !== identity.senderCompId) return `SenderCompID ${JSON.stringify(value(49))} is not ${identity.senderCompId}`;
  if (value(56) !== identity.targetCompId) return `TargetCompID ${JSON.stringify(value(56))} is not ${identity.targetCompId}`;
  return null;
}

// ---- logging --------------------------------------------------------------------------------------------

export type FixLog = (fields: Record<string, unknown>) => void;

/**
 * The library's logger, routed to ours at warning level and above (at info it writes ~90 lines per order).
 * It registers globally (the last launcher's factory wins), so there is one per process.
 */
class RoutedLogFactory extends JsFixLoggerFactory {
  /** The newest service's log: the factory outlives a service that is stopped and started in one process. */
  log: FixLog = () => {};
  logger(type: string): IJsFixLogger {
    const emit = (level: string, message: string): void => this.log({ event: 'fix_engine', level, type, message: message.slice(0, 500) });
    return { debug: () => {}, info: () => {}, warning: (m) => emit('warning', m), error: (e) => emit('error', e?.message ?? String(e)) };
  }
  plain(): IJsFixLogger {
    return this.logger('plain');
  }
}

let processLogFactory: RoutedLogFactory | null = null;
function logFactory(log: FixLog): RoutedLogFactory {
  processLogFactory ??= new RoutedLogFactory();
  processLogFactory.log = log;
  return processLogFactory;
}

// ---- the session --------------------------------------------------------------------------------------------

export interface SessionHooks {
  /** The launcher built the session for a connection attempt (before it connects). */
  onCreated(session: VenueFixSession): void;
  /** Logged on: safe to send. `logonSeq`: the MsgSeqNum of the venue's Logon. */
  onReady(logonSeq: number): void;
  /** The transport ended (may be called more than once for one session: idempotent). */
  onStopped(error: Error | undefined): void;
  onApplication(msgType: string, view: MsgView, seq: number): void;
  /** Every session-level message (after the library handled it), with its MsgSeqNum. */
  onSession(msgType: string, view: MsgView, seq: number): void;
  onEncoded(msgType: string): void;
  onDecoded(msgType: string): void;
  /** A frame dropped for a bad BodyLength or CheckSum. */
  onGarbled(problem: string): void;
}

export class VenueFixSession extends AsciiSession {
  /** The transport ended (onStopped): nothing more to stop. */
  private ended = false;
  /** Killed before it connected: a connection that completes later is closed unused. */
  private abandoned = false;
  /** The socket is corked until the end of this tick (corkUntilNextTick). */
  private corked = false;
  /** Set between a garbled frame's 'decoded' event and its 'msg' event, which the library emits in that order. */
  private garbled: string | null = null;

  private readonly identity: FrameIdentity;

  constructor(config: IJsFixConfig, private readonly hooks: SessionHooks) {
    // Keep SOH in the receive buffer (the library otherwise rewrites it to '|' in place, and a '|' inside a
    // value could then not be told from a delimiter when the checksum is verified).
    config.logDelimiter = SOH;
    super(config);
    this.identity = { senderCompId: config.description.TargetCompID, targetCompId: config.description.SenderCompId };
    this.logReceivedMsgs = false;
    // The library's integrity check rejects a message with any tag outside its dictionary (venues add
    // custom tags to fills) and the rejected message's number is consumed: a fill would be lost. Values
    // are validated by the adapter instead, each read as text.
    this.checkMsgIntegrity = false;
  }

  /** Sends and resolves with the MsgSeqNum the message went out with. */
  sendMessage(msgType: string, body: Record<string, unknown>): Promise<number> {
    this.corkUntilNextTick();
    return new Promise((resolve, reject) => {
      this.send(msgType, body, (error, record) => {
        if (error !== null) reject(error);
        else resolve(Number((record as { header?: { MsgSeqNum?: unknown } } | null)?.header?.MsgSeqNum ?? 0));
      });
    });
  }

  /**
   * Messages sent in one turn (a core batch's orders to this venue) leave as one socket write: the library
   * pipes each encoded message to the socket as its own write, a syscall per message otherwise.
   */
  private corkUntilNextTick(): void {
    if (this.corked || !(this.transport?.duplex.writable instanceof Socket)) return;
    const socket = this.transport.duplex.writable;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  /**
   * Drops the connection without a Logout (logon timeout, a venue we must stop listening to). Before the
   * connection exists the library has no listener for the 'error' that terminate() emits (it would throw):
   * the attempt is marked abandoned instead, and a connection that completes later is closed at once (run).
   */
  kill(reason: string): void {
    // After a venue's logout the library's state stays ConfirmingLogout, never Stopped, and terminating a
    // finished session emits an 'error' nobody listens to: the transport's end is the only reliable sign.
    if (this.ended || this.getState() === SessionState.Stopped) return;
    if (this.transport === null || this.transport === undefined) {
      this.abandoned = true;
      return;
    }
    this.terminate(new Error(reason));
  }

  override run(transport: MsgTransport): Promise<number> {
    if (!this.abandoned) return super.run(transport);
    transport.end();
    this.ended = true;
    return Promise.resolve(0);
  }

  protected override rxOnDecoded(msgType: string, data: ElasticBuffer, ptr: number): void {
    const raw = data.getBuffer(0, ptr);
    this.garbled = frameProblem(raw);
    if (this.garbled !== null) {
      this.hooks.onGarbled(this.garbled);
      return;
    }
    const stranger = identityProblem(raw, this.identity);
    if (stranger !== null) {
      // Not from our peer: dropped, and the connection with it (FIX: Reject 373=9 then Logout; a peer that
      // sends someone else's messages is not one to keep talking to).
      this.garbled = stranger;
      this.hooks.onGarbled(stranger);
      this.kill(stranger);
      return;
    }
    super.rxOnDecoded(msgType, data, ptr);
  }

  protected override rxOnMsg(msgType: string, view: MsgView): void {
    if (this.garbled !== null) {
      this.garbled = null;
      return;
    }
    super.rxOnMsg(msgType, view);
  }

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

  protected override onSessionMsg(msgType: string, view: MsgView): void {
    const before = this.sessionState.lastPeerMsgSeqNum;
    super.onSessionMsg(msgType, view);
    if (msgType === MsgType.SequenceReset && this.sessionState.lastPeerMsgSeqNum < before) this.sessionState.lastPeerMsgSeqNum = before;
    this.hooks.onSession(msgType, view, Number(view.getString(34) ?? 0));
  }

  protected onApplicationMsg(msgType: string, view: MsgView): void {
    this.hooks.onApplication(msgType, view, Number(view.getString(34) ?? 0));
  }

  protected onReady(view: MsgView): void {
    // The library does not pass a Logon that opened a gap to onSessionMsg: its number is taken here.
    this.hooks.onReady(Number(view.getString(34) ?? 0));
  }

  protected onStopped(error?: Error): void {
    this.ended = true;
    this.hooks.onStopped(error);
  }

  protected onLogon(): boolean {
    return true;
  }

  protected onDecoded(msgType: string): void {
    this.hooks.onDecoded(msgType);
  }

  protected onEncoded(msgType: string): void {
    this.hooks.onEncoded(msgType);
  }
}

class StoreFactory implements IFixSessionStoreFactory {
  constructor(private readonly store: SeqStore) {}
  create(sessionId: SessionId): IFixSessionStore {
    assert(sessionId.toString() === this.store.sessionId.toString(), `store of ${this.store.sessionId.toString()} asked for ${sessionId.toString()}`);
    return this.store;
  }
}

/**
 * The library persists a sent number only after the message is written to the socket, so a process killed
 * in between restarts with a number the venue has already seen, and the venue logs us out for "MsgSeqNum
 * too low" (seen in the kill test). Numbers are instead persisted as used when the library stamps the
 * header, before the bytes exist: a message that then never leaves only makes the venue see a gap, which
 * it asks for and gets gap-filled.
 */
function reserveBeforeSending(config: IJsFixConfig, store: SeqStore): void {
  const factory = config.factory;
  assert(factory !== null, 'the initiator has a session message factory');
  const header = factory.header.bind(factory);
  factory.header = (msgType, seqNum, time, overrideData) => {
    // Synchronous: if the number cannot be written the throw stops this message (the library terminates
    // the session) rather than sending a number that a restart could use again.
    if (overrideData?.PossDupFlag !== true) store.reserveSender(seqNum + 1);
    return header(msgType, seqNum, time, overrideData);
  };
}

/**
 * How long an ended attempt's connection may take to send its last bytes before it is destroyed: the
 * library's own linger (MsgTransport.lingerMs, 5 s), so that a Logout queued behind a backlog still goes out.
 */
const SOCKET_LINGER_MS = 5_000;

/** One launcher per connection attempt (FixVenue.runOnce makes a new one each time; finish() ends it). */
export class VenueLauncher extends SessionLauncher {
  session: VenueFixSession | null = null;

  constructor(description: ISessionDescription, private readonly store: SeqStore, private readonly hooks: SessionHooks, private readonly log: FixLog) {
    super(description, null, logFactory(log));
  }

  /** Connections this attempt made that are not closed yet. */
  private readonly sockets = new Set<Duplex>();
  /** The attempt is over: a connection still open is closed, and one made later is dropped at once. */
  private finished = false;

  /**
   * Two things the library leaves to us, hooked where it builds a transport (its parser is resolved from
   * the container just after the socket is registered there):
   * - its parser re-emits the socket's errors (its transmitter, its stream's) and only a session that has
   *   subscribed to the transport listens: a reset before the session takes a transport, after it lets go,
   *   or on a transport never handed to a session had no listener, and Node threw it (the process died);
   * - a connection that completes after the attempt was abandoned (closed or disconnected while connecting)
   *   was never closed: the venue saw a silent connection that never logged on, one per abandoned attempt.
   */
  protected override getInitiator(sessionContainer: DependencyContainer): Promise<unknown> {
    const onError = (error: Error): void => this.log({ event: 'fix_transport_error', error: error.message });
    const listen = (_token: unknown, made: unknown): void => {
      for (const emitter of Array.isArray(made) ? made : [made]) (emitter as EventEmitter).on('error', onError);
    };
    sessionContainer.afterResolution(DITokens.MsgTransmitter, listen, { frequency: 'Always' });
    sessionContainer.afterResolution(DITokens.MsgParser, (token, made) => {
      listen(token, made);
      this.track(sessionContainer.resolve<Duplex>(DITokens.readStream));
    }, { frequency: 'Always' });
    return super.getInitiator(sessionContainer);
  }

  /** Ends the attempt's connections (after a short linger, so that a last message still goes out). */
  finish(): void {
    this.finished = true;
    for (const socket of this.sockets) {
      socket.end();
      setTimeout(() => socket.destroy(), SOCKET_LINGER_MS).unref();
    }
  }

  private track(socket: Duplex): void {
    if (this.finished) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  protected override makeFactory(): EngineFactory {
    return {
      makeSession: (config: IJsFixConfig) => {
        config.sessionStoreFactory = new StoreFactory(this.store);
        reserveBeforeSending(config, this.store);
        this.session = new VenueFixSession(config, this.hooks);
        this.hooks.onCreated(this.session);
        return this.session;
      },
    };
  }
}

/** Seconds the library itself keeps retrying a refused connect before run() rejects (then our back-off). */
const LIBRARY_CONNECT_TIMEOUT_S = 1;

export function sessionDescription(venue: FixVenueConfig): ISessionDescription {
  return {
    application: {
      name: venue.name, type: 'initiator', protocol: 'ascii', dictionary: 'qf44',
      tcp: { host: venue.host, port: venue.port },
      resilient: false, reconnectSeconds: LIBRARY_CONNECT_TIMEOUT_S, connectTimeoutSeconds: LIBRARY_CONNECT_TIMEOUT_S,
    },
    Name: venue.name,
    BeginString: 'FIX.4.4',
    SenderCompId: venue.sender_comp_id,
    TargetCompID: venue.target_comp_id,
    SenderSubID: '', TargetSubID: '', Username: '', Password: '',
    HeartBtInt: venue.heartbeat_interval_s,
    ResetSeqNumFlag: venue.reset_seq_num_on_logon,
  } as unknown as ISessionDescription;
}
