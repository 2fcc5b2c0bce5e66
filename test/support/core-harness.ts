// Drives a real Core in-process, one command per batch, returning the decoded result. Tests use it to read
// like FIX scenario matrices: send a command, assert the execution reports it produced.

import * as flatbuffers from 'flatbuffers';
import { Command, ExecType, OrdStatus, OrdType, Side, TimeInForce } from '../../schemas/generated/oms_generated.js';
import type { CommandBody, NewOrderCmd, VenueExecReportCmd } from '../../schemas/commands.js';
import { encodeCommandCopy } from '../../schemas/commands.js';
import type { CommandResultData, ExecutionReportData } from '../../schemas/results.js';
import { decodeResultBatch } from '../../schemas/results.js';
import { Core } from '../../core/core.js';
import { DEMO, demoReferenceData } from '../../core/demo.js';

export const T0_US = 1_790_000_000_000_000;

export class CoreHarness {
  readonly core: Core;
  readonly journal: Array<{ seq: number; bytes: Uint8Array }> = [];
  private readonly builder = new flatbuffers.Builder(1024);
  nowUs = T0_US;
  private requestId = 0;
  private execSerial = 0;

  constructor(core: Core = new Core()) {
    this.core = core;
  }

  static withDemoData(): CoreHarness {
    const h = new CoreHarness();
    for (const command of demoReferenceData()) {
      const result = h.send(0, command);
      if (result.events.some((e) => e.kind === 'command_reject')) {
        throw new Error(`demo data rejected: ${JSON.stringify(result.events)}`);
      }
    }
    return h;
  }

  frame(userId: number, command: CommandBody, timeUs = this.nowUs): Uint8Array {
    this.requestId += 1;
    return encodeCommandCopy(this.builder, { requestId: this.requestId, timeUs, userId, sessionId: 1, command });
  }

  /** Submits raw bytes as one batch and returns the one result. */
  sendFrame(bytes: Uint8Array): CommandResultData {
    this.core.out.beginBatch();
    const seq = this.core.submit(bytes);
    if (seq !== 0) this.journal.push({ seq, bytes });
    const results = decodeResultBatch(this.core.out.finishBatch());
    if (results.length !== 1) throw new Error(`expected one result, got ${results.length}`);
    return results[0];
  }

  send(userId: number, command: CommandBody, timeUs = this.nowUs): CommandResultData {
    this.nowUs = Math.max(this.nowUs, timeUs) + 1;
    return this.sendFrame(this.frame(userId, command, timeUs));
  }

  /** The execution reports of a result, in order. */
  static reports(result: CommandResultData): ExecutionReportData[] {
    return result.events.filter((e): e is ExecutionReportData => e.kind === 'execution_report');
  }

  newOrder(partial: Partial<NewOrderCmd> & { clOrdId: string }, userId: number = DEMO.users.trader): CommandResultData {
    const command: NewOrderCmd = {
      type: Command.NewOrder, accountId: DEMO.accounts.GROWTH, instrumentId: DEMO.instruments.AAPL, side: Side.Buy,
      ordType: OrdType.Limit, timeInForce: TimeInForce.Day, orderQty: 1000, price: 19_000, stopPx: 0, expireTimeUs: 0,
      parentClOrdId: '', venueId: DEMO.venues.SIM, text: '', ...partial,
    };
    return this.send(userId, command);
  }

  venue(clOrdId: string, execType: ExecType, partial: Partial<VenueExecReportCmd> = {}): CommandResultData {
    this.execSerial += 1;
    const command: VenueExecReportCmd = {
      type: Command.VenueExecReport, venueId: DEMO.venues.SIM, execId: `V${this.execSerial}`, clOrdId, origClOrdId: '',
      execType, ordStatus: OrdStatus.Unset, lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: 0xffff, venueOrderId: '',
      text: '', ...partial,
    };
    return this.send(DEMO.users.venue, command);
  }

  fill(clOrdId: string, lastQty: number, lastPx: number, execId?: string): CommandResultData {
    return this.venue(clOrdId, ExecType.Trade, { lastQty, lastPx, ...(execId === undefined ? {} : { execId }) });
  }

  /** A fresh core rebuilt from this harness's journal: the replay that recovery performs. */
  replayed(): Core {
    const core = new Core();
    core.out.beginBatch();
    for (const entry of this.journal) core.replay(entry.seq, entry.bytes);
    return core;
  }
}
