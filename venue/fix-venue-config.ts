// One FIX 4.4 initiator session per execution venue: where the venue listens, who we are to it, how often
// we heartbeat, how we back off when it is down, where the session's sequence numbers are
// stored, and when the session is scheduled. Checked once at start by gateway/config.ts (key
// `fix.venues`); every problem names the item and the key.

import { resolve } from 'node:path';
import { isHost } from '../gateway/host-name.js';

export interface FixVenueConfig {
  /** The core's venue id (DefineVenue); child orders naming it go to this session. */
  readonly venue_id: number;
  /** Short name: log and metric label, and the default store folder `<data.dir>/fix/<name>`. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly sender_comp_id: string;
  readonly target_comp_id: string;
  readonly heartbeat_interval_s: number;
  /** First reconnect delay after a drop or a refused connection; doubles per failure up to the max. */
  readonly reconnect_backoff_ms_min: number;
  readonly reconnect_backoff_ms_max: number;
  /** The session's sequence numbers (seqnums.json); '' = `<data.dir>/fix/<name>`. Sent messages are not kept: the journal is their record. */
  readonly store_dir: string;
  /** ResetSeqNumFlag=Y on every logon: both sides start at 1 (venues that reset daily want this). */
  readonly reset_seq_num_on_logon: boolean;
  /** Session window, UTC `HH:MM:SS`; start == end means always on. Outside it we do not connect. */
  readonly schedule_start_utc: string;
  readonly schedule_end_utc: string;
  /** A logon not answered within this is a failed attempt (the connection is dropped and retried). */
  readonly logon_timeout_ms: number;
  /** Requests sent and not yet answered that the adapter remembers (to map a reject to its order). */
  readonly in_flight_requests_max: number;
}

export const FIX_VENUE_DEFAULTS = Object.freeze({
  heartbeat_interval_s: 30,
  reconnect_backoff_ms_min: 500,
  reconnect_backoff_ms_max: 30_000,
  store_dir: '',
  reset_seq_num_on_logon: false,
  schedule_start_utc: '00:00:00',
  schedule_end_utc: '00:00:00',
  logon_timeout_ms: 10_000,
  in_flight_requests_max: 100_000,
});

export const FIX_VENUES_MAX = 64;
const NAME_PATTERN = /^[A-Za-z0-9_]{1,16}$/;
/** CompIDs travel in tags 49/56: visible ASCII, no '=' or SOH, and short enough for every engine. */
const COMP_ID_PATTERN = /^[\x21-\x3c\x3e-\x7e]{1,64}$/;
const TIME_PATTERN = /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/;
const PATH_CHARS_MAX = 4096;
const U32_MAX = 2 ** 32 - 1;

type Rule = (value: unknown) => string | null;

const int = (min: number, max: number): Rule => (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? null : `must be an integer from ${min} to ${max}`;
const bool: Rule = (v) => (typeof v === 'boolean' ? null : 'must be true or false');
const str = (allowed: string, valid: (v: string) => boolean): Rule => (v) => (typeof v === 'string' && valid(v) ? null : `must be ${allowed}`);

const RULES: { readonly [K in keyof FixVenueConfig]: Rule } = {
  venue_id: int(1, U32_MAX),
  name: str('1 to 16 of [A-Za-z0-9_]', (v) => NAME_PATTERN.test(v)),
  host: str('an IP address or a host name', isHost),
  port: int(1, 65_535),
  sender_comp_id: str('1 to 64 visible ASCII characters without "="', (v) => COMP_ID_PATTERN.test(v)),
  target_comp_id: str('1 to 64 visible ASCII characters without "="', (v) => COMP_ID_PATTERN.test(v)),
  heartbeat_interval_s: int(1, 300),
  reconnect_backoff_ms_min: int(10, 600_000),
  reconnect_backoff_ms_max: int(10, 3_600_000),
  store_dir: str(`a path of at most ${PATH_CHARS_MAX} characters ('' = <data.dir>/fix/<name>)`, (v) => v.length <= PATH_CHARS_MAX && !v.includes('\0')),
  reset_seq_num_on_logon: bool,
  schedule_start_utc: str('a UTC time HH:MM:SS', (v) => TIME_PATTERN.test(v)),
  schedule_end_utc: str('a UTC time HH:MM:SS', (v) => TIME_PATTERN.test(v)),
  logon_timeout_ms: int(100, 600_000),
  in_flight_requests_max: int(1, 10_000_000),
};

const REQUIRED: ReadonlyArray<keyof FixVenueConfig> = ['venue_id', 'name', 'host', 'port', 'sender_comp_id', 'target_comp_id'];

/** The item with defaults filled in, or the problems found (each prefixed by the key). */
export function checkFixVenue(value: unknown): { ok: true; venue: FixVenueConfig } | { ok: false; problems: string[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problems: ['must be an object'] };
  const item = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(item)) {
    if (!Object.hasOwn(RULES, key)) problems.push(`has unknown key ${JSON.stringify(key)} (allowed: ${Object.keys(RULES).join(', ')})`);
  }
  for (const key of REQUIRED) if (!Object.hasOwn(item, key)) problems.push(`.${key} is required`);
  const merged: Record<string, unknown> = { ...FIX_VENUE_DEFAULTS, ...item };
  for (const [key, rule] of Object.entries(RULES) as Array<[keyof FixVenueConfig, Rule]>) {
    if (!Object.hasOwn(merged, key)) continue;
    const why = rule(merged[key]);
    if (why !== null) problems.push(`.${key} ${why}`);
  }
  if (problems.length === 0 && (merged.reconnect_backoff_ms_min as number) > (merged.reconnect_backoff_ms_max as number)) {
    problems.push('.reconnect_backoff_ms_min must not exceed .reconnect_backoff_ms_max');
  }
  if (problems.length > 0) return { ok: false, problems };
  const venue = Object.fromEntries(Object.keys(RULES).map((key) => [key, merged[key]])) as unknown as FixVenueConfig;
  return { ok: true, venue };
}

/** Problems across items: a venue id, name or session (CompID pair) used twice. */
export function fixVenuesProblems(venues: readonly FixVenueConfig[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  venues.forEach((v, index) => {
    const keys: Array<readonly [string, string]> = [['venue_id', String(v.venue_id)], ['name', v.name], ['session', `${v.sender_comp_id}->${v.target_comp_id}@${v.host}:${v.port}`]];
    // Two sessions writing one sequence file would overwrite each other's numbers.
    if (v.store_dir !== '') keys.push(['store_dir', resolve(v.store_dir)]);
    for (const [what, key] of keys) {
      const first = seen.get(`${what}:${key}`);
      if (first !== undefined) problems.push(`item ${index}.${what} ${key} repeats item ${first}`);
      else seen.set(`${what}:${key}`, index);
    }
  });
  return problems;
}

/** Seconds since UTC midnight of `HH:MM:SS`. */
function secondsOf(time: string): number {
  const [h, m, s] = time.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

/** True when the session window (UTC, possibly across midnight) contains `nowMs`. */
export function inSchedule(venue: Pick<FixVenueConfig, 'schedule_start_utc' | 'schedule_end_utc'>, nowMs: number): boolean {
  const start = secondsOf(venue.schedule_start_utc);
  const end = secondsOf(venue.schedule_end_utc);
  if (start === end) return true;
  const now = Math.floor(nowMs / 1000) % 86_400;
  return start < end ? now >= start && now < end : now >= start || now < end;
}
