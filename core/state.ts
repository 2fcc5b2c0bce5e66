// All core state in one place, and its canonical serialisation. The snapshot bytes are canonical (maps in
// insertion order, which is journal order), so the state hash is simply their SHA-256: two cores that
// applied the same journal have byte-identical snapshots.

import { createHash } from 'node:crypto';
import type {
  Account, AccountRisk, Instrument, LimitSet, Order, Position, User, Venue,
} from './model.js';
import { StringIndex } from './string-index.js';
import { emptyLimitSet, positionKey } from './model.js';
import { OpenOrderSet, OrderTable } from './order-tables.js';

export const SNAPSHOT_FORMAT_VERSION = 2;

export interface CoreState {
  /** Sequence number of the last command applied (journal order). */
  lastSeq: number;
  nextOrderId: number;
  instruments: Map<number, Instrument>;
  accounts: Map<number, Account>;
  users: Map<number, User>;
  venues: Map<number, Venue>;
  globalLimits: LimitSet;
  accountLimits: Map<number, LimitSet>;
  instrumentLimits: Map<number, LimitSet>;
  killGlobal: boolean;
  killAccounts: Set<number>;
  killUsers: Set<number>;
  orders: OrderTable;
  /** Every ClOrdID ever accepted (including those of pending and rejected cancel/replace requests). */
  ordersByClOrdId: StringIndex<Order>;
  /** Working (not done) orders, for expiry and open-order counts. */
  openOrders: OpenOrderSet;
  positions: Map<number, Position>;
  /** Position keys per instrument, so that a new mark revalues only that instrument's positions. */
  positionsByInstrument: Map<number, number[]>;
  accountRisk: Map<number, AccountRisk>;
  /** "venueId:execId" of every venue execution applied: a resent fill is recognised and ignored. */
  venueExecIds: StringIndex<true>;
}

export function emptyState(): CoreState {
  return {
    lastSeq: 0, nextOrderId: 1, instruments: new Map(), accounts: new Map(), users: new Map(), venues: new Map(),
    globalLimits: emptyLimitSet(), accountLimits: new Map(), instrumentLimits: new Map(), killGlobal: false,
    killAccounts: new Set(), killUsers: new Set(), orders: new OrderTable(), ordersByClOrdId: new StringIndex(),
    openOrders: new OpenOrderSet(), positions: new Map(), positionsByInstrument: new Map(), accountRisk: new Map(),
    venueExecIds: new StringIndex(),
  };
}

// ---- serialisation ---------------------------------------------------------------------------------------
// Version 2: UTF-8 text, one JSON value per line, built and hashed in chunks so that a book of millions of
// orders never needs one giant string (V8 caps strings near 2^29 characters). The small reference data is a
// header line; the bulk (orders, ClOrdIDs, open orders, positions, exec ids) is a counted section of lines
// each, with explicit field lists so that no replacer runs per key.

const CHUNK_CHARS = 1 << 20;
const IDS_PER_LINE = 4096;

/** Field order of an Order in a snapshot line; openSlot is bookkeeping, not state, and is left out. */
const ORDER_FIELDS = [
  'orderId', 'clOrdId', 'origClOrdId', 'accountId', 'instrumentId', 'side', 'ordType', 'timeInForce', 'orderQty',
  'price', 'stopPx', 'expireTimeUs', 'cumQty', 'cumNotional', 'baseStatus', 'pending', 'venueId', 'parentOrderId',
  'childCommittedQty', 'openChildCount', 'workflowState', 'userId', 'createdSeq', 'transactTimeUs', 'exposureMoney',
  'riskLeavesQty', 'parentCommittedQty',
] as const satisfies ReadonlyArray<keyof Order>;
const ORDER_BIGINTS = new Set<string>(['cumNotional', 'exposureMoney']);

const POSITION_FIELDS = [
  'accountId', 'instrumentId', 'qty', 'cost', 'realisedPnl', 'openBuyQty', 'openSellQty', 'exposureMoney',
] as const satisfies ReadonlyArray<keyof Position>;
const POSITION_BIGINTS = new Set<string>(['cost', 'realisedPnl', 'exposureMoney']);

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { $big: value.toString() } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$big' in value) {
    return BigInt((value as { $big: string }).$big);
  }
  return value;
}

