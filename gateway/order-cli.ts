// Order entry from a terminal, over the WebSocket session protocol (gateway/client.ts).
// Usage: npm run order -- <command> [options]     (USAGE below)
//
// Prices and quantities are typed as decimals ("190.05") and converted to the instrument's scaled integers
// exactly (core/fixed.ts parseScaled: too many decimals is an error, never a rounding). Symbols, ids and
// precisions come from the demo reference data (core/demo.ts demoInstruments) until the gateway serves
// reference data over HTTP; against a service with other instruments, this table must follow.
//
// Exit codes: 0 the command was accepted (or the stream ended by Ctrl-C), 1 refused, 2 usage error,
// 3 no connection / no answer (for new/cancel/replace: the command may or may not have been journaled —
// `watch` or the order's history tells; resending must reuse the same --clordid).

import { parseArgs } from 'node:util';
import {
  Command, ExecType, OrdStatus, OrdType, RejectCode, Side, TimeInForce,
} from '../schemas/generated/oms_generated.js';
import type { CancelOrderCmd, DefineInstrumentCmd, NewOrderCmd, ReplaceOrderCmd } from '../schemas/commands.js';
import type { CommandResultData, EventData, ExecutionReportData } from '../schemas/results.js';
import { describeEvent } from '../schemas/describe.js';
import { demoInstruments } from '../core/demo.js';
import { AVG_PX_EXTRA_DIGITS, formatScaled, parseScaledNumber } from '../core/fixed.js';
import { isTerminal } from '../core/model.js';
import type { OmsClientOptions } from './client.js';
import { OmsClient, OmsClientError, SubscriptionScope } from './client.js';
import { exitQuietlyOnClosedStdout, isMainModule } from './program.js';

export const URL_DEFAULT = 'ws://127.0.0.1:8080/v1/ws';
export const TOKEN_DEFAULT = 'demo-trader-token';
/** Not OMS_*: the service refuses unknown OMS_* variables, and a shell may export both. */
export const ENV_URL = 'OMS_CLIENT_URL';
export const ENV_TOKEN = 'OMS_CLIENT_TOKEN';
const CL_ORD_ID_BYTES_MAX = 64;
/** Bytes of an HTTP answer `list` reads at most. */
const HTTP_BODY_BYTES_MAX = 4 * 1024 * 1024;
/** --follow stops waiting for the order to finish after this long. */
const FOLLOW_MS_DEFAULT = 30_000;
const FOLLOW_MS_MAX = 3_600_000;
/** How long `replace` waits for the replay that finds the order's current terms. */
const LOOKUP_TIMEOUT_MS = 15_000;

const USAGE = `order <command> [options]                  (npm run order -- <command> ...)
  new --account N --symbol SYM --side buy|sell|short --qty Q [--price P] [--stop S]
      [--type limit|market|stop|stop-limit] [--tif day|gtc|ioc|fok|gtd] [--expire ISO-TIME]
      [--venue N] [--parent CLORDID] [--clordid ID] [--text T] [--follow [--follow-ms N]]
        --type defaults from the prices given (price: limit, stop: stop, both: stop-limit, none: market);
        --venue 0 (default) is a parent order held by the OMS; --venue 1 sends it to the simulated venue SIM.
        --follow prints the order's reports until it is done (filled, cancelled, rejected, expired).
  cancel CLORDID [--account N] [--clordid ID]
  replace CLORDID --qty Q [--price P] [--stop S] [--tif T] [--expire ISO-TIME] [--symbol SYM] [--clordid ID]
        unchanged terms are taken from the order's last report (found by replaying this user's reports);
        when the order is older than the gateway's retransmission window, give --symbol and every term.
  watch [--account N] [--from-seq N]         stream reports until Ctrl-C (own orders, or one account)
  list                                       the order blotter (needs the gateway's HTTP API)
Options: --url URL (env ${ENV_URL}, default ${URL_DEFAULT})
         --token TOKEN (env ${ENV_TOKEN}, default ${TOKEN_DEFAULT})
         --json    one JSON object per line, exact scaled integers, enum names
Symbols: ${demoInstruments().map((i) => i.symbol).join(', ')} (demo reference data)`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborting ends `watch` and `--follow` (Ctrl-C when run as a program). */
  signal?: AbortSignal;
  /** Overrides of client options (tests). */
  client_options?: OmsClientOptions;
}

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3 } as const;

class UsageError extends Error {}

