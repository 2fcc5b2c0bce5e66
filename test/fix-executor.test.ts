// FIX venue adapter against a real FIX engine: QuickFIX's C++ `executor` (Debian's libquickfix, built by
// test/support/quickfix-executor.ts) on a loopback port, and the real OMS service (core worker, LMDB journal,
// replica, uWebSockets.js) placing orders through its HTTP API. The executor fills limit orders at their price
// in one ExecutionReport, refuses market orders with a session-level Reject and answers cancels with a
// BusinessMessageReject (unsupported message type).

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../core/demo.js';
import type { Config } from '../gateway/config.js';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import type { ServiceHandle } from '../gateway/service.js';
import { startService } from '../gateway/service.js';
import type { FixVenueConfig } from '../venue/fix-venue-config.js';
import { FIX_VENUE_DEFAULTS } from '../venue/fix-venue-config.js';
import type { ExecutorHandle } from './support/quickfix-executor.js';
import { buildExecutor, pickFreePort, startExecutor } from './support/quickfix-executor.js';
import { until } from './support/until.js';

const VENUE_ID = 2;
const TRADER = 'demo-trader-token';
const ADMIN = 'demo-admin-token';

interface OrderView {
  cl_ord_id: string;
  status: string;
  cum_qty: string;
  leaves_qty: string;
  avg_px: string | null;
}

interface VenueView {
  venue_id: number;
  name: string;
  state: string;
  logged_on: boolean;
  next_sender_seq: number;
  durable_target_seq: number;
  messages_in: number;
  messages_out: number;
  rejects_in: number;
  logons: number;
}

function venueConfig(port: number): FixVenueConfig {
  return {
    ...FIX_VENUE_DEFAULTS, venue_id: VENUE_ID, name: 'EXEC', host: '127.0.0.1', port, sender_comp_id: 'OMS', target_comp_id: 'EXEC',
    heartbeat_interval_s: 5, reconnect_backoff_ms_min: 100, reconnect_backoff_ms_max: 500, logon_timeout_ms: 5000,
  };
}

function config(dir: string, port: number): Config {
  return {
    ...DEFAULT_CONFIG, data: { dir }, gateway: { ...DEFAULT_CONFIG.gateway, port: 0 }, fix: { venues: [venueConfig(port)] },
  };
}

