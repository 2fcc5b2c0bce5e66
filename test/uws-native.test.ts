// uWebSockets.js as the gateway will use it: the native binary loads on this machine, a real App on
// 127.0.0.1 echoes binary messages and enforces its payload and backpressure limits, and the fallback
// detection in gateway/uws.ts says "fallback" when the package really is running its JavaScript fallback —
// forced through the package's own UWS_USE_FALLBACK switch (child process) and through scratch copies of
// the package under the temp folder whose binary is missing or unloadable (the repo's copy is not touched).

import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { UwsModule, WebSocketBehavior, us_listen_socket } from '../gateway/uws.js';
import { detectUws, expectedBinaryPath, loadUws } from '../gateway/uws.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const PAYLOAD_BYTES_MAX = 4096;
const BACKPRESSURE_BYTES_MAX = 1 << 20;
const scratch_dirs: string[] = [];

afterAll(() => {
  for (const dir of scratch_dirs) rmSync(dir, { recursive: true, force: true });
});

interface Server {
  port: number;
  closes: Array<{ code: number }>;
  stop: () => void;
}

type UserData = { connection_id: number };

/** Listens on an ephemeral port of 127.0.0.1 with the gateway's limits; `message` is the test's handler. */
function startServer(uws: UwsModule, message: NonNullable<WebSocketBehavior<UserData>['message']>): Promise<Server> {
  const closes: Array<{ code: number }> = [];
  let connections = 0;
  const app = uws.App().ws<UserData>('/ws', {
    compression: uws.DISABLED,
    maxPayloadLength: PAYLOAD_BYTES_MAX,
    maxBackpressure: BACKPRESSURE_BYTES_MAX,
    closeOnBackpressureLimit: 1, // typed as a number by the package; the binary reads it as a boolean
    idleTimeout: 60,
    upgrade: (res, req, context) => {
      connections += 1;
      res.upgrade<UserData>({ connection_id: connections }, req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    message,
    close: (_ws, code) => { closes.push({ code }); },
  });
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket: us_listen_socket | false) => {
      if (socket === false) {
        reject(new Error('uWS could not listen on 127.0.0.1'));
        return;
      }
      resolve({ port: uws.us_socket_local_port(socket), closes, stop: () => uws.us_listen_socket_close(socket) });
    });
  });
}