// ---- arguments ------------------------------------------------------------------------------------------------

const OPTIONS = {
  url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  account: { type: 'string' }, symbol: { type: 'string' }, side: { type: 'string' }, qty: { type: 'string' },
  price: { type: 'string' }, stop: { type: 'string' }, type: { type: 'string' }, tif: { type: 'string' },
  expire: { type: 'string' }, venue: { type: 'string' }, parent: { type: 'string' }, clordid: { type: 'string' },
  text: { type: 'string' }, follow: { type: 'boolean' }, 'follow-ms': { type: 'string' }, 'from-seq': { type: 'string' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
}

function integerArg(name: string, text: string | undefined, fallback: number, max = 2 ** 32 - 1): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,16}$/.test(text) || Number(text) > max) throw new UsageError(`--${name} must be an integer from 0 to ${max}, got "${text}"`);
  return Number(text);
}

function required(values: Values, name: 'account' | 'symbol' | 'side' | 'qty'): string {
  const value = values[name];
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

const SIDES: Record<string, Side> = { buy: Side.Buy, sell: Side.Sell, short: Side.SellShort, 'sell-short': Side.SellShort };
const TYPES: Record<string, OrdType> = { market: OrdType.Market, limit: OrdType.Limit, stop: OrdType.Stop, 'stop-limit': OrdType.StopLimit };
const TIFS: Record<string, TimeInForce> = { day: TimeInForce.Day, gtc: TimeInForce.GTC, ioc: TimeInForce.IOC, fok: TimeInForce.FOK, gtd: TimeInForce.GTD };

function choice<T>(name: string, table: Record<string, T>, text: string): T {
  const value = Object.hasOwn(table, text.toLowerCase()) ? table[text.toLowerCase()] : undefined;
  if (value === undefined) throw new UsageError(`--${name} must be one of ${Object.keys(table).join(', ')}, got "${text}"`);
  return value;
}

function instrumentBySymbol(symbol: string): DefineInstrumentCmd {
  const found = demoInstruments().find((i) => i.symbol.toLowerCase() === symbol.toLowerCase());
  if (found === undefined) throw new UsageError(`unknown symbol "${symbol}" (known: ${demoInstruments().map((i) => i.symbol).join(', ')})`);
  return found;
}

function instrumentById(instrumentId: number): DefineInstrumentCmd | undefined {
  return demoInstruments().find((i) => i.instrumentId === instrumentId);
}

function scaled(name: string, text: string, digits: number): number {
  try {
    return parseScaledNumber(text, digits);
  } catch (error) {
    throw new UsageError(`--${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function expireUs(values: Values, tif: TimeInForce): number {
  if (tif !== TimeInForce.GTD) {
    if (values.expire !== undefined) throw new UsageError('--expire is only valid with --tif gtd');
    return 0;
  }
  if (values.expire === undefined) throw new UsageError('--tif gtd needs --expire ISO-TIME (e.g. 2026-12-31T21:00:00Z)');
  const ms = Date.parse(values.expire);
  if (Number.isNaN(ms)) throw new UsageError(`--expire: not an ISO 8601 time: "${values.expire}"`);
  return ms * 1000;
}

function clOrdIdArg(values: Values, prefix: string): string {
  const id = values.clordid ?? `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  if (id.length === 0 || Buffer.byteLength(id) > CL_ORD_ID_BYTES_MAX) throw new UsageError(`--clordid must have 1 to ${CL_ORD_ID_BYTES_MAX} bytes`);
  return id;
}

function orderType(values: Values): OrdType {
  if (values.type !== undefined) return choice('type', TYPES, values.type);
  if (values.price !== undefined && values.stop !== undefined) return OrdType.StopLimit;
  if (values.price !== undefined) return OrdType.Limit;
  return values.stop !== undefined ? OrdType.Stop : OrdType.Market;
}

export function newOrderFrom(values: Values): NewOrderCmd {
  const instrument = instrumentBySymbol(required(values, 'symbol'));
  const tif = values.tif === undefined ? TimeInForce.Day : choice('tif', TIFS, values.tif);
  return {
    type: Command.NewOrder, clOrdId: clOrdIdArg(values, 'CLI'), accountId: integerArg('account', required(values, 'account'), 0),
    instrumentId: instrument.instrumentId, side: choice('side', SIDES, required(values, 'side')), ordType: orderType(values),
    timeInForce: tif, orderQty: scaled('qty', required(values, 'qty'), instrument.qtyPrecision),
    price: values.price === undefined ? 0 : scaled('price', values.price, instrument.pricePrecision),
    stopPx: values.stop === undefined ? 0 : scaled('stop', values.stop, instrument.pricePrecision),
    expireTimeUs: expireUs(values, tif), parentClOrdId: values.parent ?? '', venueId: integerArg('venue', values.venue, 0),
    text: values.text ?? '',
  };
}

// ---- output ---------------------------------------------------------------------------------------------------

const COLUMNS: ReadonlyArray<[string, number]> = [
  ['SEQ', 7], ['EVENT', 8], ['CLORDID', 22], ['EXEC', 14], ['STATUS', 15], ['SIDE', 9], ['SYMBOL', 10], ['QTY', 10],
  ['PRICE', 11], ['LAST', 20], ['CUM', 10], ['LEAVES', 10], ['AVGPX', 12],
];

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => (i < COLUMNS.length ? cell.padEnd(COLUMNS[i][1]) : cell)).join(' ').trimEnd();
}

export function tableHeader(): string {
  return row([...COLUMNS.map(([name]) => name), 'TEXT']);
}

function money(value: number, instrument: DefineInstrumentCmd | undefined, digits: 'price' | 'qty' | 'avg'): string {
  if (instrument === undefined) return String(value);
  const precision = digits === 'qty' ? instrument.qtyPrecision : instrument.pricePrecision + (digits === 'avg' ? AVG_PX_EXTRA_DIGITS : 0);
  return formatScaled(value, precision);
}

function executionRow(seq: number, e: ExecutionReportData): string {
  const instrument = instrumentById(e.instrumentId);
  const last = e.lastQty === 0 ? '' : `${money(e.lastQty, instrument, 'qty')}@${money(e.lastPx, instrument, 'price')}`;
  const price = e.ordType === OrdType.Market ? 'MKT' : money(e.price, instrument, 'price');
  const reject = e.ordRejReason === RejectCode.None ? '' : `${RejectCode[e.ordRejReason] ?? e.ordRejReason}`;
  return row([
    String(seq), 'exec', e.clOrdId, ExecType[e.execType] ?? String(e.execType), OrdStatus[e.ordStatus] ?? String(e.ordStatus),
    Side[e.side] ?? String(e.side), instrument?.symbol ?? `#${e.instrumentId}`, money(e.orderQty, instrument, 'qty'), price, last,
    money(e.cumQty, instrument, 'qty'), money(e.leavesQty, instrument, 'qty'), e.cumQty === 0 ? '' : money(e.avgPx, instrument, 'avg'),
    [reject, e.text].filter((t) => t.length > 0).join(' '),
  ]);
}

export function eventRow(seq: number, event: EventData): string {
  switch (event.kind) {
    case 'execution_report': return executionRow(seq, event);
    case 'cancel_reject': return row([String(seq), 'cxl-rej', event.clOrdId, `orig ${event.origClOrdId}`, OrdStatus[event.ordStatus] ?? '', '', '', '', '', '', '', '', '',
      `${RejectCode[event.rejectCode] ?? event.rejectCode} ${event.text}`]);
    case 'command_reject': return row([String(seq), 'reject', '', '', '', '', '', '', '', '', '', '', '', `${RejectCode[event.rejectCode] ?? event.rejectCode} ${event.text}`]);
    case 'accepted': return row([String(seq), 'accepted', '', Command[event.commandType] ?? String(event.commandType)]);
    case 'venue_request': return row([String(seq), 'venue', event.clOrdId]);
  }
}

function printResult(io: CliIo, json: boolean, result: CommandResultData, what: 'answer' | 'report'): void {
  for (const event of result.events) {
    if (json) io.out(JSON.stringify({ type: what, seq: result.seq, request_id: result.requestId, ...describeEvent(event) }));
    else io.out(eventRow(result.seq, event));
  }
}

/** Whether an answer says the command was refused (rejected order, cancel reject, frame refused). */
export function refused(result: CommandResultData): boolean {
  return result.events.some((e) => e.kind === 'command_reject' || e.kind === 'cancel_reject' ||
    (e.kind === 'execution_report' && e.execType === ExecType.Rejected));
}

// ---- commands -------------------------------------------------------------------------------------------------

interface Context {
  io: CliIo;
  values: Values;
  positionals: readonly string[];
  url: string;
  token: string;
  json: boolean;
}

async function connect(ctx: Context, options: OmsClientOptions = {}): Promise<OmsClient> {
  return OmsClient.connect(ctx.url, ctx.token, { reconnect: false, ...ctx.io.client_options, ...options });
}

/** Sends one command, prints its answer, optionally follows the order's reports until it is done. */
async function sendAndPrint(ctx: Context, client: OmsClient, command: NewOrderCmd | CancelOrderCmd | ReplaceOrderCmd): Promise<number> {
  const follow = ctx.values.follow === true;
  const followMs = integerArg('follow-ms', ctx.values['follow-ms'], FOLLOW_MS_DEFAULT, FOLLOW_MS_MAX);
  let orderId = 0;
  let done: (() => void) | null = null;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  const seen = new Set<number>();
  if (!ctx.json) ctx.io.out(tableHeader());
  client.on('report', (result) => {
    if (orderId === 0 || result.requestId !== 0) return; // the answer itself is printed below
    const ours = result.events.filter((e) => (e.kind === 'execution_report' || e.kind === 'cancel_reject') && e.orderId === orderId);
    if (ours.length === 0 || seen.has(result.seq)) return;
    seen.add(result.seq);
    printResult(ctx.io, ctx.json, { ...result, events: ours }, 'report');
    if (ours.some((e) => e.kind === 'execution_report' && isTerminal(e.ordStatus))) done?.();
  });
  const answer = await client.send(command);
  printResult(ctx.io, ctx.json, answer, 'answer');
  if (refused(answer)) return EXIT.refused;
  const report = answer.events.find((e): e is ExecutionReportData => e.kind === 'execution_report');
  if (!follow || report === undefined || isTerminal(report.ordStatus)) return EXIT.ok;
  orderId = report.orderId;
  await untilAny(finished, followMs, ctx.io.signal);
  return EXIT.ok;
}

function untilAny(promise: Promise<void>, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const stop = (): void => { clearTimeout(timer); resolve(); };
    signal?.addEventListener('abort', stop, { once: true });
    promise.then(stop, stop);
  });
}

