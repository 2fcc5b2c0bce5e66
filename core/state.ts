// All core state in one place, and its canonical serialisation. The snapshot bytes are canonical (maps in
// insertion order, which is journal order), so the state hash is simply their SHA-256: two cores that
// applied the same journal have byte-identical snapshots.

import { createHash } from 'node:crypto';
import type {
  Account, AccountRisk, Instrument, LimitSet, Order, Position, User, Venue,
} from './model.js';
import { emptyLimitSet, positionKey } from './model.js';
import { OpenOrderSet, OrderTable } from './order-tables.js';

export const SNAPSHOT_FORMAT_VERSION = 1;

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
  ordersByClOrdId: Map<string, Order>;
  /** Working (not done) orders, for expiry and open-order counts. */
  openOrders: OpenOrderSet;
  positions: Map<number, Position>;
  /** Position keys per instrument, so that a new mark revalues only that instrument's positions. */
  positionsByInstrument: Map<number, number[]>;
  accountRisk: Map<number, AccountRisk>;
  /** "venueId:execId" of every venue execution applied: a resent fill is recognised and ignored. */
  venueExecIds: Set<string>;
}

export function emptyState(): CoreState {
  return {
    lastSeq: 0, nextOrderId: 1, instruments: new Map(), accounts: new Map(), users: new Map(), venues: new Map(),
    globalLimits: emptyLimitSet(), accountLimits: new Map(), instrumentLimits: new Map(), killGlobal: false,
    killAccounts: new Set(), killUsers: new Set(), orders: new OrderTable(), ordersByClOrdId: new Map(),
    openOrders: new OpenOrderSet(), positions: new Map(), positionsByInstrument: new Map(), accountRisk: new Map(),
    venueExecIds: new Set(),
  };
}

// ---- serialisation ---------------------------------------------------------------------------------------
// JSON with bigints as {"$big":"123"}; orders are written once and referenced by id elsewhere.

function replacer(key: string, value: unknown): unknown {
  if (key === 'openSlot') return undefined;
  return typeof value === 'bigint' ? { $big: value.toString() } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$big' in value) {
    return BigInt((value as { $big: string }).$big);
  }
  return value;
}

interface SnapshotDocument {
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
  orders: Order[];
  clOrdIds: Array<[string, number]>;
  openOrderIds: number[];
  positions: Position[];
  positionsByInstrument: Array<[number, number[]]>;
  accountRisk: Array<[number, { openOrders: number; gross: Array<[string, bigint]>; rateWindowSecond: number; rateWindowCount: number }]>;
  venueExecIds: string[];
}

export function serializeState(state: CoreState): Uint8Array {
  const doc: SnapshotDocument = {
    version: SNAPSHOT_FORMAT_VERSION,
    lastSeq: state.lastSeq,
    nextOrderId: state.nextOrderId,
    instruments: [...state.instruments.values()],
    accounts: [...state.accounts.values()],
    users: [...state.users.values()],
    venues: [...state.venues.values()],
    globalLimits: state.globalLimits,
    accountLimits: [...state.accountLimits],
    instrumentLimits: [...state.instrumentLimits],
    killGlobal: state.killGlobal,
    killAccounts: [...state.killAccounts],
    killUsers: [...state.killUsers],
    orders: [...state.orders.values()],
    clOrdIds: [...state.ordersByClOrdId].map(([id, order]) => [id, order.orderId]),
    openOrderIds: [...state.openOrders].map((order) => order.orderId),
    positions: [...state.positions.values()],
    positionsByInstrument: [...state.positionsByInstrument],
    accountRisk: [...state.accountRisk].map(([id, risk]) => [id, {
      openOrders: risk.openOrders, gross: [...risk.grossExposureByCurrency],
      rateWindowSecond: risk.rateWindowSecond, rateWindowCount: risk.rateWindowCount,
    }]),
    venueExecIds: [...state.venueExecIds],
  };
  return Buffer.from(JSON.stringify(doc, replacer), 'utf8');
}

export function deserializeState(bytes: Uint8Array): CoreState {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8'), reviver) as SnapshotDocument;
  if (doc.version !== SNAPSHOT_FORMAT_VERSION) {
    throw new Error(`snapshot format ${doc.version} is not supported (expected ${SNAPSHOT_FORMAT_VERSION})`);
  }
  const orders = new OrderTable();
  for (const order of doc.orders) {
    order.openSlot = -1;
    orders.set(order.orderId, order);
  }
  const openOrders = new OpenOrderSet();
  const byId = (id: number): Order => {
    const order = orders.get(id);
    if (order === undefined) throw new Error(`snapshot references unknown order ${id}`);
    return order;
  };
  for (const id of doc.openOrderIds) openOrders.add(byId(id));
  return {
    lastSeq: doc.lastSeq,
    nextOrderId: doc.nextOrderId,
    instruments: new Map(doc.instruments.map((i) => [i.instrumentId, i])),
    accounts: new Map(doc.accounts.map((a) => [a.accountId, a])),
    users: new Map(doc.users.map((u) => [u.userId, u])),
    venues: new Map(doc.venues.map((v) => [v.venueId, v])),
    globalLimits: doc.globalLimits,
    accountLimits: new Map(doc.accountLimits),
    instrumentLimits: new Map(doc.instrumentLimits),
    killGlobal: doc.killGlobal,
    killAccounts: new Set(doc.killAccounts),
    killUsers: new Set(doc.killUsers),
    orders,
    ordersByClOrdId: new Map(doc.clOrdIds.map(([id, orderId]) => [id, byId(orderId)])),
    openOrders,
    positions: new Map(doc.positions.map((p) => [positionKey(p.accountId, p.instrumentId), p])),
    positionsByInstrument: new Map(doc.positionsByInstrument),
    accountRisk: new Map(doc.accountRisk.map(([id, r]) => [id, {
      openOrders: r.openOrders, grossExposureByCurrency: new Map(r.gross),
      rateWindowSecond: r.rateWindowSecond, rateWindowCount: r.rateWindowCount,
    }])),
    venueExecIds: new Set(doc.venueExecIds),
  };
}

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function stateHash(state: CoreState): string {
  return hashBytes(serializeState(state));
}
