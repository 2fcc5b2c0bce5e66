// FIX venue adapter (venue/fix-venue.ts) against scripted venues: the real OMS service (core worker, LMDB
// journal, replica, HTTP API) with one FIX 4.4 session to a venue whose every answer the test decides.
//   - ScriptedVenue (jspurefix acceptor, test/support/fix-venue-script.ts): order life cycles, rejects, duplicate
//     and out-of-order fills, gaps, unknown outcomes after a dropped connection, an OMS restart mid-session.
//   - RawVenue (plain TCP): byte-level malformed input.
// Every scenario places orders through the HTTP API and checks OrdStatus, CumQty, LeavesQty and AvgPx there.
// Tests marked "expected behaviour" document what the adapter should do where, when they were written, it did
// not (they fail until it is fixed). FIX_TEST_LOG=1 prints the adapter's log and the venues' wire at the end.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../core/demo.js';
import type { Config } from '../gateway/config.js';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import type { ServiceHandle } from '../gateway/service.js';
import { startService } from '../gateway/service.js';
import type { FixVenueConfig } from '../venue/fix-venue-config.js';
import { FIX_VENUE_DEFAULTS } from '../venue/fix-venue-config.js';
import type { Field, FixFrame } from './support/fix-venue-script.js';
import { encodeFrame, RawVenue, rawExecutionReport, ScriptedVenue, utcTimestamp } from './support/fix-venue-script.js';
import { until } from './support/until.js';

const VENUE_ID = 3;
const TRADER = 'demo-trader-token';
const ADMIN = 'demo-admin-token';
const ACCOUNT = DEMO.accounts.GROWTH;
const VERBOSE = process.env.FIX_TEST_LOG === '1';

interface OrderView {
  cl_ord_id: string;
  status: string;
  qty: string;
  price: string | null;
  cum_qty: string;
  leaves_qty: string;
  avg_px: string | null;
  pending: { kind: string; cl_ord_id: string } | null;
}

interface VenueView {
  venue_id: number;
  state: string;
  logged_on: boolean;
  next_sender_seq: number;
  durable_target_seq: number;
  messages_in: number;
  rejects_in: number;
  refused_in: number;
  garbled_in: number;
  logons: number;
  status_requests_sent: number;
}

interface HistoryEvent {
  kind?: string;
  execType?: string;
  text?: string;
  [key: string]: unknown;
}

function venueConfig(port: number): FixVenueConfig {
  return {
    ...FIX_VENUE_DEFAULTS, venue_id: VENUE_ID, name: 'SCRIPT', host: '127.0.0.1', port, sender_comp_id: 'OMS', target_comp_id: 'VENUE',
    heartbeat_interval_s: 5, reconnect_backoff_ms_min: 100, reconnect_backoff_ms_max: 500, logon_timeout_ms: 5000,
  };
}

function config(dir: string, port: number): Config {
  return { ...DEFAULT_CONFIG, data: { dir }, gateway: { ...DEFAULT_CONFIG.gateway, port: 0 }, fix: { venues: [venueConfig(port)] } };
}

class Api {
  constructor(private readonly base: string) {}