async function cmdNew(ctx: Context): Promise<number> {
  const command = newOrderFrom(ctx.values);
  const client = await connect(ctx);
  try {
    return await sendAndPrint(ctx, client, command);
  } finally {
    await client.close();
  }
}

function positionalId(ctx: Context, what: string): string {
  const id = ctx.positionals[1];
  if (id === undefined || id.length === 0) throw new UsageError(`${what} needs the order's current ClOrdID`);
  if (ctx.positionals.length > 2) throw new UsageError(`unexpected arguments: ${ctx.positionals.slice(2).join(' ')}`);
  return id;
}

async function cmdCancel(ctx: Context, origClOrdId: string): Promise<number> {
  // Account 0: the core finds the order by its ClOrdID alone (a given account must match it).
  const command: CancelOrderCmd = {
    type: Command.CancelOrder, clOrdId: clOrdIdArg(ctx.values, 'CXL'), origClOrdId, accountId: integerArg('account', ctx.values.account, 0),
  };
  const client = await connect(ctx);
  try {
    return await sendAndPrint(ctx, client, command);
  } finally {
    await client.close();
  }
}

/**
 * The order's latest execution report among this user's reports the gateway still holds, or null. Replays
 * from seq 0; when that is older than the gateway's window, replays again from the window's start, which
 * ResumeTooOld carries (oldestSeq).
 */
