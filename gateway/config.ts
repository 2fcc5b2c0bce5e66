// The service's configuration: embedded defaults, then an optional JSON file, then environment variables,
// validated once at start. A bad setting stops the start with a message naming the key, where the value came
// from, the value, and what is allowed; every problem is reported at once, so that an operator fixes a file
// in one round. Unknown keys are refused rather than ignored: a misspelt limit that silently keeps its
// default is a limit nobody set.
//
// Sources, later ones winning:
//   1. DEFAULT_CONFIG (below);
//   2. the JSON file named by `--config PATH` (or `--config=PATH`), else by env OMS_CONFIG; no file is fine;
//   3. env OMS_<SECTION>_<KEY>, e.g. OMS_GATEWAY_PORT=9001, OMS_SIM_VENUE_ENABLED=false. Integers are
//      decimal, booleans `true`/`false`. A list takes either a JSON array (the value starts with `[`) or a
//      comma-separated list (`OMS_GATEWAY_ORIGINS_ALLOWED=https://a.example,https://b.example`; empty = []);
//      for auth.tokens a comma-separated item is `USER_ID:TOKEN`. Any other OMS_* variable is refused.
//
// auth.tokens defaults to readable demo tokens for the demo users (core/demo.ts). They are public: a
// production deployment must replace them (file or OMS_AUTH_TOKENS); `usesDemoTokens` lets the service say
// so loudly. Token values are secrets and are never echoed in error messages.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { SYSTEM_USER_ID } from '../core/checks.js';
import { DEMO } from '../core/demo.js';
import { assert } from '../core/assert.js';
import { isHost } from './host-name.js';
import type { FixVenueConfig } from '../venue/fix-venue-config.js';
import { checkFixVenue, FIX_VENUES_MAX, fixVenuesProblems } from '../venue/fix-venue-config.js';

export interface AuthToken {
  readonly token: string;
  /** The user the token logs in as; never SYSTEM_USER_ID (0), which is the OMS process itself. */
  readonly user_id: number;
}

