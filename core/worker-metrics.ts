// Metrics of the core worker thread. prom-client registries do not cross threads, so the worker keeps plain
// counters and fixed-bucket histograms, the feeding thread asks for a snapshot on each scrape, and
// coreMetricsText renders it in the Prometheus text format next to the gateway's own registry.

export const COMMIT_SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];
export const APPLY_SECONDS_BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25];
export const BATCH_FRAMES_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
export const SNAPSHOT_SECONDS_BUCKETS = [0.01, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface HistogramSnapshot {
  bounds: number[];
  /** Cumulative counts per bound (Prometheus `le` semantics). */
  cumulative: number[];
  sum: number;
  count: number;
}

export class FixedHistogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i] > bounds[i - 1])) throw new Error('invariant: bucket bounds must increase');
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]) {
        this.counts[i] += 1;
        return;
      }
    }
  }

  snapshot(): HistogramSnapshot {
    const cumulative: number[] = [];
    let running = 0;
    for (const c of this.counts) cumulative.push(running += c);
    return { bounds: [...this.bounds], cumulative, sum: this.sum, count: this.count };
  }
}

export interface CoreMetricsSnapshot {
  batches_total: number;
  commands_journaled_total: number;
  frames_refused_total: number;
  snapshots_total: number;
  snapshot_failures_total: number;
  snapshots_deleted_total: number;
  snapshot_prune_failures_total: number;
  last_seq: number;
  open_orders: number;
  batch_frames: HistogramSnapshot;
  apply_seconds: HistogramSnapshot;
  commit_seconds: HistogramSnapshot;
  snapshot_seconds: HistogramSnapshot;
}

export class CoreMetrics {
  batches = 0;
  journaled = 0;
  refused = 0;
  snapshots = 0;
  snapshotFailures = 0;
  snapshotsDeleted = 0;
  snapshotPruneFailures = 0;
  readonly batchFrames = new FixedHistogram(BATCH_FRAMES_BUCKETS);
  readonly applySeconds = new FixedHistogram(APPLY_SECONDS_BUCKETS);
  readonly commitSeconds = new FixedHistogram(COMMIT_SECONDS_BUCKETS);
  readonly snapshotSeconds = new FixedHistogram(SNAPSHOT_SECONDS_BUCKETS);

  snapshot(lastSeq: number, openOrders: number): CoreMetricsSnapshot {
    return {
      batches_total: this.batches, commands_journaled_total: this.journaled, frames_refused_total: this.refused,
      snapshots_total: this.snapshots, snapshot_failures_total: this.snapshotFailures,
      snapshots_deleted_total: this.snapshotsDeleted, snapshot_prune_failures_total: this.snapshotPruneFailures, last_seq: lastSeq, open_orders: openOrders, batch_frames: this.batchFrames.snapshot(),
      apply_seconds: this.applySeconds.snapshot(), commit_seconds: this.commitSeconds.snapshot(),
      snapshot_seconds: this.snapshotSeconds.snapshot(),
    };
  }
}

function histogramText(name: string, help: string, h: HistogramSnapshot): string[] {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  h.bounds.forEach((bound, i) => lines.push(`${name}_bucket{le="${bound}"} ${h.cumulative[i]}`));
  lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
  return lines;
}

function scalarText(name: string, type: 'counter' | 'gauge', help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`];
}

/** The worker's metrics in the Prometheus text format (names prefixed oms_core_). */
export function coreMetricsText(s: CoreMetricsSnapshot): string {
  return [
    ...scalarText('oms_core_batches_total', 'counter', 'Batches applied by the core worker', s.batches_total),
    ...scalarText('oms_core_commands_journaled_total', 'counter', 'Commands applied and journaled', s.commands_journaled_total),
    ...scalarText('oms_core_frames_refused_total', 'counter', 'Frames refused undecoded (never journaled)', s.frames_refused_total),
    ...scalarText('oms_core_snapshots_total', 'counter', 'Snapshots stored', s.snapshots_total),
    ...scalarText('oms_core_snapshots_deleted_total', 'counter', 'Older snapshots deleted to keep the newest core.snapshots_kept', s.snapshots_deleted_total),
    ...scalarText('oms_core_snapshot_prune_failures_total', 'counter', 'Deletions of older snapshots that failed (the new one was stored)', s.snapshot_prune_failures_total),
    ...scalarText('oms_core_snapshot_failures_total', 'counter', 'Snapshots that could not be built or stored (recovery replays more)', s.snapshot_failures_total),
    ...scalarText('oms_core_last_seq', 'gauge', 'Last sequence number applied by the core', s.last_seq),
    ...scalarText('oms_core_open_orders', 'gauge', 'Working orders in the core', s.open_orders),
    ...histogramText('oms_core_batch_frames', 'Frames per batch (group commit size)', s.batch_frames),
    ...histogramText('oms_core_apply_seconds', 'Time to apply one batch in memory', s.apply_seconds),
    ...histogramText('oms_core_journal_commit_seconds', 'From appending a batch to the journal until it is durable (fsync)', s.commit_seconds),
    ...histogramText('oms_core_snapshot_seconds', 'From a snapshot request until the snapshot is stored (built off the core thread)', s.snapshot_seconds),
  ].join('\n') + '\n';
}