class Api {
  constructor(readonly base: string) {}
  async call<T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(this.base + path, {
      method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  }
  async order(clOrdId: string): Promise<OrderView> {
    return (await this.call<{ order: OrderView }>('GET', `/v1/orders/${clOrdId}`, TRADER)).body.order;
  }
  async venue(): Promise<VenueView> {
    const answer = await this.call<{ venues: VenueView[] }>('GET', '/v1/venues', ADMIN);
    const venue = answer.body.venues.find((v) => v.venue_id === VENUE_ID);
    if (venue === undefined) throw new Error('venue missing from /v1/venues');
    return venue;
  }
  place(clOrdId: string, fields: Record<string, unknown> = {}): Promise<{ status: number; body: unknown }> {
    return this.call('POST', '/v1/orders', TRADER, {
      cl_ord_id: clOrdId, account_id: DEMO.accounts.GROWTH, symbol: 'AAPL', side: 'buy', qty: '100', price: '190.10', venue_id: VENUE_ID, ...fields,
    });
  }
}


const loggedOn = (api: Api, logonsAtLeast = 1): Promise<VenueView> =>
  until('venue logon', async () => {
    const v = await api.venue();
    return v.logged_on && v.logons >= logonsAtLeast ? v : undefined;
  });

const orderIn = (api: Api, clOrdId: string, status: string): Promise<OrderView> =>
  until(`${clOrdId} ${status}`, async () => {
    const order = await api.order(clOrdId);
    return order.status === status ? order : undefined;
  });

describe('FIX venue against QuickFIX executor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-fix-exec-'));
  let executor: ExecutorHandle;
  let service: ServiceHandle;
  let api: Api;
  const logs: Array<Record<string, unknown>> = [];

  async function startOms(): Promise<void> {
    service = await startService(config(join(dir, 'oms'), executor.port), (fields) => logs.push(fields));
    api = new Api(`http://127.0.0.1:${service.port}`);
  }

  beforeAll(async () => {
    await buildExecutor();
    executor = await startExecutor({ port: 0, senderCompId: 'EXEC', targetCompId: 'OMS', dataDir: join(dir, 'executor') });
    await startOms();
  }, 120_000);

  afterAll(async () => {
    if (process.env.FIX_TEST_LOG === '1') for (const line of logs) if (String(line.event).startsWith('fix') || String(line.event).includes('venue')) console.log(JSON.stringify(line));
    await service?.close();
    await executor?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs on and fills a limit order at its price', async () => {
    await loggedOn(api);
    expect((await api.place('FIX-L1')).status).toBe(201);
    const order = await orderIn(api, 'FIX-L1', 'Filled');
    expect(order).toMatchObject({ cum_qty: '100', leaves_qty: '0', avg_px: '190.10' });
  });

  it('routes a child placement of a parent order to the FIX venue it names; the fill rolls up', async () => {
    const parent = await api.call('POST', '/v1/orders', 'demo-pm-token', {
      cl_ord_id: 'FIX-P1', account_id: DEMO.accounts.GROWTH, symbol: 'AAPL', side: 'buy', qty: '50', price: '190.10',
    });
    expect(parent.status).toBe(201);
    const child = await api.call('POST', '/v1/orders/FIX-P1/children', TRADER, { cl_ord_id: 'FIX-P1-C1', qty: '20', price: '190.10', venue_id: VENUE_ID });
    expect(child.status).toBe(201);
    expect(await orderIn(api, 'FIX-P1-C1', 'Filled')).toMatchObject({ cum_qty: '20' });
    expect(await orderIn(api, 'FIX-P1', 'PartiallyFilled')).toMatchObject({ cum_qty: '20', leaves_qty: '30', avg_px: '190.10' });
  });

  it('shows the session in /metrics', async () => {
    await loggedOn(api);
    const text = await (await fetch(`${api.base}/metrics`)).text();
    expect(text).toMatch(/^oms_fix_logged_on\{venue="EXEC"\} 1$/m);
    expect(Number(/^oms_fix_messages_sent_total\{venue="EXEC"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(2);
    expect(Number(/^oms_fix_next_sender_seq\{venue="EXEC"\} (\d+)$/m.exec(text)?.[1])).toBe((await api.venue()).next_sender_seq);
  });

  it('a market order is refused by the venue and the reject reaches the client with its text', async () => {
    expect((await api.place('FIX-M1', { ord_type: 'market', price: undefined })).status).toBe(201);
    const order = await orderIn(api, 'FIX-M1', 'Rejected');
    expect(order).toMatchObject({ cum_qty: '0', leaves_qty: '0' });
    const history = await api.call<{ history: Array<{ reports?: Array<{ exec_type: string; text: string; ord_rej_reason?: string }> }> }>('GET', '/v1/orders/FIX-M1/history', TRADER);
    expect(JSON.stringify(history.body)).toContain('Value is incorrect');
  });

  it('the OMS restarted mid-session resumes with the right sequence numbers and no duplicated fill', async () => {
    const before = await loggedOn(api);
    await service.close();
    await startOms();
    const after = await loggedOn(api);
    // The logon continued the numbering: nothing was reset, so the executor accepted it.
    expect(after.next_sender_seq).toBeGreaterThan(before.next_sender_seq);
    expect(readFileSync(join(dir, 'executor', 'executor.log'), 'utf8')).not.toMatch(/MsgSeqNum too low/);
    expect((await api.order('FIX-L1'))).toMatchObject({ status: 'Filled', cum_qty: '100' });
    expect((await api.place('FIX-L2', { qty: '7' })).status).toBe(201);
    expect(await orderIn(api, 'FIX-L2', 'Filled')).toMatchObject({ cum_qty: '7', avg_px: '190.10' });
    const positions = await api.call<{ positions: Array<{ account_id: number; symbol: string; qty: string }> }>('GET', `/v1/positions?account_id=${DEMO.accounts.GROWTH}`, TRADER);
    const aapl = positions.body.positions.find((p) => p.symbol === 'AAPL');
    expect(aapl?.qty).toBe('127'); // FIX-L1 100 + the child FIX-P1-C1 20 + FIX-L2 7, each once
  });

  it('the executor restarted forces a reconnect and a clean resume (its ExecIDs restart at 1: no fill is dropped)', async () => {
    const before = await loggedOn(api);
    await executor.restart();
    await loggedOn(api, before.logons + 1);
    expect((await api.place('FIX-L3', { qty: '3' })).status).toBe(201);
    expect(await orderIn(api, 'FIX-L3', 'Filled')).toMatchObject({ cum_qty: '3' });
  });

  it('an admin disconnects and reconnects the venue; orders meanwhile are refused, not lost', async () => {
    const before = await loggedOn(api);
    expect((await api.call('POST', `/v1/venues/${VENUE_ID}/disconnect`, ADMIN)).status).toBe(200);
    await until('logged out', async () => ((await api.venue()).state === 'admin_down' ? true : undefined));
    expect((await api.place('FIX-D1')).status).toBe(201);
    const refused = await orderIn(api, 'FIX-D1', 'Rejected');
    expect(refused.cum_qty).toBe('0');
    expect((await api.call('POST', `/v1/venues/${VENUE_ID}/disconnect`, TRADER)).status).toBe(403);
    expect((await api.call('POST', `/v1/venues/${VENUE_ID}/connect`, ADMIN)).status).toBe(200);
    await loggedOn(api, before.logons + 1);
    expect((await api.place('FIX-D2')).status).toBe(201);
    await orderIn(api, 'FIX-D2', 'Filled');
  });
});

// ---- the OMS process killed while orders are in flight to the venue ----------------------------------------

interface OmsProcess {
  child: ChildProcess;
  lines: string[];
}

const MAIN = fileURLToPath(new URL('../gateway/main.ts', import.meta.url));
const KILL_ORDERS = 40;

function spawnOms(configPath: string): OmsProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (chunk: Buffer) => lines.push(`stderr: ${chunk.toString('utf8')}`));
  return { child, lines };
}