export interface Config {
  readonly data: {
    /** Root of the service's files; the journal lives in `<dir>/journal`. */
    readonly dir: string;
  };
  readonly gateway: {
    readonly host: string;
    readonly port: number;
    /** Development only: start even when uWebSockets.js runs its JavaScript fallback (gateway/uws.ts). */
    readonly allow_uws_fallback: boolean;
    /** Exact browser origins allowed to open a WebSocket; empty: no browser origin at all. */
    readonly origins_allowed: readonly string[];
    readonly max_payload_bytes: number;
    readonly max_backpressure_bytes: number;
    readonly idle_timeout_s: number;
    /** Per connection. */
    readonly messages_per_second_max: number;
    readonly heartbeat_interval_ms: number;
  };
  readonly core: {
    readonly batch_frames_max: number;
    readonly queued_frames_max: number;
    /** 0: never snapshot (recovery then replays the whole journal). */
    readonly snapshot_every_commands: number;
    /** The newest snapshots kept; older ones are deleted once a new one is durable. */
    readonly snapshots_kept: number;
    readonly tick_interval_ms: number;
  };
  readonly sim_venue: {
    readonly enabled: boolean;
    readonly seed: number;
  };
  readonly fix: {
    /** FIX 4.4 initiator sessions to execution venues (venue/fix-venue-config.ts); empty: none. */
    readonly venues: readonly FixVenueConfig[];
  };
  readonly auth: {
    readonly tokens: readonly AuthToken[];
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

// Limits of the configuration itself.
const CONFIG_FILE_BYTES_MAX = 1024 * 1024;
const PATH_CHARS_MAX = 4096;
const ORIGINS_MAX = 64;
const TOKENS_MAX = 10_000;
const TOKEN_CHARS_MIN = 8;
const TOKEN_CHARS_MAX = 256;
const VALUE_ECHO_CHARS_MAX = 80;
const U32_MAX = 2 ** 32 - 1;
/** persistence/journal.ts APPEND_ENTRIES_MAX: one batch is one journal append. */
export const BATCH_FRAMES_LIMIT = 65_536;
/** persistence/journal.ts UNFLUSHED_ENTRIES_MAX: frames in flight include the unflushed journal tail. */
export const QUEUED_FRAMES_LIMIT = 1_048_576;
/** uWebSockets.js aborts the process for an idleTimeout outside 8..960 s (0 would disable it: refused). */
const IDLE_TIMEOUT_S_MIN = 8;
const IDLE_TIMEOUT_S_MAX = 960;

const ENV_PREFIX = 'OMS_';
const ENV_CONFIG_PATH = 'OMS_CONFIG';
const ARG_CONFIG = '--config';

/** Demo tokens are readable on purpose ("demo-trader-token"): they are for the demo, never for production. */
function demoTokens(): AuthToken[] {
  return Object.entries(DEMO.users).map(([name, user_id]) => ({ token: `demo-${name.replaceAll('_', '-')}-token`, user_id }));
}

export const DEFAULT_CONFIG: Config = deepFreeze({
  data: { dir: 'data' },
  gateway: {
    host: '127.0.0.1',
    port: 8080,
    allow_uws_fallback: false,
    origins_allowed: [],
    max_payload_bytes: 4096,
    max_backpressure_bytes: 1024 * 1024,
    idle_timeout_s: 60,
    messages_per_second_max: 10_000,
    heartbeat_interval_ms: 5000,
  },
  core: { batch_frames_max: 4096, queued_frames_max: 65_536, snapshot_every_commands: 250_000, snapshots_kept: 3, tick_interval_ms: 1000 },
  sim_venue: { enabled: true, seed: 1 },
  fix: { venues: [] },
  auth: { tokens: demoTokens() },
});

/** True when any default demo token is still accepted: the service should warn that it is not production-safe. */
export function usesDemoTokens(config: Config): boolean {
  const demo = new Set(demoTokens().map((t) => t.token));
  return config.auth.tokens.some((t) => demo.has(t.token));
}

// ---- the schema: one spec per key; the mapped type makes a key without a spec a compile error ----------

type Check<T> = { ok: true; value: T } | { ok: false; why: string };

interface Spec<T> {
  /** What is allowed, for messages and the README. */
  allowed: string;
  /** Turns an environment string into the value the JSON file would hold. */
  fromEnv: (text: string) => unknown;
  check: (value: unknown) => Check<T>;
  /** Secrets are never echoed. */
  secret?: boolean;
}

type Schema = { readonly [S in keyof Config]: { readonly [K in keyof Config[S]]: Spec<Config[S][K]> } };

const ok = <T>(value: T): Check<T> => ({ ok: true, value });
const fail = <T>(why: string): Check<T> => ({ ok: false, why });

function integer(min: number, max: number): Spec<number> {
  const allowed = `an integer from ${min} to ${max}`;
  return {
    allowed,
    fromEnv: (text) => (/^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text),
    check: (value) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max ? ok(value) : fail(`must be ${allowed}`)),
  };
}

const boolean: Spec<boolean> = {
  allowed: 'true or false',
  fromEnv: (text) => (text.trim() === 'true' ? true : text.trim() === 'false' ? false : text),
  check: (value) => (typeof value === 'boolean' ? ok(value) : fail('must be true or false')),
};

function text(allowed: string, valid: (value: string) => boolean): Spec<string> {
  return {
    allowed,
    fromEnv: (value) => value,
    check: (value) => (typeof value === 'string' && valid(value) ? ok(value) : fail(`must be ${allowed}`)),
  };
}

/** JSON when it looks like JSON, else comma-separated; a JSON error is reported as the value's problem. */
function listFromEnv(text: string, item: (part: string) => unknown): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch (error) {
      return new EnvJsonError(error instanceof Error ? error.message : String(error));
    }
  }
  return trimmed === '' ? [] : trimmed.split(',').map((part) => item(part.trim()));
}

class EnvJsonError {
  constructor(readonly message: string) {}
}