async function lookUpOrder(ctx: Context, clOrdId: string): Promise<ExecutionReportData | null> {
  let latest: ExecutionReportData | null = null;
  let orderId = 0;
  const collect = (result: CommandResultData): void => {
    for (const e of result.events) {
      if (e.kind !== 'execution_report') continue;
      if (e.clOrdId === clOrdId) orderId = e.orderId;
      if (orderId !== 0 && e.orderId === orderId) latest = e;
    }
  };
  let windowStartSeq: number | null = null;
  const first = await connect(ctx, {
    resume_after_seq: 0, resume_timeout_ms: LOOKUP_TIMEOUT_MS, on_report: collect,
    on_gap: (gap) => { windowStartSeq = gap.oldestSeq; },
  });
  await first.close();
  if (latest !== null || windowStartSeq === null) return latest;
  const second = await connect(ctx, { resume_after_seq: windowStartSeq, resume_timeout_ms: LOOKUP_TIMEOUT_MS, on_report: collect });
  await second.close();
  return latest;
}

async function cmdReplace(ctx: Context, origClOrdId: string): Promise<number> {
  const v = ctx.values;
  if (v.qty === undefined) throw new UsageError('replace needs --qty (the new total quantity)');
  const known = v.symbol !== undefined && v.tif !== undefined ? null : await lookUpOrder(ctx, origClOrdId);
  if (known === null && (v.symbol === undefined || v.tif === undefined)) {
    throw new UsageError(`order ${origClOrdId} is not among this user's reports the gateway holds: give --symbol, --tif and every price`);
  }
  const instrument = v.symbol !== undefined ? instrumentBySymbol(v.symbol) : instrumentById(known?.instrumentId ?? 0);
  if (instrument === undefined) throw new UsageError(`the order's instrument #${known?.instrumentId} is not in the demo reference data`);
  const tif = v.tif !== undefined ? choice('tif', TIFS, v.tif) : known?.timeInForce ?? TimeInForce.Day;
  const command: ReplaceOrderCmd = {
    type: Command.ReplaceOrder, clOrdId: clOrdIdArg(v, 'RPL'), origClOrdId, accountId: 0,
    orderQty: scaled('qty', v.qty, instrument.qtyPrecision),
    price: v.price !== undefined ? scaled('price', v.price, instrument.pricePrecision) : known?.price ?? 0,
    stopPx: v.stop !== undefined ? scaled('stop', v.stop, instrument.pricePrecision) : known?.stopPx ?? 0,
    timeInForce: tif,
    // Execution reports do not carry a GTD order's expiry, so a GTD replace needs --expire again.
    expireTimeUs: expireUs(v, tif),
  };
  const client = await connect(ctx);
  try {
    return await sendAndPrint(ctx, client, command);
  } finally {
    await client.close();
  }
}