function connect(port: number): Promise<WebSocket> {
  const client = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  client.binaryType = 'nodebuffer';
  return new Promise((resolve, reject) => {
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

function closed(client: WebSocket): Promise<number> {
  return new Promise((resolve) => client.once('close', (code: number) => resolve(code)));
}

async function until(condition: () => boolean, timeout_ms: number): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout_ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('native uWebSockets.js', () => {
  it('loads the native binary for this Node ABI, and detection says so', () => {
    const loaded = loadUws({ allow_fallback: false });
    expect(loaded.native).toBe(true);
    const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    expect(loaded.detail).toContain(binary);
    expect(detectUws(loaded.uws, require.resolve('uWebSockets.js'), {})).toEqual({ native: true, detail: loaded.detail });
    // Exports only the binary has: the fallback (dist/index.js) lacks them.
    expect(typeof loaded.uws.SSLApp).toBe('function');
    expect(typeof loaded.uws.getParts).toBe('function');
  });

  it('echoes a binary message, copying it inside the callback', async () => {
    const { uws } = loadUws({ allow_fallback: false });
    const server = await startServer(uws, (ws, message, is_binary) => {
      // The ArrayBuffer is neutered when the callback returns: copy before keeping it.
      const copy = new Uint8Array(message.slice(0));
      expect(ws.send(copy, is_binary)).toBe(1);
    });
    try {
      const client = await connect(server.port);
      const sent = Buffer.from(Array.from({ length: 96 }, (_, i) => (i * 7) & 0xff));
      const echoed = new Promise<{ data: Buffer; is_binary: boolean }>((resolve) => {
        client.once('message', (data: Buffer, is_binary: boolean) => resolve({ data, is_binary }));
      });
      client.send(sent, { binary: true });
      const reply = await echoed;
      expect(reply.is_binary).toBe(true);
      expect(reply.data.equals(sent)).toBe(true);
      const client_closed = closed(client);
      client.close(1000);
      expect(await client_closed).toBe(1000);
      await until(() => server.closes.length === 1, 2_000);
      expect(server.closes[0].code).toBe(1000);
    } finally {
      server.stop();
    }
  });

  it('closes a connection whose message exceeds maxPayloadLength, without delivering it', async () => {
    const { uws } = loadUws({ allow_fallback: false });
    let delivered = 0;
    const server = await startServer(uws, () => { delivered += 1; });
    try {
      const client = await connect(server.port);
      const client_closed = closed(client);
      client.send(new Uint8Array(PAYLOAD_BYTES_MAX + 1), { binary: true });
      const code = await client_closed;
      expect(code).not.toBe(1000);
      expect(delivered).toBe(0);
      await until(() => server.closes.length === 1, 2_000);
    } finally {
      server.stop();
    }
  });

  it('drops and closes a reader that lets backpressure pass maxBackpressure', async () => {
    const { uws } = loadUws({ allow_fallback: false });
    const chunk = new Uint8Array(64 * 1024);
    const statuses: number[] = [];
    // The kernel's socket buffers absorb a few MiB first; 2,000 chunks (128 MiB) is far beyond them.
    const server = await startServer(uws, (ws) => {
      for (let i = 0; i < 2_000; i += 1) {
        const status = ws.send(chunk, true);
        statuses.push(status);
        if (status === 2) break;
      }
    });
    try {
      const client = await connect(server.port);
      client.pause(); // stop reading: the server's sends pile up
      client.send(new Uint8Array([1]), { binary: true });
      await until(() => server.closes.length === 1, 5_000);
      expect(statuses.at(-1)).toBe(2); // 2 = dropped at the limit
      expect(statuses).toContain(0); // 0 = buffered (backpressure) before that
      client.terminate();
    } finally {
      server.stop();
    }
  });
});

describe('fallback detection', () => {
  function runLoad(allow_fallback: boolean, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    const script = `import { loadUws } from ${JSON.stringify(join(REPO, 'gateway/uws.ts'))};
      const r = loadUws({ allow_fallback: ${allow_fallback} });
      process.stdout.write(JSON.stringify({ native: r.native, detail: r.detail }));`;
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, env, timeout: 15_000 },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }));
    });
  }

  it('refuses the fallback forced by UWS_USE_FALLBACK unless allowed', async () => {
    const env = { ...process.env, UWS_USE_FALLBACK: '1' };
    const refused = await runLoad(false, env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('running its slow JavaScript fallback');
    expect(refused.stderr).toContain('UWS_USE_FALLBACK=1');
    const allowed = await runLoad(true, env);
    expect(allowed.code).toBe(0);
    const line = allowed.stdout.split('\n').filter((l) => l.startsWith('{')).at(-1) ?? '';
    expect(JSON.parse(line)).toMatchObject({ native: false });
  });

  /** A copy of the package without its 92 MB of binaries, with its own `ws` for the fallback. */
  function scratchPackage(): string {
    const dir = mkdtempSync(join(tmpdir(), 'oms-uws-'));
    scratch_dirs.push(dir);
    const source = join(REPO, 'node_modules/uWebSockets.js');
    const target = join(dir, 'node_modules/uWebSockets.js');
    cpSync(source, target, { recursive: true, filter: (path) => !path.endsWith('.node') && !path.includes('/docs') });
    return join(target, 'src/uws.js');
  }

  function loadScratch(entry_path: string): UwsModule {
    return require(entry_path) as UwsModule;
  }

  it('reports a binary that exists but does not load', () => {
    const entry_path = scratchPackage();
    writeFileSync(expectedBinaryPath(entry_path), 'not an ELF file');
    const detection = detectUws(loadScratch(entry_path), entry_path, {});
    expect(detection.native).toBe(false);
    expect(detection.detail).toContain('exists but failed to load');
  });

  it('reports a missing binary for this platform and ABI', () => {
    const entry_path = scratchPackage();
    const detection = detectUws(loadScratch(entry_path), entry_path, {});
    expect(detection.native).toBe(false);
    expect(detection.detail).toContain('ships no binary');
    expect(existsSync(expectedBinaryPath(entry_path))).toBe(false);
  });
});