/** An origin exactly as a browser sends it: scheme://host[:port], no path, no trailing slash, no default port. */
function originProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'is not a string';
  if (value === '*' || value === 'null') return `${JSON.stringify(value)} is not an origin (list exact origins)`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${JSON.stringify(value)} is not http or https`;
  if (url.origin !== value) return `${JSON.stringify(value)} is not written as the browser sends it (${JSON.stringify(url.origin)})`;
  return null;
}

const origins: Spec<readonly string[]> = {
  allowed: `a list of at most ${ORIGINS_MAX} distinct exact origins such as "https://desk.example.com" (empty: no browser origin)`,
  fromEnv: (value) => listFromEnv(value, (part) => part),
  check: (value) => {
    if (value instanceof EnvJsonError) return fail(`is not valid JSON (${value.message})`);
    if (!Array.isArray(value)) return fail(`must be ${origins.allowed}`);
    if (value.length > ORIGINS_MAX) return fail(`has ${value.length} origins, at most ${ORIGINS_MAX} allowed`);
    const seen = new Set<string>();
    for (const [index, origin] of value.entries()) {
      const problem = originProblem(origin);
      if (problem !== null) return fail(`item ${index} ${problem}`);
      if (seen.has(origin as string)) return fail(`item ${index} repeats ${JSON.stringify(origin)}`);
      seen.add(origin as string);
    }
    return ok(value as string[]);
  },
};

function tokenFromEnv(part: string): unknown {
  const colon = part.indexOf(':');
  if (colon < 0) return part; // reported as "not an object" by check
  const id = part.slice(0, colon).trim();
  return { user_id: /^-?\d+$/.test(id) ? Number(id) : id, token: part.slice(colon + 1).trim() };
}

function tokenProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object {"token": ..., "user_id": ...} (in the environment: USER_ID:TOKEN)';
  const keys = Object.keys(value);
  const unknown = keys.filter((key) => key !== 'token' && key !== 'user_id');
  if (unknown.length > 0) return `has unknown key ${JSON.stringify(unknown[0])} (allowed: token, user_id)`;
  const { token, user_id } = value as { token?: unknown; user_id?: unknown };
  if (typeof user_id !== 'number' || !Number.isSafeInteger(user_id) || user_id < 0 || user_id > U32_MAX) {
    return `.user_id must be an integer from 1 to ${U32_MAX}, got ${echo(user_id)}`;
  }
  if (user_id === SYSTEM_USER_ID) return `.user_id ${SYSTEM_USER_ID} is reserved for the system (the OMS process itself) and is never given to a session`;
  if (typeof token !== 'string') return '.token must be a string';
  if (token.length < TOKEN_CHARS_MIN || token.length > TOKEN_CHARS_MAX || !/^[\x21-\x7e]+$/.test(token)) {
    return `.token must be ${TOKEN_CHARS_MIN} to ${TOKEN_CHARS_MAX} visible ASCII characters without spaces (value not shown: it is a secret; it has ${token.length} characters)`;
  }
  return null;
}

const tokens: Spec<readonly AuthToken[]> = {
  allowed: `a list of at most ${TOKENS_MAX} {"token", "user_id"} with distinct tokens and user ids from 1`,
  secret: true,
  fromEnv: (value) => listFromEnv(value, tokenFromEnv),
  check: (value) => {
    if (value instanceof EnvJsonError) return fail(`is not valid JSON (${value.message})`);
    if (!Array.isArray(value)) return fail(`must be ${tokens.allowed}`);
    if (value.length > TOKENS_MAX) return fail(`has ${value.length} tokens, at most ${TOKENS_MAX} allowed`);
    const seen = new Map<string, number>();
    for (const [index, entry] of value.entries()) {
      const problem = tokenProblem(entry);
      if (problem !== null) return fail(`item ${index}${problem.startsWith('.') ? '' : ' '}${problem}`);
      const token = (entry as AuthToken).token;
      const first = seen.get(token);
      if (first !== undefined) return fail(`item ${index}.token duplicates item ${first}.token (a token must name one user)`);
      seen.set(token, index);
    }
    return ok((value as AuthToken[]).map((t) => ({ token: t.token, user_id: t.user_id })));
  },
};

const fixVenues: Spec<readonly FixVenueConfig[]> = {
  allowed: `a list of at most ${FIX_VENUES_MAX} FIX venue sessions (README "FIX venues")`,
  fromEnv: (value) => listFromEnv(value, (part) => part),
  check: (value) => {
    if (value instanceof EnvJsonError) return fail(`is not valid JSON (${value.message})`);
    if (!Array.isArray(value)) return fail(`must be ${fixVenues.allowed}`);
    if (value.length > FIX_VENUES_MAX) return fail(`has ${value.length} venues, at most ${FIX_VENUES_MAX} allowed`);
    const venues: FixVenueConfig[] = [];
    const problems: string[] = [];
    for (const [index, item] of value.entries()) {
      const checked = checkFixVenue(item);
      if (checked.ok) venues.push(checked.venue);
      else problems.push(...checked.problems.map((p) => `item ${index}${p.startsWith('.') ? '' : ' '}${p}`));
    }
    if (problems.length === 0) problems.push(...fixVenuesProblems(venues));
    return problems.length === 0 ? ok(venues) : fail(problems.join('; '));
  },
};

const SCHEMA: Schema = {
  data: {
    dir: text(`a non-empty path of at most ${PATH_CHARS_MAX} characters`, (v) => v.length > 0 && v.length <= PATH_CHARS_MAX && !v.includes('\0')),
  },
  gateway: {
    host: text('an IP address or a host name', isHost),
    port: integer(0, 65_535),
    allow_uws_fallback: boolean,
    origins_allowed: origins,
    max_payload_bytes: integer(64, 1024 * 1024),
    max_backpressure_bytes: integer(4096, 256 * 1024 * 1024),
    idle_timeout_s: integer(IDLE_TIMEOUT_S_MIN, IDLE_TIMEOUT_S_MAX),
    messages_per_second_max: integer(1, 1_000_000),
    heartbeat_interval_ms: integer(100, 60_000),
  },
  core: {
    batch_frames_max: integer(1, BATCH_FRAMES_LIMIT),
    queued_frames_max: integer(1, QUEUED_FRAMES_LIMIT),
    snapshot_every_commands: integer(0, 1_000_000_000),
    snapshots_kept: integer(1, 1000),
    tick_interval_ms: integer(10, 60_000),
  },
  sim_venue: {
    enabled: boolean,
    seed: integer(0, U32_MAX),
  },
  fix: {
    venues: fixVenues,
  },
  auth: {
    tokens,
  },
};

/** Relations between keys, checked once every key is valid on its own. */
function crossProblems(config: Config): string[] {
  const problems: string[] = [];
  const { gateway, core } = config;
  if (core.queued_frames_max < core.batch_frames_max) {
    problems.push(`core.queued_frames_max (${core.queued_frames_max}) must be at least core.batch_frames_max (${core.batch_frames_max})`);
  }
  if (gateway.heartbeat_interval_ms >= gateway.idle_timeout_s * 1000) {
    problems.push(`gateway.heartbeat_interval_ms (${gateway.heartbeat_interval_ms}) must be less than gateway.idle_timeout_s (${gateway.idle_timeout_s}) × 1000, or quiet healthy sessions are closed as idle`);
  }
  if (config.sim_venue.enabled) {
    for (const venue of config.fix.venues) {
      if (venue.venue_id === DEMO.venues.SIM) problems.push(`fix.venues: venue_id ${venue.venue_id} (${venue.name}) is the simulated venue's; disable sim_venue or pick another id`);
    }
  }
  return problems;
}

