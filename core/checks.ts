// Authorisation and pre-trade checks: pure reads of core state that return a Reject or null. They run to
// completion before a command changes anything, which is what makes "a rejected command changes nothing"
// true by construction.

import { Command, OrdType, RejectCode, Role, Side, TimeInForce } from '../schemas/generated/oms_generated.js';
import { absBig, LIMIT_MONEY_DIGITS, limitToMoneyScale, notional, POW10_NUMBER, toMoneyScale } from './fixed.js';
import type { OrderTerms } from '../schemas/commands.js';
import type { Instrument, LimitSet, Order, User } from './model.js';
import { LIMIT_UNSET, positionKey } from './model.js';
import type { CoreState } from './state.js';

export interface Reject {
  code: RejectCode;
  text: string;
}

export function reject(code: RejectCode, text: string): Reject {
  return { code, text };
}

/** User id 0 is the OMS process itself (bootstrap, timers); the gateway never gives it to a session. */
export const SYSTEM_USER_ID = 0;
export const SYSTEM_USER: User = { userId: SYSTEM_USER_ID, name: 'system', role: Role.System, accountIds: [], allAccounts: true };

export function resolveUser(state: CoreState, userId: number): User | null {
  if (userId === SYSTEM_USER_ID) return SYSTEM_USER;
  return state.users.get(userId) ?? null;
}

/** Which roles may send which command. Order commands are refined by order kind in mayTrade. */
const COMMAND_ROLES: Record<Command, readonly Role[]> = {
  [Command.NONE]: [],
  [Command.NewOrder]: [Role.PortfolioManager, Role.Trader],
  [Command.CancelOrder]: [Role.PortfolioManager, Role.Trader],
  [Command.ReplaceOrder]: [Role.PortfolioManager, Role.Trader],
  [Command.VenueExecReport]: [Role.Venue, Role.System],
  [Command.VenueCancelReject]: [Role.Venue, Role.System],
  [Command.DefineInstrument]: [Role.Admin, Role.System],
  [Command.DefineAccount]: [Role.Admin, Role.System],
  [Command.DefineUser]: [Role.Admin, Role.System],
  [Command.DefineVenue]: [Role.Admin, Role.System],
  [Command.SetLimits]: [Role.Admin, Role.System],
  [Command.SetMark]: [Role.Admin, Role.System],
  [Command.KillSwitch]: [Role.Compliance, Role.Admin, Role.System],
  [Command.Tick]: [Role.System],
};

export function authoriseCommand(user: User | null, type: Command): Reject | null {
  if (user === null) return reject(RejectCode.UnknownUser, 'unknown user');
  if (!COMMAND_ROLES[type].includes(user.role)) {
    return reject(RejectCode.NotAuthorised, `role ${Role[user.role]} may not send ${Command[type]}`);
  }
  return null;
}

/** Whether a user may see and act on an account: the one definition the core, router and HTTP API share. */
export function isEntitled(user: User, accountId: number): boolean {
  return user.allAccounts || user.accountIds.includes(accountId);
}

/** Portfolio managers own parent orders; only traders place orders on venues. */
export function mayTrade(user: User, accountId: number, isVenueOrder: boolean): Reject | null {
  if (isVenueOrder && user.role !== Role.Trader) {
    return reject(RejectCode.NotAuthorised, `role ${Role[user.role]} may not place orders on a venue`);
  }
  if (!isEntitled(user, accountId)) {
    return reject(RejectCode.NotEntitled, `user ${user.name} is not entitled to account ${accountId}`);
  }
  return null;
}

export function checkKillSwitch(state: CoreState, accountId: number, userId: number): Reject | null {
  if (state.killGlobal) return reject(RejectCode.KillSwitchEngaged, 'global kill switch engaged');
  if (state.killAccounts.has(accountId)) return reject(RejectCode.KillSwitchEngaged, `kill switch engaged for account ${accountId}`);
  if (state.killUsers.has(userId)) return reject(RejectCode.KillSwitchEngaged, `kill switch engaged for user ${userId}`);
  return null;
}

