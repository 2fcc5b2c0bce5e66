// gateway/client.ts end to end against the real service (core worker, LMDB journal in a temp dir, uWS
// gateway, simulated venue), and against a scripted fake gateway for the orderings the real one produces
// only by chance (a live report overtaking the replay of a resume, an unanswered command, a refused resume).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket as ServerSocket } from 'ws';
import { Command, ExecType, OrdStatus, OrdType, RejectCode, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import type { NewOrderCmd } from '../schemas/commands.js';
import type { CommandResultData, ExecutionReportData } from '../schemas/results.js';
import { CommandDecoder } from '../core/decode.js';
import { DEMO } from '../core/demo.js';
import { isTerminal } from '../core/model.js';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import type { Config } from '../gateway/config.js';
import { startService } from '../gateway/service.js';
import type { OmsClientOptions } from '../gateway/client.js';
import { OmsClient, OmsClientError, SessionStatusCode, SubscriptionScope } from '../gateway/client.js';
import {
  classifyFrame, encodeReports, encodeStatus, SessionRequestDecoder,
} from '../gateway/protocol.js';
import { EXIT, runOrderCli } from '../gateway/order-cli.js';

const TRADER = 'demo-trader-token';
const WAIT_POLL_MS = 10;

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}

function aaplAtMark(clOrdId: string, accountId: number = DEMO.accounts.GROWTH): NewOrderCmd {
  return {
    type: Command.NewOrder, clOrdId, accountId, instrumentId: DEMO.instruments.AAPL, side: Side.Buy, ordType: OrdType.Limit,
    timeInForce: TimeInForce.Day, orderQty: 100, price: 19_000, stopPx: 0, expireTimeUs: 0, parentClOrdId: '',
    venueId: DEMO.venues.SIM, text: '',
  };
}

function executions(results: readonly CommandResultData[]): ExecutionReportData[] {
  return results.flatMap((r) => r.events.filter((e): e is ExecutionReportData => e.kind === 'execution_report'));
}

function seqsOf(results: readonly CommandResultData[]): number[] {
  return results.map((r) => r.seq);
}

function expectStrictlyIncreasing(seqs: readonly number[]): void {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seq #${i} after ${seqs[i - 1]}`).toBeGreaterThan(seqs[i - 1]);
}

/** Every ClOrdID of `ids` has a terminal execution report in `results`. */
function allDone(results: readonly CommandResultData[], ids: readonly string[]): boolean {
  const done = new Set(executions(results).filter((e) => isTerminal(e.ordStatus)).map((e) => e.clOrdId));
  return ids.every((id) => done.has(id));
}

async function expectClientError(promise: Promise<unknown>, code: OmsClientError['code']): Promise<OmsClientError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(OmsClientError);
  expect((error as OmsClientError).code).toBe(code);
  return error as OmsClientError;
}

// ---- against the real service ----------------------------------------------------------------------------------