interface SnapshotHeader {
  version: number;
  lastSeq: number;
  nextOrderId: number;
  instruments: Instrument[];
  accounts: Account[];
  users: User[];
  venues: Venue[];
  globalLimits: LimitSet;
  accountLimits: Array<[number, LimitSet]>;
  instrumentLimits: Array<[number, LimitSet]>;
  killGlobal: boolean;
  killAccounts: number[];
  killUsers: number[];
  accountRisk: Array<[number, { openOrders: number; gross: Array<[string, bigint]>; rateWindowSecond: number; rateWindowCount: number }]>;
  positionsByInstrument: Array<[number, number[]]>;
}

/** Accumulates lines into ~1 MiB buffers; the snapshot is their concatenation. */
class LineWriter {
  readonly chunks: Buffer[] = [];
  private pending: string[] = [];
  private pendingChars = 0;

  line(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length + 1;
    if (this.pendingChars >= CHUNK_CHARS) this.flush();
  }

  section(name: string, count: number): void {
    this.line(JSON.stringify([name, count]));
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Buffer.from(this.pending.join('\n') + '\n', 'utf8'));
    this.pending = [];
    this.pendingChars = 0;
  }
}

class LineReader {
  private at = 0;
  constructor(private readonly bytes: Buffer) {}

  next(): string {
    const end = this.bytes.indexOf(10, this.at);
    if (end < 0) throw new Error('snapshot is truncated');
    const text = this.bytes.toString('utf8', this.at, end);
    this.at = end + 1;
    return text;
  }

  section(name: string): number {
    const [found, count] = JSON.parse(this.next()) as [string, number];
    if (found !== name || !Number.isSafeInteger(count) || count < 0) throw new Error(`snapshot: expected section ${name}, found ${found}`);
    return count;
  }

  done(): boolean {
    return this.at === this.bytes.length;
  }
}

function encodeRecord(record: object, fields: readonly string[], bigints: Set<string>): string {
  const values: unknown[] = [];
  for (const field of fields) {
    const value = (record as Record<string, unknown>)[field];
    values.push(bigints.has(field) ? (value as bigint).toString() : value);
  }
  return JSON.stringify(values);
}

function decodeRecord<T>(line: string, fields: readonly string[], bigints: Set<string>): T {
  const values = JSON.parse(line) as unknown[];
  if (values.length !== fields.length) throw new Error(`snapshot record has ${values.length} fields, expected ${fields.length}`);
  const record: Record<string, unknown> = {};
  fields.forEach((field, i) => { record[field] = bigints.has(field) ? BigInt(values[i] as string) : values[i]; });
  return record as T;
}

function writeChunked<T>(out: LineWriter, name: string, items: Iterable<T>, count: number, flatten: (item: T) => unknown[]): void {
  out.section(name, count);
  let line: unknown[] = [];
  for (const item of items) {
    for (const value of flatten(item)) line.push(value);
    if (line.length >= IDS_PER_LINE) {
      out.line(JSON.stringify(line));
      line = [];
    }
  }
  if (line.length > 0) out.line(JSON.stringify(line));
  out.line('[]');
}

function readChunked(input: LineReader, name: string): unknown[][] {
  input.section(name);
  const lines: unknown[][] = [];
  for (;;) {
    const values = JSON.parse(input.next()) as unknown[];
    if (values.length === 0) return lines;
    lines.push(values);
  }
}

