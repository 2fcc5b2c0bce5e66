// Loads uWebSockets.js and proves which implementation is running.
//
// The package installed under the name "uWebSockets.js" is Truffle's build
// (@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0). Its entry, src/uws.js, requires
// binaries/uws_<platform>_<arch>_<node ABI>.node and, if that throws (missing build, wrong ABI, glibc too
// old) or if the environment sets UWS_USE_FALLBACK=1/true, it prints a warning and silently returns
// dist/index.js instead: a JavaScript re-implementation on top of the `ws` package that is far slower and
// implements only part of the API. A gateway sized for the native server must not quietly run on that.
//
// How the two are told apart (checked by forcing the fallback in a scratch copy with an unloadable binary,
// and with UWS_USE_FALLBACK=1):
// - native: `App` is a C++ function, so Function.prototype.toString gives "function () { [native code] }",
//   and the binary's absolute path is in require.cache (Node caches addons there like any module);
// - fallback: `App` is JavaScript source ("return new templated_app_1.default()"), no .node file of the
//   package is in require.cache, and native-only exports (SSLApp, getParts, LIBUS_LISTEN_EXCLUSIVE_PORT)
//   are missing.
// Both signals must agree; if they do not, the package has changed under us and we refuse to guess.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The package's own typings (docs/index.d.ts) describe the native API; they are usable as shipped. */
export type UwsModule = typeof import('uWebSockets.js');
// Note: the shipped HttpResponse type carries `[key: string]: any` (uWS lets you hang user data on a
// response). Keep per-request state in closures instead, so that a misspelt property is a type error.
export type {
  HttpRequest, HttpResponse, RecognizedString, TemplatedApp, WebSocket, WebSocketBehavior, us_listen_socket,
} from 'uWebSockets.js';

export interface UwsLoadOptions {
  /** Development only: run on the JavaScript fallback instead of refusing to start. */
  allow_fallback: boolean;
}

export interface UwsLoad {
  uws: UwsModule;
  native: boolean;
  /** One line for the start-up log: which binary, or why the fallback is running. */
  detail: string;
}

export interface UwsDetection {
  native: boolean;
  detail: string;
}

const PACKAGE_NAME = 'uWebSockets.js';
const FALLBACK_ENV = 'UWS_USE_FALLBACK';
/** The values of UWS_USE_FALLBACK that make src/uws.js skip the binary (copied from that file). */
const FALLBACK_ENV_VALUES: readonly string[] = ['true', 'True', 'TRUE', '1'];
const NATIVE_SOURCE_MARKER = '[native code]';

const require = createRequire(import.meta.url);

export function loadUws(options: UwsLoadOptions): UwsLoad {
  const entry_path = require.resolve(PACKAGE_NAME);
  // A CommonJS module: require keeps this synchronous and gives the exports object itself.
  const uws = require(PACKAGE_NAME) as UwsModule;
  const detection = detectUws(uws, entry_path, process.env);
  if (!detection.native && !options.allow_fallback) {
    throw new Error(
      `uWebSockets.js is running its slow JavaScript fallback, not the native server: ${detection.detail}. ` +
      `Remove the cause (unset ${FALLBACK_ENV}; or run npm ci on a platform the package has binaries for), or set gateway.allow_uws_fallback ` +
      '(OMS_GATEWAY_ALLOW_UWS_FALLBACK=true) to run on the fallback anyway, for development only.',
    );
  }
  return { uws, native: detection.native, detail: detection.detail };
}

/** The binary src/uws.js tries for this process: the Node ABI number is part of its name. */
export function expectedBinaryPath(entry_path: string): string {
  const name = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  return join(dirname(entry_path), '..', 'binaries', name);
}

/**
 * Classifies an already loaded module. `entry_path` is the resolved src/uws.js of the copy that was
 * loaded (tests pass a scratch copy); `env` is where UWS_USE_FALLBACK was read from.
 */
export function detectUws(uws: UwsModule, entry_path: string, env: Readonly<Record<string, string | undefined>>): UwsDetection {
  assert(typeof uws.App === 'function', `${PACKAGE_NAME} exports no App function`);
  const binary_path = expectedBinaryPath(entry_path);
  const app_is_native = Function.prototype.toString.call(uws.App).includes(NATIVE_SOURCE_MARKER);
  const binary_loaded = require.cache[binary_path] !== undefined;
  assert(app_is_native === binary_loaded,
    `${PACKAGE_NAME}: App is ${app_is_native ? '' : 'not '}native but ${binary_path} is ${binary_loaded ? '' : 'not '}loaded; ` +
    'the package no longer loads the way gateway/uws.ts expects');
  if (app_is_native) return { native: true, detail: `native binary ${binary_path}` };
  return { native: false, detail: fallbackReason(binary_path, env) };
}

function fallbackReason(binary_path: string, env: Readonly<Record<string, string | undefined>>): string {
  const flag = env[FALLBACK_ENV];
  if (flag !== undefined && FALLBACK_ENV_VALUES.includes(flag)) {
    return `the environment sets ${FALLBACK_ENV}=${flag}, which makes the package skip its binary`;
  }
  if (!existsSync(binary_path)) {
    return `the package ships no binary for this platform and Node ABI (${binary_path} does not exist)`;
  }
  return `${binary_path} exists but failed to load (the package printed the loader's error above)`;
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
