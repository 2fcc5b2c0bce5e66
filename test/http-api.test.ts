// The HTTP JSON API end to end: the real service (core worker, LMDB journal in a temp folder, replica,
// simulated venue, uWebSockets.js on port 0) and Node's fetch. Orders placed at the simulated venue fill at
// their limit price, sometimes in slices over ~2 s, so fills are polled for.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RejectCode } from '../schemas/generated/oms_generated.js';
import { DEMO } from '../core/demo.js';
import type { Config } from '../gateway/config.js';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import { HTTP_BODY_BYTES_MAX, HTTP_ROUTES, HTTP_SESSION_ID } from '../gateway/http-api.js';
import type { ProblemBody } from '../gateway/http-api.js';
import type { ServiceHandle } from '../gateway/service.js';
import { startService } from '../gateway/service.js';

// History must replay in the Piscina pool, never on this (the gateway's) thread: count replays made here.
const mainThreadReplays = vi.hoisted(() => ({ count: 0 }));
vi.mock('../persistence/audit.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../persistence/audit.js')>();
  return {
    ...actual,
    orderHistory: (...args: Parameters<typeof actual.orderHistory>) => {
      mainThreadReplays.count += 1;
      return actual.orderHistory(...args);
    },
    orderHistoryFrom: (...args: Parameters<typeof actual.orderHistoryFrom>) => {
      mainThreadReplays.count += 1;
      return actual.orderHistoryFrom(...args);
    },
  };
});

const TOKENS = {
  pm: 'demo-pm-token', trader: 'demo-trader-token', traderIncome: 'demo-trader-income-token', middle: 'demo-middle-token',
  compliance: 'demo-compliance-token', admin: 'demo-admin-token',
} as const;
const { GROWTH, INCOME, MACRO } = DEMO.accounts;
const SIM = DEMO.venues.SIM;
const FILL_WAIT_MS = 8_000;

// ---- the shapes this test reads -------------------------------------------------------------------------------

type Problem = ProblemBody;

interface OrderView {
  order_id: number;
  cl_ord_id: string;
  account_id: number;
  status: string;
  open: boolean;
  qty: string;
  price: string | null;
  cum_qty: string;
  leaves_qty: string;
  avg_px: string | null;
  parent_cl_ord_id: string | null;
  child_committed_qty: string | null;
  transact_time: string;
  raw: { order_qty: number; price: number; cum_qty: number };
}

interface ReportView {
  exec_type: string;
  ord_status: string;
  cl_ord_id: string;
}

interface OrderAnswer {
  seq: number;
  reports: ReportView[];
  order: OrderView;
}

interface OrderPage {
  orders: OrderView[];
  next_cursor: string | null;
}

interface PositionView {
  account_id: number;
  symbol: string;
  qty: string;
  avg_cost: string | null;
  realised_pnl: string;
  unrealised_pnl: string | null;
  mark: string | null;
  currency: string;
  raw: { qty: number };
}

interface HistoryAnswer {
  order: OrderView;
  original_cl_ord_id: string;
  truncated: boolean;
  history: Array<{ seq: number; time: string; time_us: number; user_id: number; user_name: string | null; session_id: number; command: { type: string } }>;
}

interface LimitSetView {
  scope: string;
  scope_id: number;
  max_order_qty: string | null;
  max_order_notional: string | null;
  price_collar_bps: number | null;
}

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
}

interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

// ---- helpers ------------------------------------------------------------------------------------------------------

function config(dir: string): Config {
  return {
    ...DEFAULT_CONFIG,
    data: { dir },
    gateway: { ...DEFAULT_CONFIG.gateway, port: 0 },
    core: { ...DEFAULT_CONFIG.core, tick_interval_ms: 250 },
  };
}

let base = '';

