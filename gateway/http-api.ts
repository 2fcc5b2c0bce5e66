// The HTTP JSON API for desk users and tools, under /v1 on the gateway's uWebSockets.js app.
//
// - Writes (orders, cancels, replaces, limits, kill switch) become ordinary commands stamped with the token's
//   user and HTTP_SESSION_ID and go through the service's one submit path; the core authorises and
//   journals them, refusals included, exactly as for the WebSocket API. An answer is sent only once the
//   result is durable and applied to the replica.
// - Reads (blotter, positions, accounts, instruments, limits, kill switch) come from the gateway's replica of
//   the core and are filtered here by the caller's role and account entitlements: the core never sees reads.
// - An order's history replays the journal (persistence/audit.ts): seconds for a large journal, so it runs
//   in a Piscina pool (gateway/history-task.ts), never on this thread.
// - Amounts are exact decimal strings in instrument units, converted with the instrument's precision
//   (core/fixed.ts): "190.055" on a cent instrument is refused (WrongPrecision), never rounded.
//
// uWS rules kept here: every header, the URL and the query are read before anything asynchronous (the
// HttpRequest is dead after the handler returns); onAborted is registered first; bodies are copied out of
// onData (uWS reuses the buffer); answers after async work are corked; an aborted response is never touched.

import { availableParallelism } from 'node:os';
import * as flatbuffers from 'flatbuffers';
import { Piscina } from 'piscina';
import {
  AssetClass, Command, ExecType, KillScope, LimitScope, OrdStatus, OrdType, PutCall, RejectCode, Role, Side,
  TimeInForce, WorkflowState,
} from '../schemas/generated/oms_generated.js';
import type { CommandBody, NewOrderCmd } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import type { CommandResultData, ExecutionReportData } from '../schemas/results.js';
import { CoreQueueFullError, CoreStoppedError } from '../core/core-host.js';
import { assert } from '../core/assert.js';
import { isEntitled } from '../core/checks.js';
import { CommandDecoder, DecodeError, DEFAULT_DECODE_LIMITS } from '../core/decode.js';
import { absBig, AVG_PX_EXTRA_DIGITS, avgPx, formatScaled, LIMIT_MONEY_DIGITS, MONEY_SCALE_DIGITS, notional, parseScaled } from '../core/fixed.js';
import type { Instrument, LimitSet, Order, Position, User } from '../core/model.js';
import { emptyLimitSet, LIMIT_UNSET, leavesQty, PendingKind, reportedStatus } from '../core/model.js';
import { unrealisedPnl } from '../core/risk.js';
import type { CoreState } from '../core/state.js';
import type { Config } from './config.js';
import type { HistoryResult, HistoryTask } from './history-task.js';
import type { GatewayMetrics } from './metrics.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import type { Replica } from './replica.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';
import type { VenueStatus } from '../venue/fix-venue.js';

export interface HttpApiDeps {
  config: Config;
  replica: Replica;
  metrics: GatewayMetrics;
  /** Token -> user id, from the configuration (the same tokens as the WebSocket API). */
  tokens: ReadonlyMap<string, number>;
  /** The service's one submit path: resolves with the durable result, already applied to the replica. */
  submit(frame: Uint8Array): Promise<CommandResultData>;
  nowUs(): number;
  /** The journal directory, for reads that scan it (order history) off the main thread. */
  journal_path: string;
  /** Where unexpected failures (HTTP 500) are reported; default: one JSON line on stderr. */
  log?: (fields: Record<string, unknown>) => void;
  /** FIX venue sessions (state and admin); absent: none configured. */
  venues?: VenueAdmin;
}

export interface VenueAdmin {
  statuses(): VenueStatus[];
  /** False when no FIX session serves the venue; `userId` is logged (admin actions are not journaled). */
  disconnect(venueId: number, userId: number): boolean;
  connect(venueId: number, userId: number): boolean;
}

export interface PoolStats {
  threads: number;
  queue_size: number;
  completed_total: number;
  /** Piscina's utilization: the share of the pool's capacity spent running tasks since it started. */
  utilization_ratio: number;
}

export interface HttpApi {
  close(): Promise<void>;
  /** The history pool, for the /metrics scrape. */
  poolStats(): PoolStats;
}

// ---- named limits -----------------------------------------------------------------------------------------

/** Session id stamped on every command the HTTP API sends; WebSocket sessions count up from 1. */
export const HTTP_SESSION_ID = 0xFFFF_FFFF;
/** Request bodies larger than this are refused with 413 (an order is a few hundred bytes). */
export const HTTP_BODY_BYTES_MAX = 16 * 1024;
/** Commands sent through HTTP and not yet answered by the core; beyond it requests get 503. */
export const HTTP_COMMANDS_IN_FLIGHT_MAX = 4_096;
/** Blotter page size when `limit` is not given, and the largest `limit` accepted. */
export const BLOTTER_PAGE_DEFAULT = 100;
export const BLOTTER_PAGE_MAX = 1_000;
/** Orders one blotter request examines at most; a sparse filter then returns a cursor to continue from. */
export const BLOTTER_SCAN_MAX = 100_000;
/** Positions one answer carries at most (flagged `truncated` beyond). */
export const POSITIONS_MAX = 10_000;
/** Cores the order path keeps for itself: the gateway's thread and the core's thread. */
export const ORDER_PATH_CORES = 2;
/** Pool threads at most: 4, but never more than the cores the order path leaves (benchmark 7: on 2 cores, 1 thread moves its p99 half as much as 2). */
const HISTORY_THREADS_CAP = 4;
/** History replays run on at most this many pool threads, with at most HISTORY_QUEUE_MAX waiting; beyond: 503. */
export const HISTORY_THREADS_MAX = Math.max(1, Math.min(HISTORY_THREADS_CAP, availableParallelism() - ORDER_PATH_CORES));
export const HISTORY_QUEUE_MAX = 8;
/** An idle pool thread exits after this long (a replay is rare: no thread need sit idle). */
export const HISTORY_IDLE_TIMEOUT_MS = 30_000;
/** close() waits this long for running replays before the pool threads are terminated. */
export const HISTORY_CLOSE_TIMEOUT_MS = 5_000;
/** Characters of one decimal string: far more than any safe integer needs, so longer is out of range. */
const DECIMAL_CHARS_MAX = 40;
const UINT32_MAX = 0xFFFF_FFFF;

const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const JSON_CONTENT_TYPE = 'application/json';

const STATUS_LINES: Readonly<Record<number, string>> = {
  200: '200 OK', 201: '201 Created', 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden',
  404: '404 Not Found', 405: '405 Method Not Allowed', 413: '413 Content Too Large', 422: '422 Unprocessable Content',
  500: '500 Internal Server Error', 503: '503 Service Unavailable',
};

// ---- routes -------------------------------------------------------------------------------------------------

type Method = 'get' | 'post' | 'put';
type HandlerName =
  | 'newOrder' | 'listOrders' | 'getOrder' | 'orderHistory' | 'cancelOrder' | 'replaceOrder' | 'releaseChild'
  | 'positions' | 'accounts' | 'instruments' | 'getLimits' | 'putLimits' | 'getKillSwitch' | 'putKillSwitch' | 'openapi'
  | 'venues' | 'venueDisconnect' | 'venueConnect';

export interface RouteSpec {
  method: Method;
  /** OpenAPI template syntax; mounted on uWS with `:name` parameters. */
  path: string;
  handler: HandlerName;
  /** Whether the route reads a JSON body. */
  body: boolean;
  /** Whether the route needs a bearer token. */
  auth: boolean;
}