export function checkInstrument(instrument: Instrument): Reject | null {
  if (!instrument.tradable) return reject(RejectCode.InstrumentNotTradable, `${instrument.symbol} is not tradable`);
  if (instrument.restricted) return reject(RejectCode.RestrictedInstrument, `${instrument.symbol} is restricted`);
  return null;
}

/** Terms a new order or a replace proposes; replace keeps the order's side and type. */
export type Terms = OrderTerms;

export function checkTerms(instrument: Instrument, terms: Terms, nowUs: number): Reject | null {
  if (terms.orderQty <= 0) return reject(RejectCode.IncorrectQuantity, 'order_qty must be positive');
  if (terms.orderQty % instrument.lotSize !== 0) {
    return reject(RejectCode.LotSize, `order_qty ${terms.orderQty} is not a multiple of lot size ${instrument.lotSize}`);
  }
  const priceReject = checkPrices(instrument, terms);
  if (priceReject !== null) return priceReject;
  if (terms.timeInForce === TimeInForce.GTD) {
    if (terms.expireTimeUs <= nowUs) return reject(RejectCode.TooLateToEnter, 'GTD expire_time_us is not in the future');
  } else if (terms.expireTimeUs !== 0) {
    return reject(RejectCode.InvalidField, 'expire_time_us is only valid with GTD');
  }
  return null;
}

function checkPrices(instrument: Instrument, terms: Terms): Reject | null {
  const needsPrice = terms.ordType === OrdType.Limit || terms.ordType === OrdType.StopLimit;
  const needsStop = terms.ordType === OrdType.Stop || terms.ordType === OrdType.StopLimit;
  if (needsPrice !== (terms.price !== 0)) {
    return reject(RejectCode.InvalidField, needsPrice ? 'price is required' : `price is not valid for ${OrdType[terms.ordType]}`);
  }
  if (needsStop !== (terms.stopPx !== 0)) {
    return reject(RejectCode.InvalidField, needsStop ? 'stop_px is required' : `stop_px is not valid for ${OrdType[terms.ordType]}`);
  }
  if (terms.price < 0 || terms.stopPx < 0) return reject(RejectCode.ValueOutOfRange, 'prices must be positive');
  if (terms.price % instrument.tickSize !== 0 || terms.stopPx % instrument.tickSize !== 0) {
    return reject(RejectCode.InvalidPriceIncrement, `price is not a multiple of tick size ${instrument.tickSize}`);
  }
  return null;
}

/** The price that values an order for limits: its limit, else its trigger, else the mark (0 = none). */
export function valuationPx(instrument: Instrument, price: number, stopPx: number): number {
  if (price !== 0) return price;
  if (stopPx !== 0) return stopPx;
  return instrument.markPx;
}

export function orderMoney(instrument: Instrument, qty: number, px: number): bigint {
  return toMoneyScale(notional(qty, px, instrument.multiplier), instrument.pricePrecision, instrument.qtyPrecision);
}

/**
 * Every scope that sets a limit binds: global, the account's and the instrument's. The array is reused
 * (one writer, and no check calls another while iterating), so the hot path allocates nothing for it.
 */
const SCOPES: LimitSet[] = [];
/** Fills SCOPES and returns how many it holds (truncating an array is a runtime call in V8; counting is not). */
function scopes(state: CoreState, accountId: number, instrumentId: number): number {
  let count = 0;
  SCOPES[count++] = state.globalLimits;
  const account = state.accountLimits.get(accountId);
  if (account !== undefined) SCOPES[count++] = account;
  const instrument = state.instrumentLimits.get(instrumentId);
  if (instrument !== undefined) SCOPES[count++] = instrument;
  return count;
}

/**
 * qty x px x multiplier > limit (micro-units of the currency), exactly. Both sides are brought to the
 * same scale; the number path is taken only when every product is a safe integer (then it is exact).
 */
