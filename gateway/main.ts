// `npm start`: the OMS on its embedded defaults (configuration: gateway/config.ts, README "Configuration").
// Prints where to connect and the demo tokens, runs until SIGINT/SIGTERM, then shuts down gracefully:
// intake stops, the core drains, the journal is flushed, sockets close; nothing acknowledged is lost.

import { ConfigError, loadConfig, usesDemoTokens } from './config.js';
import { jsonLog, startService } from './service.js';
import { isMainModule } from './program.js';

export async function runService(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config;
  try {
    config = loadConfig(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`oms: configuration refused:\n${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const service = await startService(config);
  if (usesDemoTokens(config)) {
    for (const t of config.auth.tokens) jsonLog({ event: 'demo_token', user_id: t.user_id, token: t.token });
  }
  return new Promise((resolve) => {
    let stopping = false;
    service.host.onFatal = (error) => {
      jsonLog({ event: 'core_failed', error: error.message });
      resolve(70);
    };
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      jsonLog({ event: 'stopping', signal });
      service.close().then(() => resolve(0), (error: unknown) => {
        jsonLog({ event: 'stop_failed', error: String(error) });
        resolve(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

if (isMainModule(import.meta.url)) {
  runService(process.argv.slice(2), process.env).then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`oms: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
