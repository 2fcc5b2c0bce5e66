// Demo reference data: one instrument of every asset class, accounts in two portfolios, a user of every
// role, the simulated venue, marks and a sane set of limits. `npm start` journals these on an empty journal;
// tests and benchmarks start from them too, so that what they exercise is what a new user sees.

import {
  AssetClass, Command, KillScope, LimitScope, PutCall, Role, TickKind,
} from '../schemas/generated/oms_generated.js';
import type { CommandBody, DefineInstrumentCmd, SetLimitsCmd } from '../schemas/commands.js';

export const DEMO = {
  venues: { SIM: 1 },
  accounts: { GROWTH: 101, INCOME: 102, MACRO: 201 },
  instruments: { AAPL: 1, ESZ6: 2, AAPL_C200: 3, EURUSD: 4, EURUSD_1M: 5, BTCUSD: 6, TOYOTA: 7 },
  users: { pm: 11, trader: 12, middle: 13, compliance: 14, back: 15, admin: 16, venue: 17, trader_income: 18 },
} as const;

function instrument(partial: Partial<DefineInstrumentCmd> & Pick<DefineInstrumentCmd, 'instrumentId' | 'symbol' | 'assetClass' | 'currency' | 'pricePrecision' | 'qtyPrecision'>): DefineInstrumentCmd {
  return {
    type: Command.DefineInstrument, tickSize: 1, lotSize: 1, multiplier: 1, expiryYyyymmdd: 0, strike: 0,
    putCall: PutCall.None, baseCurrency: '', quoteCurrency: '', settleYyyymmdd: 0, tradable: true, restricted: false,
    ...partial,
  };
}

export function unsetLimits(scope: LimitScope, scopeId: number): SetLimitsCmd {
  return {
    type: Command.SetLimits, scope, scopeId, maxOrderQty: -1, maxOrderNotional: -1, priceCollarBps: -1, maxPosition: -1,
    maxGrossExposure: -1, maxOpenOrders: -1, maxOrdersPerSecond: -1,
  };
}

export function demoInstruments(): DefineInstrumentCmd[] {
  const I = DEMO.instruments;
  return [
    // US equity: cents, whole shares.
    instrument({ instrumentId: I.AAPL, symbol: 'AAPL', assetClass: AssetClass.Equity, currency: 'USD', pricePrecision: 2, qtyPrecision: 0 }),
    // E-mini S&P future: quarter-point ticks (25 in 2 decimals), $50 multiplier.
    instrument({ instrumentId: I.ESZ6, symbol: 'ESZ6', assetClass: AssetClass.Future, currency: 'USD', pricePrecision: 2, qtyPrecision: 0, tickSize: 25, multiplier: 50, expiryYyyymmdd: 20261218 }),
    // Equity option: 100 multiplier, cent premium.
    instrument({ instrumentId: I.AAPL_C200, symbol: 'AAPL 261218C00200000', assetClass: AssetClass.Option, currency: 'USD', pricePrecision: 2, qtyPrecision: 0, multiplier: 100, expiryYyyymmdd: 20261218, strike: 20000, putCall: PutCall.Call }),
    // FX spot: quantity in EUR (cents), price in USD per EUR with 5 decimals.
    instrument({ instrumentId: I.EURUSD, symbol: 'EUR/USD', assetClass: AssetClass.FxSpot, currency: 'USD', pricePrecision: 5, qtyPrecision: 2, baseCurrency: 'EUR', quoteCurrency: 'USD' }),
    instrument({ instrumentId: I.EURUSD_1M, symbol: 'EUR/USD 1M', assetClass: AssetClass.FxForward, currency: 'USD', pricePrecision: 5, qtyPrecision: 2, baseCurrency: 'EUR', quoteCurrency: 'USD', settleYyyymmdd: 20261224 }),
    // Digital asset: satoshi quantities, cent prices.
    instrument({ instrumentId: I.BTCUSD, symbol: 'BTC/USD', assetClass: AssetClass.DigitalAsset, currency: 'USD', pricePrecision: 2, qtyPrecision: 8 }),
    // Japanese equity: whole yen, 100-share lots.
    instrument({ instrumentId: I.TOYOTA, symbol: '7203.T', assetClass: AssetClass.Equity, currency: 'JPY', pricePrecision: 0, qtyPrecision: 0, lotSize: 100 }),
  ];
}

/** The demo's reference data, in the order it must be applied (accounts before the users entitled to them). */
export function demoReferenceData(): CommandBody[] {
  const A = DEMO.accounts;
  const U = DEMO.users;
  const I = DEMO.instruments;
  const commands: CommandBody[] = [
    { type: Command.DefineVenue, venueId: DEMO.venues.SIM, name: 'SIM' },
    { type: Command.DefineAccount, accountId: A.GROWTH, name: 'GROWTH', portfolio: 'Equity Fund' },
    { type: Command.DefineAccount, accountId: A.INCOME, name: 'INCOME', portfolio: 'Equity Fund' },
    { type: Command.DefineAccount, accountId: A.MACRO, name: 'MACRO', portfolio: 'Macro Fund' },
    ...demoInstruments(),
    { type: Command.DefineUser, userId: U.pm, name: 'pm', role: Role.PortfolioManager, accountIds: [A.GROWTH, A.INCOME], allAccounts: false },
    { type: Command.DefineUser, userId: U.trader, name: 'trader', role: Role.Trader, accountIds: [], allAccounts: true },
    { type: Command.DefineUser, userId: U.trader_income, name: 'trader_income', role: Role.Trader, accountIds: [A.INCOME], allAccounts: false },
    { type: Command.DefineUser, userId: U.middle, name: 'middle', role: Role.MiddleOffice, accountIds: [], allAccounts: true },
    { type: Command.DefineUser, userId: U.compliance, name: 'compliance', role: Role.Compliance, accountIds: [], allAccounts: true },
    { type: Command.DefineUser, userId: U.back, name: 'back', role: Role.BackOffice, accountIds: [], allAccounts: true },
    { type: Command.DefineUser, userId: U.admin, name: 'admin', role: Role.Admin, accountIds: [], allAccounts: true },
    { type: Command.DefineUser, userId: U.venue, name: 'sim-venue', role: Role.Venue, accountIds: [], allAccounts: true },
    { type: Command.SetMark, instrumentId: I.AAPL, price: 19_000 },
    { type: Command.SetMark, instrumentId: I.ESZ6, price: 600_000 },
    { type: Command.SetMark, instrumentId: I.AAPL_C200, price: 550 },
    { type: Command.SetMark, instrumentId: I.EURUSD, price: 108_000 },
    { type: Command.SetMark, instrumentId: I.EURUSD_1M, price: 108_250 },
    { type: Command.SetMark, instrumentId: I.BTCUSD, price: 9_500_000 },
    { type: Command.SetMark, instrumentId: I.TOYOTA, price: 2_800 },
    // Desk-wide guard rails, in micro-units of the currency for money limits.
    { ...unsetLimits(LimitScope.Global, 0), maxOrderNotional: 50_000_000_000_000, priceCollarBps: 1_000, maxOpenOrders: 2_000_000, maxOrdersPerSecond: 2_000_000 },
    { ...unsetLimits(LimitScope.Instrument, I.AAPL), maxOrderQty: 1_000_000 },
    { type: Command.KillSwitch, scope: KillScope.Global, scopeId: 0, engaged: false, text: 'start of day' },
    { type: Command.Tick, kind: TickKind.Timer },
  ];
  return commands;
}