/** Every route of the API: mounted from this table, and the OpenAPI test checks the document against it. */
export const HTTP_ROUTES: readonly RouteSpec[] = [
  { method: 'post', path: '/v1/orders', handler: 'newOrder', body: true, auth: true },
  { method: 'get', path: '/v1/orders', handler: 'listOrders', body: false, auth: true },
  { method: 'get', path: '/v1/orders/{cl_ord_id}', handler: 'getOrder', body: false, auth: true },
  { method: 'get', path: '/v1/orders/{cl_ord_id}/history', handler: 'orderHistory', body: false, auth: true },
  { method: 'post', path: '/v1/orders/{cl_ord_id}/cancel', handler: 'cancelOrder', body: true, auth: true },
  { method: 'post', path: '/v1/orders/{cl_ord_id}/replace', handler: 'replaceOrder', body: true, auth: true },
  { method: 'post', path: '/v1/orders/{cl_ord_id}/children', handler: 'releaseChild', body: true, auth: true },
  { method: 'get', path: '/v1/positions', handler: 'positions', body: false, auth: true },
  { method: 'get', path: '/v1/accounts', handler: 'accounts', body: false, auth: true },
  { method: 'get', path: '/v1/instruments', handler: 'instruments', body: false, auth: true },
  { method: 'get', path: '/v1/limits', handler: 'getLimits', body: false, auth: true },
  { method: 'put', path: '/v1/limits', handler: 'putLimits', body: true, auth: true },
  { method: 'get', path: '/v1/kill-switch', handler: 'getKillSwitch', body: false, auth: true },
  { method: 'put', path: '/v1/kill-switch', handler: 'putKillSwitch', body: true, auth: true },
  { method: 'get', path: '/v1/venues', handler: 'venues', body: false, auth: true },
  { method: 'post', path: '/v1/venues/{venue_id}/disconnect', handler: 'venueDisconnect', body: false, auth: true },
  { method: 'post', path: '/v1/venues/{venue_id}/connect', handler: 'venueConnect', body: false, auth: true },
  { method: 'get', path: '/v1/openapi.json', handler: 'openapi', body: false, auth: false },
];

/** Roles that use the desk API at all; venue sessions and the system user have no business here. */
const DESK_ROLES: ReadonlySet<Role> = new Set([
  Role.PortfolioManager, Role.Trader, Role.MiddleOffice, Role.BackOffice, Role.Compliance, Role.Admin,
]);
const LIMIT_READERS: ReadonlySet<Role> = new Set([Role.Admin]);
const KILL_SWITCH_READERS: ReadonlySet<Role> = new Set([Role.Compliance, Role.Admin]);
/** Venue connectivity is operations' business; only an admin drops or restores a session. */
const VENUE_ADMINS: ReadonlySet<Role> = new Set([Role.Admin]);

// ---- errors -------------------------------------------------------------------------------------------------

/** An answer other than success: becomes an application/problem+json body (RFC 9457). */
export class ApiProblem extends Error {
  constructor(readonly status: number, readonly code: RejectCode, readonly detail: string,
    readonly extra: Readonly<Record<string, string | number>> = {}) {
    super(detail);
  }
}

const bad = (code: RejectCode, detail: string): ApiProblem => new ApiProblem(400, code, detail);

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  reject_code: number;
  reject_code_name: string;
  seq?: number;
}

function problemBody(problem: ApiProblem): ProblemBody {
  const name = RejectCode[problem.code] ?? String(problem.code);
  const body: ProblemBody = {
    type: `urn:oms:reject:${name}`, title: name.replace(/([a-z])([A-Z])/g, '$1 $2'), status: problem.status,
    detail: problem.detail, reject_code: problem.code, reject_code_name: name,
  };
  return { ...body, ...problem.extra };
}

// ---- the response wrapper -----------------------------------------------------------------------------------

interface ApiAnswer {
  status: number;
  body: unknown;
  location?: string;
}

/** One response: remembers an abort, answers at most once, corks (answers may come after async work). */
class Reply {
  private aborted = false;
  private sent = false;

  constructor(private readonly res: HttpResponse) {
    res.onAborted(() => { this.aborted = true; });
  }

  get open(): boolean {
    return !this.aborted && !this.sent;
  }

  send(status: number, contentType: string, body: string, headers: ReadonlyArray<readonly [string, string]> = []): void {
    if (!this.open) return;
    const line = STATUS_LINES[status];
    assert(line !== undefined, `no status line for ${status}`);
    this.sent = true;
    this.res.cork(() => {
      this.res.writeStatus(line).writeHeader('content-type', contentType).writeHeader('cache-control', 'no-store');
      for (const [name, value] of headers) this.res.writeHeader(name, value);
      this.res.end(body);
    });
  }

  answer(answer: ApiAnswer): void {
    const headers: Array<[string, string]> = answer.location === undefined ? [] : [['location', answer.location]];
    this.send(answer.status, JSON_CONTENT_TYPE, JSON.stringify(answer.body), headers);
  }

  problem(problem: ApiProblem): void {
    const headers: Array<[string, string]> = [];
    if (problem.status === 401) headers.push(['www-authenticate', 'Bearer']);
    if (problem.status === 503) headers.push(['retry-after', '1']);
    this.send(problem.status, PROBLEM_CONTENT_TYPE, JSON.stringify(problemBody(problem)), headers);
  }
}

// ---- request data (read synchronously, before anything asynchronous) ----------------------------------------

interface RequestData {
  authorization: string;
  contentLength: string;
  query: string;
  params: string[];
}

interface Call {
  /** The authenticated user; routes without auth get null. */
  user: User | null;
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
}

