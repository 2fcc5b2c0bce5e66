// The OMS service: core worker + journal, the gateway's read replica, the report router, the simulated
// venue, the clock and the uWebSockets.js server, wired through ONE submit path. Every frame that reaches
// the core goes through submit(), so the replica applies exactly the journaled frames, in seq order.

import { join } from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { Command, ExecType, RejectCode, TickKind } from '../schemas/generated/oms_generated.js';
import type { CommandBody } from '../schemas/commands.js';
import { encodeCommandCopy } from '../schemas/commands.js';
import type { CommandResultData, VenueRequestData } from '../schemas/results.js';
import { SYSTEM_USER_ID } from '../core/checks.js';
import { CoreHost } from '../core/core-host.js';
import { commandTypeOf } from '../core/decode.js';
import type { LocatedResult } from '../core/core-host.js';
import { DEMO, demoReferenceData } from '../core/demo.js';
import { coreMetricsText } from '../core/worker-metrics.js';
import type { Config } from './config.js';
import { usesDemoTokens } from './config.js';
import { GatewayMetrics } from './metrics.js';
import { Replica } from './replica.js';
import { ReportRouter } from './router.js';
import { CANCEL_ON_DISCONNECT_ORDERS_MAX, Gateway } from './server.js';
import { mountHttpApi } from './http-api.js';
import type { HttpApi } from './http-api.js';
import { SimulatedVenue } from './sim-venue.js';
import type { SimVenueCommand } from './sim-venue.js';
import { loadUws } from './uws.js';
import { FixVenue } from '../venue/fix-venue.js';
import type { VenueCommand, VenueStatus } from '../venue/fix-venue.js';

/** Results kept for resumes after a reconnect (journal seqs); older resumes are told to resync. */
export const RETRANSMISSION_RESULTS_MAX = 200_000;
/** Initial length of the order id -> entering session table (it doubles as order ids grow). */
const ENTERED_BY_INITIAL_LENGTH = 1024;

export interface ServiceHandle {
  port: number;
  host: CoreHost;
  replica: Replica;
  metrics: GatewayMetrics;
  gateway: Gateway;
  /** Graceful: stops intake, drains the core, flushes the journal, closes sockets. */
  close(): Promise<void>;
}

export type Log = (fields: Record<string, unknown>) => void;

export const jsonLog: Log = (fields) => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...fields }) + '\n');
};

/** The gateway's clock: microseconds, never going backwards even if the wall clock does. */
export class CommandClock {
  private lastUs = 0;
  nowUs(): number {
    this.lastUs = Math.max(this.lastUs + 1, Date.now() * 1000);
    return this.lastUs;
  }
}

export async function startService(config: Config, log: Log = jsonLog): Promise<ServiceHandle> {
  const { uws, detail } = loadUws({ allow_fallback: config.gateway.allow_uws_fallback });
  log({ event: 'uws', detail });
  if (usesDemoTokens(config)) log({ event: 'warning', text: 'demo API tokens are active: override auth.tokens outside development' });
  const host = await CoreHost.start({
    journal_path: join(config.data.dir, 'journal'), batch_frames_max: config.core.batch_frames_max,
    queued_frames_max: config.core.queued_frames_max, snapshot_every_commands: config.core.snapshot_every_commands,
    snapshots_kept: config.core.snapshots_kept,
  });
  const r = host.recovery;
  log({ event: 'recovered', snapshot_seq: r.snapshot_seq, replayed: r.replayed_count, last_seq: r.last_seq, state_hash: r.state_hash, ms: Math.round(r.duration_ms) });
  const clock = new CommandClock();
  const builder = new flatbuffers.Builder(1024);
  const frameOf = (userId: number, command: CommandBody): Uint8Array =>
    encodeCommandCopy(builder, { requestId: 0, timeUs: clock.nowUs(), userId, sessionId: 0, command });
  if (r.last_seq === 0) {
    for (const command of demoReferenceData()) await host.submit(frameOf(SYSTEM_USER_ID, command));
    log({ event: 'bootstrapped', commands: demoReferenceData().length });
  }
  const service = new Service(config, host, await Replica.fromHost(host), clock, log, frameOf);
  await service.start(uws);
  return service.handle();
}

