// Runs the OMS on its embedded defaults: the core worker with its LMDB journal under ./data, demo reference
// data journaled on first start, and the timer that lets time pass inside the core (GTD/DAY expiry).
// The WebSocket/HTTP gateway and the simulated venue attach here (see the gateway issue).

import * as flatbuffers from 'flatbuffers';
import { Command, TickKind } from '../schemas/generated/oms_generated.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import { CoreHost } from '../core/core-host.js';
import { demoReferenceData } from '../core/demo.js';
import { SYSTEM_USER_ID } from '../core/checks.js';

export interface ServiceOptions {
  journal_path: string;
  /** How often the gateway's clock reaches the core as a Tick command. */
  tick_interval_ms?: number;
  snapshot_every_commands?: number;
}

export const SERVICE_DEFAULTS = { tick_interval_ms: 1000, snapshot_every_commands: 250_000 } as const;

/** The gateway's clock: microseconds, never going backwards even if the wall clock does. */
export class CommandClock {
  private lastUs = 0;
  nowUs(): number {
    this.lastUs = Math.max(this.lastUs + 1, Date.now() * 1000);
    return this.lastUs;
  }
}

export async function submitSystem(host: CoreHost, clock: CommandClock, builder: flatbuffers.Builder, command: CommandBody): Promise<void> {
  const frame = encodeCommandCopy(builder, { requestId: 0, timeUs: clock.nowUs(), userId: SYSTEM_USER_ID, sessionId: 0, command });
  const result = await host.submit(frame);
  const refused = result.events.find((e) => e.kind === 'command_reject');
  if (refused !== undefined) throw new Error(`system command ${Command[command.type]} refused: ${JSON.stringify(refused)}`);
}

export async function runService(options: ServiceOptions): Promise<number> {
  const host = await CoreHost.start({
    journal_path: options.journal_path,
    snapshot_every_commands: options.snapshot_every_commands ?? SERVICE_DEFAULTS.snapshot_every_commands,
  });
  const clock = new CommandClock();
  const builder = new flatbuffers.Builder(1024);
  const r = host.recovery;
  log({ event: 'recovered', journal: options.journal_path, snapshot_seq: r.snapshot_seq, replayed: r.replayed_count, last_seq: r.last_seq, state_hash: r.state_hash, ms: Math.round(r.duration_ms) });
  if (r.last_seq === 0) {
    for (const command of demoReferenceData()) await submitSystem(host, clock, builder, command);
    log({ event: 'bootstrapped', commands: demoReferenceData().length });
  }
  const timer = setInterval(() => {
    submitSystem(host, clock, builder, { type: Command.Tick, kind: TickKind.Timer }).catch((error: unknown) => log({ event: 'tick_failed', error: String(error) }));
  }, options.tick_interval_ms ?? SERVICE_DEFAULTS.tick_interval_ms);
  return new Promise((resolve) => {
    host.onFatal = (error) => {
      clearInterval(timer);
      log({ event: 'core_failed', error: error.message });
      resolve(70);
    };
    const stop = (signal: string): void => {
      clearInterval(timer);
      log({ event: 'stopping', signal });
      host.close().then((lastSeq) => {
        log({ event: 'stopped', last_seq: lastSeq });
        resolve(0);
      }, (error: unknown) => {
        log({ event: 'stop_failed', error: String(error) });
        resolve(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    log({ event: 'running', hint: 'Ctrl-C to stop; the journal is under ' + options.journal_path });
  });
}

function log(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...fields }) + '\n');
}
