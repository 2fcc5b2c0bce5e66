// The HTTP JSON API for desk users and tools (work in progress: see the gateway issue).

import type { Config } from './config.js';
import type { GatewayMetrics } from './metrics.js';
import type { Replica } from './replica.js';
import type { TemplatedApp } from './uws.js';
import type { CommandResultData } from '../schemas/results.js';

export interface HttpApiDeps {
  config: Config;
  replica: Replica;
  metrics: GatewayMetrics;
  /** Token -> user id, from the configuration (the same tokens as the WebSocket API). */
  tokens: ReadonlyMap<string, number>;
  /** The service's one submit path: resolves with the durable result, already applied to the replica. */
  submit(frame: Uint8Array): Promise<CommandResultData>;
  nowUs(): number;
  /** The journal directory, for reads that scan it (order history) off the main thread. */
  journal_path: string;
}

export interface HttpApi {
  close(): Promise<void>;
}

export function mountHttpApi(_app: TemplatedApp, _deps: HttpApiDeps): HttpApi {
  return { close: async () => {} };
}