class Service {
  readonly metrics = new GatewayMetrics();
  readonly router: ReportRouter;
  gateway!: Gateway;
  private venue: SimulatedVenue | null = null;
  /** FIX venues by venue id. */
  readonly fixVenues = new Map<number, FixVenue>();
  private timer: NodeJS.Timeout | null = null;
  private httpApi: HttpApi | null = null;
  private readyFlag = false;
  /**
   * The WebSocket session that entered each order, by order id (dense: the core counts them), for
   * cancel-on-disconnect. A typed array rather than a Set per session: 4 bytes per order and nothing for
   * the GC to trace, where the sets grew with every order of a long-lived session until it disconnected.
   */
  private enteredBy = new Uint32Array(ENTERED_BY_INITIAL_LENGTH);
  private settleScheduled = false;

  constructor(private readonly config: Config, readonly host: CoreHost, readonly replica: Replica,
    private readonly clock: CommandClock, private readonly log: Log,
    private readonly frameOf: (userId: number, command: CommandBody) => Uint8Array) {
    this.router = new ReportRouter(replica, RETRANSMISSION_RESULTS_MAX);
  }

  async start(uws: ReturnType<typeof loadUws>['uws']): Promise<void> {
    // Readers go through this.replica.core each time (never a state captured once): that read applies what
    // the replica has queued (gateway/replica.ts).
    this.gateway = new Gateway(uws, {
      config: this.config, router: this.router, metrics: this.metrics,
      tokens: new Map(this.config.auth.tokens.map((t) => [t.token, t.user_id])),
      userExists: (userId) => this.replica.core.state.users.has(userId),
      lastSeq: () => this.replica.lastSeq(), nowUs: () => this.clock.nowUs(),
      submit: (frame) => this.submit(frame), openOrdersOfSession: (sessionId) => this.openOrdersOf(sessionId),
      ready: () => this.readyFlag,
      threadMetrics: async () => coreMetricsText(await this.host.metrics()),
      mountRoutes: (app) => {
        this.httpApi = mountHttpApi(app, {
          config: this.config, replica: this.replica, metrics: this.metrics,
          tokens: new Map(this.config.auth.tokens.map((t) => [t.token, t.user_id])),
          submit: (frame) => this.submit(frame), nowUs: () => this.clock.nowUs(), journal_path: join(this.config.data.dir, 'journal'),
          venues: {
            statuses: () => this.fixVenueStatuses(),
            disconnect: (venueId, userId) => this.venueAdmin(venueId, userId, 'disconnect'),
            connect: (venueId, userId) => this.venueAdmin(venueId, userId, 'connect'),
          },
        });
        const api = this.httpApi;
        this.metrics.poolStats = () => api.poolStats();
      },
    });
    if (this.config.sim_venue.enabled) this.startVenue();
    await this.defineFixVenues();
    this.startFixVenues();
    this.timer = setInterval(() => {
      this.submit(this.frameOf(SYSTEM_USER_ID, { type: Command.Tick, kind: TickKind.Timer })).catch((error: unknown) => this.log({ event: 'tick_failed', error: String(error) }));
    }, this.config.core.tick_interval_ms);
    const port = await this.gateway.listen();
    this.readyFlag = true;
    this.log({ event: 'listening', host: this.config.gateway.host, port, ws: `ws://${this.config.gateway.host}:${port}/v1/ws` });
  }