export function exceedsMoneyLimit(instrument: Instrument, qty: number, px: number, limitMicros: number): boolean {
  const digits = instrument.pricePrecision + instrument.qtyPrecision;
  const amount = qty * px * instrument.multiplier;
  if (Number.isSafeInteger(amount)) {
    const shift = digits - LIMIT_MONEY_DIGITS;
    // Digits are at most 2 x PRECISION_DIGITS_MAX, so |shift| <= 18: inside the exact powers of ten.
    const left = shift >= 0 ? amount : amount * POW10_NUMBER[-shift];
    const right = shift >= 0 ? limitMicros * POW10_NUMBER[shift] : limitMicros;
    if (Number.isSafeInteger(left) && Number.isSafeInteger(right)) return left > right;
  }
  return orderMoney(instrument, qty, px) > limitToMoneyScale(limitMicros);
}

/** |px - mark| x 10^4 > bps x mark, exactly (number path when both products are safe integers). */
function outsideCollar(px: number, mark: number, collarBps: number): boolean {
  const left = Math.abs(px - mark) * 10_000;
  const right = collarBps * mark;
  if (Number.isSafeInteger(left) && Number.isSafeInteger(right)) return left > right;
  return BigInt(Math.abs(px - mark)) * 10_000n > BigInt(collarBps) * BigInt(mark);
}

/** Order-level limits on proposed terms: size, notional and the price collar. */
export function checkOrderLimits(
  state: CoreState, instrument: Instrument, accountId: number, terms: Terms,
): Reject | null {
  const px = valuationPx(instrument, terms.price, terms.stopPx);
  for (let i = 0, n = scopes(state, accountId, instrument.instrumentId); i < n; i++) {
    const limits = SCOPES[i];
    if (limits.maxOrderQty !== LIMIT_UNSET && terms.orderQty > limits.maxOrderQty) {
      return reject(RejectCode.MaxOrderQty, `order_qty ${terms.orderQty} exceeds the limit ${limits.maxOrderQty}`);
    }
    if (limits.maxOrderNotional !== LIMIT_UNSET) {
      if (px === 0) return reject(RejectCode.NoReferencePrice, `no reference price to value ${instrument.symbol}`);
      if (exceedsMoneyLimit(instrument, terms.orderQty, px, limits.maxOrderNotional)) {
        return reject(RejectCode.MaxOrderNotional, 'order notional exceeds the limit');
      }
    }
    if (limits.priceCollarBps !== LIMIT_UNSET) {
      const collarReject = checkCollar(instrument, terms, limits.priceCollarBps);
      if (collarReject !== null) return collarReject;
    }
  }
  return null;
}

function checkCollar(instrument: Instrument, terms: Terms, collarBps: number): Reject | null {
  if (terms.price === 0 && terms.stopPx === 0) return null;
  const mark = instrument.markPx;
  if (mark === 0) return reject(RejectCode.NoReferencePrice, `no reference price for the collar on ${instrument.symbol}`);
  const px = terms.price !== 0 && outsideCollar(terms.price, mark, collarBps) ? terms.price
    : terms.stopPx !== 0 && outsideCollar(terms.stopPx, mark, collarBps) ? terms.stopPx : 0;
  return px === 0 ? null : reject(RejectCode.PriceCollar, `price ${px} is outside ${collarBps} bps of the reference ${mark}`);
}

/**
 * Open quantities and worst-case positions are number sums: refuse what would take them past a safe
 * integer, whatever the limits say (with limits cleared, three orders of 2^53-1 would otherwise corrupt them).
 */