// ---- loading --------------------------------------------------------------------------------------------

interface Located {
  value: unknown;
  /** "default", "file PATH" or "env NAME". */
  source: string;
}

type Env = Readonly<Record<string, string | undefined>>;
type Layer = Map<string, Located>;

const SECTIONS = Object.keys(SCHEMA) as Array<keyof Config>;

function specOf(section: string, key: string): Spec<unknown> | undefined {
  if (!Object.hasOwn(SCHEMA, section)) return undefined;
  const keys = SCHEMA[section as keyof Config] as Readonly<Record<string, Spec<unknown>>>;
  return Object.hasOwn(keys, key) ? keys[key] : undefined;
}

function envName(section: string, key: string): string {
  return `${ENV_PREFIX}${section.toUpperCase()}_${key.toUpperCase()}`;
}

/** Every OMS_<SECTION>_<KEY> name, to "section.key". */
const ENV_KEYS: ReadonlyMap<string, string> = new Map(
  SECTIONS.flatMap((section) => Object.keys(SCHEMA[section]).map((key) => [envName(section, key), `${section}.${key}`] as const)),
);

/**
 * The configuration from the command line arguments (only `--config` is read; others are left to the
 * caller) and environment. Reads the config file if one is named; touches no other process state.
 * Throws ConfigError listing every problem.
 */
export function loadConfig(argv: readonly string[], env: Env): Config {
  const problems: string[] = [];
  const layers: Layer[] = [];
  const path = configPath(argv, env, problems);
  if (path !== null) layers.push(fileLayer(path.value, path.source, problems));
  layers.push(envLayer(env, problems));
  // Keys are checked even after a bad file or variable, so that one run lists every problem.
  const config = resolve(layers, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  problems.push(...crossProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function configPath(argv: readonly string[], env: Env, problems: string[]): { value: string; source: string } | null {
  const found: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === ARG_CONFIG) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) problems.push(`${ARG_CONFIG} needs a file path`);
      else found.push(next);
      i += 1;
    } else if (argv[i].startsWith(`${ARG_CONFIG}=`)) {
      found.push(argv[i].slice(ARG_CONFIG.length + 1));
    }
  }
  if (found.length > 1) {
    problems.push(`${ARG_CONFIG} is given ${found.length} times; give one file`);
    return null;
  }
  if (found.length > 0) {
    if (found[0] !== '') return { value: found[0], source: ARG_CONFIG };
    problems.push(`${ARG_CONFIG} needs a file path`);
    return null;
  }
  const fromEnv = env[ENV_CONFIG_PATH];
  if (fromEnv === undefined) return null;
  if (fromEnv === '') {
    problems.push(`env ${ENV_CONFIG_PATH} is empty; unset it or name a file`);
    return null;
  }
  return { value: fromEnv, source: `env ${ENV_CONFIG_PATH}` };
}