  async call<T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(this.base + path, {
      method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async order(clOrdId: string): Promise<OrderView> {
    const answer = await this.call<{ order: OrderView }>('GET', `/v1/orders/${encodeURIComponent(clOrdId)}`, TRADER);
    if (answer.status !== 200) throw new Error(`GET order ${clOrdId}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.order;
  }

  async venue(): Promise<VenueView> {
    const answer = await this.call<{ venues: VenueView[] }>('GET', '/v1/venues', ADMIN);
    const venue = answer.body.venues.find((v) => v.venue_id === VENUE_ID);
    if (venue === undefined) throw new Error('venue missing from /v1/venues');
    return venue;
  }

  async place(clOrdId: string, fields: Record<string, unknown> = {}): Promise<void> {
    const answer = await this.call('POST', '/v1/orders', TRADER, {
      cl_ord_id: clOrdId, account_id: ACCOUNT, symbol: 'AAPL', side: 'buy', qty: '100', price: '191.00', venue_id: VENUE_ID, ...fields,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  }

  async cancel(clOrdId: string, cancelClOrdId: string): Promise<void> {
    const answer = await this.call('POST', `/v1/orders/${clOrdId}/cancel`, TRADER, { cl_ord_id: cancelClOrdId });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }

  async replace(clOrdId: string, body: Record<string, unknown>): Promise<void> {
    const answer = await this.call('POST', `/v1/orders/${clOrdId}/replace`, TRADER, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }

  /** Every event of the order's history (journal replay). */
  async historyEvents(clOrdId: string): Promise<HistoryEvent[]> {
    const answer = await this.call<{ history: Array<{ events?: HistoryEvent[] }> }>('GET', `/v1/orders/${clOrdId}/history`, TRADER);
    expect(answer.status).toBe(200);
    return answer.body.history.flatMap((h) => h.events ?? []);
  }

  async position(): Promise<string> {
    const answer = await this.call<{ positions: Array<{ symbol: string; qty: string }> }>('GET', `/v1/positions?account_id=${ACCOUNT}`, TRADER);
    return answer.body.positions.find((p) => p.symbol === 'AAPL')?.qty ?? '0';
  }
}


const loggedOn = (api: Api, logonsAtLeast = 1): Promise<VenueView> =>
  until(`venue logon #${logonsAtLeast}`, async () => {
    const v = await api.venue();
    return v.logged_on && v.logons >= logonsAtLeast ? v : undefined;
  });

/** Waits until the order matches `expected` (every field given), then returns it. */
async function orderMatches(api: Api, clOrdId: string, expected: Partial<OrderView>): Promise<OrderView> {
  let last: OrderView | undefined;
  try {
    return await until(`${clOrdId} ${JSON.stringify(expected)}`, async () => {
      last = await api.order(clOrdId);
      return Object.entries(expected).every(([k, v]) => JSON.stringify((last as unknown as Record<string, unknown>)[k]) === JSON.stringify(v)) ? last : undefined;
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen ${JSON.stringify(last)}`);
  }
}

/** Positions as integers of shares (AAPL qty precision 0). */
const shares = (text: string): number => Number(text);

// One log for both suites: the adapter routes jspurefix's own log lines through the log function of the first
// service started in the process (its logger factory is per process), so they would land in the first suite's.
const logs: Array<Record<string, unknown>> = [];
const wire: string[] = [];

function printLogs(): void {
  if (!VERBOSE) return;
  for (const line of logs) if (String(line.event).startsWith('fix')) console.log(JSON.stringify(line));
  console.log(wire.join('\n'));
  logs.length = 0;
  wire.length = 0;
}

// ---- the scripted venue ---------------------------------------------------------------------------------------

describe('FIX venue adapter against a scripted venue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-fix-script-'));
  let venue: ScriptedVenue;
  let service: ServiceHandle;
  let api: Api;

  async function startOms(): Promise<void> {
    service = await startService(config(join(dir, 'oms'), venue.port), (fields) => logs.push(fields));
    api = new Api(`http://127.0.0.1:${service.port}`);
  }

  /** Places a limit buy and waits for the venue to receive it. */
  async function placed(clOrdId: string, fields: Record<string, unknown> = {}): Promise<FixFrame> {
    await api.place(clOrdId, fields);
    return venue.waitForRequest('D', clOrdId);
  }

  /** Places and acknowledges. */
  async function working(clOrdId: string, fields: Record<string, unknown> = {}): Promise<void> {
    await placed(clOrdId, fields);
    await venue.ack(clOrdId);
    await orderMatches(api, clOrdId, { status: 'New' });
  }

  beforeAll(async () => {
    venue = await ScriptedVenue.start({ log: VERBOSE ? (line) => wire.push(line) : undefined });
    await startOms();
    await loggedOn(api);
    await venue.waitForLogon();
  });

  afterAll(async () => {
    printLogs();
    await service?.close();
    await venue?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ack, two partial fills and a final fill: CumQty, LeavesQty and a weighted AvgPx', async () => {
    const nos = await placed('S-FILL');
    expect([nos.get(11), nos.get(1), nos.get(55), nos.get(54), nos.get(38), nos.get(40), nos.get(44), nos.get(59)])
      .toEqual(['S-FILL', 'GROWTH', 'AAPL', '1', '100', '2', '191.00', '0']);
    expect(await api.order('S-FILL')).toMatchObject({ status: 'PendingNew', cum_qty: '0', leaves_qty: '100', avg_px: null });

    await venue.ack('S-FILL');
    await orderMatches(api, 'S-FILL', { status: 'New', cum_qty: '0', leaves_qty: '100', avg_px: null });
    await venue.fill('S-FILL', '40', '190.00');
    await orderMatches(api, 'S-FILL', { status: 'PartiallyFilled', cum_qty: '40', leaves_qty: '60', avg_px: '190.00' });
    await venue.fill('S-FILL', '20', '191.00');
    await orderMatches(api, 'S-FILL', { status: 'PartiallyFilled', cum_qty: '60', leaves_qty: '40' });
    await venue.fill('S-FILL', '40', '191.00');
    // 40 @ 190.00 + 60 @ 191.00 = 19060.00 / 100
    await orderMatches(api, 'S-FILL', { status: 'Filled', cum_qty: '100', leaves_qty: '0', avg_px: '190.60' });
  });

  it('cancel after a partial fill: the venue gets an OrderCancelRequest and its Canceled ends the order', async () => {
    await working('S-CXL');
    await venue.fill('S-CXL', '30', '190.50');
    await orderMatches(api, 'S-CXL', { status: 'PartiallyFilled', cum_qty: '30' });

    await api.cancel('S-CXL', 'S-CXL-C');
    expect(await api.order('S-CXL')).toMatchObject({ status: 'PendingCancel', cum_qty: '30' });
    const request = await venue.waitForRequest('F', 'S-CXL-C');
    expect([request.get(41), request.get(11), request.get(38), request.get(54), request.get(55)]).toEqual(['S-CXL', 'S-CXL-C', '100', '1', 'AAPL']);

    await venue.canceled('S-CXL-C');
    const order = await orderMatches(api, 'S-CXL', { status: 'Canceled' });
    expect(order).toMatchObject({ cum_qty: '30', leaves_qty: '0', avg_px: '190.50', pending: null });
  });

  it('replace: the venue gets an OrderCancelReplaceRequest and its Replaced changes quantity and price', async () => {
    await working('S-RPL', { price: '190.00' });
    await venue.fill('S-RPL', '30', '190.00');
    await orderMatches(api, 'S-RPL', { status: 'PartiallyFilled', cum_qty: '30' });

    await api.replace('S-RPL', { cl_ord_id: 'S-RPL-R', qty: '80', price: '189.50' });
    expect(await api.order('S-RPL')).toMatchObject({ status: 'PendingReplace', qty: '100', price: '190.00' });
    const request = await venue.waitForRequest('G', 'S-RPL-R');
    expect([request.get(41), request.get(11), request.get(38), request.get(44), request.get(54), request.get(40)])
      .toEqual(['S-RPL', 'S-RPL-R', '80', '189.50', '1', '2']);

    await venue.replaced('S-RPL-R');
    const replaced = await orderMatches(api, 'S-RPL-R', { status: 'PartiallyFilled', qty: '80' });
    expect(replaced).toMatchObject({ cl_ord_id: 'S-RPL-R', price: '189.50', cum_qty: '30', leaves_qty: '50', avg_px: '190.00', pending: null });

    await venue.fill('S-RPL-R', '50', '189.50');
    // 30 @ 190.00 + 50 @ 189.50 = 15175.00 / 80
    await orderMatches(api, 'S-RPL-R', { status: 'Filled', cum_qty: '80', leaves_qty: '0', avg_px: '189.6875' });
  });

  it('a Replaced raising the quantity and a fill under the new ClOrdID back to back: both applied, in order', async () => {
    await working('S-RPF', { price: '190.00', qty: '100' });
    const refusedAtStart = (await api.venue()).refused_in;
    await api.replace('S-RPF', { cl_ord_id: 'S-RPF-R', qty: '150' });
    await venue.waitForRequest('G', 'S-RPF-R');
    // Not awaited in between: the fill arrives before the OMS has journaled the Replaced; applied first it
    // would overfill the old 100.
    const replaced = venue.replaced('S-RPF-R');
    // Without OrigClOrdID, as many venues send fills after a replace: only the new ClOrdID names the order.
    const filled = venue.fill('S-RPF-R', '120', '190.00', { extra: { OrigClOrdID: undefined } });
    await Promise.all([replaced, filled]);
    await orderMatches(api, 'S-RPF-R', { status: 'PartiallyFilled', qty: '150', cum_qty: '120', leaves_qty: '30' });
    expect((await api.venue()).refused_in).toBe(refusedAtStart);
  });

  it('cancel reject (35=9, CxlRejReason 0 too late): the order stays as it was and the cancel is answered', async () => {
    await working('S-CRJ');
    await venue.fill('S-CRJ', '10', '190.00');
    await orderMatches(api, 'S-CRJ', { status: 'PartiallyFilled', cum_qty: '10' });
    await api.cancel('S-CRJ', 'S-CRJ-C');
    await venue.waitForRequest('F', 'S-CRJ-C');
    expect(await api.order('S-CRJ')).toMatchObject({ status: 'PendingCancel' });

    await venue.cancelReject('S-CRJ-C', { reason: 0, text: 'too late to cancel (test)' });
    const order = await orderMatches(api, 'S-CRJ', { status: 'PartiallyFilled', pending: null });
    expect(order).toMatchObject({ cl_ord_id: 'S-CRJ', qty: '100', cum_qty: '10', leaves_qty: '90', avg_px: '190.00' });
    const events = await api.historyEvents('S-CRJ');
    expect(events.some((e) => e.kind === 'cancel_reject' && JSON.stringify(e).includes('too late to cancel (test)')), JSON.stringify(events)).toBe(true);

    // Still working at the venue: a later fill applies.
    await venue.fill('S-CRJ', '90', '190.00');
    await orderMatches(api, 'S-CRJ', { status: 'Filled', cum_qty: '100', leaves_qty: '0' });
  });

  it('a cancel reject saying the venue has no such order (102=1) makes the OMS ask for the status, which settles it', async () => {
    await working('S-LOST');
    await api.cancel('S-LOST', 'S-LOST-C');
    await venue.waitForRequest('F', 'S-LOST-C');
    const from = venue.received.length;
    // The venue dropped the order on its side: the reject alone would leave it working at the OMS.
    await venue.cancelReject('S-LOST-C', { reason: 1, text: 'unknown order (test)' });
    const status = await venue.waitFor('H', (m) => m.get(11) === 'S-LOST', { from });
    expect(status.get(54)).toBe('1');
    await venue.orderStatus('S-LOST', '4');
    await orderMatches(api, 'S-LOST', { status: 'Canceled', cum_qty: '0', leaves_qty: '0', pending: null });
  });

  it('a BusinessMessageReject of a cancel is answered as a cancel reject; the order is unchanged', async () => {
    await working('S-BMR');
    await venue.fill('S-BMR', '10', '190.00');
    await orderMatches(api, 'S-BMR', { status: 'PartiallyFilled', cum_qty: '10' });
    const rejectsBefore = (await api.venue()).rejects_in;
    await api.cancel('S-BMR', 'S-BMR-C');
    const request = await venue.waitForRequest('F', 'S-BMR-C');

    await venue.businessReject(request, { reason: 3, text: 'cancels not supported (test)' });
    const order = await orderMatches(api, 'S-BMR', { status: 'PartiallyFilled', pending: null });
    expect(order).toMatchObject({ cl_ord_id: 'S-BMR', qty: '100', cum_qty: '10', leaves_qty: '90' });
    expect((await api.venue()).rejects_in).toBe(rejectsBefore + 1);
    const events = await api.historyEvents('S-BMR');
    expect(events.some((e) => e.kind === 'cancel_reject' && JSON.stringify(e).includes('cancels not supported (test)')), JSON.stringify(events)).toBe(true);
  });

  it('a venue reject of a new order (ExecType 8 with Text): Rejected, and the text is in the history', async () => {
    await placed('S-REJ');
    await venue.rejectNew('S-REJ', 'symbol halted at venue (test)');
    await orderMatches(api, 'S-REJ', { status: 'Rejected', cum_qty: '0', leaves_qty: '0', avg_px: null });
    const events = await api.historyEvents('S-REJ');
    expect(events.some((e) => e.execType === 'Rejected' && e.text === 'symbol halted at venue (test)'), JSON.stringify(events)).toBe(true);
  });

  it('a session Reject (35=3) of a NewOrderSingle rejects the order with the venue\'s text', async () => {
    const before = await api.venue();
    const nos = await placed('S-SRJ');
    await venue.send('3', { RefSeqNum: nos.seq, RefMsgType: 'D', RefTagID: 40, SessionRejectReason: 5, Text: 'OrdType not supported (test)' });
    await orderMatches(api, 'S-SRJ', { status: 'Rejected', cum_qty: '0', leaves_qty: '0' });
    expect((await api.venue()).rejects_in).toBe(before.rejects_in + 1);
    const events = await api.historyEvents('S-SRJ');
    expect(events.some((e) => e.execType === 'Rejected' && String(e.text).includes('OrdType not supported (test)')), JSON.stringify(events)).toBe(true);
  });

  it('a restatement (ExecType D) changes the order quantity; one without LeavesQty is refused', async () => {
    await working('S-RST8');
    await venue.fill('S-RST8', '20', '190.00');
    await orderMatches(api, 'S-RST8', { cum_qty: '20', leaves_qty: '80' });
    const before = await api.venue();
    await venue.send('8', { ...venue.executionReport('S-RST8', 'D'), LeavesQty: undefined });
    await until('refused_in + 1', async () => ((await api.venue()).refused_in === before.refused_in + 1 ? true : undefined));
    expect(await api.order('S-RST8')).toMatchObject({ qty: '100', cum_qty: '20', leaves_qty: '80' });

    await venue.restated('S-RST8', '60');
    await orderMatches(api, 'S-RST8', { status: 'PartiallyFilled', qty: '60', cum_qty: '20', leaves_qty: '40' });
  });

  it('a fill sent twice (PossDup resend, then the same ExecID again) is applied once', async () => {
    const positionBefore = shares(await api.position());
    await working('S-DUP');
    const fill = await venue.fill('S-DUP', '40', '190.00');
    await orderMatches(api, 'S-DUP', { cum_qty: '40' });

    await venue.duplicate(fill, { possDup: true });
    await venue.duplicate(fill, { possDup: false });
    // A later fill marks that both duplicates went through the core before it.
    await venue.fill('S-DUP', '10', '190.00');
    const order = await orderMatches(api, 'S-DUP', { cum_qty: '50' });
    expect(order).toMatchObject({ status: 'PartiallyFilled', leaves_qty: '50', avg_px: '190.00' });
    expect(shares(await api.position()) - positionBefore).toBe(50);
    const trades = (await api.historyEvents('S-DUP')).filter((e) => e.execType === 'Trade');
    expect(trades).toHaveLength(2);
    const v = await api.venue();
    expect(v.logged_on).toBe(true);
  });

  it('a gap (fills "lost" by the venue) is asked for with a ResendRequest; the PossDup replays apply once each', async () => {
    // qty 200 and fills of 100: a fill applied twice would show (no overfill refusal to hide it).
    await working('S-GAP', { qty: '200' });
    const from = venue.received.length;
    const lost1 = venue.lose('8', venue.fillBody('S-GAP', '30', '190.00'));
    const lost2 = venue.lose('8', venue.fillBody('S-GAP', '30', '190.10'));
    const above = await venue.fill('S-GAP', '40', '190.20');
    expect(above.seq).toBe(lost2.seq + 1);

    const resend = await venue.waitFor('2', () => true, { from });
    expect(Number(resend.get(7))).toBe(lost1.seq);
    expect(['0', String(above.seq)]).toContain(resend.get(16));
    // 30 @ 190.00 + 30 @ 190.10 + 40 @ 190.20 = 19011.00 / 100
    await orderMatches(api, 'S-GAP', { status: 'PartiallyFilled', cum_qty: '100', leaves_qty: '100', avg_px: '190.11' });
    const trades = (await api.historyEvents('S-GAP')).filter((e) => e.execType === 'Trade');
    expect(trades).toHaveLength(3);
    await until('durable_target_seq to catch up', async () => ((await api.venue()).durable_target_seq === venue.nextSenderSeq ? true : undefined));
  });

  it('a gap with nothing behind it is closed by a SequenceReset-GapFill; the fill after it applies once', async () => {
    await working('S-GF');
    const from = venue.received.length;
    const skipped = venue.skip(3);
    await venue.fill('S-GF', '25', '190.00');
    const resend = await venue.waitFor('2', () => true, { from });
    expect(Number(resend.get(7))).toBe(skipped[0]);
    await orderMatches(api, 'S-GF', { status: 'PartiallyFilled', cum_qty: '25', leaves_qty: '75' });
    await until('durable_target_seq to catch up', async () => ((await api.venue()).durable_target_seq === venue.nextSenderSeq ? true : undefined));
    // The replayed fill (PossDup) changed nothing, and the session still works.
    await venue.fill('S-GF', '75', '190.00');
    await orderMatches(api, 'S-GF', { status: 'Filled', cum_qty: '100', leaves_qty: '0', avg_px: '190.00' });
  });

  async function unknownOutcome(clOrdId: string, answer: string): Promise<OrderView> {
    const before = await api.venue();
    await placed(clOrdId);
    venue.drop();
    await until('the OMS to notice the drop', async () => ((await api.venue()).logons > before.logons || !(await api.venue()).logged_on ? true : undefined));
    expect(await api.order(clOrdId)).toMatchObject({ status: 'PendingNew' });

    const from = venue.received.length;
    await loggedOn(api, before.logons + 1);
    const request = await venue.waitForRequest('H', clOrdId, { from });
    expect([request.get(11), request.get(54), request.get(55)]).toEqual([clOrdId, '1', 'AAPL']);
    // Never assumed: still pending until the venue says.
    expect(await api.order(clOrdId)).toMatchObject({ status: 'PendingNew' });
    expect((await api.venue()).status_requests_sent).toBeGreaterThan(before.status_requests_sent);

    await venue.orderStatus(clOrdId, answer);
    return orderMatches(api, clOrdId, { status: answer === '0' ? 'New' : 'Rejected' });
  }

  it('unknown outcome: a NewOrderSingle unanswered when the venue drops stays PendingNew; the status answer New settles it', async () => {
    const order = await unknownOutcome('S-UNK1', '0');
    expect(order).toMatchObject({ cum_qty: '0', leaves_qty: '100' });
    // The session works after the reconnect.
    await venue.fill('S-UNK1', '100', '190.00');
    await orderMatches(api, 'S-UNK1', { status: 'Filled', cum_qty: '100', avg_px: '190.00' });
  });

  it('unknown outcome: the status answer Rejected (OrdStatus 8) rejects the order', async () => {
    const order = await unknownOutcome('S-UNK2', '8');
    expect(order).toMatchObject({ cum_qty: '0', leaves_qty: '0', avg_px: null });
  });

  // Expected behaviour: the adapter's status answer handling (fix-mapping.ts fromStatus) ignores an answer that
  // says the order is still working under its current ClOrdID while a cancel or replace is pending, so the
  // request is never answered and the order stays PendingCancel (a new cancel is refused while one is pending).
  it('a cancel unanswered when the venue drops: the status answer (order still New, no cancel) does not leave it pending for ever', async () => {
    await working('S-CXD');
    const before = await api.venue();
    await api.cancel('S-CXD', 'S-CXD-C');
    await venue.waitForRequest('F', 'S-CXD-C');
    // The venue loses the cancel with the connection: it never answers it.
    venue.drop();
    const from = venue.received.length;
    await loggedOn(api, before.logons + 1);
    await venue.waitForRequest('H', 'S-CXD', { from });
    expect(await api.order('S-CXD')).toMatchObject({ status: 'PendingCancel' });

    await venue.orderStatus('S-CXD', '0');
    // Settled either way: the cancel is answered (a cancel reject, so that the client can try again) or sent again.
    await until('the pending cancel to be answered or sent again', async () => {
      const order = await api.order('S-CXD');
      if (order.pending === null) return true;
      return venue.receivedOf('F', from).some((m) => m.get(41) === 'S-CXD') ? true : undefined;
    }, 3000);
  });

  it('OMS restarted mid-session: a fill the venue sent meanwhile comes by resend and is applied once', async () => {
    await working('S-RST', { qty: '200' });
    await venue.fill('S-RST', '50', '190.00');
    await orderMatches(api, 'S-RST', { cum_qty: '50' });
    const positionBefore = shares(await api.position());
    const before = await api.venue();

    await service.close();
    await venue.waitForDisconnect();
    const lost = venue.lose('8', venue.fillBody('S-RST', '70', '191.00'));
    const from = venue.received.length;
    await startOms();
    const after = await loggedOn(api);
    expect(after.next_sender_seq).toBeGreaterThan(before.next_sender_seq);

    const resend = await venue.waitFor('2', () => true, { from });
    expect(Number(resend.get(7))).toBeLessThanOrEqual(lost.seq);
    // 50 @ 190.00 + 70 @ 191.00 = 22870.00 / 120
    await orderMatches(api, 'S-RST', { status: 'PartiallyFilled', cum_qty: '120', leaves_qty: '80', avg_px: '190.58333333' });
    expect(shares(await api.position()) - positionBefore).toBe(70);
    await until('durable_target_seq to catch up', async () => ((await api.venue()).durable_target_seq === venue.nextSenderSeq ? true : undefined));
    // The venue did not see a logon below what it expects (no seq reset, no "MsgSeqNum too low").
    expect(venue.receivedOf('A', from)).toHaveLength(1);
    expect(venue.receivedOf('A', from)[0].get(141) ?? 'N').toBe('N');
  });
});

// ---- malformed input ------------------------------------------------------------------------------------------

describe('FIX venue adapter against malformed input from a raw venue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-fix-raw-'));
  let raw: RawVenue;
  let service: ServiceHandle;
  let api: Api;
  let execSerial = 0;

  /** What the raw venue has filled of each order (all are 100 AAPL), for consistent CumQty / LeavesQty / AvgPx. */
  const filled = new Map<string, { cum: number; notional: number }>();

  /** An ExecutionReport for `clOrdId`; a fill (LastQty and LastPx given, well-formed) updates the venue's book. */
  function report(clOrdId: string, execType: string, lastQty?: string, lastPx?: string, book = true): Field[] {
    const state = filled.get(clOrdId) ?? { cum: 0, notional: 0 };
    let { cum, notional } = state;
    if (lastQty !== undefined && lastPx !== undefined && /^\d+$/.test(lastQty) && /^\d+(\.\d+)?$/.test(lastPx)) {
      cum += Number(lastQty);
      notional += Number(lastQty) * Number(lastPx);
    }
    if (book) filled.set(clOrdId, { cum, notional });
    return rawExecutionReport({
      orderId: `RV-${clOrdId}`, clOrdId, execId: `RX-${++execSerial}`, execType, ordStatus: cum === 0 ? '0' : cum === 100 ? '2' : '1',
      orderQty: '100', lastQty, lastPx, leavesQty: String(100 - cum), cumQty: String(cum), avgPx: cum === 0 ? '0' : (notional / cum).toFixed(4),
    });
  }

  /** Places a 100 AAPL limit buy at the raw venue and acknowledges it. */
  async function working(clOrdId: string): Promise<void> {
    await api.place(clOrdId);
    await raw.waitForRequest('D', clOrdId);
    raw.send(report(clOrdId, '0'));
    await orderMatches(api, clOrdId, { status: 'New' });
  }

  /**
   * Sends `bad` (a fill of 10 in some malformed form, never replayed on a resend), then a good fill of 5 on the
   * same order as a marker, and waits for the marker: whatever the adapter did with the bad frame (drop it,
   * refuse it, or resync the session), CumQty must be 5, not 15.
   */
  async function notApplied(clOrdId: string, sendBad: () => void): Promise<VenueView> {
    sendBad();
    raw.send(report(clOrdId, 'F', '5', '190.00'));
    let last: OrderView | undefined;
    // The marker is behind the bad frame: once it is applied, so is the bad one if it ever will be.
    await until(`the marker fill on ${clOrdId}`, async () => {
      last = await api.order(clOrdId);
      return last.cum_qty === '5' || last.cum_qty === '15' ? true : undefined;
    });
    expect(last?.cum_qty, 'CumQty 15: the malformed fill of 10 was applied').toBe('5');
    expect(last).toMatchObject({ status: 'PartiallyFilled', cum_qty: '5', leaves_qty: '95', avg_px: '190.00' });
    return loggedOn(api);
  }

  beforeAll(async () => {
    raw = await RawVenue.start({ log: VERBOSE ? (line) => wire.push(line) : undefined });
    // A 1 s heartbeat, so that a venue gone silent is noticed (TestRequest at 1.5 s, dropped at 2.5 s) quickly.
    const cfg = config(join(dir, 'oms'), raw.port);
    service = await startService({ ...cfg, fix: { venues: [{ ...cfg.fix.venues[0], heartbeat_interval_s: 1 }] } }, (fields) => logs.push(fields));
    api = new Api(`http://127.0.0.1:${service.port}`);
    await loggedOn(api);
    await raw.waitForLogon();
    await working('R-1');
  });

  afterAll(async () => {
    printLogs();
    await service?.close();
    await raw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the venue\'s ResendRequest is answered with a SequenceReset-GapFill to our next number (orders are never replayed late)', async () => {
    const before = await loggedOn(api);
    const from = raw.received.length;
    raw.send([['35', '2'], [7, 1], [16, 0]]);
    const gapFill = await raw.waitFor('4', (m) => m.get(123) === 'Y', { from });
    expect(gapFill.get(43)).toBe('Y');
    expect(Number(gapFill.get(34))).toBe(1);
    expect(Number(gapFill.get(36))).toBeGreaterThanOrEqual(before.next_sender_seq);
    // No order message went out again, and the session goes on.
    expect(raw.received.slice(from).filter((m) => m.msgType === 'D')).toHaveLength(0);
    await working('R-RR');
    expect((await api.venue()).logons).toBe(before.logons);
  });

  it('a venue gone silent gets a TestRequest, then the connection is dropped and re-established', async () => {
    const before = await loggedOn(api);
    const from = raw.received.length;
    raw.silent = true;
    try {
      const testRequest = await raw.waitFor('1', () => true, { from, timeoutMs: 10_000 });
      expect(testRequest.get(112)).toBeTruthy();
      await until('the silent connection dropped', async () => ((await api.venue()).logged_on ? undefined : true), 10_000);
    } finally {
      raw.silent = false;
    }
    await loggedOn(api, before.logons + 1);
    await working('R-SILENT');
  });

  it('a bad CheckSum and a wrong BodyLength are dropped (garbled_in); the good fill at the same number applies', async () => {
    const before = await api.venue();
    const unchanged = { status: 'New', cum_qty: '0', leaves_qty: '100', avg_px: null };
    const good = report('R-1', 'F', '20', '190.00');
    // A garbled frame is not counted by its reader, so it does not consume the venue's number either.
    raw.send(good, { badChecksum: true, consume: false });
    await until('garbled_in + 1', async () => ((await api.venue()).garbled_in === before.garbled_in + 1 ? true : undefined));
    expect(await api.order('R-1')).toMatchObject(unchanged);

    raw.send(good, { bodyLength: 20, consume: false });
    raw.send(good, { bodyLength: 9999, consume: false });
    await until('garbled_in + 3', async () => ((await api.venue()).garbled_in === before.garbled_in + 3 ? true : undefined));
    expect(await api.order('R-1')).toMatchObject(unchanged);
    expect((await api.venue()).logged_on).toBe(true);

    raw.send(good);
    await orderMatches(api, 'R-1', { status: 'PartiallyFilled', cum_qty: '20', leaves_qty: '80', avg_px: '190.00' });
    const after = await api.venue();
    expect(after).toMatchObject({ refused_in: before.refused_in, logons: before.logons, logged_on: true });
  });

  it('missing ExecID, letters in LastPx / LastQty, too many decimals and unknown enum values are refused (refused_in)', async () => {
    const before = await api.venue();
    const expected = { status: 'PartiallyFilled', cum_qty: '20', leaves_qty: '80', avg_px: '190.00' };
    const variants: Array<[string, ReadonlyArray<readonly [number, string | null]>]> = [
      ['no ExecID', [[17, null]]],
      ['LastPx=abc', [[31, 'abc']]],
      ['LastQty=1x0', [[32, '1x0']]],
      ['LastPx with 3 decimals (AAPL price precision 2)', [[31, '190.123']]],
      ['LastQty with decimals (AAPL qty precision 0)', [[32, '10.5']]],
      ['CumQty=1e3', [[14, '1e3']]],
      ['LastPx too large', [[31, '99999999999999999999']]],
      ['ExecType Z', [[150, 'Z']]],
      ['OrdStatus X', [[39, 'X']]],
      ['a fill without LastPx', [[31, null]]],
      ['no ClOrdID', [[11, null]]],
      ['an unknown ClOrdID', [[11, 'NO-SUCH-ORDER']]],
    ];
    let refused = before.refused_in;
    for (const [what, overrides] of variants) {
      const fields = rawExecutionReport({
        orderId: 'RV-R-1', clOrdId: 'R-1', execId: `RX-BAD-${++execSerial}`, execType: 'F', ordStatus: '1', orderQty: '100', lastQty: '10', lastPx: '190.00',
        leavesQty: '70', cumQty: '30', avgPx: '190.0000',
      }, overrides);
      raw.send(fields);
      refused += 1;
      const target = refused;
      await until(`${what} refused`, async () => ((await api.venue()).refused_in >= target ? true : undefined));
      expect(await api.order('R-1'), what).toMatchObject(expected);
    }
    const after = await api.venue();
    expect(after.refused_in).toBe(before.refused_in + variants.length);
    expect(after).toMatchObject({ logged_on: true, logons: before.logons, garbled_in: before.garbled_in });
    // Refused messages count as handled: nothing is asked for again.
    expect(after.durable_target_seq).toBe(raw.nextSeq);
  });

  it('a non-numeric tag at the end of a frame breaks the parser: the session reconnects, resyncs by resend, and the next fill is not lost', async () => {
    const before = await api.venue();
    const bad = report('R-1', 'F', '0', '0', false);
    raw.send([...bad, ['abc', '1']], { replayAs: null });
    const next = raw.send(report('R-1', 'F', '80', '191.00'));
    // The process is still up (HTTP answers) and the session comes back.
    await loggedOn(api, before.logons + 1);
    // 20 @ 190.00 + 80 @ 191.00 = 19080.00 / 100
    await orderMatches(api, 'R-1', { status: 'Filled', cum_qty: '100', leaves_qty: '0', avg_px: '190.80' });
    await until('durable_target_seq past both frames', async () => ((await api.venue()).durable_target_seq > next.seq ? true : undefined));
  });

  // ---- expected behaviour: the adapter validates neither the header (8, 49, 56, 34) nor the tag syntax of a
  // frame whose BodyLength and CheckSum are right (venue/fix-session.ts frameProblem), and jspurefix, its
  // integrity checks off, delivers it: the fill is applied. ----

  it('a non-numeric tag inside a frame: the message is not applied (the parser drops the fields after it)', async () => {
    await working('R-2');
    const before = await api.venue();
    const after = await notApplied('R-2', () => {
      const fill = report('R-2', 'F', '10', '190.00', false);
      // Before TransactTime (60): every field the adapter reads comes before the garbage.
      raw.send([...fill.slice(0, -1), ['abc', '1'], fill[fill.length - 1]], { replayAs: null });
    });
    expect(after.refused_in + after.garbled_in + after.logons).toBeGreaterThan(before.refused_in + before.garbled_in + before.logons);
  });

  it('wrong SenderCompID / TargetCompID on a message: not applied', async () => {
    await working('R-3');
    await notApplied('R-3', () => {
      const [msgType, ...body] = report('R-3', 'F', '10', '190.00', false);
      raw.writeRaw(encodeFrame([msgType, [49, 'EVIL'], [56, 'NOTME'], [34, raw.nextSeq++], [52, utcTimestamp()], ...body]));
    });
  });

  it('a wrong BeginString (FIX.4.2 on a FIX.4.4 session): not applied', async () => {
    await working('R-4');
    await notApplied('R-4', () => {
      raw.send(report('R-4', 'F', '10', '190.00', false), { beginString: 'FIX.4.2', replayAs: null });
    });
  });

  // Last: jspurefix reads 34=abc as 5451, which leaves the session's expected number off for the rest of it.
  it('a non-numeric MsgSeqNum: the message is not applied', async () => {
    await working('R-5');
    await notApplied('R-5', () => {
      raw.send(report('R-5', 'F', '10', '190.00', false), { seq: 'abc' });
    });
  });
});