async function cmdWatch(ctx: Context): Promise<number> {
  const account = ctx.values.account === undefined ? null : integerArg('account', ctx.values.account, 0);
  const fromSeq = ctx.values['from-seq'] === undefined ? undefined : integerArg('from-seq', ctx.values['from-seq'], 0, Number.MAX_SAFE_INTEGER);
  if (!ctx.json) ctx.io.out(tableHeader());
  const client = await connect(ctx, {
    reconnect: true, resume_after_seq: fromSeq,
    subscriptions: account === null ? [] : [{ scope: SubscriptionScope.Account, accountId: account }],
    on_report: (result) => printResult(ctx.io, ctx.json, result, 'report'),
    on_reconnect: (info) => ctx.io.err(`reconnected (session ${info.sessionId}, ${info.replayedCount} missed reports replayed after seq ${info.resumedAfterSeq})`),
  });
  client.on('disconnect', (info) => ctx.io.err(`disconnected (${info.code}); reconnecting…`));
  client.on('gap', (info) => ctx.io.err(`reports after seq ${info.afterSeq} were lost: ${info.text}`));
  const from = fromSeq === undefined ? `from seq ${client.lastSeq}` : `replayed after seq ${fromSeq}, now at ${client.lastSeq}`;
  ctx.io.err(`watching ${account === null ? "this user's orders" : `account ${account}`} as user ${client.userId}, ${from}; Ctrl-C to stop`);
  const closed = new Promise<number>((resolve) => {
    client.on('close', (info) => {
      if (info.error !== null) ctx.io.err(`stopped: ${info.error.message}`);
      resolve(info.error === null ? EXIT.ok : EXIT.unavailable);
    });
  });
  const stop = (): void => { void client.close(); };
  if (ctx.io.signal?.aborted === true) stop();
  ctx.io.signal?.addEventListener('abort', stop, { once: true });
  return closed;
}

const NO_BLOTTER = (path: string): string =>
  `list is not available yet: the gateway has no order blotter endpoint (GET ${path}). Use "watch" to follow orders.`;