async function loggedOnCount(oms: OmsProcess, count: number): Promise<void> {
  await until(`OMS logon #${count}`, async () => (oms.lines.filter((l) => l.includes('"event":"fix_logon"')).length >= count ? true : undefined));
}

function killed(oms: OmsProcess): Promise<void> {
  return new Promise((resolve) => {
    oms.child.once('exit', () => resolve());
    oms.child.kill('SIGKILL');
  });
}

describe('FIX venue: the OMS killed (SIGKILL) with orders in flight to QuickFIX executor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-fix-kill-'));
  let executor: ExecutorHandle;
  let oms: OmsProcess | null = null;

  afterAll(async () => {
    if (oms !== null && oms.child.exitCode === null) await killed(oms);
    await executor?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged order, applies every fill exactly once, guesses no outcome, and resumes the sequence numbers', async () => {
    await buildExecutor();
    executor = await startExecutor({ port: 0, senderCompId: 'EXEC', targetCompId: 'OMS', dataDir: join(dir, 'executor') });
    const port = await pickFreePort();
    const configPath = join(dir, 'oms.json');
    writeFileSync(configPath, JSON.stringify({ data: { dir: join(dir, 'oms') }, gateway: { port }, fix: { venues: [venueConfig(executor.port)] } }));
    oms = spawnOms(configPath);
    await loggedOnCount(oms, 1);
    const api = new Api(`http://127.0.0.1:${port}`);
    // Orders go out as fast as the API takes them; the process is killed when half are acknowledged, so some
    // are filled and journaled, some filled at the venue but not yet journaled, some not yet sent.
    const acknowledged: string[] = [];
    let killAt: Promise<void> | null = null;
    const placing = Array.from({ length: KILL_ORDERS }, (_, i) => `K${i}`).map(async (clOrdId) => {
      try {
        const answer = await api.place(clOrdId, { qty: '10' });
        if (answer.status === 201) acknowledged.push(clOrdId);
        if (acknowledged.length === KILL_ORDERS / 2 && oms !== null) killAt ??= killed(oms);
      } catch {
        // The connection died with the process: not acknowledged, so nothing is owed.
      }
    });
    await Promise.all(placing);
    await (killAt ?? killed(oms));
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_ORDERS / 2);

    oms = spawnOms(configPath);
    await loggedOnCount(oms, 1);
    // Settled when everything the executor has sent is handled: its next MsgSeqNum (its store) is below the
    // OMS's durable incoming watermark.
    await until('every venue message journaled', async () => {
      const venueNextSeq = Number(readFileSync(join(executor.storeDir, 'FIX.4.4-EXEC-OMS.seqnums'), 'utf8').split(':')[0]);
      return (await api.venue()).durable_target_seq >= venueNextSeq ? true : undefined;
    });
    // Orders the process journaled but could not answer before it died exist too; every acknowledged one must.
    const answers = await Promise.all(Array.from({ length: KILL_ORDERS }, (_, i) => api.call<{ order: OrderView }>('GET', `/v1/orders/K${i}`, TRADER)));
    const journaled = answers.filter((a) => a.status === 200).map((a) => a.body.order);
    expect(journaled.map((o) => o.cl_ord_id)).toEqual(expect.arrayContaining(acknowledged));
    for (const order of journaled) {
      // Filled exactly once (the core refuses an overfill, so a doubled fill shows as a refused command, never
      // as 20), or still PendingNew: sent before the kill and not answered, or never sent; the executor cannot
      // answer an OrderStatusRequest, so the OMS does not guess.
      expect({ id: order.cl_ord_id, status: order.status, cum: order.status === 'Filled' ? order.cum_qty : '0' })
        .toEqual({ id: order.cl_ord_id, status: expect.stringMatching(/^(Filled|PendingNew)$/), cum: order.status === 'Filled' ? '10' : '0' });
    }
    const filledQty = journaled.filter((o) => o.status === 'Filled').length * 10;
    const positions = await api.call<{ positions: Array<{ symbol: string; qty: string }> }>('GET', `/v1/positions?account_id=${DEMO.accounts.GROWTH}`, TRADER);
    expect(positions.body.positions.find((p) => p.symbol === 'AAPL')?.qty ?? '0').toBe(String(filledQty));
    expect(filledQty).toBeGreaterThan(0);
    const executorLog = readFileSync(join(dir, 'executor', 'executor.log'), 'utf8');
    const tooLow = executorLog.indexOf('MsgSeqNum too low');
    expect(tooLow, executorLog.slice(Math.max(0, tooLow - 3000), tooLow + 500).replaceAll('\x01', '|')).toBe(-1);
    // After the restart the session goes on: a new order fills.
    expect((await api.place('K-AFTER', { qty: '1' })).status).toBe(201);
    await orderIn(api, 'K-AFTER', 'Filled');
  }, 90_000);
});

