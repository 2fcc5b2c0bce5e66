// gateway/config.ts: defaults, a JSON file over them, environment variables over both, and every refusal
// naming the key, the source, the bad value and what is allowed. loadConfig takes argv and env as values,
// so no test touches process.argv or process.env.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO } from '../core/demo.js';
import { APPEND_ENTRIES_MAX, UNFLUSHED_ENTRIES_MAX } from '../persistence/journal.js';
import type { Config } from '../gateway/config.js';
import { BATCH_FRAMES_LIMIT, DEFAULT_CONFIG, QUEUED_FRAMES_LIMIT, loadConfig, usesDemoTokens } from '../gateway/config.js';
import { configProblems } from './support/config-problems.js';

const EXAMPLE = fileURLToPath(new URL('../config/oms.example.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'oms-config-'));
let files = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(contents: unknown): string {
  files += 1;
  const path = join(dir, `config-${files}.json`);
  writeFileSync(path, typeof contents === 'string' ? contents : JSON.stringify(contents));
  return path;
}

const problems = configProblems;

function refusedWith(argv: string[], env: Record<string, string>, ...fragments: string[]): void {
  const found = problems(argv, env);
  expect(found).toHaveLength(1);
  for (const fragment of fragments) expect(found[0]).toContain(fragment);
}

const SECRET = 'do-not-print-this-secret';

describe('defaults', () => {
  it('are the documented values when there is no file and no variable', () => {
    const config = loadConfig([], { PATH: '/usr/bin', HOME: '/root' }); // non-OMS variables are not ours
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config.data.dir).toBe('data');
    expect(config.gateway).toMatchObject({
      host: '127.0.0.1', port: 8080, allow_uws_fallback: false, origins_allowed: [], max_payload_bytes: 4096,
      max_backpressure_bytes: 1024 * 1024, idle_timeout_s: 60, messages_per_second_max: 10_000, heartbeat_interval_ms: 5000,
    });
    expect(config.core).toEqual({ batch_frames_max: 4096, queued_frames_max: 65_536, snapshot_every_commands: 250_000, snapshots_kept: 3, tick_interval_ms: 1000 });
    expect(config.sim_venue).toEqual({ enabled: true, seed: 1 });
    expect(Object.isFrozen(config.gateway)).toBe(true);
    expect(Object.isFrozen(config.auth.tokens[0])).toBe(true);
  });

  it('give every demo user a readable demo token, and are flagged as demo tokens', () => {
    const tokens = DEFAULT_CONFIG.auth.tokens;
    expect(tokens.map((t) => t.user_id).sort()).toEqual(Object.values(DEMO.users).sort());
    expect(tokens).toContainEqual({ token: 'demo-trader-token', user_id: DEMO.users.trader });
    expect(tokens).toContainEqual({ token: 'demo-trader-income-token', user_id: DEMO.users.trader_income });
    expect(usesDemoTokens(DEFAULT_CONFIG)).toBe(true);
  });

  it('keep batch and queue limits within what the journal accepts', () => {
    expect(BATCH_FRAMES_LIMIT).toBe(APPEND_ENTRIES_MAX);
    expect(QUEUED_FRAMES_LIMIT).toBe(UNFLUSHED_ENTRIES_MAX);
  });
});

describe('config file', () => {
  it('config/oms.example.json names every key and loads', () => {
    const config = loadConfig(['--config', EXAMPLE], {});
    const keysOf = (c: Config): string[] => Object.entries(c).flatMap(([s, keys]) => Object.keys(keys as object).map((k) => `${s}.${k}`)).sort();
    expect(keysOf(config)).toEqual(keysOf(DEFAULT_CONFIG));
    expect(config.gateway.origins_allowed).toEqual(['https://desk.example.com']);
    expect(usesDemoTokens(config)).toBe(false);
  });

  it('overrides only the keys it names; --config=PATH and OMS_CONFIG work; --config wins', () => {
    const path = file({ gateway: { port: 9001, allow_uws_fallback: true }, core: { tick_interval_ms: 250 }, data: { dir: '/var/lib/oms' } });
    const config = loadConfig(['start', '--config', path, '--data', 'x'], {});
    expect(config.gateway.port).toBe(9001);
    expect(config.gateway.allow_uws_fallback).toBe(true);
    expect(config.core.tick_interval_ms).toBe(250);
    expect(config.data.dir).toBe('/var/lib/oms');
    expect(config.gateway.host).toBe(DEFAULT_CONFIG.gateway.host);
    expect(config.core.batch_frames_max).toBe(DEFAULT_CONFIG.core.batch_frames_max);
    expect(loadConfig([`--config=${path}`], {}).gateway.port).toBe(9001);
    expect(loadConfig([], { OMS_CONFIG: path }).gateway.port).toBe(9001);
    const other = file({ gateway: { port: 9002 } });
    expect(loadConfig(['--config', other], { OMS_CONFIG: path }).gateway.port).toBe(9002);
  });

  it('replaces the token list as a whole', () => {
    const path = file({ auth: { tokens: [{ token: 'prod-token-0123456789', user_id: 12 }] } });
    const config = loadConfig(['--config', path], {});
    expect(config.auth.tokens).toEqual([{ token: 'prod-token-0123456789', user_id: 12 }]);
    expect(usesDemoTokens(config)).toBe(false);
  });
});

describe('environment', () => {
  it('overrides the file: numbers, booleans, strings', () => {
    const path = file({ gateway: { port: 9001, host: 'localhost' }, sim_venue: { enabled: true } });
    const config = loadConfig(['--config', path], {
      OMS_GATEWAY_PORT: '9100', OMS_SIM_VENUE_ENABLED: 'false', OMS_GATEWAY_HOST: '0.0.0.0', OMS_DATA_DIR: '/srv/oms',
      OMS_SIM_VENUE_SEED: '4294967295', OMS_CORE_SNAPSHOT_EVERY_COMMANDS: '0',
    });
    expect(config.gateway.port).toBe(9100);
    expect(config.sim_venue.enabled).toBe(false);
    expect(config.gateway.host).toBe('0.0.0.0');
    expect(config.data.dir).toBe('/srv/oms');
    expect(config.sim_venue.seed).toBe(2 ** 32 - 1);
    expect(config.core.snapshot_every_commands).toBe(0);
  });

  it('takes lists as comma-separated values or as JSON arrays; empty is the empty list', () => {
    const comma = loadConfig([], { OMS_GATEWAY_ORIGINS_ALLOWED: 'https://a.example, http://localhost:5173' });
    expect(comma.gateway.origins_allowed).toEqual(['https://a.example', 'http://localhost:5173']);
    const json = loadConfig([], { OMS_GATEWAY_ORIGINS_ALLOWED: '["https://a.example"]' });
    expect(json.gateway.origins_allowed).toEqual(['https://a.example']);
    const path = file({ gateway: { origins_allowed: ['https://a.example'] } });
    expect(loadConfig(['--config', path], { OMS_GATEWAY_ORIGINS_ALLOWED: '' }).gateway.origins_allowed).toEqual([]);
  });

  it('takes tokens as USER_ID:TOKEN items or as a JSON array', () => {
    const comma = loadConfig([], { OMS_AUTH_TOKENS: '12:trader-secret-1,16:admin:secret:2' });
    expect(comma.auth.tokens).toEqual([{ user_id: 12, token: 'trader-secret-1' }, { user_id: 16, token: 'admin:secret:2' }]);
    const json = loadConfig([], { OMS_AUTH_TOKENS: JSON.stringify([{ token: 'trader-secret-1', user_id: 12 }]) });
    expect(json.auth.tokens).toEqual([{ token: 'trader-secret-1', user_id: 12 }]);
  });
});

describe('refusals', () => {
  it('unknown sections and keys in the file, including prototype names', () => {
    refusedWith(['--config', file({ gateway: { prot: 9001 } })], {}, 'unknown key gateway.prot', 'allowed in gateway: host, port');
    refusedWith(['--config', file({ gatway: { port: 9001 } })], {}, 'unknown section "gatway"', 'allowed: data, gateway, core, sim_venue, fix, auth');
    refusedWith(['--config', file('{"gateway": {"__proto__": {"port": 1}}}')], {}, 'unknown key gateway.__proto__');
    refusedWith(['--config', file({ constructor: {} })], {}, 'unknown section "constructor"');
    refusedWith(['--config', file({ auth: { tokens: [{ token: 'trader-secret-1', user_id: 12, role: 'admin' }] } })], {}, 'auth.tokens', 'unknown key "role"');
  });

  it('unknown OMS_ environment variables', () => {
    refusedWith([], { OMS_GATEWAY_PROT: '9001' }, 'unknown environment variable OMS_GATEWAY_PROT', 'OMS_GATEWAY_PORT');
  });

  it('wrong types, naming key, source, value and what is allowed', () => {
    const path = file({ gateway: { port: '8080', allow_uws_fallback: 'yes', origins_allowed: 'https://a.example' }, data: { dir: 7 } });
    const found = problems(['--config', path], {});
    expect(found).toEqual([
      `data.dir = 7 (from config file ${path}): must be a non-empty path of at most 4096 characters`,
      `gateway.port = "8080" (from config file ${path}): must be an integer from 0 to 65535`,
      `gateway.allow_uws_fallback = "yes" (from config file ${path}): must be true or false`,
      expect.stringContaining(`gateway.origins_allowed = "https://a.example" (from config file ${path}): must be a list of at most 64 distinct exact origins`),
    ]);
    refusedWith([], { OMS_GATEWAY_ALLOW_UWS_FALLBACK: 'yes' }, 'gateway.allow_uws_fallback = "yes" (from env OMS_GATEWAY_ALLOW_UWS_FALLBACK): must be true or false');
    refusedWith([], { OMS_GATEWAY_PORT: '80.5' }, 'gateway.port = "80.5"', 'an integer');
    refusedWith(['--config', file({ core: { tick_interval_ms: 2.5 } })], {}, 'core.tick_interval_ms = 2.5', 'an integer from 10 to 60000');
  });

  it('out-of-range ports', () => {
    refusedWith([], { OMS_GATEWAY_PORT: '65536' }, 'gateway.port = 65536 (from env OMS_GATEWAY_PORT): must be an integer from 0 to 65535');
    refusedWith(['--config', file({ gateway: { port: -1 } })], {}, 'gateway.port = -1', 'from 0 to 65535');
  });

  it('negative and out-of-range sizes and times', () => {
    refusedWith([], { OMS_GATEWAY_MAX_PAYLOAD_BYTES: '-1' }, 'gateway.max_payload_bytes = -1', 'from 64 to 1048576');
    refusedWith(['--config', file({ gateway: { max_backpressure_bytes: -4096 } })], {}, 'gateway.max_backpressure_bytes = -4096', 'from 4096 to 268435456');
    refusedWith([], { OMS_CORE_QUEUED_FRAMES_MAX: '-65536' }, 'core.queued_frames_max = -65536');
    refusedWith([], { OMS_CORE_SNAPSHOTS_KEPT: '0' }, 'core.snapshots_kept = 0');
    refusedWith([], { OMS_CORE_BATCH_FRAMES_MAX: String(APPEND_ENTRIES_MAX + 1) }, 'core.batch_frames_max', `from 1 to ${APPEND_ENTRIES_MAX}`);
    // uWebSockets.js aborts the process on idleTimeout 1..7 or above 960: refused here instead.
    refusedWith([], { OMS_GATEWAY_IDLE_TIMEOUT_S: '7' }, 'gateway.idle_timeout_s = 7', 'from 8 to 960');
    refusedWith([], { OMS_GATEWAY_IDLE_TIMEOUT_S: '961' }, 'gateway.idle_timeout_s = 961');
    refusedWith([], { OMS_SIM_VENUE_SEED: String(2 ** 32) }, 'sim_venue.seed = 4294967296');
  });

  it('keys that are fine alone but not together', () => {
    refusedWith([], { OMS_CORE_BATCH_FRAMES_MAX: '1000', OMS_CORE_QUEUED_FRAMES_MAX: '999' }, 'core.queued_frames_max (999) must be at least core.batch_frames_max (1000)');
    refusedWith([], { OMS_GATEWAY_IDLE_TIMEOUT_S: '10', OMS_GATEWAY_HEARTBEAT_INTERVAL_MS: '10000' }, 'gateway.heartbeat_interval_ms (10000) must be less than gateway.idle_timeout_s (10)');
  });

  it('origins that a browser would never send', () => {
    refusedWith([], { OMS_GATEWAY_ORIGINS_ALLOWED: '*' }, 'item 0 "*" is not an origin');
    refusedWith([], { OMS_GATEWAY_ORIGINS_ALLOWED: 'https://a.example/' }, 'item 0 "https://a.example/" is not written as the browser sends it ("https://a.example")');
    refusedWith([], { OMS_GATEWAY_ORIGINS_ALLOWED: 'https://a.example,https://a.example' }, 'item 1 repeats "https://a.example"');
    refusedWith([], { OMS_GATEWAY_ORIGINS_ALLOWED: 'ftp://a.example' }, 'is not http or https');
    refusedWith([], { OMS_GATEWAY_ORIGINS_ALLOWED: '["https://a.example"' }, 'gateway.origins_allowed', 'is not valid JSON');
  });

  it('a malformed JSON file, a file that is not an object, a missing file, a --config without a path', () => {
    const bad = file('{"gateway": {"port": 9001,}}');
    refusedWith(['--config', bad], {}, `config file ${bad} (from --config) is not valid JSON`);
    const list = file([1, 2]);
    refusedWith(['--config', list], {}, `config file ${list} must hold a JSON object of sections`);
    const missing = join(dir, 'missing.json');
    refusedWith([], { OMS_CONFIG: missing }, `config file ${missing} (from env OMS_CONFIG) does not exist`);
    refusedWith(['--config'], {}, '--config needs a file path');
    refusedWith(['--config', bad, '--config', list], {}, '--config is given 2 times');
  });

  it('duplicate tokens, without printing the token', () => {
    const path = file({ auth: { tokens: [{ token: SECRET, user_id: 12 }, { token: 'another-token', user_id: 13 }, { token: SECRET, user_id: 16 }] } });
    const found = problems(['--config', path], {});
    expect(found).toEqual([`auth.tokens (from config file ${path}): item 2.token duplicates item 0.token (a token must name one user)`]);
    expect(found.join('\n')).not.toContain(SECRET);
  });

  it('a token for user id 0, which is the system itself', () => {
    refusedWith([], { OMS_AUTH_TOKENS: `0:${SECRET}` }, 'auth.tokens (from env OMS_AUTH_TOKENS): item 0.user_id 0 is reserved for the system');
    const found = problems(['--config', file({ auth: { tokens: [{ token: SECRET, user_id: 0 }] } })], {});
    expect(found.join('\n')).toContain('reserved for the system');
    expect(found.join('\n')).not.toContain(SECRET);
  });

  it('malformed tokens: too short, missing user id, not an object', () => {
    refusedWith([], { OMS_AUTH_TOKENS: '12:short' }, 'item 0.token must be 8 to 256 visible ASCII characters', 'it has 5 characters');
    refusedWith([], { OMS_AUTH_TOKENS: `x:${SECRET}` }, 'item 0.user_id must be an integer from 1 to 4294967295, got "x"');
    refusedWith([], { OMS_AUTH_TOKENS: SECRET }, 'item 0 must be an object');
    expect(problems([], { OMS_AUTH_TOKENS: `abc:${SECRET}` }).join('\n')).not.toContain(SECRET);
  });

  it('every problem at once, so that one run shows everything to fix', () => {
    const path = file({ gateway: { port: 70_000, bogus: 1 } });
    const found = problems(['--config', path], { OMS_CORE_TICK_INTERVAL_MS: '0', OMS_NOPE: '1' });
    expect(found).toHaveLength(4);
    expect(found.join('\n')).toMatch(/unknown key gateway\.bogus[\s\S]*unknown environment variable OMS_NOPE[\s\S]*gateway\.port = 70000[\s\S]*core\.tick_interval_ms = 0/);
  });
});