function fileLayer(path: string, named_by: string, problems: string[]): Layer {
  const layer: Layer = new Map();
  const parsed = readJson(path, named_by, problems);
  if (parsed === undefined) return layer;
  const where = `config file ${path}`;
  if (!isPlainObject(parsed)) {
    problems.push(`${where} must hold a JSON object of sections (${SECTIONS.join(', ')})`);
    return layer;
  }
  for (const [section, keys] of Object.entries(parsed)) {
    if (!Object.hasOwn(SCHEMA, section)) {
      problems.push(`${where}: unknown section ${JSON.stringify(section)} (allowed: ${SECTIONS.join(', ')})`);
      continue;
    }
    if (!isPlainObject(keys)) {
      problems.push(`${where}: section ${section} must be an object`);
      continue;
    }
    for (const [key, value] of Object.entries(keys)) {
      if (specOf(section, key) === undefined) {
        problems.push(`${where}: unknown key ${section}.${key} (allowed in ${section}: ${Object.keys(SCHEMA[section as keyof Config]).join(', ')})`);
        continue;
      }
      layer.set(`${section}.${key}`, { value, source: where });
    }
  }
  return layer;
}

function readJson(path: string, named_by: string, problems: string[]): unknown {
  const where = `config file ${path} (from ${named_by})`;
  if (!existsSync(path)) {
    problems.push(`${where} does not exist`);
    return undefined;
  }
  let text: string;
  try {
    const bytes = statSync(path).size;
    if (bytes > CONFIG_FILE_BYTES_MAX) {
      problems.push(`${where} has ${bytes} bytes, at most ${CONFIG_FILE_BYTES_MAX} allowed`);
      return undefined;
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${where} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.push(`${where} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

function envLayer(env: Env, problems: string[]): Layer {
  const layer: Layer = new Map();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === ENV_CONFIG_PATH || raw === undefined) continue;
    const dotted = ENV_KEYS.get(name);
    if (dotted === undefined) {
      problems.push(`unknown environment variable ${name} (allowed: ${ENV_CONFIG_PATH}, ${[...ENV_KEYS.keys()].join(', ')})`);
      continue;
    }
    const [section, key] = splitDotted(dotted);
    const spec = specOf(section, key);
    assert(spec !== undefined, `ENV_KEYS names ${dotted}, which has no spec`);
    layer.set(dotted, { value: spec.fromEnv(raw), source: `env ${name}` });
  }
  return layer;
}

function resolve(layers: readonly Layer[], problems: string[]): Config {
  const config: Record<string, Record<string, unknown>> = {};
  for (const section of SECTIONS) {
    const values: Record<string, unknown> = {};
    const defaults = DEFAULT_CONFIG[section] as Readonly<Record<string, unknown>>;
    for (const key of Object.keys(SCHEMA[section])) {
      const dotted = `${section}.${key}`;
      const spec = specOf(section, key);
      assert(spec !== undefined, `no spec for ${dotted}`);
      let located: Located = { value: defaults[key], source: 'default' };
      for (const layer of layers) located = layer.get(dotted) ?? located;
      const checked = spec.check(located.value);
      if (checked.ok) values[key] = checked.value;
      else problems.push(`${dotted}${spec.secret === true ? '' : ` = ${echo(located.value)}`} (from ${located.source}): ${checked.why}`);
    }
    config[section] = values;
  }
  // Every key of every section was checked against its Spec<Config[S][K]> above.
  return config as unknown as Config;
}

function splitDotted(dotted: string): [string, string] {
  const dot = dotted.indexOf('.');
  return [dotted.slice(0, dot), dotted.slice(dot + 1)];
}

function echo(value: unknown): string {
  if (value instanceof EnvJsonError) return '(malformed JSON)';
  const json = value === undefined ? 'undefined' : JSON.stringify(value);
  return json.length > VALUE_ECHO_CHARS_MAX ? `${json.slice(0, VALUE_ECHO_CHARS_MAX)}…` : json;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