function writeState(state: CoreState): LineWriter {
  const out = new LineWriter();
  const header: SnapshotHeader = {
    version: SNAPSHOT_FORMAT_VERSION, lastSeq: state.lastSeq, nextOrderId: state.nextOrderId,
    instruments: [...state.instruments.values()], accounts: [...state.accounts.values()], users: [...state.users.values()],
    venues: [...state.venues.values()], globalLimits: state.globalLimits, accountLimits: [...state.accountLimits],
    instrumentLimits: [...state.instrumentLimits], killGlobal: state.killGlobal, killAccounts: [...state.killAccounts],
    killUsers: [...state.killUsers],
    accountRisk: [...state.accountRisk].map(([id, risk]) => [id, {
      openOrders: risk.openOrders, gross: [...risk.grossExposureByCurrency],
      rateWindowSecond: risk.rateWindowSecond, rateWindowCount: risk.rateWindowCount,
    }]),
    positionsByInstrument: [...state.positionsByInstrument],
  };
  out.line(JSON.stringify(header, replacer));
  out.section('orders', state.orders.size);
  for (const order of state.orders.values()) out.line(encodeRecord(order, ORDER_FIELDS, ORDER_BIGINTS));
  out.section('positions', state.positions.size);
  for (const position of state.positions.values()) out.line(encodeRecord(position, POSITION_FIELDS, POSITION_BIGINTS));
  writeChunked(out, 'clOrdIds', state.ordersByClOrdId, state.ordersByClOrdId.size, ([id, order]) => [id, order.orderId]);
  writeChunked(out, 'openOrders', state.openOrders, state.openOrders.size, (order) => [order.orderId]);
  writeChunked(out, 'venueExecIds', state.venueExecIds, state.venueExecIds.size, ([id]) => [id]);
  out.flush();
  return out;
}

export function serializeState(state: CoreState): Uint8Array {
  return Buffer.concat(writeState(state).chunks);
}

export function deserializeState(bytes: Uint8Array): CoreState {
  const input = new LineReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const header = JSON.parse(input.next(), reviver) as SnapshotHeader;
  if (header.version !== SNAPSHOT_FORMAT_VERSION) {
    throw new Error(`snapshot format ${header.version} is not supported (expected ${SNAPSHOT_FORMAT_VERSION})`);
  }
  const state = emptyState();
  Object.assign(state, {
    lastSeq: header.lastSeq, nextOrderId: header.nextOrderId,
    instruments: new Map(header.instruments.map((i) => [i.instrumentId, i])),
    accounts: new Map(header.accounts.map((a) => [a.accountId, a])),
    users: new Map(header.users.map((u) => [u.userId, u])),
    venues: new Map(header.venues.map((v) => [v.venueId, v])),
    globalLimits: header.globalLimits, accountLimits: new Map(header.accountLimits),
    instrumentLimits: new Map(header.instrumentLimits), killGlobal: header.killGlobal,
    killAccounts: new Set(header.killAccounts), killUsers: new Set(header.killUsers),
    accountRisk: new Map(header.accountRisk.map(([id, r]) => [id, {
      openOrders: r.openOrders, grossExposureByCurrency: new Map(r.gross),
      rateWindowSecond: r.rateWindowSecond, rateWindowCount: r.rateWindowCount,
    }])),
    positionsByInstrument: new Map(header.positionsByInstrument),
  });
  const orderCount = input.section('orders');
  for (let i = 0; i < orderCount; i++) {
    const order = decodeRecord<Order>(input.next(), ORDER_FIELDS, ORDER_BIGINTS);
    order.openSlot = -1;
    state.orders.set(order.orderId, order);
  }
  const byId = (id: unknown): Order => {
    const order = state.orders.get(id as number);
    if (order === undefined) throw new Error(`snapshot references unknown order ${String(id)}`);
    return order;
  };
  const positionCount = input.section('positions');
  for (let i = 0; i < positionCount; i++) {
    const position = decodeRecord<Position>(input.next(), POSITION_FIELDS, POSITION_BIGINTS);
    state.positions.set(positionKey(position.accountId, position.instrumentId), position);
  }
  for (const line of readChunked(input, 'clOrdIds')) {
    for (let i = 0; i < line.length; i += 2) state.ordersByClOrdId.set(line[i] as string, byId(line[i + 1]));
  }
  for (const line of readChunked(input, 'openOrders')) for (const id of line) state.openOrders.add(byId(id));
  for (const line of readChunked(input, 'venueExecIds')) for (const id of line) state.venueExecIds.set(id as string, true);
  if (!input.done()) throw new Error('snapshot has trailing data');
  return state;
}

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 of the canonical snapshot bytes, hashed chunk by chunk (no whole-snapshot buffer needed). */
export function stateHash(state: CoreState): string {
  const hash = createHash('sha256');
  for (const chunk of writeState(state).chunks) hash.update(chunk);
  return hash.digest('hex');
}