export function checkOpenQtyFits(state: CoreState, accountId: number, instrumentId: number, side: Side, addedQty: number): Reject | null {
  const position = state.positions.get(positionKey(accountId, instrumentId));
  const open = (side === Side.Buy ? position?.openBuyQty : position?.openSellQty) ?? 0;
  const qty = position?.qty ?? 0;
  // The position can only move in the order's direction: a sale that reduces a long is never a risk here.
  const worst = side === Side.Buy ? qty + open + addedQty : open + addedQty - qty;
  if (!Number.isSafeInteger(open + addedQty) || !Number.isSafeInteger(worst)) {
    return reject(RejectCode.ValueOutOfRange, 'open quantity would exceed a safe integer');
  }
  return null;
}

/** Whether any scope caps gross exposure here: callers value an order in bigint money only then. */
export function grossLimitApplies(state: CoreState, accountId: number, instrumentId: number): boolean {
  for (let i = 0, n = scopes(state, accountId, instrumentId); i < n; i++) {
    const limits = SCOPES[i];
    if (limits.maxGrossExposure !== LIMIT_UNSET) return true;
  }
  return false;
}

/** Account-level limits that an additional working quantity would breach. */
export function checkAccountLimits(
  state: CoreState, instrument: Instrument, accountId: number, side: Side, addedQty: number, addedMoney: bigint,
  nowUs: number, isNewOrder: boolean,
): Reject | null {
  const overflow = checkOpenQtyFits(state, accountId, instrument.instrumentId, side, addedQty);
  if (overflow !== null) return overflow;
  const risk = state.accountRisk.get(accountId);
  const position = state.positions.get(positionKey(accountId, instrument.instrumentId));
  for (let i = 0, n = scopes(state, accountId, instrument.instrumentId); i < n; i++) {
    const limits = SCOPES[i];
    if (isNewOrder && limits.maxOpenOrders !== LIMIT_UNSET && (risk?.openOrders ?? 0) >= limits.maxOpenOrders) {
      return reject(RejectCode.MaxOpenOrders, `account ${accountId} has ${limits.maxOpenOrders} open orders already`);
    }
    if (isNewOrder && limits.maxOrdersPerSecond !== LIMIT_UNSET && risk !== undefined &&
      risk.rateWindowSecond === Math.floor(nowUs / 1_000_000) && risk.rateWindowCount >= limits.maxOrdersPerSecond) {
      return reject(RejectCode.OrderRateExceeded, `account ${accountId} exceeded ${limits.maxOrdersPerSecond} orders per second`);
    }
    if (limits.maxPosition !== LIMIT_UNSET) {
      const qty = position?.qty ?? 0;
      const worst = side === Side.Buy
        ? qty + (position?.openBuyQty ?? 0) + addedQty
        : -(qty - (position?.openSellQty ?? 0) - addedQty);
      if (worst > limits.maxPosition) {
        return reject(RejectCode.MaxPosition, `worst-case position ${worst} would exceed ${limits.maxPosition}`);
      }
    }
    if (limits.maxGrossExposure !== LIMIT_UNSET) {
      const gross = risk?.grossExposureByCurrency.get(instrument.currency) ?? 0n;
      if (gross + absBig(addedMoney) > limitToMoneyScale(limits.maxGrossExposure)) {
        return reject(RejectCode.MaxGrossExposure, `gross ${instrument.currency} exposure of account ${accountId} would exceed the limit`);
      }
    }
  }
  return null;
}

/** A child placement must match its parent and fit in what the parent has not yet placed. */
export function checkChild(parent: Order, accountId: number, instrumentId: number, side: Side, addedQty: number): Reject | null {
  if (parent.venueId !== 0) return reject(RejectCode.UnknownParent, 'the parent is itself a venue placement');
  if (parent.accountId !== accountId || parent.instrumentId !== instrumentId || parent.side !== side) {
    return reject(RejectCode.InvalidField, 'a child must have its parent\'s account, instrument and side');
  }
  if (parent.childCommittedQty + addedQty > parent.orderQty) {
    return reject(RejectCode.ParentQtyExceeded,
      `child quantity exceeds what the parent has unplaced (${parent.orderQty - parent.childCommittedQty})`);
  }
  return null;
}
