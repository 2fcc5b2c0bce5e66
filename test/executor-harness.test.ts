// The QuickFIX executor harness itself: the binary builds (once), starts on a port of its own choosing,
// comes back on the same port after a restart, and is gone after stop().

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildExecutor, startExecutor } from './support/quickfix-executor.js';

const dir = mkdtempSync(join(tmpdir(), 'oms-executor-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

describe('QuickFIX executor harness', () => {
  it('builds once, starts, restarts on the same port and stops', async () => {
    const binary = await buildExecutor();
    expect(await buildExecutor()).toBe(binary);

    const executor = await startExecutor({ port: 0, senderCompId: 'EXEC', targetCompId: 'OMS', dataDir: dir });
    const port = executor.port;
    try {
      expect(port).toBeGreaterThan(0);
      expect(await accepts(port)).toBe(true);

      await executor.restart();
      expect(executor.port).toBe(port);
      expect(await accepts(port)).toBe(true);
      expect(executor.output().match(/Created session/g)).toHaveLength(2);
    } finally {
      await executor.stop();
    }
    expect(await accepts(port)).toBe(false);
  });
});
