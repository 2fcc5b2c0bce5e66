// The gateway end to end over real loopback sockets: the real service (core worker, LMDB journal on disk,
// replica, simulated venue, uWebSockets.js) started per suite, clients speaking the binary protocol.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, ExecType, OrdStatus, OrdType, RejectCode, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import type { CommandBody, NewOrderCmd } from '../schemas/commands.js';
import { encodeCommandCopy, stampCommandView } from '../schemas/commands.js';
import type { CommandResultData, ExecutionReportData } from '../schemas/results.js';
import { DEFAULT_DECODE_LIMITS } from '../core/decode.js';
import { DEMO } from '../core/demo.js';
import { stateHash } from '../core/state.js';
import type { Config } from '../gateway/config.js';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import type { ServerMessageData } from '../gateway/protocol.js';
import { decodeServerMessage, encodeSessionRequest, SessionStatusCode, SubscriptionScope } from '../gateway/protocol.js';
import type { ServiceHandle } from '../gateway/service.js';
import { startService } from '../gateway/service.js';
import { until } from './support/until.js';

const quiet = (): void => {};

function config(dir: string, overrides: { sim?: boolean; rate?: number } = {}): Config {
  return {
    ...DEFAULT_CONFIG,
    data: { dir },
    gateway: { ...DEFAULT_CONFIG.gateway, port: 0, messages_per_second_max: overrides.rate ?? 10_000, heartbeat_interval_ms: 1000 },
    core: { ...DEFAULT_CONFIG.core, tick_interval_ms: 200 },
    sim_venue: { ...DEFAULT_CONFIG.sim_venue, enabled: overrides.sim ?? true },
  };
}