function readRequest(req: HttpRequest, paramCount: number): RequestData {
  const params: string[] = [];
  for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i) ?? '');
  return {
    authorization: req.getHeader('authorization'), contentLength: req.getHeader('content-length'),
    query: req.getQuery() ?? '', params,
  };
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw bad(RejectCode.InvalidField, 'the path is not valid percent-encoding');
  }
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(UTF8_STRICT.decode(bytes));
  } catch {
    throw bad(RejectCode.MalformedFrame, 'the body is not valid JSON (UTF-8)');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(RejectCode.InvalidField, 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

// ---- input conversion ---------------------------------------------------------------------------------------

const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** Exact decimal text -> scaled integer: refuses extra decimals (WrongPrecision), negatives and overflow. */
export function toScaled(text: string, digits: number, field: string): number {
  if (text.length > DECIMAL_CHARS_MAX) throw bad(RejectCode.ValueOutOfRange, `${field} is too long a number`);
  if (!DECIMAL.test(text)) throw bad(RejectCode.InvalidField, `${field} must be a decimal string such as "190.05", got ${JSON.stringify(text)}`);
  const fraction = text.includes('.') ? text.slice(text.indexOf('.') + 1).replace(/0+$/, '') : '';
  if (fraction.length > digits) throw bad(RejectCode.WrongPrecision, `${field} "${text}" has more than ${digits} decimal places`);
  if (text.startsWith('-')) throw bad(RejectCode.ValueOutOfRange, `${field} must not be negative`);
  let value: bigint;
  try {
    value = parseScaled(text, digits);
  } catch {
    throw bad(RejectCode.ValueOutOfRange, `${field} "${text}" is too large`);
  }
  const result = Number(value);
  if (!Number.isSafeInteger(result)) throw bad(RejectCode.ValueOutOfRange, `${field} "${text}" is too large`);
  return result;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 time ("2026-11-24T16:00:00Z", up to microseconds) -> microseconds since the epoch. */
export function toTimeUs(text: string, field: string): number {
  const match = RFC3339.exec(text);
  const ms = match === null ? Number.NaN : Date.parse(match[1] + match[3]);
  if (match === null || Number.isNaN(ms)) throw bad(RejectCode.InvalidField, `${field} must be an RFC 3339 time such as "2026-11-24T16:00:00Z"`);
  const us = ms * 1000 + Number((match[2] ?? '').padEnd(6, '0'));
  if (!Number.isSafeInteger(us) || us < 0) throw bad(RejectCode.ValueOutOfRange, `${field} is out of range`);
  return us;
}

/** Enum input: case-insensitive, '_', '-' and spaces ignored ("sell_short", "SellShort", "stop-limit"). */
function normalise(text: string): string {
  return text.toLowerCase().replace(/[_\- ]/g, '');
}

function namesOf<T extends number>(enumObject: Record<string, string | number>, skip: readonly number[] = [0]): ReadonlyMap<string, T> {
  const names = new Map<string, T>();
  for (const [name, value] of Object.entries(enumObject)) {
    if (typeof value === 'number' && !skip.includes(value)) names.set(normalise(name), value as T);
  }
  return names;
}

const SIDE_NAMES = namesOf<Side>(Side);
const ORD_TYPE_NAMES = namesOf<OrdType>(OrdType);
const TIF_NAMES = namesOf<TimeInForce>(TimeInForce, []);
const ORD_STATUS_NAMES = namesOf<OrdStatus>(OrdStatus);
const LIMIT_SCOPE_NAMES = namesOf<LimitScope>(LimitScope);
const KILL_SCOPE_NAMES = namesOf<KillScope>(KillScope);

/** A JSON body, read field by field with types checked; a field it does not know is refused. */
class Body {
  constructor(private readonly body: Record<string, unknown>, allowed: readonly string[]) {
    for (const key of Object.keys(body)) {
      if (!allowed.includes(key)) throw bad(RejectCode.InvalidField, `unknown field "${key}" (allowed: ${allowed.join(', ')})`);
    }
  }

  has(name: string): boolean {
    return Object.hasOwn(this.body, name);
  }

  isNull(name: string): boolean {
    return this.has(name) && this.body[name] === null;
  }

  string(name: string): string | undefined {
    const value = this.body[name];
    if (!this.has(name)) return undefined;
    if (typeof value !== 'string') throw bad(RejectCode.InvalidField, `${name} must be a string`);
    return value;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value.length === 0) throw bad(RejectCode.InvalidField, `${name} is required`);
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.body[name];
    if (!this.has(name)) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw bad(RejectCode.InvalidField, `${name} must be an integer`);
    if (value < min || value > max) throw bad(RejectCode.ValueOutOfRange, `${name} must be from ${min} to ${max}`);
    return value;
  }

  requiredInteger(name: string, min: number, max: number): number {
    const value = this.integer(name, min, max);
    if (value === undefined) throw bad(RejectCode.InvalidField, `${name} is required`);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.body[name];
    if (!this.has(name)) return undefined;
    if (typeof value !== 'boolean') throw bad(RejectCode.InvalidField, `${name} must be true or false`);
    return value;
  }

  decimal(name: string, digits: number): number | undefined {
    const text = this.string(name);
    return text === undefined ? undefined : toScaled(text, digits, name);
  }

  choice<T>(name: string, names: ReadonlyMap<string, T>): T | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const value = names.get(normalise(text));
    if (value === undefined) throw bad(RejectCode.InvalidField, `${name} must be one of ${[...names.keys()].join(', ')}`);
    return value;
  }

  time(name: string): number | undefined {
    const text = this.string(name);
    return text === undefined ? undefined : toTimeUs(text, name);
  }
}

/** The query string: each parameter at most once, none unknown. */
function queryOf(query: URLSearchParams, allowed: readonly string[]): ReadonlyMap<string, string> {
  const values = new Map<string, string>();
  for (const [key, value] of query) {
    if (!allowed.includes(key)) throw bad(RejectCode.InvalidField, `unknown query parameter "${key}" (allowed: ${allowed.join(', ') || 'none'})`);
    if (values.has(key)) throw bad(RejectCode.InvalidField, `query parameter "${key}" is repeated`);
    values.set(key, value);
  }
  return values;
}

function queryInteger(values: ReadonlyMap<string, string>, name: string, min: number, max: number): number | undefined {
  const text = values.get(name);
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text)) throw bad(RejectCode.InvalidField, `${name} must be an integer`);
  const value = Number(text);
  if (value < min || value > max) throw bad(RejectCode.ValueOutOfRange, `${name} must be from ${min} to ${max}`);
  return value;
}

function queryBoolean(values: ReadonlyMap<string, string>, name: string): boolean | undefined {
  const text = values.get(name);
  if (text === undefined) return undefined;
  if (text !== 'true' && text !== 'false') throw bad(RejectCode.InvalidField, `${name} must be true or false`);
  return text === 'true';
}

// ---- output formatting --------------------------------------------------------------------------------------

/** Drops trailing fraction zeros beyond `keepDigits` ("190.00000000" -> "190.00"): still exact. */
function trimDecimal(text: string, keepDigits: number): string {
  const dot = text.indexOf('.');
  if (dot < 0) return text;
  let end = text.length;
  while (end > dot + 1 + keepDigits && text[end - 1] === '0') end--;
  return end === dot + 1 ? text.slice(0, dot) : text.slice(0, end);
}