  private startVenue(): void {
    const state = this.replica.core.state;
    // A fresh ExecID prefix per start: the core remembers every venue ExecID, and the sim's counters restart.
    const prefix = `SIM${Date.now().toString(36)}`;
    const sink = (command: SimVenueCommand): void => {
      this.submit(this.frameOf(DEMO.users.venue, command)).catch((error: unknown) => this.log({ event: 'venue_submit_failed', error: String(error) }));
    };
    // The mark is read through the replica each time: a SetMark earlier in the same turn must count.
    this.venue = new SimulatedVenue({ seed: this.config.sim_venue.seed, venue_id: DEMO.venues.SIM, id_prefix: prefix }, sink,
      (instrumentId) => this.replica.core.state.instruments.get(instrumentId)?.markPx ?? 0);
    // Orders the previous process left at the simulated venue died with it: say so, as a venue would.
    let serial = 0;
    for (const order of state.openOrders) {
      if (order.venueId !== DEMO.venues.SIM) continue;
      serial += 1;
      sink({
        type: Command.VenueExecReport, venueId: DEMO.venues.SIM, execId: `${prefix}-RESTART-${serial}`, clOrdId: order.clOrdId,
        origClOrdId: '', execType: ExecType.Canceled, ordStatus: 0, lastQty: 0, lastPx: 0, leavesQty: 0, ordRejReason: 0xffff,
        venueOrderId: '', text: 'simulated venue restarted',
      });
    }
  }

  private venueAdmin(venueId: number, userId: number, action: 'disconnect' | 'connect'): boolean {
    const venue = this.fixVenues.get(venueId);
    if (venue === undefined) return false;
    this.log({ event: 'venue_admin', venue_id: venueId, user_id: userId, action });
    if (action === 'disconnect') venue.disconnect();
    else venue.connect();
    return true;
  }

  /** A configured FIX venue the core does not know yet is defined (as the system) before any order can name it. */
  private async defineFixVenues(): Promise<void> {
    for (const venue of this.config.fix.venues) {
      const existing = this.replica.core.state.venues.get(venue.venue_id);
      if (existing !== undefined) {
        if (existing.name !== venue.name) this.log({ event: 'warning', text: `fix venue ${venue.venue_id} is named ${existing.name} in the journal and ${venue.name} in the configuration` });
        continue;
      }
      const result = await this.submit(this.frameOf(SYSTEM_USER_ID, { type: Command.DefineVenue, venueId: venue.venue_id, name: venue.name }));
      if (result.events.some((e) => e.kind === 'command_reject')) throw new Error(`cannot define fix venue ${venue.venue_id} (${venue.name})`);
      this.log({ event: 'venue_defined', venue_id: venue.venue_id, name: venue.name });
    }
  }

  private startFixVenues(): void {
    for (const venueConfig of this.config.fix.venues) {
      const replica = this.replica;
      const venue = new FixVenue({
        venue: venueConfig, storeDir: FixVenue.defaultStoreDir(this.config.data.dir, venueConfig),
        // A getter: every read the venue makes (outgoing requests, incoming reports) catches the replica up.
        get state() { return replica.core.state; },
        submit: (command: VenueCommand) => this.submit(this.frameOf(DEMO.users.venue, command)), log: this.log,
      });
      this.fixVenues.set(venueConfig.venue_id, venue);
      venue.start();
    }
    this.metrics.venueStatuses = () => this.fixVenueStatuses();
  }

  private fixVenueStatuses(): VenueStatus[] {
    return [...this.fixVenues.values()].map((v) => v.status());
  }

  /** The one way into the core. Resolves once the result is durable, routed, and queued on the replica (applied before any read of it). */
  submit(frame: Uint8Array): Promise<CommandResultData> {
    const started = performance.now();
    // `frame` may be a view the caller reuses (the gateway's stamp writer): the replica applies the copy the
    // core applied, which comes back with the result.
    return this.host.submitLocated(frame).then((located) => {
      this.onResult(located);
      this.metrics.commandLatency.observe((performance.now() - started) / 1000);
      return located.result;
    });
  }