describe('OmsClient against the service', () => {
  let dir = '';
  let url = '';
  let close: () => Promise<void> = async () => {};
  const clients: OmsClient[] = [];

  const connect = async (token: string, options: OmsClientOptions = {}): Promise<OmsClient> => {
    const client = await OmsClient.connect(url, token, options);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oms-client-'));
    const config: Config = { ...DEFAULT_CONFIG, data: { dir }, gateway: { ...DEFAULT_CONFIG.gateway, port: 0 } };
    const service = await startService(config, () => {});
    url = `ws://127.0.0.1:${service.port}/v1/ws`;
    close = () => service.close();
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs on with header auth and with subprotocol auth', async () => {
    const header = await connect(TRADER);
    const subprotocol = await connect(TRADER, { subprotocol_auth: true });
    for (const client of [header, subprotocol]) {
      expect(client.userId).toBe(DEMO.users.trader);
      expect(client.connected).toBe(true);
      expect(client.lastSeq).toBeGreaterThan(0); // the demo reference data is journaled
    }
    expect(header.sessionId).not.toBe(subprotocol.sessionId);
  });

  it('refuses a bad token on the upgrade, with either kind of auth', async () => {
    await expectClientError(OmsClient.connect(url, 'not-a-valid-token'), 'auth_refused');
    await expectClientError(OmsClient.connect(url, 'not-a-valid-token', { subprotocol_auth: true }), 'auth_refused');
  });

  it('answers a new order by request id, then streams its fills from the simulated venue', async () => {
    const reports: CommandResultData[] = [];
    const client = await connect(TRADER, { on_report: (r) => reports.push(r) });
    const answer = await client.send(aaplAtMark('FILL-1'));
    expect(answer.requestId).toBeGreaterThan(0);
    expect(answer.sessionId).toBe(client.sessionId);
    expect(answer.seq).toBeGreaterThan(0);
    const [ack] = executions([answer]);
    expect(ack).toMatchObject({ clOrdId: 'FILL-1', execType: ExecType.PendingNew, ordStatus: OrdStatus.PendingNew });
    await waitFor('FILL-1 to be done', () => allDone(reports, ['FILL-1']));
    const mine = executions(reports).filter((e) => e.clOrdId === 'FILL-1');
    const last = mine[mine.length - 1];
    // The venue rejects 2% at random (seeded); otherwise the order fills in full at its limit.
    if (last.ordStatus === OrdStatus.Filled) {
      expect(mine.filter((e) => e.execType === ExecType.Trade).reduce((sum, e) => sum + e.lastQty, 0)).toBe(100);
      expect(last.cumQty).toBe(100);
    }
    expectStrictlyIncreasing(seqsOf(reports));
    expect(client.lastSeq).toBe(reports[reports.length - 1].seq);
  });

  it('answers a refused command by request id (a reject before the journal has seq 0)', async () => {
    const client = await connect(TRADER);
    const answer = await client.send({ ...aaplAtMark('BAD-QTY'), orderQty: 0 });
    expect(answer.events.some((e) => e.kind === 'execution_report' && e.execType === ExecType.Rejected)).toBe(true);
    const unknown = await client.send({ type: Command.CancelOrder, clOrdId: 'C-UNKNOWN', origClOrdId: 'NO-SUCH-ORDER', accountId: 0 });
    expect(unknown.events[0]).toMatchObject({ kind: 'cancel_reject', rejectCode: RejectCode.UnknownOrder });
  });

  it('reconnects after a dropped socket and delivers every missed report once, in seq order', async () => {
    const ids = ['RC-1', 'RC-2', 'RC-3', 'RC-4', 'RC-5'];
    const account = DEMO.accounts.INCOME;
    // The reference stream: the same user's reports, on a connection that never drops.
    const reference: CommandResultData[] = [];
    const observer = await connect(TRADER, { on_report: (r) => reference.push(r) });
    const seen: CommandResultData[] = [];
    const reconnects: number[] = [];
    // Reconnect 0.75 to 1.5 s after the drop: fills of the orders placed meanwhile happen while it is away.
    const client = await connect(TRADER, {
      reconnect_delay_ms_min: 1_500, reconnect_delay_ms_max: 1_500,
      on_report: (r) => seen.push(r), on_reconnect: (info) => reconnects.push(info.replayedCount),
    });
    const startSeq = client.lastSeq;
    await client.send(aaplAtMark(ids[0], account));
    // A command in flight when the socket dies: rejected, never resent; the stream says whether it was journaled.
    const inFlight = client.send(aaplAtMark(ids[1], account));
    client.dropConnection();
    await expectClientError(inFlight, 'connection_lost');
    await expectClientError(client.send(aaplAtMark('RC-NOT-SENT', account)), 'not_connected');
    for (const id of ids.slice(2)) await observer.send(aaplAtMark(id, account));
    expect(client.connected).toBe(false);
    await waitFor('the reconnect', () => reconnects.length === 1, 5_000);
    expect(reconnects[0]).toBeGreaterThan(0);
    const journaled = ids.filter((id) => id !== ids[1] || executions(reference).some((e) => e.clOrdId === id));
    await waitFor('every order to be done', () => allDone(reference, journaled) && allDone(seen, journaled), 8_000);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the last live reports land on both
    const expected = seqsOf(reference).filter((seq) => seq > startSeq);
    expectStrictlyIncreasing(seqsOf(seen));
    expect(seqsOf(seen)).toEqual(expected);
    expect(executions(seen).map((e) => e.execId)).toEqual(executions(reference.filter((r) => r.seq > startSeq)).map((e) => e.execId));
    expect(executions(seen).some((e) => e.clOrdId === 'RC-NOT-SENT')).toBe(false);
    expect(client.stats().reconnects).toBe(1);
  });

  it('measures a heartbeat round trip', async () => {
    const client = await connect(TRADER);
    const rttMs = await client.heartbeat();
    expect(rttMs).toBeGreaterThan(0);
    expect(rttMs).toBeLessThan(1_000);
  });

  it('subscribes to an entitled account and is refused one it is not entitled to', async () => {
    const income = await connect('demo-trader-income-token');
    const ok = await income.subscribe(SubscriptionScope.Account, DEMO.accounts.INCOME);
    expect(ok.code).toBe(SessionStatusCode.Subscribed);
    const error = await expectClientError(income.subscribe(SubscriptionScope.Account, DEMO.accounts.GROWTH), 'refused');
    expect(error.status?.rejectCode).toBe(RejectCode.NotEntitled);
    const status = await income.cancelOnDisconnect(true);
    expect(status.requestId).toBeGreaterThan(0);
  });

  it('order CLI: new, replace (terms looked up from the replay), cancel, and a usage error', async () => {
    const lines: string[] = [];
    const io = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
    const common = ['--url', url, '--json'];
    expect(await runOrderCli(['new', ...common, '--account', '101', '--symbol', 'AAPL', '--side', 'buy', '--qty', '100', '--price', '190.05', '--clordid', 'CLI-P1'], {}, io)).toBe(EXIT.ok);
    expect(await runOrderCli(['replace', 'CLI-P1', ...common, '--qty', '200', '--clordid', 'CLI-P2'], {}, io)).toBe(EXIT.ok);
    expect(await runOrderCli(['cancel', 'CLI-P2', ...common, '--clordid', 'CLI-P3'], {}, io)).toBe(EXIT.ok);
    const answers = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(answers.map((a) => [a.clOrdId, a.execType, a.orderQty, a.price])).toEqual([
      ['CLI-P1', 'New', 100, 19_005], ['CLI-P2', 'Replaced', 200, 19_005], ['CLI-P3', 'Canceled', 200, 19_005],
    ]);
    lines.length = 0;
    expect(await runOrderCli(['new', ...common, '--account', '101', '--symbol', 'AAPL', '--side', 'buy', '--qty', '1', '--price', '190.055'], {}, io)).toBe(EXIT.usage);
    expect(lines.join('\n')).toMatch(/more than 2 decimal places/);
    lines.length = 0;
    // No blotter endpoint yet: `list` says so rather than failing obscurely (once it exists, it prints it).
    const listed = await runOrderCli(['list', '--url', url], {}, io);
    if (listed !== EXIT.ok) expect(lines.join('\n')).toMatch(/list is not available yet/);
  });
});

