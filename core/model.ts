// The core's state: plain data owned by the single writer. Nothing here is shared with another thread.
// Quantities and prices are scaled integers (core/fixed.ts); instrument-money sums are bigints.

import { OrdStatus, Role, TimeInForce, WorkflowState } from '../schemas/generated/oms_generated.js';
import type { DefineInstrumentCmd, OrderTerms } from '../schemas/commands.js';

/** An instrument as defined (DefineInstrument), plus its latest mark / reference price (0 = none yet). */
export interface Instrument extends Omit<DefineInstrumentCmd, 'type'> {
  markPx: number;
}

export interface Account {
  accountId: number;
  name: string;
  portfolio: string;
}

export interface User {
  userId: number;
  name: string;
  role: Role;
  accountIds: number[];
  allAccounts: boolean;
}

export interface Venue {
  venueId: number;
  name: string;
}

/** A limit of -1 is "not set here": the check falls back to the wider scope, then to no limit. */
export interface LimitSet {
  maxOrderQty: number;
  maxOrderNotional: number;
  priceCollarBps: number;
  maxPosition: number;
  maxGrossExposure: number;
  maxOpenOrders: number;
  maxOrdersPerSecond: number;
}

export const LIMIT_UNSET = -1;

export function emptyLimitSet(): LimitSet {
  return {
    maxOrderQty: LIMIT_UNSET, maxOrderNotional: LIMIT_UNSET, priceCollarBps: LIMIT_UNSET,
    maxPosition: LIMIT_UNSET, maxGrossExposure: LIMIT_UNSET, maxOpenOrders: LIMIT_UNSET,
    maxOrdersPerSecond: LIMIT_UNSET,
  };
}

export const enum PendingKind { None = 0, Cancel = 1, Replace = 2 }

/** A cancel or replace sent to the venue and not yet answered. Fills meanwhile apply to the old terms. */
export interface PendingRequest {
  kind: PendingKind;
  clOrdId: string;
  orderQty: number;
  price: number;
  stopPx: number;
  timeInForce: TimeInForce;
  expireTimeUs: number;
  userId: number;
}

export interface Order extends OrderTerms {
  orderId: number;
  clOrdId: string;
  /** The ClOrdID this one replaced (FIX OrigClOrdID of the last accepted change); '' for an original. */
  origClOrdId: string;
  accountId: number;
  instrumentId: number;
  cumQty: number;
  /** Sum of lastQty x lastPx (no multiplier), exact; AvgPx = cumNotional / cumQty. */
  cumNotional: bigint;
  /** The venue-facing status without the pending overlay: New, PartiallyFilled, Filled, or a terminal one. */
  baseStatus: OrdStatus;
  pending: PendingRequest | null;
  venueId: number;
  parentOrderId: number;
  /** Parents only: quantity committed to children (their cumQty + leavesQty). */
  childCommittedQty: number;
  openChildCount: number;
  workflowState: WorkflowState;
  userId: number;
  createdSeq: number;
  transactTimeUs: number;
  /** Money-scale exposure this order currently adds to its account (venue orders only). */
  exposureMoney: bigint;
  /** Leaves currently counted in its position's open buy/sell quantity (venue orders only). */
  riskLeavesQty: number;
  /** Children only: quantity currently counted in the parent's childCommittedQty. */
  parentCommittedQty: number;
  /** Position in OpenOrderSet's array, -1 when not working. Bookkeeping, not state: never serialised. */
  openSlot: number;
}

export interface Position {
  accountId: number;
  instrumentId: number;
  /** Signed quantity units: long > 0. */
  qty: number;
  /** Signed instrument money (qty x price x multiplier) of the open position at average cost. */
  cost: bigint;
  realisedPnl: bigint;
  /** Leaves of working buy / sell placements, for the worst-case position check. */
  openBuyQty: number;
  openSellQty: number;
  /** Money-scale gross exposure of the position that is currently counted in its account's total. */
  exposureMoney: bigint;
}

export interface AccountRisk {
  openOrders: number;
  /** Per currency, money scale: |positions| at mark + open placements at their price. */
  grossExposureByCurrency: Map<string, bigint>;
  rateWindowSecond: number;
  rateWindowCount: number;
}

export function leavesQty(order: Order): number {
  return isTerminal(order.baseStatus) ? 0 : order.orderQty - order.cumQty;
}

export function isTerminal(status: OrdStatus): boolean {
  return status === OrdStatus.Filled || status === OrdStatus.Canceled || status === OrdStatus.Rejected ||
    status === OrdStatus.Expired || status === OrdStatus.DoneForDay;
}

/** Filled orders may still be re-opened by a replace up, so they are not "closed" for replace. */
export function isClosedForReplace(status: OrdStatus): boolean {
  return status === OrdStatus.Canceled || status === OrdStatus.Rejected || status === OrdStatus.Expired ||
    status === OrdStatus.DoneForDay;
}

/** FIX reports the pending overlay over a working order; a done order reports its terminal status. */
export function reportedStatus(order: Order): OrdStatus {
  if (order.pending === null || isTerminal(order.baseStatus) && order.baseStatus !== OrdStatus.Filled) {
    return order.baseStatus;
  }
  return order.pending.kind === PendingKind.Cancel ? OrdStatus.PendingCancel : OrdStatus.PendingReplace;
}

export function isVenueOrder(order: Order): boolean {
  return order.venueId !== 0;
}

export function positionKey(accountId: number, instrumentId: number): number {
  // Ids are uint32 and checked on definition; the combined key stays a safe integer (2^32 x 2^20).
  return accountId * 0x100000 + instrumentId;
}

export const INSTRUMENT_ID_MAX = 0xFFFFF;
