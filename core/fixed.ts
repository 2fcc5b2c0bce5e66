// Exact money. One representation everywhere (README "Exact money"):
// - a quantity is an integer count of 10^-qty_precision of the instrument's unit, a price an integer count
//   of 10^-price_precision of its currency; both are JS numbers that must be safe integers;
// - a product qty x price x multiplier ("instrument money") and every sum of them is a bigint, because
//   products overflow 2^53 long before a desk's notionals do;
// - amounts compared across instruments (exposure, limits) are bigints at one internal scale,
//   10^-MONEY_SCALE_DIGITS of the currency, so that instruments of different precisions add exactly;
// - limits are configured at 10^-LIMIT_MONEY_DIGITS of the currency (micro-units), an int64 on the wire.

import { assert } from './assert.js';

export const MONEY_SCALE_DIGITS = 18;
export const LIMIT_MONEY_DIGITS = 6;
/** AvgPx carries this many digits beyond the price precision, rounded half-up (FIX AvgPx is a float). */
export const AVG_PX_EXTRA_DIGITS = 6;
export const PRECISION_DIGITS_MAX = 12;

const POW10: bigint[] = [];
for (let i = 0; i <= 40; i++) POW10.push(10n ** BigInt(i));
/** 10^i as numbers, exact up to 10^22 (every power of ten a double holds exactly). */
export const POW10_NUMBER: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

export function pow10(digits: number): bigint {
  // Not assert(): its message would be built on every call, and money paths call this per fill.
  if (!(Number.isInteger(digits) && digits >= 0 && digits <= 40)) throw new Error(`invariant: pow10 digits out of range: ${digits}`);
  return POW10[digits];
}

/** qty x price x multiplier, exact. The number fast path is exact whenever its result is a safe integer. */
export function notional(qty: number, price: number, multiplier: number): bigint {
  const product = qty * price * multiplier;
  if (Number.isSafeInteger(product)) return BigInt(product);
  return BigInt(qty) * BigInt(price) * BigInt(multiplier);
}

/** Rescales an instrument-money amount (10^-(pp+qp)) to the internal money scale. */
export function toMoneyScale(amount: bigint, pricePrecision: number, qtyPrecision: number): bigint {
  const shift = MONEY_SCALE_DIGITS - pricePrecision - qtyPrecision;
  assert(shift >= 0, 'instrument precision exceeds the money scale');
  return amount * pow10(shift);
}

/** The last conversion: the same few limits are converted on every order, two bigints each time otherwise. */
let lastLimit = 0;
let lastLimitMoney = 0n;

export function limitToMoneyScale(limit: number): bigint {
  if (limit !== lastLimit) {
    lastLimitMoney = BigInt(limit) * pow10(MONEY_SCALE_DIGITS - LIMIT_MONEY_DIGITS);
    lastLimit = limit;
  }
  return lastLimitMoney;
}

/** Average price in price units x 10^AVG_PX_EXTRA_DIGITS, rounded half-up; 0 when nothing is filled. */
export function avgPx(cumNotional: bigint, cumQty: number): number {
  if (cumQty === 0) return 0;
  const scaled = cumNotional * POW10[AVG_PX_EXTRA_DIGITS];
  const qty = BigInt(cumQty);
  const quotient = (scaled * 2n + qty) / (qty * 2n);
  const result = Number(quotient);
  assert(Number.isSafeInteger(result), 'avgPx overflows a safe integer');
  return result;
}

/** Decimal string of a scaled integer: formatScaled(12345n, 2) === "123.45". For reports and JSON. */
export function formatScaled(value: bigint | number, digits: number): string {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  const negative = big < 0n;
  const digitsText = (negative ? -big : big).toString().padStart(digits + 1, '0');
  const whole = digitsText.slice(0, digitsText.length - digits);
  const fraction = digits > 0 ? '.' + digitsText.slice(digitsText.length - digits) : '';
  return (negative ? '-' : '') + whole + fraction;
}

/**
 * Parses a decimal string into a scaled integer, refusing anything that does not fit exactly: more
 * fraction digits than the precision allows is an error, never a rounding.
 */
export function parseScaled(text: string, digits: number): bigint {
  const match = /^(-?)(\d{1,30})(?:\.(\d{1,30}))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal number: "${text}"`);
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) throw new RangeError(`"${text}" has more than ${digits} decimal places`);
  const value = BigInt(match[2] + fraction.padEnd(digits, '0'));
  return match[1] === '-' ? -value : value;
}

export function parseScaledNumber(text: string, digits: number): number {
  const value = parseScaled(text, digits);
  const result = Number(value);
  if (!Number.isSafeInteger(result)) throw new RangeError(`"${text}" is too large`);
  return result;
}

export function absBig(value: bigint): bigint {
  return value < 0n ? -value : value;
}
