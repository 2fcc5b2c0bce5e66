// A read replica of the core on the gateway's thread. The core is deterministic, so applying the same
// journaled frames in the same order gives the same state: the gateway answers reads (blotter, positions,
// entitlements, order owners for routing) without ever asking, or stalling, the single writer.

import { Core } from '../core/core.js';
import type { CoreHost } from '../core/core-host.js';

export class Replica {
  private constructor(readonly core: Core) {
    core.out.muted = true;
  }

  /** Starts from the core's current state; call when no command is in flight (start-up). */
  static async fromHost(host: CoreHost): Promise<Replica> {
    return new Replica(Core.fromSnapshot(await host.stateBytes()));
  }

  lastSeq(): number {
    return this.core.lastSeq();
  }

  /** Applies a frame the core journaled under `seq`; results arrive in seq order, so a gap is a bug. */
  apply(seq: number, frame: Uint8Array): void {
    this.core.replay(seq, frame);
  }
}
