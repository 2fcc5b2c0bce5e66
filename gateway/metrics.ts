// Prometheus metrics of the gateway (prom-client). Names carry base units; labels never carry order,
// account or user ids (unbounded cardinality), only small closed sets such as reject reasons.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { VenueStatus } from '../venue/fix-venue.js';

/** Sub-millisecond buckets: the order path is measured in microseconds. */
const LATENCY_BUCKETS_SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'oms_ws_connections', help: 'Open WebSocket connections', registers: [this.registry] });
  readonly connectionsTotal = new Counter({ name: 'oms_ws_connections_total', help: 'WebSocket connections accepted', registers: [this.registry] });
  readonly upgradesRefused = new Counter({ name: 'oms_ws_upgrades_refused_total', help: 'WebSocket upgrades refused', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly messagesIn = new Counter({ name: 'oms_ws_messages_received_total', help: 'WebSocket messages received', registers: [this.registry] });
  readonly bytesIn = new Counter({ name: 'oms_ws_received_bytes_total', help: 'WebSocket bytes received', registers: [this.registry] });
  readonly messagesOut = new Counter({ name: 'oms_ws_messages_sent_total', help: 'WebSocket messages sent', registers: [this.registry] });
  readonly bytesOut = new Counter({ name: 'oms_ws_sent_bytes_total', help: 'WebSocket bytes sent', registers: [this.registry] });
  readonly backpressureDrops = new Counter({ name: 'oms_ws_backpressure_drops_total', help: 'Messages dropped, and their slow consumers closed, at the backpressure limit', registers: [this.registry] });
  readonly closes = new Counter({ name: 'oms_ws_closes_total', help: 'WebSocket connections closed, by reason: abnormal (a limit: payload, backpressure, idle; or the peer vanished), client, server', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'oms_ws_rate_limited_total', help: 'Messages refused over the per-connection rate limit', registers: [this.registry] });
  readonly rejects = new Counter({ name: 'oms_rejects_total', help: 'Commands refused, by reject code name', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly commands = new Counter({ name: 'oms_commands_total', help: 'Commands journaled, by type', labelNames: ['type'] as const, registers: [this.registry] });
  readonly commandLatency = new Histogram({
    name: 'oms_command_latency_seconds', help: 'From a command reaching the gateway to its durable result', buckets: LATENCY_BUCKETS_SECONDS, registers: [this.registry],
  });
  readonly openOrders = new Gauge({ name: 'oms_open_orders', help: 'Working orders (replica)', registers: [this.registry] });
  readonly lastSeq = new Gauge({ name: 'oms_journal_last_seq', help: 'Last journaled sequence number', registers: [this.registry] });

  /** Set by the service once the Piscina pool exists; read on each scrape. */
  poolStats: () => { threads: number; queue_size: number; completed_total: number; utilization_ratio: number } = () => ({ threads: 0, queue_size: 0, completed_total: 0, utilization_ratio: 0 });

  /** Set by the service once its FIX venues exist; read on each scrape (label: the configured venue name). */
  venueStatuses: () => VenueStatus[] = () => [];

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    this.venueMetrics();
    new Gauge({ name: 'oms_pool_threads', help: 'Piscina pool threads (history replays, reports)', registers: [this.registry], collect() { this.set(metrics.poolStats().threads); } });
    new Gauge({ name: 'oms_pool_queue_size', help: 'Tasks waiting for a pool thread', registers: [this.registry], collect() { this.set(metrics.poolStats().queue_size); } });
    new Gauge({ name: 'oms_pool_utilization_ratio', help: 'Share of pool capacity spent running tasks', registers: [this.registry], collect() { this.set(metrics.poolStats().utilization_ratio); } });
    new Counter({
      name: 'oms_pool_tasks_completed_total', help: 'Pool tasks completed', registers: [this.registry],
      collect() { this.reset(); this.inc(metrics.poolStats().completed_total); },
    });
  }

  /** FIX venue sessions: one series per configured venue (a closed, small set). */
  private venueMetrics(): void {
    const metrics = this;
    const gauge = (name: string, help: string, value: (s: VenueStatus) => number): void => {
      new Gauge({
        name, help, labelNames: ['venue'] as const, registers: [this.registry],
        collect() { this.reset(); for (const s of metrics.venueStatuses()) this.set({ venue: s.name }, value(s)); },
      });
    };
    const counter = (name: string, help: string, value: (s: VenueStatus) => number): void => {
      new Counter({
        name, help, labelNames: ['venue'] as const, registers: [this.registry],
        collect() { this.reset(); for (const s of metrics.venueStatuses()) this.inc({ venue: s.name }, value(s)); },
      });
    };
    gauge('oms_fix_logged_on', 'FIX session logged on (1) or not (0)', (s) => (s.logged_on ? 1 : 0));
    gauge('oms_fix_next_sender_seq', 'Next outgoing MsgSeqNum', (s) => s.next_sender_seq);
    gauge('oms_fix_durable_target_seq', 'Incoming MsgSeqNum below which everything is journaled', (s) => s.durable_target_seq);
    counter('oms_fix_messages_received_total', 'FIX messages received', (s) => s.messages_in);
    counter('oms_fix_messages_sent_total', 'FIX messages sent', (s) => s.messages_out);
    counter('oms_fix_rejects_received_total', 'Session and business rejects the venue sent', (s) => s.rejects_in);
    counter('oms_fix_messages_refused_total', 'Venue messages the OMS could not apply (flagged)', (s) => s.refused_in);
    counter('oms_fix_garbled_total', 'Frames dropped: bad checksum, body length, field or MsgSeqNum, or not from the session\'s peer (CompIDs, BeginString)', (s) => s.garbled_in);
    counter('oms_fix_logons_total', 'Logons completed', (s) => s.logons);
    counter('oms_fix_connect_failures_total', 'Connection attempts that did not log on', (s) => s.connect_failures);
  }
}