// ---- against a scripted gateway ---------------------------------------------------------------------------------

/** Speaks the session protocol from gateway/protocol.ts; each test scripts what it answers. */
class FakeGateway {
  readonly results: CommandResultData[] = [];
  /** Request ids of every command frame received, in order (to prove nothing is resent). */
  readonly commandIds: number[] = [];
  answerCommands = true;
  /** Called at each Resume before the replay: lets a test push a live report ahead of it. */
  beforeReplay: (socket: ServerSocket) => void = () => {};
  resumeTooOld = false;
  private readonly builder = new flatbuffers.Builder(1024);
  private readonly decoder = new CommandDecoder();
  private readonly sessionDecoder = new SessionRequestDecoder();
  private readonly sockets = new Set<ServerSocket>();
  private sessionIdLast = 0;
  private constructor(private readonly server: WebSocketServer, readonly url: string) {}

  static start(): Promise<FakeGateway> {
    return new Promise((resolve) => {
      const server = new WebSocketServer({
        port: 0, host: '127.0.0.1', handleProtocols: (offered) => (offered.has('oms.v1') ? 'oms.v1' : false),
        verifyClient: (info, done) => done(info.req.headers.authorization === `Bearer ${TRADER}`, 401),
      });
      server.on('listening', () => {
        const address = server.address();
        if (typeof address === 'string' || address === null) throw new Error('no port');
        const fake = new FakeGateway(server, `ws://127.0.0.1:${address.port}/v1/ws`);
        server.on('connection', (socket) => fake.open(socket));
        resolve(fake);
      });
    });
  }

  /** Journals a result (a fill, say) and sends it to every open session. */
  journal(events: CommandResultData['events'], requestId = 0, sessionId = 0): CommandResultData {
    const result: CommandResultData = { seq: this.results.length + 1, requestId, userId: DEMO.users.trader, sessionId, events };
    this.results.push(result);
    for (const socket of this.sockets) socket.send(encodeReports([result]));
    return result;
  }

  dropAll(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private status(socket: ServerSocket, code: SessionStatusCode, requestId: number, text = '', oldestSeq = 0): void {
    socket.send(encodeStatus(this.builder, {
      code, requestId, userId: DEMO.users.trader, sessionId: this.sessionIdLast, lastSeq: this.results.length, rejectCode: RejectCode.None, text, oldestSeq,
    }));
  }

  private open(socket: ServerSocket): void {
    this.sessionIdLast += 1;
    const sessionId = this.sessionIdLast;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    this.status(socket, SessionStatusCode.LoggedOn, 0);
    socket.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (classifyFrame(bytes) === 'command') {
        this.decoder.decode(bytes);
        const requestId = this.decoder.header.requestId;
        this.commandIds.push(requestId);
        if (this.answerCommands) this.journal([fill(`F${requestId}`, 0)], requestId, sessionId);
        return;
      }
      const request = this.sessionDecoder.decode(bytes);
      if (request.kind === 'subscribe' || request.kind === 'cancel_on_disconnect') this.status(socket, SessionStatusCode.Subscribed, request.requestId);
      if (request.kind === 'resume') this.resume(socket, request.requestId, request.afterSeq);
    });
  }

  private resume(socket: ServerSocket, requestId: number, afterSeq: number): void {
    if (this.resumeTooOld) {
      this.status(socket, SessionStatusCode.ResumeTooOld, requestId, `seq ${afterSeq} is older than the retransmission window`, this.results.length);
      return;
    }
    this.beforeReplay(socket);
    socket.send(encodeReports(this.results.filter((r) => r.seq > afterSeq)));
    this.status(socket, SessionStatusCode.ResumeComplete, requestId);
  }
}