/** Microseconds since the epoch -> RFC 3339 UTC with six fraction digits. */
export function isoTime(us: number): string {
  const ms = Math.floor(us / 1000);
  const text = new Date(ms).toISOString();
  return `${text.slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

/** Average price (price units x 10^AVG_PX_EXTRA_DIGITS) as decimal text, at least the price precision. */
function avgPxText(instrument: Instrument, scaledAvg: number): string {
  return trimDecimal(formatScaled(scaledAvg, instrument.pricePrecision + AVG_PX_EXTRA_DIGITS), instrument.pricePrecision);
}

/** Instrument money (10^-(price+qty precision) of the currency) as decimal text. */
function moneyText(instrument: Instrument, amount: bigint): string {
  return trimDecimal(formatScaled(amount, instrument.pricePrecision + instrument.qtyPrecision), instrument.pricePrecision);
}

function priceOrNull(instrument: Instrument, price: number): string | null {
  return price === 0 ? null : formatScaled(price, instrument.pricePrecision);
}

/** |cost| / (|qty| x multiplier), in price units x 10^AVG_PX_EXTRA_DIGITS, rounded half-up; exact in bigint. */
function averageCost(cost: bigint, qty: number, multiplier: number): bigint {
  const numerator = absBig(cost) * 10n ** BigInt(AVG_PX_EXTRA_DIGITS);
  const denominator = BigInt(Math.abs(qty)) * BigInt(multiplier);
  return (numerator * 2n + denominator) / (denominator * 2n);
}

const defaultLog = (fields: Record<string, unknown>): void => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...fields }) + '\n');
};

// ---- the API ------------------------------------------------------------------------------------------------

export function mountHttpApi(app: TemplatedApp, deps: HttpApiDeps): HttpApi {
  const api = new HttpApiServer(deps);
  api.mount(app);
  return api;
}

const NEW_ORDER_FIELDS = [
  'cl_ord_id', 'account_id', 'symbol', 'instrument_id', 'side', 'ord_type', 'time_in_force', 'qty', 'price', 'stop_px',
  'expire_time', 'venue_id', 'parent_cl_ord_id', 'text',
] as const;
const CHILD_FIELDS = ['cl_ord_id', 'qty', 'price', 'stop_px', 'ord_type', 'time_in_force', 'expire_time', 'venue_id', 'text'] as const;
const CANCEL_FIELDS = ['cl_ord_id'] as const;
const REPLACE_FIELDS = ['cl_ord_id', 'qty', 'price', 'stop_px', 'time_in_force', 'expire_time'] as const;
const LIMIT_FIELDS = [
  'scope', 'scope_id', 'max_order_qty', 'max_order_notional', 'price_collar_bps', 'max_position', 'max_gross_exposure',
  'max_open_orders', 'max_orders_per_second',
] as const;
const KILL_SWITCH_FIELDS = ['scope', 'scope_id', 'engaged', 'text'] as const;
const BLOTTER_QUERY = [
  'status', 'account_id', 'instrument_id', 'symbol', 'user_id', 'parent_cl_ord_id', 'from', 'to', 'open', 'limit', 'cursor',
] as const;

interface BlotterFilter {
  accounts: ReadonlySet<number> | null;
  accountId: number | undefined;
  instrumentId: number | undefined;
  userId: number | undefined;
  parentOrderId: number | undefined;
  statuses: ReadonlySet<OrdStatus> | null;
  open: boolean | undefined;
  fromUs: number;
  toUs: number;
}

class HttpApiServer implements HttpApi {
  private readonly builder = new flatbuffers.Builder(1024);
  /** The core's own decoder checks each frame before it is submitted: a frame it refuses never reaches it. */
  private readonly decoder = new CommandDecoder(DEFAULT_DECODE_LIMITS, true);
  private readonly pool: Piscina<HistoryTask, HistoryResult>;
  private readonly log: (fields: Record<string, unknown>) => void;
  private nextRequestId = 1;
  private commandsInFlight = 0;
  private closed = false;

  private readonly handlers: Readonly<Record<HandlerName, (call: Call) => ApiAnswer | Promise<ApiAnswer>>> = {
    newOrder: (call) => this.newOrder(call),
    listOrders: (call) => this.listOrders(call),
    getOrder: (call) => this.getOrder(call),
    orderHistory: (call) => this.orderHistory(call),
    cancelOrder: (call) => this.cancelOrder(call),
    replaceOrder: (call) => this.replaceOrder(call),
    releaseChild: (call) => this.releaseChild(call),
    positions: (call) => this.positions(call),
    accounts: (call) => this.accounts(call),
    instruments: (call) => this.instruments(call),
    getLimits: (call) => this.getLimits(call),
    putLimits: (call) => this.putLimits(call),
    getKillSwitch: (call) => this.getKillSwitch(call),
    putKillSwitch: (call) => this.putKillSwitch(call),
    openapi: () => ({ status: 200, body: OPENAPI_DOCUMENT }),
    venues: (call) => this.venues(call),
    venueDisconnect: (call) => this.venueAdmin(call, 'disconnect'),
    venueConnect: (call) => this.venueAdmin(call, 'connect'),
  };

  constructor(private readonly deps: HttpApiDeps) {
    this.log = deps.log ?? defaultLog;
    this.pool = new Piscina<HistoryTask, HistoryResult>({
      filename: new URL('./history-task-boot.mjs', import.meta.url).href,
      minThreads: 0, maxThreads: HISTORY_THREADS_MAX, maxQueue: HISTORY_QUEUE_MAX,
      idleTimeout: HISTORY_IDLE_TIMEOUT_MS, closeTimeout: HISTORY_CLOSE_TIMEOUT_MS,
    });
  }

  private get state(): CoreState {
    return this.deps.replica.core.state;
  }

  mount(app: TemplatedApp): void {
    const methodsByPath = new Map<string, Method[]>();
    for (const route of HTTP_ROUTES) {
      const pattern = route.path.replace(/\{([a-z_]+)\}/g, ':$1');
      const paramCount = (route.path.match(/\{/g) ?? []).length;
      app[route.method](pattern, (res, req) => this.serve(route, paramCount, res, req));
      methodsByPath.set(pattern, [...(methodsByPath.get(pattern) ?? []), route.method]);
    }
    // A known path with another method: 405 with Allow, rather than the catch-all 404.
    for (const [pattern, methods] of methodsByPath) {
      const allow = methods.map((m) => m.toUpperCase()).join(', ');
      app.any(pattern, (res) => {
        new Reply(res).send(405, PROBLEM_CONTENT_TYPE,
          JSON.stringify(problemBody(new ApiProblem(405, RejectCode.UnknownCommand, `allowed methods: ${allow}`))), [['allow', allow]]);
      });
    }
  }

  poolStats(): PoolStats {
    return { threads: this.pool.threads.length, queue_size: this.pool.queueSize, completed_total: this.pool.completed, utilization_ratio: this.pool.utilization };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Queued replays are dropped (their requests answer 503); running ones get HISTORY_CLOSE_TIMEOUT_MS.
    await this.pool.close({ force: true });
  }

  // ---- plumbing -----------------------------------------------------------------------------------------------

  private serve(route: RouteSpec, paramCount: number, res: HttpResponse, req: HttpRequest): void {
    const reply = new Reply(res);
    const request = readRequest(req, paramCount);
    try {
      const user = route.auth ? this.authenticate(request.authorization) : null;
      const base = { user, params: request.params.map(decodeParam), query: new URLSearchParams(request.query) };
      if (!route.body) {
        this.run(route, reply, { ...base, body: {} });
        return;
      }
      const declared = Number(request.contentLength === '' ? '0' : request.contentLength);
      if (declared > HTTP_BODY_BYTES_MAX) throw this.tooLarge();
      this.collectBody(res, reply, (bytes) => this.run(route, reply, { ...base, body: parseJsonObject(bytes) }));
    } catch (error) {
      this.fail(reply, error);
    }
  }

  private tooLarge(): ApiProblem {
    return new ApiProblem(413, RejectCode.OversizedFrame, `the body exceeds ${HTTP_BODY_BYTES_MAX} bytes`);
  }

  /** Collects the body up to HTTP_BODY_BYTES_MAX; chunks are copied because uWS reuses their memory. */
  private collectBody(res: HttpResponse, reply: Reply, done: (bytes: Uint8Array) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (!reply.open) return;
      size += chunk.byteLength;
      if (size > HTTP_BODY_BYTES_MAX) {
        this.fail(reply, this.tooLarge());
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      try {
        done(Buffer.concat(chunks, size));
      } catch (error) {
        this.fail(reply, error);
      }
    });
  }

  private run(route: RouteSpec, reply: Reply, call: Call): void {
    const answer = this.handlers[route.handler](call);
    if (!(answer instanceof Promise)) {
      reply.answer(answer);
      return;
    }
    // catch after then: a failure while answering (serialising) still gets a problem, never an unhandled rejection.
    answer.then((value) => reply.answer(value)).catch((error: unknown) => this.fail(reply, error));
  }

  private fail(reply: Reply, error: unknown): void {
    let problem: ApiProblem;
    if (error instanceof ApiProblem) {
      problem = error;
    } else if (error instanceof CoreQueueFullError || error instanceof CoreStoppedError) {
      problem = new ApiProblem(503, RejectCode.RateLimited, `core unavailable: ${error.message}`);
    } else {
      this.log({ event: 'http_api_error', error: error instanceof Error ? error.stack ?? error.message : String(error) });
      problem = new ApiProblem(500, RejectCode.Other, 'internal error (logged)');
    }
    if (problem.status === 400 || problem.status === 413 || problem.status === 503) {
      // Refused before the core saw anything: counted like the WebSocket gateway's own refusals.
      this.deps.metrics.rejects.inc({ reason: RejectCode[problem.code] ?? String(problem.code) });
    }
    reply.problem(problem);
  }

  private authenticate(authorization: string): User {
    const token = authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
    const userId = token.length === 0 ? undefined : this.deps.tokens.get(token);
    const user = userId === undefined ? undefined : this.state.users.get(userId);
    if (user === undefined) throw new ApiProblem(401, RejectCode.UnknownUser, 'missing or unknown bearer token');
    if (!DESK_ROLES.has(user.role)) throw new ApiProblem(403, RejectCode.NotAuthorised, `role ${Role[user.role]} has no access to the desk API`);
    return user;
  }

  private userOf(call: Call): User {
    assert(call.user !== null, 'an authenticated route without a user');
    return call.user;
  }

  private requireRole(user: User, roles: ReadonlySet<Role>, what: string): void {
    if (!roles.has(user.role)) throw new ApiProblem(403, RejectCode.NotAuthorised, `role ${Role[user.role]} may not ${what}`);
  }

  // ---- commands -----------------------------------------------------------------------------------------------

  /** Stamps, checks with the core's decoder, and submits; resolves with the durable result. */
  private async submit(user: User, command: CommandBody): Promise<CommandResultData> {
    if (this.commandsInFlight >= HTTP_COMMANDS_IN_FLIGHT_MAX) {
      throw new ApiProblem(503, RejectCode.RateLimited, `${HTTP_COMMANDS_IN_FLIGHT_MAX} HTTP commands are in flight`);
    }
    const requestId = this.nextRequestId++;
    const frame = encodeCommandCopy(this.builder, { requestId, timeUs: this.deps.nowUs(), userId: user.userId, sessionId: HTTP_SESSION_ID, command });
    try {
      this.decoder.decode(frame);
    } catch (error) {
      if (error instanceof DecodeError) throw bad(error.code, error.message);
      throw error;
    }
    this.commandsInFlight += 1;
    try {
      return await this.deps.submit(frame);
    } finally {
      this.commandsInFlight -= 1;
      assert(this.commandsInFlight >= 0, 'commands in flight went negative');
    }
  }

  /** A refusal in the durable result becomes a problem: NotAuthorised (role) is 403, any other code 422. */
  private throwIfRefused(result: CommandResultData): void {
    for (const event of result.events) {
      let code: RejectCode | null = null;
      if (event.kind === 'command_reject' || event.kind === 'cancel_reject') code = event.rejectCode;
      else if (event.kind === 'execution_report' && event.execType === ExecType.Rejected && event.orderId === 0) code = event.ordRejReason;
      if (code === null) continue;
      const text = 'text' in event ? event.text : '';
      const extra: Record<string, number> = result.seq === 0 ? {} : { seq: result.seq };
      // seq 0: the core refused the frame undecoded, which the decoder check above should have caught.
      const status = result.seq === 0 ? 400 : code === RejectCode.NotAuthorised ? 403 : 422;
      throw new ApiProblem(status, code, text, extra);
    }
  }

  private async orderCommand(user: User, command: CommandBody, status: number, clOrdId: string): Promise<ApiAnswer> {
    const result = await this.submit(user, command);
    this.throwIfRefused(result);
    const order = this.state.ordersByClOrdId.get(clOrdId);
    const reports = result.events.filter((e): e is ExecutionReportData => e.kind === 'execution_report').map((e) => this.reportView(e));
    return {
      status, location: `/v1/orders/${encodeURIComponent(clOrdId)}`,
      body: { seq: result.seq, request_id: result.requestId, reports, order: order === undefined ? null : this.orderView(order) },
    };
  }

  private newOrder(call: Call): Promise<ApiAnswer> {
    const body = new Body(call.body, NEW_ORDER_FIELDS);
    const instrument = this.bodyInstrument(body);
    const side = body.choice('side', SIDE_NAMES);
    if (side === undefined) throw bad(RejectCode.InvalidField, 'side is required');
    const command = this.orderTerms(body, instrument, {
      accountId: body.requiredInteger('account_id', 0, UINT32_MAX), side,
      venueId: body.integer('venue_id', 0, UINT32_MAX) ?? 0, parentClOrdId: body.string('parent_cl_ord_id') ?? '',
    });
    return this.orderCommand(this.userOf(call), command, 201, command.clOrdId);
  }

  /** A child placement of a parent: the parent's account, instrument and side, at a venue. */
  private releaseChild(call: Call): Promise<ApiAnswer> {
    const user = this.userOf(call);
    const parent = this.visibleOrder(user, call.params[0]);
    const body = new Body(call.body, CHILD_FIELDS);
    const command = this.orderTerms(body, this.instrumentOf(parent), {
      accountId: parent.accountId, side: parent.side, venueId: body.requiredInteger('venue_id', 0, UINT32_MAX),
      parentClOrdId: call.params[0],
    });
    return this.orderCommand(user, command, 201, command.clOrdId);
  }

  private orderTerms(body: Body, instrument: Instrument,
    fixed: Pick<NewOrderCmd, 'accountId' | 'side' | 'venueId' | 'parentClOrdId'>): NewOrderCmd {
    const price = body.decimal('price', instrument.pricePrecision) ?? 0;
    const stopPx = body.decimal('stop_px', instrument.pricePrecision) ?? 0;
    // Like the order CLI: the type follows from the prices given unless stated.
    const impliedType = price !== 0 && stopPx !== 0 ? OrdType.StopLimit : price !== 0 ? OrdType.Limit : stopPx !== 0 ? OrdType.Stop : OrdType.Market;
    const qty = body.decimal('qty', instrument.qtyPrecision);
    if (qty === undefined) throw bad(RejectCode.InvalidField, 'qty is required');
    return {
      type: Command.NewOrder, clOrdId: body.requiredString('cl_ord_id'), instrumentId: instrument.instrumentId,
      ordType: body.choice('ord_type', ORD_TYPE_NAMES) ?? impliedType, timeInForce: body.choice('time_in_force', TIF_NAMES) ?? TimeInForce.Day,
      orderQty: qty, price, stopPx, expireTimeUs: body.time('expire_time') ?? 0, text: body.string('text') ?? '', ...fixed,
    };
  }

  /** symbol or instrument_id (both: they must agree). Unknown: 422 UnknownSymbol, as the core would say. */
  private bodyInstrument(body: Body): Instrument {
    const symbol = body.string('symbol');
    const id = body.integer('instrument_id', 0, UINT32_MAX);
    if (symbol === undefined && id === undefined) throw bad(RejectCode.InvalidField, 'symbol or instrument_id is required');
    const instrument = id !== undefined ? this.state.instruments.get(id) : this.instrumentBySymbol(symbol ?? '');
    if (instrument === undefined) throw new ApiProblem(422, RejectCode.UnknownSymbol, `unknown instrument ${symbol ?? id}`);
    if (symbol !== undefined && instrument.symbol !== symbol) throw bad(RejectCode.InvalidField, `symbol ${symbol} is not instrument ${id}`);
    return instrument;
  }

  private instrumentBySymbol(symbol: string): Instrument | undefined {
    for (const instrument of this.state.instruments.values()) if (instrument.symbol === symbol) return instrument;
    return undefined;
  }

  private instrumentOf(order: Order): Instrument {
    const instrument = this.state.instruments.get(order.instrumentId);
    assert(instrument !== undefined, `order ${order.orderId} has no instrument`);
    return instrument;
  }

  private cancelOrder(call: Call): Promise<ApiAnswer> {
    const user = this.userOf(call);
    const order = this.visibleOrder(user, call.params[0]);
    const body = new Body(call.body, CANCEL_FIELDS);
    const clOrdId = body.requiredString('cl_ord_id');
    // OrigClOrdID is the path's: the core refuses it (StaleOrder) unless it is the order's current ClOrdID.
    const command: CommandBody = { type: Command.CancelOrder, clOrdId, origClOrdId: call.params[0], accountId: order.accountId };
    return this.orderCommand(user, command, 200, clOrdId);
  }

  /** Terms not given stay as they are (side and type cannot change); expire_time is kept only for GTD. */
  private replaceOrder(call: Call): Promise<ApiAnswer> {
    const user = this.userOf(call);
    const order = this.visibleOrder(user, call.params[0]);
    const instrument = this.instrumentOf(order);
    const body = new Body(call.body, REPLACE_FIELDS);
    const clOrdId = body.requiredString('cl_ord_id');
    const qty = body.decimal('qty', instrument.qtyPrecision);
    if (qty === undefined) throw bad(RejectCode.InvalidField, 'qty is required');
    const timeInForce = body.choice('time_in_force', TIF_NAMES) ?? order.timeInForce;
    const expireTimeUs = body.time('expire_time') ?? (timeInForce === TimeInForce.GTD ? order.expireTimeUs : 0);
    const command: CommandBody = {
      type: Command.ReplaceOrder, clOrdId, origClOrdId: call.params[0], accountId: order.accountId, orderQty: qty,
      price: body.decimal('price', instrument.pricePrecision) ?? order.price,
      stopPx: body.decimal('stop_px', instrument.pricePrecision) ?? order.stopPx, timeInForce, expireTimeUs,
    };
    return this.orderCommand(user, command, 200, clOrdId);
  }

  // ---- orders (reads) -------------------------------------------------------------------------------------------

  /** Any ClOrdID of the order's chain; an order on an account the user is not entitled to does not exist. */
  private visibleOrder(user: User, clOrdId: string): Order {
    const order = this.state.ordersByClOrdId.get(clOrdId);
    if (order === undefined || !isEntitled(user, order.accountId)) throw new ApiProblem(404, RejectCode.UnknownOrder, `no order ${clOrdId}`);
    return order;
  }

  private getOrder(call: Call): ApiAnswer | Promise<ApiAnswer> {
    const query = queryOf(call.query, ['history']);
    if (queryBoolean(query, 'history') === true) return this.orderHistory({ ...call, query: new URLSearchParams() });
    return { status: 200, body: { order: this.orderView(this.visibleOrder(this.userOf(call), call.params[0])) } };
  }

  private async orderHistory(call: Call): Promise<ApiAnswer> {
    queryOf(call.query, []);
    const user = this.userOf(call);
    const order = this.visibleOrder(user, call.params[0]);
    if (this.closed) throw new ApiProblem(503, RejectCode.RateLimited, 'the service is stopping');
    if (this.pool.queueSize >= HISTORY_QUEUE_MAX) throw new ApiProblem(503, RejectCode.RateLimited, `${HISTORY_QUEUE_MAX} history replays are already waiting`);
    // No abort signal: aborting a running task terminates its thread mid-read of LMDB. A client that goes
    // away only makes the answer unwanted; the bounded pool keeps that cheap.
    let result: HistoryResult;
    try {
      result = await this.pool.run({ journal_path: this.deps.journal_path, created_seq: order.createdSeq, to_seq: this.deps.replica.lastSeq() });
    } catch (error) {
      if (this.closed) throw new ApiProblem(503, RejectCode.RateLimited, 'the service is stopping');
      throw error;
    }
    const history = result.records.map((r) => ({ ...r, time: isoTime(r.time_us), user_name: this.state.users.get(r.user_id)?.name ?? null }));
    return {
      status: 200,
      body: { order: this.orderView(order), original_cl_ord_id: result.original_cl_ord_id, history, truncated: result.truncated },
    };
  }

  private listOrders(call: Call): ApiAnswer {
    const user = this.userOf(call);
    const query = queryOf(call.query, BLOTTER_QUERY);
    const limit = queryInteger(query, 'limit', 1, BLOTTER_PAGE_MAX) ?? BLOTTER_PAGE_DEFAULT;
    const cursor = queryInteger(query, 'cursor', 1, Number.MAX_SAFE_INTEGER);
    const filter = this.blotterFilter(user, query);
    const orders: Array<Record<string, unknown>> = [];
    // Newest first: order ids are dense and increase with entry. The cursor is exclusive.
    let id = Math.min((cursor ?? Number.MAX_SAFE_INTEGER) - 1, this.state.orders.size);
    for (let scanned = 0; id >= 1 && orders.length < limit && scanned < BLOTTER_SCAN_MAX; id--, scanned++) {
      const order = this.state.orders.get(id);
      assert(order !== undefined, `order ${id} missing from a dense table`);
      if (this.matches(order, filter)) orders.push(this.orderView(order));
    }
    return { status: 200, body: { orders, next_cursor: id >= 1 ? String(id + 1) : null } };
  }

  private blotterFilter(user: User, query: ReadonlyMap<string, string>): BlotterFilter {
    const accountId = queryInteger(query, 'account_id', 0, UINT32_MAX);
    if (accountId !== undefined) this.checkAccountReadable(user, accountId);
    const symbol = query.get('symbol');
    const bySymbol = symbol === undefined ? undefined : this.instrumentBySymbol(symbol);
    if (symbol !== undefined && bySymbol === undefined) throw bad(RejectCode.UnknownSymbol, `unknown symbol ${symbol}`);
    const instrumentId = queryInteger(query, 'instrument_id', 0, UINT32_MAX) ?? bySymbol?.instrumentId;
    if (bySymbol !== undefined && instrumentId !== bySymbol.instrumentId) throw bad(RejectCode.InvalidField, 'symbol and instrument_id disagree');
    const parent = query.get('parent_cl_ord_id');
    const statusText = query.get('status');
    const from = query.get('from');
    const to = query.get('to');
    return {
      accounts: user.allAccounts ? null : new Set(user.accountIds), accountId, instrumentId,
      userId: queryInteger(query, 'user_id', 0, UINT32_MAX),
      parentOrderId: parent === undefined ? undefined : this.state.ordersByClOrdId.get(parent)?.orderId ?? -1,
      statuses: statusText === undefined ? null : new Set(statusText.split(',').map((name) => {
        const status = ORD_STATUS_NAMES.get(normalise(name));
        if (status === undefined) throw bad(RejectCode.InvalidField, `status must be among ${[...ORD_STATUS_NAMES.keys()].join(', ')}`);
        return status;
      })),
      open: queryBoolean(query, 'open'),
      // A '+' of a time-zone offset arrives as a space when the client did not percent-encode it.
      fromUs: from === undefined ? 0 : toTimeUs(from.replace(' ', '+'), 'from'),
      toUs: to === undefined ? Number.MAX_SAFE_INTEGER : toTimeUs(to.replace(' ', '+'), 'to'),
    };
  }

  private matches(order: Order, f: BlotterFilter): boolean {
    if (f.accounts !== null && !f.accounts.has(order.accountId)) return false;
    if (f.accountId !== undefined && order.accountId !== f.accountId) return false;
    if (f.instrumentId !== undefined && order.instrumentId !== f.instrumentId) return false;
    if (f.userId !== undefined && order.userId !== f.userId) return false;
    if (f.parentOrderId !== undefined && order.parentOrderId !== f.parentOrderId) return false;
    if (f.open !== undefined && this.state.openOrders.has(order) !== f.open) return false;
    if (order.transactTimeUs < f.fromUs || order.transactTimeUs >= f.toUs) return false;
    return f.statuses === null || f.statuses.has(reportedStatus(order));
  }

  /** An explicit account filter: unknown is 404, not entitled is 403 (accounts are reference data, not secret). */
  private checkAccountReadable(user: User, accountId: number): void {
    if (!this.state.accounts.has(accountId)) throw new ApiProblem(404, RejectCode.UnknownAccount, `unknown account ${accountId}`);
    if (!isEntitled(user, accountId)) throw new ApiProblem(403, RejectCode.NotEntitled, `not entitled to account ${accountId}`);
  }

  private orderView(order: Order): Record<string, unknown> {
    const instrument = this.instrumentOf(order);
    const qty = (value: number): string => formatScaled(value, instrument.qtyPrecision);
    const parent = order.parentOrderId === 0 ? undefined : this.state.orders.get(order.parentOrderId);
    const avg = avgPx(order.cumNotional, order.cumQty);
    const leaves = leavesQty(order);
    return {
      order_id: order.orderId, cl_ord_id: order.clOrdId, orig_cl_ord_id: order.origClOrdId === '' ? null : order.origClOrdId,
      account_id: order.accountId, instrument_id: order.instrumentId, symbol: instrument.symbol, currency: instrument.currency,
      side: Side[order.side], ord_type: OrdType[order.ordType], time_in_force: TimeInForce[order.timeInForce],
      status: OrdStatus[reportedStatus(order)], open: this.state.openOrders.has(order),
      qty: qty(order.orderQty), price: priceOrNull(instrument, order.price), stop_px: priceOrNull(instrument, order.stopPx),
      cum_qty: qty(order.cumQty), leaves_qty: qty(leaves), avg_px: order.cumQty === 0 ? null : avgPxText(instrument, avg),
      expire_time: order.expireTimeUs === 0 ? null : isoTime(order.expireTimeUs),
      venue_id: order.venueId, parent_order_id: order.parentOrderId === 0 ? null : order.parentOrderId,
      parent_cl_ord_id: parent?.clOrdId ?? null,
      child_committed_qty: order.venueId === 0 ? qty(order.childCommittedQty) : null,
      open_child_count: order.venueId === 0 ? order.openChildCount : null,
      pending: order.pending === null ? null : {
        kind: order.pending.kind === PendingKind.Cancel ? 'Cancel' : 'Replace', cl_ord_id: order.pending.clOrdId,
        qty: qty(order.pending.orderQty), price: priceOrNull(instrument, order.pending.price), stop_px: priceOrNull(instrument, order.pending.stopPx),
      },
      workflow_state: WorkflowState[order.workflowState], user_id: order.userId, created_seq: order.createdSeq,
      transact_time: isoTime(order.transactTimeUs),
      raw: {
        order_qty: order.orderQty, price: order.price, stop_px: order.stopPx, cum_qty: order.cumQty, leaves_qty: leaves,
        avg_px: avg, expire_time_us: order.expireTimeUs, transact_time_us: order.transactTimeUs,
      },
    };
  }

  private reportView(e: ExecutionReportData): Record<string, unknown> {
    const instrument = this.state.instruments.get(e.instrumentId);
    const qtyDigits = instrument?.qtyPrecision ?? 0;
    const priceDigits = instrument?.pricePrecision ?? 0;
    const qty = (value: number): string => formatScaled(value, qtyDigits);
    const price = (value: number): string | null => (value === 0 ? null : formatScaled(value, priceDigits));
    return {
      exec_id: e.execId, exec_type: ExecType[e.execType], ord_status: OrdStatus[e.ordStatus], order_id: e.orderId,
      cl_ord_id: e.clOrdId, orig_cl_ord_id: e.origClOrdId === '' ? null : e.origClOrdId, account_id: e.accountId,
      instrument_id: e.instrumentId, symbol: instrument?.symbol ?? null, side: Side[e.side] ?? null,
      ord_type: OrdType[e.ordType] ?? null, time_in_force: TimeInForce[e.timeInForce] ?? null,
      qty: qty(e.orderQty), price: price(e.price), stop_px: price(e.stopPx), last_qty: qty(e.lastQty), last_px: price(e.lastPx),
      cum_qty: qty(e.cumQty), leaves_qty: qty(e.leavesQty),
      avg_px: e.cumQty === 0 || instrument === undefined ? null : avgPxText(instrument, e.avgPx),
      ord_rej_reason: e.ordRejReason === RejectCode.None ? null : RejectCode[e.ordRejReason] ?? e.ordRejReason, text: e.text,
      parent_order_id: e.parentOrderId === 0 ? null : e.parentOrderId, venue_id: e.venueId,
      transact_time: isoTime(e.transactTimeUs), venue_exec_id: e.venueExecId === '' ? null : e.venueExecId,
      raw: {
        order_qty: e.orderQty, price: e.price, stop_px: e.stopPx, last_qty: e.lastQty, last_px: e.lastPx, cum_qty: e.cumQty,
        leaves_qty: e.leavesQty, avg_px: e.avgPx, transact_time_us: e.transactTimeUs,
      },
    };
  }

  // ---- positions, accounts, instruments -------------------------------------------------------------------------

  private positions(call: Call): ApiAnswer {
    const user = this.userOf(call);
    const query = queryOf(call.query, ['account_id', 'instrument_id']);
    const accountId = queryInteger(query, 'account_id', 0, UINT32_MAX);
    if (accountId !== undefined) this.checkAccountReadable(user, accountId);
    const instrumentId = queryInteger(query, 'instrument_id', 0, UINT32_MAX);
    const positions: Array<Record<string, unknown>> = [];
    let truncated = false;
    for (const position of this.state.positions.values()) {
      if (!isEntitled(user, position.accountId)) continue;
      if (accountId !== undefined && position.accountId !== accountId) continue;
      if (instrumentId !== undefined && position.instrumentId !== instrumentId) continue;
      if (positions.length === POSITIONS_MAX) {
        truncated = true;
        break;
      }
      positions.push(this.positionView(position));
    }
    return { status: 200, body: { positions, truncated } };
  }

  private positionView(p: Position): Record<string, unknown> {
    const instrument = this.state.instruments.get(p.instrumentId);
    assert(instrument !== undefined, `position on unknown instrument ${p.instrumentId}`);
    const qty = (value: number): string => formatScaled(value, instrument.qtyPrecision);
    const marked = instrument.markPx !== 0;
    const unrealised = unrealisedPnl(instrument, p);
    const marketValue = marked ? (p.qty < 0 ? -1n : 1n) * notional(Math.abs(p.qty), instrument.markPx, instrument.multiplier) : null;
    const average = p.qty === 0 ? null : averageCost(p.cost, p.qty, instrument.multiplier);
    return {
      account_id: p.accountId, instrument_id: p.instrumentId, symbol: instrument.symbol, currency: instrument.currency,
      qty: qty(p.qty), avg_cost: average === null ? null : avgPxText(instrument, Number(average)),
      cost: moneyText(instrument, p.cost), mark: priceOrNull(instrument, instrument.markPx),
      market_value: marketValue === null ? null : moneyText(instrument, marketValue),
      realised_pnl: moneyText(instrument, p.realisedPnl), unrealised_pnl: marked ? moneyText(instrument, unrealised) : null,
      total_pnl: moneyText(instrument, p.realisedPnl + unrealised),
      gross_exposure: trimDecimal(formatScaled(p.exposureMoney, MONEY_SCALE_DIGITS), instrument.pricePrecision),
      open_buy_qty: qty(p.openBuyQty), open_sell_qty: qty(p.openSellQty),
      raw: {
        qty: p.qty, cost: p.cost.toString(), realised_pnl: p.realisedPnl.toString(), unrealised_pnl: unrealised.toString(),
        mark_px: instrument.markPx, avg_cost: average?.toString() ?? null, exposure_money: p.exposureMoney.toString(),
        money_digits: instrument.pricePrecision + instrument.qtyPrecision,
      },
    };
  }

  private accounts(call: Call): ApiAnswer {
    const user = this.userOf(call);
    queryOf(call.query, []);
    const accounts: Array<Record<string, unknown>> = [];
    for (const account of this.state.accounts.values()) {
      if (!isEntitled(user, account.accountId)) continue;
      const risk = this.state.accountRisk.get(account.accountId);
      const gross: Record<string, string> = {};
      for (const [currency, amount] of risk?.grossExposureByCurrency ?? []) gross[currency] = trimDecimal(formatScaled(amount, MONEY_SCALE_DIGITS), 0);
      accounts.push({
        account_id: account.accountId, name: account.name, portfolio: account.portfolio, open_orders: risk?.openOrders ?? 0,
        gross_exposure: gross, kill_switch_engaged: this.state.killGlobal || this.state.killAccounts.has(account.accountId),
      });
    }
    return { status: 200, body: { accounts } };
  }

  private instruments(call: Call): ApiAnswer {
    queryOf(call.query, []);
    const instruments: Array<Record<string, unknown>> = [];
    for (const i of this.state.instruments.values()) {
      instruments.push({
        instrument_id: i.instrumentId, symbol: i.symbol, asset_class: AssetClass[i.assetClass], currency: i.currency,
        price_precision: i.pricePrecision, qty_precision: i.qtyPrecision, tick_size: formatScaled(i.tickSize, i.pricePrecision),
        lot_size: formatScaled(i.lotSize, i.qtyPrecision), multiplier: i.multiplier, mark: priceOrNull(i, i.markPx),
        expiry: i.expiryYyyymmdd === 0 ? null : i.expiryYyyymmdd, strike: priceOrNull(i, i.strike),
        put_call: i.putCall === PutCall.None ? null : PutCall[i.putCall], base_currency: i.baseCurrency || null,
        quote_currency: i.quoteCurrency || null, settle_date: i.settleYyyymmdd === 0 ? null : i.settleYyyymmdd,
        tradable: i.tradable, restricted: i.restricted,
        raw: { tick_size: i.tickSize, lot_size: i.lotSize, mark_px: i.markPx, strike: i.strike },
      });
    }
    return { status: 200, body: { instruments } };
  }

  // ---- limits -----------------------------------------------------------------------------------------------------

  private getLimits(call: Call): ApiAnswer {
    this.requireRole(this.userOf(call), LIMIT_READERS, 'read limits');
    queryOf(call.query, []);
    const s = this.state;
    return {
      status: 200, body: {
        global: this.limitsView(LimitScope.Global, 0, s.globalLimits),
        accounts: [...s.accountLimits].map(([id, set]) => this.limitsView(LimitScope.Account, id, set)),
        instruments: [...s.instrumentLimits].map(([id, set]) => this.limitsView(LimitScope.Instrument, id, set)),
      },
    };
  }

  private currentLimits(scope: LimitScope, scopeId: number): LimitSet {
    if (scope === LimitScope.Global) return this.state.globalLimits;
    const sets = scope === LimitScope.Account ? this.state.accountLimits : this.state.instrumentLimits;
    return sets.get(scopeId) ?? emptyLimitSet();
  }

  /**
   * The core replaces a scope's whole limit set; this endpoint merges instead, so that setting one limit
   * cannot silently clear the others: an absent field keeps its current value, null clears it (-1).
   */
  private async putLimits(call: Call): Promise<ApiAnswer> {
    const user = this.userOf(call);
    const body = new Body(call.body, LIMIT_FIELDS);
    const scope = body.choice('scope', LIMIT_SCOPE_NAMES);
    if (scope === undefined) throw bad(RejectCode.InvalidField, 'scope is required');
    const scopeId = body.integer('scope_id', 0, UINT32_MAX) ?? 0;
    const instrument = scope === LimitScope.Instrument ? this.state.instruments.get(scopeId) : undefined;
    if (scope === LimitScope.Instrument && instrument === undefined) throw new ApiProblem(422, RejectCode.UnknownInstrument, `unknown instrument ${scopeId}`);
    // Quantity limits of global and account scopes apply to every instrument in its own units: raw integers.
    const qtyDigits = instrument?.qtyPrecision ?? 0;
    const current = this.currentLimits(scope, scopeId);
    const pick = (name: string, now: number, parse: () => number | undefined): number => (body.isNull(name) ? LIMIT_UNSET : parse() ?? now);
    const next = {
      maxOrderQty: pick('max_order_qty', current.maxOrderQty, () => body.decimal('max_order_qty', qtyDigits)),
      maxOrderNotional: pick('max_order_notional', current.maxOrderNotional, () => body.decimal('max_order_notional', LIMIT_MONEY_DIGITS)),
      priceCollarBps: pick('price_collar_bps', current.priceCollarBps, () => body.integer('price_collar_bps', 0, Number.MAX_SAFE_INTEGER)),
      maxPosition: pick('max_position', current.maxPosition, () => body.decimal('max_position', qtyDigits)),
      maxGrossExposure: pick('max_gross_exposure', current.maxGrossExposure, () => body.decimal('max_gross_exposure', LIMIT_MONEY_DIGITS)),
      maxOpenOrders: pick('max_open_orders', current.maxOpenOrders, () => body.integer('max_open_orders', 0, Number.MAX_SAFE_INTEGER)),
      maxOrdersPerSecond: pick('max_orders_per_second', current.maxOrdersPerSecond, () => body.integer('max_orders_per_second', 0, Number.MAX_SAFE_INTEGER)),
    };
    const result = await this.submit(user, { type: Command.SetLimits, scope, scopeId, ...next });
    this.throwIfRefused(result);
    return { status: 200, body: { seq: result.seq, limits: this.limitsView(scope, scopeId, this.currentLimits(scope, scopeId)) } };
  }

  private limitsView(scope: LimitScope, scopeId: number, set: LimitSet): Record<string, unknown> {
    const instrument = scope === LimitScope.Instrument ? this.state.instruments.get(scopeId) : undefined;
    const qtyDigits = instrument?.qtyPrecision ?? 0;
    const qty = (value: number): string | null => (value === LIMIT_UNSET ? null : formatScaled(value, qtyDigits));
    const money = (value: number): string | null => (value === LIMIT_UNSET ? null : trimDecimal(formatScaled(value, LIMIT_MONEY_DIGITS), 0));
    const count = (value: number): number | null => (value === LIMIT_UNSET ? null : value);
    return {
      scope: LimitScope[scope], scope_id: scopeId, symbol: instrument?.symbol ?? null,
      max_order_qty: qty(set.maxOrderQty), max_order_notional: money(set.maxOrderNotional), price_collar_bps: count(set.priceCollarBps),
      max_position: qty(set.maxPosition), max_gross_exposure: money(set.maxGrossExposure), max_open_orders: count(set.maxOpenOrders),
      max_orders_per_second: count(set.maxOrdersPerSecond),
      raw: {
        max_order_qty: set.maxOrderQty, max_order_notional: set.maxOrderNotional, price_collar_bps: set.priceCollarBps,
        max_position: set.maxPosition, max_gross_exposure: set.maxGrossExposure, max_open_orders: set.maxOpenOrders,
        max_orders_per_second: set.maxOrdersPerSecond,
      },
    };
  }

  // ---- kill switch ------------------------------------------------------------------------------------------------

  private killSwitchView(): Record<string, unknown> {
    return { global: this.state.killGlobal, accounts: [...this.state.killAccounts], users: [...this.state.killUsers] };
  }

  private getKillSwitch(call: Call): ApiAnswer {
    this.requireRole(this.userOf(call), KILL_SWITCH_READERS, 'read the kill switch');
    queryOf(call.query, []);
    return { status: 200, body: this.killSwitchView() };
  }

  private async putKillSwitch(call: Call): Promise<ApiAnswer> {
    const user = this.userOf(call);
    const body = new Body(call.body, KILL_SWITCH_FIELDS);
    const scope = body.choice('scope', KILL_SCOPE_NAMES);
    const engaged = body.boolean('engaged');
    if (scope === undefined || engaged === undefined) throw bad(RejectCode.InvalidField, 'scope and engaged are required');
    const command: CommandBody = {
      type: Command.KillSwitch, scope, scopeId: body.integer('scope_id', 0, UINT32_MAX) ?? 0, engaged, text: body.string('text') ?? '',
    };
    const result = await this.submit(user, command);
    this.throwIfRefused(result);
    return { status: 200, body: { seq: result.seq, kill_switch: this.killSwitchView() } };
  }

  private venues(call: Call): ApiAnswer {
    this.userOf(call);
    queryOf(call.query, []);
    return { status: 200, body: { venues: this.deps.venues?.statuses() ?? [] } };
  }

  private venueAdmin(call: Call, action: 'disconnect' | 'connect'): ApiAnswer {
    const user = this.userOf(call);
    this.requireRole(user, VENUE_ADMINS, `${action} a venue`);
    queryOf(call.query, []);
    const text = call.params[0];
    const venueId = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(venueId) || venueId > UINT32_MAX) throw bad(RejectCode.InvalidField, `venue_id must be an integer, got ${JSON.stringify(text)}`);
    const done = this.deps.venues?.[action](venueId, user.userId) ?? false;
    if (!done) throw new ApiProblem(404, RejectCode.UnknownVenue, `no FIX session serves venue ${venueId}`);
    return { status: 200, body: { venue: this.deps.venues?.statuses().find((v) => v.venue_id === venueId) } };
  }
}