/** A raw protocol client: collects every server message, sends frames. */
class Conn {
  readonly messages: ServerMessageData[] = [];
  private readonly builder = new flatbuffers.Builder(512);
  private requestId = 0;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.messages.push(decodeServerMessage(new Uint8Array(data))));
  }

  static open(port: number, token: string, how: 'header' | 'subprotocol' = 'header'): Promise<Conn> {
    const url = `ws://127.0.0.1:${port}/v1/ws`;
    const ws = how === 'header'
      ? new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
      : new WebSocket(url, ['oms.v1', `token.${token}`]);
    const conn = new Conn(ws);
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
      void conn.until((m) => m.kind === 'status' && m.status.code === SessionStatusCode.LoggedOn).then(() => resolve(conn), reject);
    });
  }

  /** Clients need not set time, user or session (the gateway stamps them); this one forges the latter two. */
  send(command: CommandBody): number {
    this.requestId += 1;
    this.ws.send(encodeCommandCopy(this.builder, { requestId: this.requestId, timeUs: 0, userId: 999, sessionId: 999, command }));
    return this.requestId;
  }

  sendRaw(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  session(request: Parameters<typeof encodeSessionRequest>[1]): void {
    this.ws.send(encodeSessionRequest(this.builder, request));
  }

  results(): CommandResultData[] {
    return this.messages.flatMap((m) => (m.kind === 'reports' ? m.results : []));
  }

  async until(predicate: (m: ServerMessageData) => boolean, timeout_ms = 5000): Promise<ServerMessageData> {
    const deadline = Date.now() + timeout_ms;
    while (Date.now() < deadline) {
      const found = this.messages.find(predicate);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('timed out waiting for a server message');
  }

  /** Waits until `count` results arrived (counted incrementally: the message list can be long). */
  async resultCount(count: number, timeout_ms: number): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    while (Date.now() < deadline) {
      let total = 0;
      for (const m of this.messages) if (m.kind === 'reports') total += m.results.length;
      if (total >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`timed out waiting for ${count} results`);
  }

  async answer(requestId: number): Promise<CommandResultData> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const found = this.results().find((r) => r.requestId === requestId);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no answer to request ${requestId}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

function order(clOrdId: string, partial: Partial<NewOrderCmd> = {}): NewOrderCmd {
  return {
    type: Command.NewOrder, clOrdId, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL, side: Side.Buy,
    ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty: 400, price: 19_000, stopPx: 0, expireTimeUs: 0,
    parentClOrdId: '', venueId: DEMO.venues.SIM, text: '', ...partial,
  };
}

const reportsOf = (results: CommandResultData[], clOrdId: string): ExecutionReportData[] =>
  results.flatMap((r) => r.events).filter((e): e is ExecutionReportData => e.kind === 'execution_report' && e.clOrdId === clOrdId);

const hashExceptSeq = (service: ServiceHandle): string => stateHash({ ...service.replica.core.state, lastSeq: 0 });

describe('gateway with the simulated venue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-gw-'));
  let service: ServiceHandle;
  beforeAll(async () => { service = await startService(config(dir), quiet); });
  afterAll(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a missing or unknown token and a foreign origin, and takes header or subprotocol tokens', async () => {
    await expect(Conn.open(service.port, 'not-a-token')).rejects.toThrow(/401/);
    await expect(new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${service.port}/v1/ws`);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('open', resolve);
    })).rejects.toThrow(/401/);
    await expect(new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${service.port}/v1/ws`, { headers: { authorization: 'Bearer demo-trader-token', origin: 'https://evil.example' } });
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('open', resolve);
    })).rejects.toThrow(/403/);
    const viaProtocol = await Conn.open(service.port, 'demo-trader-token', 'subprotocol');
    expect(viaProtocol.ws.protocol).toBe('oms.v1');
    await viaProtocol.close();
  });

  it('stamps identity from the token, answers the request id, and streams fills from the venue', async () => {
    const trader = await Conn.open(service.port, 'demo-trader-token');
    const requestId = trader.send(order('GW-1'));
    const answer = await trader.answer(requestId);
    // Read your writes: once acknowledged over the WebSocket, the order is in what the HTTP API reads (the
    // replica applies lazily, but before any read).
    const viaHttp = await fetch(`http://127.0.0.1:${service.port}/v1/orders/GW-1`, { headers: { authorization: 'Bearer demo-trader-token' } });
    expect(viaHttp.status).toBe(200);
    expect(((await viaHttp.json()) as { order: { cl_ord_id: string } }).order.cl_ord_id).toBe('GW-1');
    // The client claimed user 999 / session 999: the journal records the token's user.
    expect(answer.userId).toBe(DEMO.users.trader);
    expect(answer.seq).toBeGreaterThan(0);
    expect(reportsOf([answer], 'GW-1').map((e) => e.execType)).toEqual([ExecType.PendingNew]);
    expect(answer.events.some((e) => e.kind === 'venue_request')).toBe(false);
    await trader.until(() => reportsOf(trader.results(), 'GW-1').some((e) => e.ordStatus === OrdStatus.Filled), 8000);
    const final = reportsOf(trader.results(), 'GW-1').at(-1);
    expect({ cum: final?.cumQty, leaves: final?.leavesQty, avg: final?.avgPx }).toEqual({ cum: 400, leaves: 0, avg: 19_000 * 1e6 });
    const seqs = trader.results().map((r) => r.seq).filter((s) => s !== 0);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // The fills moved the position, and the position came with them: exact decimals, at the mark.
    const positions = trader.messages.flatMap((m) => (m.kind === 'positions' ? m.positions : []));
    expect(positions.at(-1)).toEqual(expect.objectContaining({
      accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL, qty: 400, cost: '76000.00', realisedPnl: '0.00',
      unrealisedPnl: '0.00', markPx: 19_000, currency: 'USD',
    }));
    await trader.close();
  });

  it('refuses what a user may not do, with a code, and changes nothing', async () => {
    const trader = await Conn.open(service.port, 'demo-trader-income-token');
    const before = hashExceptSeq(service);
    const answer = await trader.answer(trader.send(order('GW-NE', { accountId: DEMO.accounts.GROWTH })));
    expect(answer.events).toEqual([expect.objectContaining({ kind: 'execution_report', execType: ExecType.Rejected, ordRejReason: RejectCode.NotEntitled })]);
    const middle = await Conn.open(service.port, 'demo-middle-token');
    const refused = await middle.answer(middle.send(order('GW-MO')));
    expect(refused.events).toEqual([expect.objectContaining({ kind: 'command_reject', rejectCode: RejectCode.NotAuthorised })]);
    middle.session({ kind: 'subscribe', requestId: 77, scope: SubscriptionScope.Account, accountId: 999 });
    const status = await middle.until((m) => m.kind === 'status' && m.status.requestId === 77);
    expect(status.kind === 'status' && status.status.code).toBe(SessionStatusCode.Error);
    // Only the gateway stamps a frame with a user: a client's own stamp claiming the GROWTH trader is refused.
    const forged = stampCommandView({ timeUs: 1, userId: DEMO.users.trader, sessionId: 1 }, encodeCommandCopy(new flatbuffers.Builder(256), {
      requestId: 31, timeUs: 1, userId: DEMO.users.trader, sessionId: 1, command: order('GW-FORGED', { accountId: DEMO.accounts.GROWTH }),
    })).slice();
    const answered = trader.results().length;
    trader.sendRaw(forged);
    await trader.resultCount(answered + 1, 5000);
    expect(trader.results().at(-1)).toMatchObject({ seq: 0, events: [expect.objectContaining({ kind: 'command_reject', rejectCode: RejectCode.MalformedFrame })] });
    expect(service.replica.core.state.ordersByClOrdId.has('GW-FORGED')).toBe(false);
    expect(hashExceptSeq(service)).toBe(before);
    await Promise.all([trader.close(), middle.close()]);
  });

  it('resumes after a reconnect with every missed report exactly once', async () => {
    const first = await Conn.open(service.port, 'demo-trader-token');
    const answer = await first.answer(first.send(order('GW-R1', { orderQty: 1000 })));
    const lastSeen = answer.seq;
    const other = await Conn.open(service.port, 'demo-trader-token');
    await other.answer(other.send(order('GW-R-DUP')));
    await other.answer(other.send(order('GW-R-DUP')));
    await other.close();
    await first.close();
    // Reports for GW-R1 keep coming while nobody listens (acks and sliced fills of the simulated venue).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const second = await Conn.open(service.port, 'demo-trader-token');
    second.session({ kind: 'resume', requestId: 5, afterSeq: lastSeen });
    await second.until((m) => m.kind === 'status' && m.status.code === SessionStatusCode.ResumeComplete);
    const replayed = reportsOf(second.results(), 'GW-R1');
    expect(replayed.at(-1)?.ordStatus).toBe(OrdStatus.Filled);
    expect(replayed.reduce((sum, e) => sum + e.lastQty, 0)).toBe(1000);
    const seqs = second.results().map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(Math.min(...seqs)).toBeGreaterThan(lastSeen);
    // The user's own refusals come back too: the connection that would have received them may be the lost one.
    expect(second.results().some((r) => r.events.some((e) => e.kind === 'execution_report' && e.clOrdId === 'GW-R-DUP' && e.ordRejReason === RejectCode.DuplicateOrder))).toBe(true);
    // The retransmission window starts with this process: older resumes are told to resync, not given a gap.
    second.session({ kind: 'resume', requestId: 6, afterSeq: 0 });
    const tooOld = await second.until((m) => m.kind === 'status' && m.status.requestId === 6);
    expect(tooOld.kind === 'status' && tooOld.status.code).toBe(SessionStatusCode.ResumeTooOld);
    expect(tooOld.kind === 'status' && tooOld.status.oldestSeq).toBeGreaterThan(0);
    await second.close();
  });

  it('survives 10,000 random and mutated frames from a read-only user, changing nothing', async () => {
    const middle = await Conn.open(service.port, 'demo-middle-token');
    const valid = encodeCommandCopy(new flatbuffers.Builder(256), { requestId: 1, timeUs: 1, userId: 0, sessionId: 0, command: order('FZ') });
    const before = hashExceptSeq(service);
    let seed = 12345;
    const random = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let i = 0; i < 10_000; i++) {
      const frame = i % 2 === 0 ? Uint8Array.from(valid) : new Uint8Array(1 + (random() % 200));
      if (i % 2 === 0) for (let k = 0; k < 1 + (random() % 4); k++) frame[random() % frame.length] = random() & 0xff;
      else for (let k = 0; k < frame.length; k++) frame[k] = random() & 0xff;
      middle.sendRaw(frame);
    }
    await middle.resultCount(10_000, 20_000);
    // Each frame got exactly one answer, and none of them was accepted.
    expect(middle.results()).toHaveLength(10_000);
    expect(middle.results().every((r) => r.events.every((e) => e.kind === 'command_reject' || (e.kind === 'execution_report' && e.execType === ExecType.Rejected)))).toBe(true);
    expect(hashExceptSeq(service)).toBe(before);
    // A frame over max_payload_bytes closes only the offending socket (uWS drops it: no close frame, 1006).
    const oversized = await Conn.open(service.port, 'demo-middle-token');
    const closed = new Promise<number>((resolve) => oversized.ws.once('close', (code) => resolve(code)));
    oversized.sendRaw(new Uint8Array(DEFAULT_CONFIG.gateway.max_payload_bytes + 1));
    expect(await closed).toBe(1006);
    const still = await Conn.open(service.port, 'demo-trader-token');
    expect((await still.answer(still.send(order('GW-AFTER')))).seq).toBeGreaterThan(0);
    await Promise.all([middle.close(), still.close()]);
  }, 40_000);

  it('serves /health, /ready and /metrics with the flow just run', async () => {
    // The simulated venue keeps the journal moving (its orders fill, Ticks): seqs are bracketed by reads
    // taken around each request, and core and replica are compared at a scrape where both stand at one seq.
    const base = `http://127.0.0.1:${service.port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const missing = await fetch(`${base}/no/such/route`);
    expect({ status: missing.status, type: missing.headers.get('content-type') }).toEqual({ status: 404, type: 'application/problem+json' });
    const seqBeforeReady = service.replica.lastSeq();
    const ready = await (await fetch(`${base}/ready`)).json() as { ready: boolean; last_seq: number };
    expect(ready.ready).toBe(true);
    expect(ready.last_seq).toBeGreaterThanOrEqual(seqBeforeReady);
    expect(ready.last_seq).toBeLessThanOrEqual(service.replica.lastSeq());
    const seqBeforeScrape = service.replica.lastSeq();
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('oms_ws_connections_total')).toBeGreaterThanOrEqual(8);
    expect(value('oms_journal_last_seq')).toBeGreaterThanOrEqual(seqBeforeScrape);
    expect(value('oms_journal_last_seq')).toBeLessThanOrEqual(service.replica.lastSeq());
    expect(value('oms_ws_messages_received_total')).toBeGreaterThanOrEqual(10_000);
    expect(text).toMatch(/^oms_rejects_total\{reason="NotAuthorised"\} \d+/m);
    expect(Number(/^oms_commands_total\{type="NewOrder"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(3);
    expect(Number(/^oms_commands_total\{type="VenueExecReport"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(3);
    expect(text).toMatch(/^oms_command_latency_seconds_bucket\{le="0.001"\} \d+/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(Number(/^oms_ws_closes_total\{reason="abnormal"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    // The core worker's metrics come in the same scrape, and agree with the replica.
    expect(value('oms_core_last_seq')).toBeGreaterThanOrEqual(seqBeforeScrape);
    expect(value('oms_core_commands_journaled_total')).toBeGreaterThan(0);
    expect(value('oms_core_journal_commit_seconds_count')).toBeGreaterThan(0);
    expect(value('oms_core_journal_commit_seconds_count')).toBeLessThanOrEqual(value('oms_core_batches_total'));
    const aligned = await until('a scrape with core and replica at one seq', async () => {
      const scraped = await (await fetch(`${base}/metrics`)).text();
      const at = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(scraped)?.[1] ?? NaN);
      const replica = service.replica;
      return at('oms_core_last_seq') === replica.lastSeq() ? { core: at('oms_core_open_orders'), replica: replica.core.state.openOrders.size } : undefined;
    });
    expect(aligned.core).toBe(aligned.replica);
  });
});

describe('gateway limits and shutdown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-gw2-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a flood over the per-connection rate, cancels on disconnect, and keeps every acknowledged order across a restart', async () => {
    let service = await startService(config(dir, { sim: false, rate: 50 }), quiet);
    const flood = await Conn.open(service.port, 'demo-middle-token');
    for (let i = 0; i < 200; i++) flood.send({ type: Command.Tick, kind: 1 });
    await flood.resultCount(200, 5000);
    expect(flood.results().filter((r) => r.events.some((e) => e.kind === 'command_reject' && e.rejectCode === RejectCode.RateLimited)).length).toBeGreaterThanOrEqual(100);
    await flood.close();

    // Another session of the same user: its orders are not the disconnecting session's to cancel.
    const other = await Conn.open(service.port, 'demo-trader-token');
    const others: string[] = [];
    for (let i = 0; i < 3; i++) {
      if ((await other.answer(other.send(order(`SD-OTHER-${i}`)))).seq > 0) others.push(`SD-OTHER-${i}`);
    }
    expect(others).toHaveLength(3);
    const trader = await Conn.open(service.port, 'demo-trader-token');
    trader.session({ kind: 'cancel_on_disconnect', requestId: 3, enabled: true });
    const acknowledged = await trader.until((m) => m.kind === 'status' && m.status.requestId === 3);
    expect(acknowledged.kind === 'status' && acknowledged.status.code).toBe(SessionStatusCode.Ok);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await trader.answer(trader.send(order(`SD-${i}`)));
      if (answer.seq > 0) acked.push(`SD-${i}`);
    }
    expect(acked).toHaveLength(20);
    await trader.close();
    // Without a venue session the placements stay PendingNew; the disconnect must have asked to cancel each.
    const state = service.replica.core.state;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && acked.some((id) => state.ordersByClOrdId.get(id)?.pending === null)) await new Promise((r) => setTimeout(r, 20));
    expect(acked.map((id) => state.ordersByClOrdId.get(id)?.pending?.kind)).toEqual(acked.map(() => 1));
    expect(others.map((id) => state.ordersByClOrdId.get(id)?.pending ?? null)).toEqual(others.map(() => null));
    await other.close();
    const hash = service.replica.core.hash();
    await service.close();

    service = await startService(config(dir, { sim: false }), quiet);
    expect(service.host.recovery.state_hash).toBe(hash);
    for (const id of acked) expect(service.replica.core.state.ordersByClOrdId.has(id)).toBe(true);
    await service.close();
  }, 30_000);
});

describe('gateway under pressure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-gw3-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('closes a slow consumer at its backpressure limit while another client keeps trading, with memory bounded', async () => {
    const cfg = config(dir, { sim: false, rate: 1_000_000 });
    const service = await startService({ ...cfg, gateway: { ...cfg.gateway, max_backpressure_bytes: 64 * 1024 } }, quiet);
    try {
      const slow = await Conn.open(service.port, 'demo-middle-token');
      slow.session({ kind: 'subscribe', requestId: 1, scope: SubscriptionScope.Account, accountId: DEMO.accounts.GROWTH });
      await slow.until((m) => m.kind === 'status' && m.status.requestId === 1);
      // Stop reading. Loopback socket buffers absorb several MB first, so the flood below is ~20 MB of reports
      // (the gateway batches a turn's reports into few messages, so the bytes are mostly the reports' own).
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const slowClosed = new Promise<void>((resolve) => slow.ws.once('close', () => resolve()));
      const trader = await Conn.open(service.port, 'demo-trader-token');
      const rssBefore = process.memoryUsage().rss;
      const latencies: number[] = [];
      const count = 45_000;
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        const requestId = trader.send(order(`SC-${i}`, { text: 'x'.repeat(250) }));
        if (i % 500 === 0) {
          await trader.answer(requestId);
          latencies.push(performance.now() - started);
        }
      }
      await trader.resultCount(count, 30_000);
      const metricsText = await service.metrics.registry.metrics();
      expect(Number(/^oms_ws_backpressure_drops_total (\S+)$/m.exec(metricsText)?.[1] ?? 0)).toBeGreaterThan(0);
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      await slowClosed;
      // The fast client was answered throughout, and the server did not buffer the slow one without bound.
      expect(trader.results().filter((r) => r.seq > 0)).toHaveLength(count);
      expect(Math.max(...latencies)).toBeLessThan(2000);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
      await trader.close();
    } finally {
      await service.close();
    }
  }, 60_000);

  it('shuts down gracefully under load and keeps every acknowledged order', async () => {
    let service = await startService(config(dir, { sim: false, rate: 1_000_000 }), quiet);
    const trader = await Conn.open(service.port, 'demo-trader-token');
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending && i < 100_000; i++) {
        trader.send(order(`GS-${i}`));
        if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await service.close();
    sending = false;
    await sender;
    const acknowledged = trader.results().filter((r) => r.seq > 0)
      .flatMap((r) => r.events).filter((e): e is ExecutionReportData => e.kind === 'execution_report').map((e) => e.clOrdId);
    expect(acknowledged.length).toBeGreaterThan(100);
    service = await startService(config(dir, { sim: false }), quiet);
    const state = service.replica.core.state;
    expect(acknowledged.filter((id) => !state.ordersByClOrdId.has(id))).toEqual([]);
    await service.close();
  }, 30_000);
});

describe('gateway with max_payload_bytes above the core frame limit', () => {
  it('answers a command over the core limit itself, with its request id, and journals nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-gw-big-'));
    const base = config(dir, { sim: false });
    const service = await startService({ ...base, gateway: { ...base.gateway, max_payload_bytes: 16_384 } }, quiet);
    try {
      const trader = await Conn.open(service.port, 'demo-trader-token');
      const frame = encodeCommandCopy(new flatbuffers.Builder(256), { requestId: 4242, timeUs: 0, userId: 0, sessionId: 0, command: order('GW-BIG') });
      const padded = new Uint8Array(DEFAULT_DECODE_LIMITS.frame_bytes_max + 1);
      padded.set(frame);
      const lastSeq = service.replica.lastSeq();
      trader.sendRaw(padded);
      const answer = await trader.answer(4242);
      expect(answer).toMatchObject({ seq: 0, events: [expect.objectContaining({ kind: 'command_reject', rejectCode: RejectCode.OversizedFrame })] });
      // The same frame at the limit is taken.
      const atLimit = padded.subarray(0, DEFAULT_DECODE_LIMITS.frame_bytes_max);
      const second = encodeCommandCopy(new flatbuffers.Builder(256), { requestId: 4243, timeUs: 0, userId: 0, sessionId: 0, command: order('GW-AT-LIMIT') });
      atLimit.fill(0);
      atLimit.set(second);
      trader.sendRaw(atLimit.slice());
      expect((await trader.answer(4243)).seq).toBeGreaterThan(lastSeq);
      expect(service.replica.core.state.ordersByClOrdId.has('GW-BIG')).toBe(false);
      await trader.close();
    } finally {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