function fill(clOrdId: string, lastQty: number): ExecutionReportData {
  return {
    kind: 'execution_report', orderId: 1, clOrdId, origClOrdId: '', execId: `${clOrdId}.${lastQty}`, execType: lastQty === 0 ? ExecType.New : ExecType.Trade,
    ordStatus: OrdStatus.New, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL, side: Side.Buy, ordType: OrdType.Limit,
    timeInForce: TimeInForce.Day, orderQty: 100, price: 19_000, stopPx: 0, lastQty, lastPx: 19_000, cumQty: lastQty, leavesQty: 100 - lastQty,
    avgPx: 0, ordRejReason: RejectCode.None, text: '', parentOrderId: 0, venueId: 1, workflowState: 4, transactTimeUs: 1, venueExecId: '',
  };
}

describe('OmsClient against a scripted gateway', () => {
  // Reconnects 100 to 200 ms after a drop: time for a test to journal reports while the client is away.
  const fast: OmsClientOptions = { reconnect_delay_ms_min: 200, reconnect_delay_ms_max: 200, keepalive_interval_ms: 0 };

  it('buffers a live report that overtakes the replay, then delivers everything once, in order', async () => {
    const fake = await FakeGateway.start();
    const seen: number[] = [];
    const client = await OmsClient.connect(fake.url, TRADER, { ...fast, on_report: (r) => seen.push(r.seq) });
    for (let i = 1; i <= 3; i++) fake.journal([fill('A', i)]);
    await waitFor('3 reports', () => seen.length === 3);
    let reconnected = 0;
    client.on('reconnect', () => { reconnected += 1; });
    fake.dropAll();
    await waitFor('the client to notice', () => !client.connected);
    // While it is away: seqs 4..6. At the resume, seq 7 goes out live before the replay of 4..7.
    for (let i = 4; i <= 6; i++) fake.journal([fill('A', i)]);
    fake.beforeReplay = () => { fake.journal([fill('A', 7)]); };
    await waitFor('the reconnect', () => reconnected === 1);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(client.stats().duplicatesDropped).toBe(1);
    await client.close();
    await fake.close();
  });

  it('rejects an unanswered command on timeout and on connection loss, and never resends it', async () => {
    const fake = await FakeGateway.start();
    fake.answerCommands = false;
    const client = await OmsClient.connect(fake.url, TRADER, { ...fast, request_timeout_ms: 100, pending_requests_max: 2 });
    await expectClientError(client.send(aaplAtMark('T-1')), 'timeout');
    const [a, b] = [client.send(aaplAtMark('T-2')), client.send(aaplAtMark('T-3'))];
    await expectClientError(client.send(aaplAtMark('T-4')), 'pending_full');
    await waitFor('both frames at the server', () => fake.commandIds.length === 3);
    fake.dropAll();
    await expectClientError(a, 'connection_lost');
    await expectClientError(b, 'connection_lost');
    await waitFor('the reconnect', () => client.connected);
    expect(fake.commandIds).toHaveLength(3);
    expect(new Set(fake.commandIds).size).toBe(3);
    await client.close();
    await expectClientError(client.send(aaplAtMark('T-5')), 'closed');
    await fake.close();
  });

  it('reports a gap when the resume is older than the server window, and carries on live', async () => {
    const fake = await FakeGateway.start();
    const seen: number[] = [];
    const gaps: string[] = [];
    const oldest: number[] = [];
    const client = await OmsClient.connect(fake.url, TRADER, { ...fast, on_report: (r) => seen.push(r.seq), on_gap: (g) => { gaps.push(g.text); oldest.push(g.oldestSeq); } });
    fake.journal([fill('G', 1)]);
    await waitFor('1 report', () => seen.length === 1);
    fake.resumeTooOld = true;
    fake.dropAll();
    await waitFor('the client to notice', () => !client.connected);
    fake.journal([fill('G', 2)]);
    await waitFor('the gap', () => gaps.length === 1);
    await waitFor('the reconnect', () => client.connected);
    fake.journal([fill('G', 3)]);
    await waitFor('the live report', () => seen.includes(3));
    expect(seen).toEqual([1, 3]);
    expect(gaps[0]).toMatch(/retransmission window/);
    // The window's start comes as a field, so a client can resume from it without parsing text.
    expect(oldest[0]).toBe(2);
    await client.close();
    await fake.close();
  });
});