async function healthy(base: URL): Promise<boolean> {
  const health = new URL('/health', base);
  try {
    const response = await fetch(health, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function cmdList(ctx: Context): Promise<number> {
  const http = new URL(ctx.url);
  http.protocol = http.protocol === 'wss:' ? 'https:' : 'http:';
  http.pathname = '/v1/orders';
  let response: Response;
  try {
    response = await fetch(http, { headers: { authorization: `Bearer ${ctx.token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    // The gateway (uWS) drops a request for a route it does not have without an answer: tell that apart
    // from a gateway that is down by asking its health endpoint.
    if (await healthy(http)) {
      ctx.io.err(NO_BLOTTER(http.pathname));
      return EXIT.unavailable;
    }
    ctx.io.err(`list: cannot reach ${http.href}: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.unavailable;
  }
  if (response.status === 404) {
    await response.body?.cancel();
    ctx.io.err(NO_BLOTTER(http.pathname));
    return EXIT.unavailable;
  }
  const body = await response.text();
  if (body.length > HTTP_BODY_BYTES_MAX) throw new Error(`list: answer larger than ${HTTP_BODY_BYTES_MAX} bytes`);
  if (!response.ok) {
    ctx.io.err(`list: HTTP ${response.status}: ${body.slice(0, 200)}`);
    return response.status === 401 || response.status === 403 ? EXIT.refused : EXIT.unavailable;
  }
  if (ctx.json) {
    ctx.io.out(body.trimEnd());
    return EXIT.ok;
  }
  const page = JSON.parse(body) as { orders: Array<Record<string, unknown>>; next_cursor: unknown };
  const columns: Array<[string, string, number]> = [
    ['order_id', 'ID', 8], ['cl_ord_id', 'CLORDID', 24], ['account_id', 'ACCOUNT', 8], ['symbol', 'SYMBOL', 12],
    ['side', 'SIDE', 6], ['status', 'STATUS', 16], ['qty', 'QTY', 14], ['price', 'PRICE', 12], ['cum_qty', 'CUM', 14],
    ['leaves_qty', 'LEAVES', 14], ['avg_px', 'AVGPX', 14], ['transact_time', 'ENTERED', 28],
  ];
  ctx.io.out(columns.map(([, title, width]) => title.padEnd(width)).join(' ').trimEnd());
  for (const order of page.orders) {
    ctx.io.out(columns.map(([key, , width]) => String(order[key] ?? '').padEnd(width)).join(' ').trimEnd());
  }
  if (page.next_cursor !== null) ctx.io.out(`(more: GET /v1/orders?cursor=${String(page.next_cursor)})`);
  return EXIT.ok;
}

// ---- entry ----------------------------------------------------------------------------------------------------

/** Runs one CLI command; resolves with the exit code. Never calls process.exit (tests run it in-process). */
export async function runOrderCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CliIo): Promise<number> {
  let ctx: Context;
  try {
    const parsed = parse(argv);
    if (parsed.values.help === true || parsed.positionals.length === 0) {
      io.out(USAGE);
      return parsed.values.help === true ? EXIT.ok : EXIT.usage;
    }
    ctx = {
      io, values: parsed.values, positionals: parsed.positionals, json: parsed.values.json === true,
      url: parsed.values.url ?? env[ENV_URL] ?? URL_DEFAULT, token: parsed.values.token ?? env[ENV_TOKEN] ?? TOKEN_DEFAULT,
    };
    return await dispatch(ctx, parsed.positionals);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`order: ${error.message} (order --help for usage)`);
      return EXIT.usage;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.err(`order: ${error.message}\n${USAGE}`);
      return EXIT.usage;
    }
    if (error instanceof OmsClientError) {
      io.err(`order: ${error.message}${error.code === 'timeout' || error.code === 'connection_lost' ? ' (the command may or may not have been journaled: check with watch)' : ''}`);
      return error.code === 'refused' || error.code === 'auth_refused' ? EXIT.refused : EXIT.unavailable;
    }
    throw error;
  }
}

function dispatch(ctx: Context, positionals: readonly string[]): Promise<number> {
  const command = positionals[0];
  if (command !== 'cancel' && command !== 'replace' && positionals.length > 1) {
    throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  }
  switch (command) {
    case 'new': return cmdNew(ctx);
    case 'cancel': return cmdCancel(ctx, positionalId(ctx, 'cancel'));
    case 'replace': return cmdReplace(ctx, positionalId(ctx, 'replace'));
    case 'watch': return cmdWatch(ctx);
    case 'list': return cmdList(ctx);
    default: throw new UsageError(`unknown command "${command}"`);
  }
}

if (isMainModule(import.meta.url)) {
  exitQuietlyOnClosedStdout();
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const io: CliIo = { out: (line) => process.stdout.write(line + '\n'), err: (line) => process.stderr.write(line + '\n'), signal: controller.signal };
  runOrderCli(process.argv.slice(2), process.env, io).then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`order: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