async function api<T>(method: string, path: string, token: string | null, body?: unknown): Promise<Answer<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(base + path, {
    method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

const post = <T>(path: string, token: string, body: unknown): Promise<Answer<T>> => api<T>('POST', path, token, body);
const get = <T>(path: string, token: string): Promise<Answer<T>> => api<T>('GET', path, token);

function expectProblem(answer: Answer<unknown>, status: number, code: RejectCode): void {
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.status).toBe(status);
  const problem = answer.body as Problem;
  expect({ status: problem.status, code: problem.reject_code_name }).toEqual({ status, code: RejectCode[code] });
  expect(problem.reject_code).toBe(code);
  expect(typeof problem.detail).toBe('string');
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeout_ms = FILL_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function orderOf(clOrdId: string, token: string): Promise<OrderView> {
  const answer = await get<{ order: OrderView }>(`/v1/orders/${encodeURIComponent(clOrdId)}`, token);
  expect(answer.status).toBe(200);
  return answer.body.order;
}

const filled = (clOrdId: string, token: string): Promise<OrderView> =>
  until(`${clOrdId} filled`, async () => {
    const order = await orderOf(clOrdId, token);
    return order.status === 'Filled' ? order : undefined;
  });

function limitOrder(clOrdId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { cl_ord_id: clOrdId, account_id: GROWTH, symbol: 'AAPL', side: 'buy', qty: '100', price: '190.00', venue_id: SIM, ...fields };
}

// ---- the suite ----------------------------------------------------------------------------------------------------

describe('HTTP JSON API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-http-'));
  let service: ServiceHandle;
  beforeAll(async () => {
    service = await startService(config(dir), () => {});
    base = `http://127.0.0.1:${service.port}`;
  });
  afterAll(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a missing or unknown token with 401 problem+json', async () => {
    expectProblem(await get('/v1/orders', 'not-a-token'), 401, RejectCode.UnknownUser);
    const missing = await api('GET', '/v1/positions', null);
    expectProblem(missing, 401, RejectCode.UnknownUser);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    // The description is public; an unknown route keeps the server's own 404; a known path answers 405.
    expect((await api('GET', '/v1/openapi.json', null)).status).toBe(200);
    expect((await api('GET', '/v1/no-such-thing', TOKENS.trader)).status).toBe(404);
    const wrongMethod = await api('DELETE', '/v1/orders', TOKENS.trader);
    expectProblem(wrongMethod, 405, RejectCode.UnknownCommand);
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
  });

  it('takes a trader\'s order to the simulated venue and shows it filled in the blotter', async () => {
    const created = await post<OrderAnswer>('/v1/orders', TOKENS.trader, limitOrder('H-FILL'));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/orders/H-FILL');
    expect(created.body.seq).toBeGreaterThan(0);
    expect(created.body.reports.map((r) => r.exec_type)).toEqual(['PendingNew']);
    expect(created.body.order).toMatchObject({ cl_ord_id: 'H-FILL', qty: '100', price: '190.00', raw: { order_qty: 100, price: 19_000 } });
    const journaled = service.replica.core.state.ordersByClOrdId.get('H-FILL');
    expect(journaled?.userId).toBe(DEMO.users.trader);
    const row = await until('H-FILL filled in the blotter', async () => {
      const page = await get<OrderPage>(`/v1/orders?account_id=${GROWTH}&symbol=AAPL&limit=50`, TOKENS.trader);
      expect(page.status).toBe(200);
      return page.body.orders.find((o) => o.cl_ord_id === 'H-FILL' && o.status === 'Filled');
    });
    expect(row).toMatchObject({ cum_qty: '100', leaves_qty: '0', avg_px: '190.00', open: false });
    const done = await get<OrderPage>('/v1/orders?status=filled&open=false', TOKENS.trader);
    expect(done.body.orders.map((o) => o.cl_ord_id)).toContain('H-FILL');
    const working = await get<OrderPage>('/v1/orders?open=true', TOKENS.trader);
    expect(working.body.orders.map((o) => o.cl_ord_id)).not.toContain('H-FILL');
  });

  it('refuses too many decimals (400 WrongPrecision), unknown fields and wrong types, and changes nothing', async () => {
    const state = service.replica.core.state;
    const orders = state.orders.size;
    expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-PREC', { price: '190.055' })), 400, RejectCode.WrongPrecision);
    expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-PREC', { qty: '100.5' })), 400, RejectCode.WrongPrecision);
    expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-PREC', { symbol: 'BTC/USD', qty: '0.000000001' })), 400, RejectCode.WrongPrecision);
    expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-PREC', { price: 190.05 })), 400, RejectCode.InvalidField);
    expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-PREC', { colour: 'red' })), 400, RejectCode.InvalidField);
    expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-PREC', { qty: '-5' })), 400, RejectCode.ValueOutOfRange);
    expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-PREC', { qty: '99999999999999999999' })), 400, RejectCode.ValueOutOfRange);
    expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-PREC', { cl_ord_id: 'X'.repeat(65) })), 400, RejectCode.ValueOutOfRange);
    expect(state.orders.size).toBe(orders);
    expect(state.ordersByClOrdId.has('H-PREC')).toBe(false);
    expect((await api('GET', '/v1/orders/H-PREC', TOKENS.trader)).status).toBe(404);
    // Exact conversion the other way: 0.015 BTC is 1,500,000 satoshi-units, accepted as such.
    const btc = await post<OrderAnswer>('/v1/orders', TOKENS.trader, limitOrder('H-BTC', { account_id: MACRO, symbol: 'BTC/USD', qty: '0.015', price: '95000.00', venue_id: 0 }));
    expect(btc.status).toBe(201);
    expect(btc.body.order).toMatchObject({ qty: '0.01500000', price: '95000.00', raw: { order_qty: 1_500_000, price: 9_500_000 } });
  });

  it('refuses malformed JSON (400) and bodies over the limit (413), declared or streamed', async () => {
    expectProblem(await post('/v1/orders', TOKENS.trader, '{"cl_ord_id": '), 400, RejectCode.MalformedFrame);
    expectProblem(await post('/v1/orders', TOKENS.trader, '[1, 2]'), 400, RejectCode.InvalidField);
    const big = JSON.stringify(limitOrder('H-BIG', { text: 'x'.repeat(HTTP_BODY_BYTES_MAX) }));
    expectProblem(await post('/v1/orders', TOKENS.trader, big), 413, RejectCode.OversizedFrame);
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.subarray(i, i + 4096));
        controller.close();
      },
    });
    const response = await fetch(`${base}/v1/orders`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKENS.trader}` }, body: stream, duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Problem).reject_code).toBe(RejectCode.OversizedFrame);
    expect(service.replica.core.state.ordersByClOrdId.has('H-BIG')).toBe(false);
  });

  it('lets a PM hold a parent, a trader release a child, and rolls the child\'s fill up into the parent', async () => {
    const parent = await post<OrderAnswer>('/v1/orders', TOKENS.pm, { cl_ord_id: 'H-PARENT', account_id: GROWTH, symbol: 'AAPL', side: 'buy', qty: '500', price: '190.00' });
    expect(parent.status).toBe(201);
    expect(parent.body.reports.map((r) => r.exec_type)).toEqual(['New']);
    // A PM may not place at a venue: the core says so (role, 403).
    expectProblem(await post('/v1/orders/H-PARENT/children', TOKENS.pm, { cl_ord_id: 'H-CHILD-PM', qty: '100', price: '190.00', venue_id: SIM }), 403, RejectCode.NotAuthorised);
    const child = await post<OrderAnswer>('/v1/orders/H-PARENT/children', TOKENS.trader, { cl_ord_id: 'H-CHILD', qty: '200', price: '190.00', venue_id: SIM });
    expect(child.status).toBe(201);
    expect(child.body.order).toMatchObject({ parent_cl_ord_id: 'H-PARENT', account_id: GROWTH, qty: '200' });
    expectProblem(await post('/v1/orders/H-PARENT/children', TOKENS.trader, { cl_ord_id: 'H-CHILD-2', qty: '301', venue_id: SIM, price: '190.00' }), 422, RejectCode.ParentQtyExceeded);
    await filled('H-CHILD', TOKENS.trader);
    const rolled = await orderOf('H-PARENT', TOKENS.pm);
    expect(rolled).toMatchObject({ status: 'PartiallyFilled', cum_qty: '200', leaves_qty: '300', avg_px: '190.00', child_committed_qty: '200' });
    const children = await get<OrderPage>('/v1/orders?parent_cl_ord_id=H-PARENT', TOKENS.pm);
    expect(children.body.orders.map((o) => o.cl_ord_id)).toEqual(['H-CHILD']);
  });

  it('cancels and replaces through HTTP, and answers refusals with the core\'s code', async () => {
    expect((await post('/v1/orders', TOKENS.pm, { cl_ord_id: 'H-CR', account_id: INCOME, symbol: 'AAPL', side: 'sell', qty: '300', price: '191.00' })).status).toBe(201);
    const replaced = await post<OrderAnswer>('/v1/orders/H-CR/replace', TOKENS.pm, { cl_ord_id: 'H-CR-2', qty: '250' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.reports.map((r) => [r.exec_type, r.cl_ord_id])).toEqual([['Replaced', 'H-CR-2']]);
    expect(replaced.body.order).toMatchObject({ cl_ord_id: 'H-CR-2', qty: '250', price: '191.00' }); // price kept
    // The old ClOrdID still finds the order, but a cancel must name the current one.
    expect((await orderOf('H-CR', TOKENS.pm)).cl_ord_id).toBe('H-CR-2');
    expectProblem(await post('/v1/orders/H-CR/cancel', TOKENS.pm, { cl_ord_id: 'H-CR-X' }), 422, RejectCode.StaleOrder);
    expectProblem(await post('/v1/orders/H-CR-2/replace', TOKENS.pm, { cl_ord_id: 'H-CR-3', qty: '250', price: '191.001' }), 400, RejectCode.WrongPrecision);
    const cancelled = await post<OrderAnswer>('/v1/orders/H-CR-2/cancel', TOKENS.pm, { cl_ord_id: 'H-CR-3' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.order).toMatchObject({ cl_ord_id: 'H-CR-3', status: 'Canceled', open: false });
    expectProblem(await post('/v1/orders/H-CR-3/cancel', TOKENS.pm, { cl_ord_id: 'H-CR-4' }), 422, RejectCode.TooLateToEnter);
    expectProblem(await post('/v1/orders/NO-SUCH/cancel', TOKENS.pm, { cl_ord_id: 'H-CR-5' }), 404, RejectCode.UnknownOrder);
    // Middle office changes nothing: the core refuses its order (role: 403).
    expectProblem(await post('/v1/orders', TOKENS.middle, limitOrder('H-MO')), 403, RejectCode.NotAuthorised);
  });

  it('keeps a trader on INCOME away from GROWTH: not in the blotter, 404 by id, 422 NotEntitled to create', async () => {
    const income = await post<OrderAnswer>('/v1/orders', TOKENS.traderIncome, limitOrder('H-INC', { account_id: INCOME, venue_id: 0 }));
    expect(income.status).toBe(201);
    expectProblem(await post('/v1/orders', TOKENS.traderIncome, limitOrder('H-NE')), 422, RejectCode.NotEntitled);
    const page = await get<OrderPage>('/v1/orders?limit=1000', TOKENS.traderIncome);
    expect(page.body.orders.length).toBeGreaterThan(0);
    expect(page.body.orders.every((o) => o.account_id === INCOME)).toBe(true);
    expect(page.body.orders.map((o) => o.cl_ord_id)).toContain('H-INC');
    expectProblem(await get(`/v1/orders?account_id=${GROWTH}`, TOKENS.traderIncome), 403, RejectCode.NotEntitled);
    expectProblem(await get('/v1/orders/H-FILL', TOKENS.traderIncome), 404, RejectCode.UnknownOrder);
    const positions = await get<{ positions: PositionView[] }>('/v1/positions', TOKENS.traderIncome);
    expect(positions.body.positions.every((p) => p.account_id === INCOME)).toBe(true);
    const accounts = await get<{ accounts: Array<{ account_id: number }> }>('/v1/accounts', TOKENS.traderIncome);
    expect(accounts.body.accounts.map((a) => a.account_id)).toEqual([INCOME]);
  });

  it('pages the blotter newest first with a cursor', async () => {
    const all = await get<OrderPage>('/v1/orders?limit=1000', TOKENS.trader);
    expect(all.body.next_cursor).toBeNull();
    const ids = all.body.orders.map((o) => o.order_id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const first = await get<OrderPage>('/v1/orders?limit=2', TOKENS.trader);
    expect(first.body.orders.map((o) => o.order_id)).toEqual(ids.slice(0, 2));
    const second = await get<OrderPage>(`/v1/orders?limit=2&cursor=${first.body.next_cursor ?? ''}`, TOKENS.trader);
    expect(second.body.orders.map((o) => o.order_id)).toEqual(ids.slice(2, 4));
    // from is inclusive, to exclusive, on the entry time.
    const newest = all.body.orders[0];
    const since = await get<OrderPage>(`/v1/orders?from=${encodeURIComponent(newest.transact_time)}`, TOKENS.trader);
    expect(since.body.orders.map((o) => o.order_id)).toEqual([newest.order_id]);
    const before = await get<OrderPage>(`/v1/orders?limit=1000&to=${encodeURIComponent(newest.transact_time)}`, TOKENS.trader);
    expect(before.body.orders.map((o) => o.order_id)).toEqual(ids.slice(1));
    expectProblem(await get('/v1/orders?limit=1001', TOKENS.trader), 400, RejectCode.ValueOutOfRange);
    expectProblem(await get('/v1/orders?colour=red', TOKENS.trader), 400, RejectCode.InvalidField);
  });

  it('lets only an admin read and set limits; an order over the new max_order_qty gets 422 MaxOrderQty', async () => {
    const AAPL = DEMO.instruments.AAPL;
    expectProblem(await get('/v1/limits', TOKENS.trader), 403, RejectCode.NotAuthorised);
    expectProblem(await api('PUT', '/v1/limits', TOKENS.trader, { scope: 'instrument', scope_id: AAPL, max_order_qty: '500' }), 403, RejectCode.NotAuthorised);
    expectProblem(await api('PUT', '/v1/limits', TOKENS.admin, { scope: 'global', max_order_notional: '1.0000001' }), 400, RejectCode.WrongPrecision);
    const set = await api<{ seq: number; limits: LimitSetView }>('PUT', '/v1/limits', TOKENS.admin, { scope: 'instrument', scope_id: AAPL, max_order_qty: '500' });
    expect(set.status).toBe(200);
    expect(set.body.limits).toMatchObject({ scope: 'Instrument', scope_id: AAPL, max_order_qty: '500' });
    try {
      expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-BIGQTY', { qty: '501', venue_id: 0 })), 422, RejectCode.MaxOrderQty);
      expect((await post('/v1/orders', TOKENS.trader, limitOrder('H-OKQTY', { qty: '500', venue_id: 0 }))).status).toBe(201);
      // Setting one limit leaves the others of the scope alone; the desk-wide ones are untouched.
      const limits = await get<{ global: LimitSetView; instruments: LimitSetView[] }>('/v1/limits', TOKENS.admin);
      expect(limits.body.global).toMatchObject({ max_order_notional: '50000000', price_collar_bps: 1000 });
    } finally {
      await api('PUT', '/v1/limits', TOKENS.admin, { scope: 'instrument', scope_id: AAPL, max_order_qty: '1000000' });
    }
  });

  it('lets compliance engage the kill switch: new orders 422 KillSwitchEngaged, cancels still work', async () => {
    expect((await post('/v1/orders', TOKENS.pm, { cl_ord_id: 'H-KS', account_id: GROWTH, symbol: 'AAPL', side: 'buy', qty: '10', price: '190.00' })).status).toBe(201);
    expectProblem(await api('PUT', '/v1/kill-switch', TOKENS.trader, { scope: 'global', engaged: true, text: 'no' }), 403, RejectCode.NotAuthorised);
    expectProblem(await get('/v1/kill-switch', TOKENS.trader), 403, RejectCode.NotAuthorised);
    const engaged = await api<{ kill_switch: { global: boolean } }>('PUT', '/v1/kill-switch', TOKENS.compliance, { scope: 'global', engaged: true, text: 'test halt' });
    expect(engaged.status).toBe(200);
    expect(engaged.body.kill_switch.global).toBe(true);
    try {
      expectProblem(await post('/v1/orders', TOKENS.trader, limitOrder('H-KS-NEW')), 422, RejectCode.KillSwitchEngaged);
      const cancelled = await post<OrderAnswer>('/v1/orders/H-KS/cancel', TOKENS.pm, { cl_ord_id: 'H-KS-C' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.order.status).toBe('Canceled');
    } finally {
      const off = await api<{ kill_switch: { global: boolean } }>('PUT', '/v1/kill-switch', TOKENS.compliance, { scope: 'global', engaged: false, text: 'resume' });
      expect(off.body.kill_switch.global).toBe(false);
    }
    expect((await get<{ global: boolean }>('/v1/kill-switch', TOKENS.admin)).body.global).toBe(false);
  });

  it('shows positions with quantity, average cost and P&L as exact decimal strings after fills', async () => {
    await post('/v1/orders', TOKENS.trader, limitOrder('H-POS-BUY', { account_id: MACRO, price: '189.50' }));
    await filled('H-POS-BUY', TOKENS.trader);
    await post('/v1/orders', TOKENS.trader, limitOrder('H-POS-SELL', { account_id: MACRO, side: 'sell', qty: '40', price: '190.25' }));
    await filled('H-POS-SELL', TOKENS.trader);
    const answer = await get<{ positions: PositionView[] }>(`/v1/positions?account_id=${MACRO}`, TOKENS.middle);
    expect(answer.status).toBe(200);
    const aapl = answer.body.positions.find((p) => p.symbol === 'AAPL');
    // Bought 100 at 189.50, sold 40 at 190.25: realised 40 x 0.75; 60 left at 189.50, marked at 190.00.
    expect(aapl).toMatchObject({
      qty: '60', avg_cost: '189.50', realised_pnl: '30.00', unrealised_pnl: '30.00', mark: '190.00', currency: 'USD', raw: { qty: 60 },
    });
  });

  it('returns an order\'s full history from the journal, replayed in the pool: every command, who and when', async () => {
    expect((await post('/v1/orders', TOKENS.pm, { cl_ord_id: 'H-HIST', account_id: GROWTH, symbol: 'AAPL', side: 'sell', qty: '100', price: '191.00' })).status).toBe(201);
    expect((await post('/v1/orders/H-HIST/replace', TOKENS.trader, { cl_ord_id: 'H-HIST-2', qty: '80' })).status).toBe(200);
    expect((await post('/v1/orders/H-HIST-2/cancel', TOKENS.pm, { cl_ord_id: 'H-HIST-3' })).status).toBe(200);
    const history = await get<HistoryAnswer>('/v1/orders/H-HIST-2/history', TOKENS.middle);
    expect(history.status).toBe(200);
    expect(history.body.original_cl_ord_id).toBe('H-HIST');
    expect(history.body.truncated).toBe(false);
    expect(history.body.history.map((r) => [r.command.type, r.user_name, r.session_id])).toEqual([
      ['NewOrder', 'pm', HTTP_SESSION_ID], ['ReplaceOrder', 'trader', HTTP_SESSION_ID], ['CancelOrder', 'pm', HTTP_SESSION_ID],
    ]);
    for (const record of history.body.history) {
      expect(record.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      expect(Date.parse(record.time)).toBe(Math.floor(record.time_us / 1000));
    }
    const seqs = history.body.history.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const viaQuery = await get<HistoryAnswer>('/v1/orders/H-HIST?history=true', TOKENS.pm);
    expect(viaQuery.body.history.map((r) => r.seq)).toEqual(seqs);
    expectProblem(await get('/v1/orders/H-HIST/history', TOKENS.traderIncome), 404, RejectCode.UnknownOrder);
    expect(mainThreadReplays.count).toBe(0);
    // The pool's work shows in the same /metrics scrape as the gateway's and the core's.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(Number(/^oms_pool_tasks_completed_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(/^oms_pool_threads (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^oms_core_journal_commit_seconds_count \d+$/m);
  });

  it('serves an OpenAPI 3.1 document that lists every route', async () => {
    const answer = await api<OpenApi>('GET', '/v1/openapi.json', null);
    expect(answer.body.openapi).toBe('3.1.0');
    for (const route of HTTP_ROUTES) expect(answer.body.paths[route.path]?.[route.method], `${route.method} ${route.path}`).toBeDefined();
    const documented = Object.entries(answer.body.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
    expect(documented.sort()).toEqual(HTTP_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });
});
