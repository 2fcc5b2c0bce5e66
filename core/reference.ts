// Reference data and controls: instruments, accounts, users, venues, limits, marks and kill switches.
// Each validator is pure; each apply function assumes its validator passed.

import { AssetClass, KillScope, LimitScope, PutCall, RejectCode } from '../schemas/generated/oms_generated.js';
import type {
  DefineAccountCmd, DefineInstrumentCmd, DefineUserCmd, DefineVenueCmd, KillSwitchCmd, SetLimitsCmd, SetMarkCmd,
} from '../schemas/commands.js';
import type { Reject } from './checks.js';
import { reject } from './checks.js';
import { MONEY_SCALE_DIGITS, PRECISION_DIGITS_MAX } from './fixed.js';
import type { Instrument, LimitSet } from './model.js';
import { emptyLimitSet, INSTRUMENT_ID_MAX, LIMIT_UNSET } from './model.js';
import { revalue } from './risk.js';
import type { CoreState } from './state.js';

const CURRENCY_PATTERN = /^[A-Z0-9]{3,8}$/;

export function validateInstrument(state: CoreState, c: DefineInstrumentCmd): Reject | null {
  if (c.instrumentId === 0 || c.instrumentId > INSTRUMENT_ID_MAX) {
    return reject(RejectCode.ValueOutOfRange, `instrument_id must be 1..${INSTRUMENT_ID_MAX}`);
  }
  const existing = state.instruments.get(c.instrumentId);
  if (existing !== undefined && (existing.pricePrecision !== c.pricePrecision || existing.qtyPrecision !== c.qtyPrecision ||
    existing.multiplier !== c.multiplier || existing.currency !== c.currency)) {
    // Open orders and positions are stored in the old units: changing them under their feet would corrupt money.
    return reject(RejectCode.DuplicateReferenceData, 'precision, multiplier and currency of an instrument cannot change');
  }
  for (const other of state.instruments.values()) {
    if (other.symbol === c.symbol && other.instrumentId !== c.instrumentId) {
      return reject(RejectCode.DuplicateReferenceData, `symbol ${c.symbol} is already instrument ${other.instrumentId}`);
    }
  }
  if (c.pricePrecision > PRECISION_DIGITS_MAX || c.qtyPrecision > PRECISION_DIGITS_MAX ||
    c.pricePrecision + c.qtyPrecision > MONEY_SCALE_DIGITS) {
    return reject(RejectCode.ValueOutOfRange, 'precision out of range');
  }
  if (c.tickSize <= 0 || c.lotSize <= 0 || c.multiplier <= 0) {
    return reject(RejectCode.ValueOutOfRange, 'tick_size, lot_size and multiplier must be positive');
  }
  if (!CURRENCY_PATTERN.test(c.currency)) return reject(RejectCode.InvalidField, `currency "${c.currency}" is not a code`);
  return validateAssetTerms(c);
}

function validateAssetTerms(c: DefineInstrumentCmd): Reject | null {
  switch (c.assetClass) {
    case AssetClass.Option:
      if (c.putCall === PutCall.None || c.strike <= 0 || c.expiryYyyymmdd === 0) {
        return reject(RejectCode.InvalidField, 'an option needs put_call, strike and expiry');
      }
      return null;
    case AssetClass.Future:
      return c.expiryYyyymmdd === 0 ? reject(RejectCode.InvalidField, 'a future needs an expiry') : null;
    case AssetClass.FxSpot:
    case AssetClass.FxForward:
      if (!CURRENCY_PATTERN.test(c.baseCurrency) || c.quoteCurrency !== c.currency) {
        return reject(RejectCode.InvalidField, 'FX needs base_currency and quote_currency equal to currency');
      }
      if (c.assetClass === AssetClass.FxForward && c.settleYyyymmdd === 0) {
        return reject(RejectCode.InvalidField, 'an FX forward needs a settlement date');
      }
      return null;
    default:
      return c.putCall === PutCall.None ? null : reject(RejectCode.InvalidField, 'put_call is for options only');
  }
}

export function applyInstrument(state: CoreState, c: DefineInstrumentCmd): void {
  const markPx = state.instruments.get(c.instrumentId)?.markPx ?? 0;
  const instrument: Instrument = {
    instrumentId: c.instrumentId, symbol: c.symbol, assetClass: c.assetClass, currency: c.currency,
    pricePrecision: c.pricePrecision, qtyPrecision: c.qtyPrecision, tickSize: c.tickSize, lotSize: c.lotSize,
    multiplier: c.multiplier, expiryYyyymmdd: c.expiryYyyymmdd, strike: c.strike, putCall: c.putCall,
    baseCurrency: c.baseCurrency, quoteCurrency: c.quoteCurrency, settleYyyymmdd: c.settleYyyymmdd,
    tradable: c.tradable, restricted: c.restricted, markPx,
  };
  state.instruments.set(c.instrumentId, instrument);
}