  /**
   * Everything here needs only the result, except routing to sessions other than the sender and requests to
   * a FIX venue (both read the replica, and so catch it up first). Otherwise the replica's apply waits for
   * settle(), queued after the gateway's flush of this turn: the sender's acknowledgement goes out before
   * the replica's ~3 us per command.
   */
  private onResult({ result, batch, index, frame }: LocatedResult): void {
    if (result.seq !== 0) {
      this.replica.apply(result.seq, frame);
      this.router.retain(result.seq, batch, index);
      this.metrics.lastSeq.set(result.seq);
      this.metrics.commands.inc({ type: Command[commandTypeOf(frame)] ?? 'unknown' });
    }
    const venueRequests: VenueRequestData[] = [];
    for (const event of result.events) {
      if (event.kind === 'venue_request') venueRequests.push(event);
      else if (event.kind === 'command_reject' || event.kind === 'cancel_reject') this.metrics.rejects.inc({ reason: RejectCode[event.rejectCode] ?? String(event.rejectCode) });
      else if (event.kind === 'execution_report' && event.execType === ExecType.Rejected && event.orderId === 0) this.metrics.rejects.inc({ reason: RejectCode[event.ordRejReason] ?? String(event.ordRejReason) });
      else if (event.kind === 'execution_report' && event.execType === ExecType.PendingNew && this.gateway.isLiveSession(result.sessionId)) this.rememberOrder(result.sessionId, event.orderId);
    }
    // Scheduled before anything below can throw: the replica is caught up (or fails the process) regardless.
    if (!this.settleScheduled) {
      this.settleScheduled = true;
      setImmediate(() => this.settle());
    }
    this.gateway.route(result);
    for (const request of venueRequests) this.toVenue(request);
  }

  /** End of a turn's results, after the gateway's flush: the replica catches up. */
  private settle(): void {
    this.settleScheduled = false;
    try {
      this.replica.catchUp();
    } catch (error) {
      // The replica diverged from the core: reads would be wrong from here on. Stop, like a failed core:
      // the next start recovers from the journal.
      this.log({ event: 'replica_failed', error: error instanceof Error ? error.message : String(error) });
      this.host.onFatal(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.metrics.openOrders.set(this.replica.core.state.openOrders.size);
  }

  private rememberOrder(sessionId: number, orderId: number): void {
    // Not assert(): its message would be built on every new order.
    if (!(Number.isSafeInteger(orderId) && orderId > 0 && sessionId > 0 && sessionId <= 0xFFFFFFFF)) throw new Error(`invariant: order ${orderId} entered by session ${sessionId}`);
    if (orderId >= this.enteredBy.length) {
      let length = this.enteredBy.length * 2;
      while (length <= orderId) length *= 2;
      const grown = new Uint32Array(length);
      grown.set(this.enteredBy);
      this.enteredBy = grown;
    }
    this.enteredBy[orderId] = sessionId;
  }

  /** Working orders entered through `sessionId` (session ids are never reused), without a request pending. */
  private openOrdersOf(sessionId: number): Array<{ clOrdId: string; accountId: number }> {
    const open: Array<{ clOrdId: string; accountId: number }> = [];
    const enteredBy = this.enteredBy;
    this.replica.core.state.openOrders.scan((order) => {
      if (order.orderId < enteredBy.length && enteredBy[order.orderId] === sessionId && order.pending === null) {
        open.push({ clOrdId: order.clOrdId, accountId: order.accountId });
      }
      return open.length < CANCEL_ON_DISCONNECT_ORDERS_MAX;
    });
    return open;
  }

  private toVenue(request: VenueRequestData): void {
    if (this.venue !== null && request.venueId === DEMO.venues.SIM) {
      this.venue.handle(request);
      return;
    }
    const fixVenue = this.fixVenues.get(request.venueId);
    if (fixVenue !== undefined) {
      fixVenue.handle(request);
      return;
    }
    // No route is configured for this venue (e.g. the simulated venue disabled): the order waits at the OMS,
    // as before any route existed, and can be cancelled there; a FIX venue that is down refuses at once instead.
    this.log({ event: 'no_venue_session', venue_id: request.venueId, cl_ord_id: request.clOrdId });
  }

  handle(): ServiceHandle {
    return {
      port: this.gateway.port, host: this.host, replica: this.replica, metrics: this.metrics, gateway: this.gateway,
      close: () => this.close(),
    };
  }

  private async close(): Promise<void> {
    this.readyFlag = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.gateway.stopIntake();
    this.venue?.close();
    await Promise.all([...this.fixVenues.values()].map((v) => v.close()));
    await this.httpApi?.close();
    const lastSeq = await this.host.close();
    this.log({ event: 'stopped', last_seq: lastSeq });
  }
}