describe('FIX venues: several at once, one resetting its sequence numbers at every logon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-fix-two-'));
  const executors: ExecutorHandle[] = [];
  let service: ServiceHandle | null = null;

  afterAll(async () => {
    await service?.close();
    for (const executor of executors) await executor.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes each order to the venue it names, and the resetting venue starts again at 1 after a restart', async () => {
    await buildExecutor();
    executors.push(await startExecutor({ port: 0, senderCompId: 'EXEC', targetCompId: 'OMS', dataDir: join(dir, 'exec-a') }));
    executors.push(await startExecutor({ port: 0, senderCompId: 'EXECB', targetCompId: 'OMS', dataDir: join(dir, 'exec-b'), resetOnLogon: true }));
    const venueB: FixVenueConfig = { ...venueConfig(executors[1].port), venue_id: 4, name: 'EXEC_B', target_comp_id: 'EXECB', reset_seq_num_on_logon: true };
    const cfg: Config = { ...config(join(dir, 'oms'), executors[0].port), fix: { venues: [venueConfig(executors[0].port), venueB] } };
    const start = async (): Promise<Api> => {
      service = await startService(cfg, () => {});
      const api = new Api(`http://127.0.0.1:${service.port}`);
      await until('both venues logged on', async () => {
        const venues = (await api.call<{ venues: VenueView[] }>('GET', '/v1/venues', ADMIN)).body.venues;
        return venues.length === 2 && venues.every((v) => v.logged_on) ? venues : undefined;
      });
      return api;
    };
    let api = await start();
    expect((await api.place('TWO-A', { qty: '5' })).status).toBe(201);
    expect((await api.place('TWO-B', { qty: '6', venue_id: 4 })).status).toBe(201);
    expect(await orderIn(api, 'TWO-A', 'Filled')).toMatchObject({ cum_qty: '5' });
    expect(await orderIn(api, 'TWO-B', 'Filled')).toMatchObject({ cum_qty: '6' });
    expect(readFileSync(join(dir, 'exec-b', 'executor.log'), 'utf8')).toContain('11=TWO-B');
    expect(readFileSync(join(dir, 'exec-a', 'executor.log'), 'utf8')).not.toContain('11=TWO-B');

    await service?.close();
    api = await start();
    const venues = (await api.call<{ venues: VenueView[] }>('GET', '/v1/venues', ADMIN)).body.venues;
    const [a, b] = [venues.find((v) => v.venue_id === VENUE_ID), venues.find((v) => v.venue_id === 4)];
    // A continues its numbering (Logon, the order, ... then the new Logon); B's new Logon went out as 1.
    expect(a?.next_sender_seq).toBeGreaterThan(3);
    expect(b?.logged_on).toBe(true);
    // Both of B's logons (first start and restart) went out as MsgSeqNum 1 with ResetSeqNumFlag=Y.
    expect(readFileSync(join(dir, 'exec-b', 'executor.log'), 'utf8').match(/35=A\x0149=OMS\x0156=EXECB\x0134=1\x01[^\n]*141=Y/g)).toHaveLength(2);
    expect((await api.place('TWO-B2', { qty: '1', venue_id: 4 })).status).toBe(201);
    await orderIn(api, 'TWO-B2', 'Filled');
  }, 60_000);
});