export function validateAccount(c: DefineAccountCmd): Reject | null {
  return c.accountId === 0 ? reject(RejectCode.ValueOutOfRange, 'account_id must be positive') : null;
}

export function applyAccount(state: CoreState, c: DefineAccountCmd): void {
  state.accounts.set(c.accountId, { accountId: c.accountId, name: c.name, portfolio: c.portfolio });
}

export function validateUser(state: CoreState, c: DefineUserCmd): Reject | null {
  if (c.userId === 0) return reject(RejectCode.ValueOutOfRange, 'user_id 0 is reserved for the system');
  for (const accountId of c.accountIds) {
    if (!state.accounts.has(accountId)) return reject(RejectCode.UnknownAccount, `unknown account ${accountId}`);
  }
  return null;
}

export function applyUser(state: CoreState, c: DefineUserCmd): void {
  state.users.set(c.userId, {
    userId: c.userId, name: c.name, role: c.role, accountIds: [...c.accountIds], allAccounts: c.allAccounts,
  });
}

export function validateVenue(c: DefineVenueCmd): Reject | null {
  return c.venueId === 0 ? reject(RejectCode.ValueOutOfRange, 'venue_id 0 means "held by the OMS"') : null;
}

export function applyVenue(state: CoreState, c: DefineVenueCmd): void {
  state.venues.set(c.venueId, { venueId: c.venueId, name: c.name });
}

export function validateLimits(state: CoreState, c: SetLimitsCmd): Reject | null {
  const values = [c.maxOrderQty, c.maxOrderNotional, c.priceCollarBps, c.maxPosition, c.maxGrossExposure,
    c.maxOpenOrders, c.maxOrdersPerSecond];
  if (values.some((v) => v < LIMIT_UNSET)) return reject(RejectCode.ValueOutOfRange, 'a limit is -1 (unset) or >= 0');
  if (c.scope === LimitScope.Global && c.scopeId !== 0) return reject(RejectCode.InvalidField, 'global limits take scope_id 0');
  if (c.scope === LimitScope.Account && !state.accounts.has(c.scopeId)) {
    return reject(RejectCode.UnknownAccount, `unknown account ${c.scopeId}`);
  }
  if (c.scope === LimitScope.Instrument && !state.instruments.has(c.scopeId)) {
    return reject(RejectCode.UnknownInstrument, `unknown instrument ${c.scopeId}`);
  }
  return null;
}

/** Replaces the whole limit set of the scope: a field left at -1 clears that limit there. */
export function applyLimits(state: CoreState, c: SetLimitsCmd): void {
  const limits: LimitSet = {
    ...emptyLimitSet(), maxOrderQty: c.maxOrderQty, maxOrderNotional: c.maxOrderNotional,
    priceCollarBps: c.priceCollarBps, maxPosition: c.maxPosition, maxGrossExposure: c.maxGrossExposure,
    maxOpenOrders: c.maxOpenOrders, maxOrdersPerSecond: c.maxOrdersPerSecond,
  };
  if (c.scope === LimitScope.Global) state.globalLimits = limits;
  else if (c.scope === LimitScope.Account) state.accountLimits.set(c.scopeId, limits);
  else state.instrumentLimits.set(c.scopeId, limits);
}

export function validateMark(state: CoreState, c: SetMarkCmd): Reject | null {
  const instrument = state.instruments.get(c.instrumentId);
  if (instrument === undefined) return reject(RejectCode.UnknownInstrument, `unknown instrument ${c.instrumentId}`);
  if (c.price <= 0) return reject(RejectCode.ValueOutOfRange, 'a mark must be positive');
  if (c.price % instrument.tickSize !== 0) return reject(RejectCode.InvalidPriceIncrement, 'mark is not on the tick grid');
  return null;
}

export function applyMark(state: CoreState, c: SetMarkCmd): void {
  const instrument = state.instruments.get(c.instrumentId);
  if (instrument === undefined) throw new Error('invariant: mark validated for a known instrument');
  instrument.markPx = c.price;
  revalue(state, instrument);
}

export function validateKill(state: CoreState, c: KillSwitchCmd): Reject | null {
  if (c.scope === KillScope.Global && c.scopeId !== 0) return reject(RejectCode.InvalidField, 'global kill switch takes scope_id 0');
  if (c.scope === KillScope.Account && !state.accounts.has(c.scopeId)) return reject(RejectCode.UnknownAccount, `unknown account ${c.scopeId}`);
  if (c.scope === KillScope.User && !state.users.has(c.scopeId)) return reject(RejectCode.UnknownUser, `unknown user ${c.scopeId}`);
  return null;
}

export function applyKill(state: CoreState, c: KillSwitchCmd): void {
  if (c.scope === KillScope.Global) {
    state.killGlobal = c.engaged;
    return;
  }
  const set = c.scope === KillScope.Account ? state.killAccounts : state.killUsers;
  if (c.engaged) set.add(c.scopeId);
  else set.delete(c.scopeId);
}
