/**
 * The engine's metrics, in OpenTelemetry, scraped by Prometheus through our own health server (`GET /metrics`):
 * the Prometheus exporter is a pull reader whose HTTP server is never started.
 *
 * Scraped names (the exporter adds `_total` to counters and `_bucket` / `_sum` / `_count` to histograms; it does
 * not append units). Every series carries `engine_id`; per-source series also carry `source`.
 *
 * | name                                      | type      | labels      | meaning                                                     |
 * |-------------------------------------------|-----------|-------------|-------------------------------------------------------------|
 * | `tailhouse_lag_rows`                      | gauge     | `source`    | changelog rows in ClickHouse not yet committed to Kafka     |
 * | `tailhouse_lag_seconds`                   | gauge     | `source`    | age of the oldest changelog row not yet committed, seconds  |
 * | `tailhouse_published_rows_total`          | counter   | `source`    | rows committed to Kafka; rows/s is `rate(...[1m])`          |
 * | `tailhouse_dead_letter_rows_total`        | counter   | `source`    | rows sent to the dead-letter topic instead (not published)  |
 * | `tailhouse_published_bytes_total`         | counter   |             | message bytes (keys, values, headers) committed to Kafka    |
 * | `tailhouse_batch_rows`                    | histogram |             | rows per committed batch, all sources together              |
 * | `tailhouse_commit_duration_ms`            | histogram |             | time to commit a batch's Kafka transaction, milliseconds    |
 * | `tailhouse_transactions_committed_total`  | counter   |             | Kafka transactions committed, one per batch                 |
 * | `tailhouse_transactions_aborted_total`    | counter   |             | Kafka transactions aborted or failed                        |
 * | `tailhouse_retries_total`                 | counter   | `reason`    | retriable failures: `clickhouse`, `kafka`, `schema`, ...    |
 * | `tailhouse_last_commit_timestamp_seconds` | gauge     |             | unix time of the last committed batch; absent before one    |
 * | `tailhouse_snapshot_rows_total`           | counter   | `source`    | snapshot rows (op read) committed to Kafka by this process  |
 * | `tailhouse_snapshot_rows_remaining`       | gauge     | `source`    | rows of snapshots in progress not yet committed to Kafka    |
 * | `target_info`                             | gauge     | (resource)  | always 1: `service_name`, `service_version`, `service_instance_id` |
 *
 * Histograms are scraped as `<name>_bucket{le=...}`, `<name>_sum` and `<name>_count`. The lag gauges call `lag()`
 * once per scrape and show exactly the sources it returned. When it throws, rejects or takes longer than
 * `lagTimeoutMs`, that scrape has no lag series (the rest is unaffected); alert on `absent(tailhouse_lag_seconds)`.
 *
 * @example
 * const telemetry = createEngineMetrics({ engineId: 'tailhouse-1', lag: () => source.lag() })
 * const health = await startHealthServer({ host, port, liveness, readiness, metrics: telemetry.handle })
 * telemetry.metrics.recordBatch({ rowsBySource, bytes, commitMs, committedAt: new Date() })
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Attributes, ValueType } from '@opentelemetry/api'
import { millisToHrTime } from '@opentelemetry/core'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type GaugeMetricData,
  MeterProvider,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics'
import { version } from '../version.js'

const scope = { name: 'tailhouse', version }

/** Metric names as created in OpenTelemetry; counters are scraped with a `_total` suffix added. */
export const metricNames = {
  lagRows: 'tailhouse_lag_rows',
  lagSeconds: 'tailhouse_lag_seconds',
  publishedRows: 'tailhouse_published_rows',
  deadLetterRows: 'tailhouse_dead_letter_rows',
  publishedBytes: 'tailhouse_published_bytes',
  batchRows: 'tailhouse_batch_rows',
  commitDuration: 'tailhouse_commit_duration_ms',
  transactionsCommitted: 'tailhouse_transactions_committed',
  transactionsAborted: 'tailhouse_transactions_aborted',
  retries: 'tailhouse_retries',
  lastCommit: 'tailhouse_last_commit_timestamp_seconds',
  snapshotRows: 'tailhouse_snapshot_rows',
  snapshotRemaining: 'tailhouse_snapshot_rows_remaining',
} as const

/** Bucket upper bounds, chosen for batches of 1 row to the default maximum of 10 000 and some headroom. */
export const batchRowsBuckets = [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000]
/** Bucket upper bounds for a commit: a local broker commits in a few ms, a loaded cluster in hundreds. */
export const commitDurationBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000]

/** How far each source is behind, computed by the caller when Prometheus scrapes. */
export interface LagSample {
  source: string
  /** Changelog rows not yet committed to Kafka. */
  rows: number
  /** Age of the oldest of those rows, in seconds; 0 when caught up. */
  seconds: number
}

/**
 * What the engine reports. Calls are synchronous, cheap and never throw; call them from the engine loop only
 * after the fact they describe (a batch is recorded once its transaction has committed).
 */
export interface EngineMetrics {
  /**
   * After each committed batch. rowsBySource: rows of the batch published per source; deadLetteredBySource: rows
   * sent to the dead-letter topic instead.
   */
  recordBatch(batch: {
    rowsBySource: Map<string, number>
    deadLetteredBySource?: Map<string, number>
    bytes: number
    commitMs: number
    committedAt: Date
  }): void
  /** A transaction aborted or failed. */
  recordAbort(): void
  /** A retriable failure, reason e.g. 'clickhouse' | 'kafka' | 'schema'. */
  recordRetry(reason: string): void
}

export interface MetricsHandle {
  metrics: EngineMetrics
  /** Answers a scrape with the Prometheus text exposition; pass it as the health server's `metrics` route. */
  handle(req: IncomingMessage, res: ServerResponse): void
  /** Stops collecting; later scrapes get 503. Idempotent. */
  shutdown(): Promise<void>
}

export interface EngineMetricsOptions {
  /** Becomes the `engine_id` label of every series and the `service.instance.id` resource attribute. */
  engineId: string
  /** Called once per scrape for the lag gauges. */
  lag: () => LagSample[] | Promise<LagSample[]>
  /** Bound on one `lag()` call, in ms; default 2000. */
  lagTimeoutMs?: number
  /** Per source with snapshots: rows published by this process, rows to go (snapshot/snapshots.ts). */
  snapshots?: () => ReadonlyArray<{ source: string; published: number; remaining: number }>
}

/** Metrics that go nowhere, for tests and embedders that do not scrape. */
export const noopMetrics: EngineMetrics = Object.freeze({
  recordBatch() {},
  recordAbort() {},
  recordRetry() {},
})

/** Creates a private meter provider (not registered globally, so an embedding application keeps its own). */
export function createEngineMetrics(options: EngineMetricsOptions): MetricsHandle {
  const { engineId, lag } = options
  const lagTimeoutMs = options.lagTimeoutMs ?? 2_000
  if (typeof engineId !== 'string' || engineId === '') throw new TypeError('engineId must be a non-empty string')
  if (typeof lag !== 'function') throw new TypeError('lag must be a function')
  if (!(lagTimeoutMs > 0)) throw new RangeError(`lagTimeoutMs must be > 0; got ${lagTimeoutMs}`)

  const base: Attributes = { engine_id: engineId }
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    metricProducers: [lagProducer(base, lag, lagTimeoutMs)],
  })
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'tailhouse',
      'service.version': version,
      'service.instance.id': engineId,
    }),
    readers: [exporter],
  })
  const meter = provider.getMeter(scope.name, scope.version)

  const publishedRows = meter.createCounter(metricNames.publishedRows, {
    description: 'Rows committed to Kafka, per source',
    unit: '{row}',
  })
  const deadLetterRows = meter.createCounter(metricNames.deadLetterRows, {
    description: 'Rows sent to the dead-letter topic instead of their topic, per source',
    unit: '{row}',
  })
  const publishedBytes = meter.createCounter(metricNames.publishedBytes, {
    description: 'Message bytes (keys, values, headers) committed to Kafka',
    unit: 'By',
  })
  const batchRows = meter.createHistogram(metricNames.batchRows, {
    description: 'Rows per committed batch, all sources together',
    unit: '{row}',
    advice: { explicitBucketBoundaries: batchRowsBuckets },
  })
  const commitDuration = meter.createHistogram(metricNames.commitDuration, {
    description: "Time to commit a batch's Kafka transaction and offsets",
    unit: 'ms',
    advice: { explicitBucketBoundaries: commitDurationBuckets },
  })
  const committed = meter.createCounter(metricNames.transactionsCommitted, {
    description: 'Kafka transactions committed, one per batch',
  })
  const aborted = meter.createCounter(metricNames.transactionsAborted, {
    description: 'Kafka transactions aborted or failed',
  })
  const retries = meter.createCounter(metricNames.retries, {
    description: 'Retriable failures, by reason',
  })
  const lastCommit = meter.createObservableGauge(metricNames.lastCommit, {
    description: 'Unix time of the last committed batch',
    unit: 's',
  })

  let lastCommitSeconds: number | undefined
  lastCommit.addCallback((result) => {
    if (lastCommitSeconds !== undefined) result.observe(lastCommitSeconds, base)
  })
  const snapshots = options.snapshots
  if (snapshots) {
    meter
      .createObservableCounter(metricNames.snapshotRows, {
        description: 'Snapshot rows (op read) committed to Kafka, per source',
        unit: '{row}',
      })
      .addCallback((result) => {
        for (const s of snapshots()) result.observe(s.published, { ...base, source: s.source })
      })
    meter
      .createObservableGauge(metricNames.snapshotRemaining, {
        description: 'Rows of snapshots in progress not yet committed to Kafka, per source',
        unit: '{row}',
      })
      .addCallback((result) => {
        for (const s of snapshots()) result.observe(s.remaining, { ...base, source: s.source })
      })
  }

  const metrics: EngineMetrics = {
    recordBatch({ rowsBySource, deadLetteredBySource, bytes, commitMs, committedAt }) {
      let rows = 0
      for (const [source, count] of rowsBySource) {
        publishedRows.add(count, { ...base, source })
        rows += count
      }
      for (const [source, count] of deadLetteredBySource ?? []) {
        deadLetterRows.add(count, { ...base, source })
        rows += count
      }
      publishedBytes.add(bytes, base)
      batchRows.record(rows, base)
      commitDuration.record(commitMs, base)
      committed.add(1, base)
      lastCommitSeconds = committedAt.getTime() / 1000
    },
    recordAbort() {
      aborted.add(1, base)
    },
    recordRetry(reason) {
      retries.add(1, { ...base, reason })
    },
  }

  let shutdown: Promise<void> | undefined
  return {
    metrics,
    handle(req, res) {
      if (shutdown) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('# metrics are shut down\n')
        return
      }
      exporter.getMetricsRequestHandler(req, res)
    },
    shutdown() {
      shutdown ??= provider.shutdown()
      return shutdown
    },
  }
}

/**
 * The lag gauges, built fresh on each scrape. Not observable gauges: the SDK keeps exporting an attribute set once
 * observed, with its last value, after callbacks stop observing it (open-telemetry/opentelemetry-js#4096), so a
 * removed source, or a failed `lag()`, would show stale lag forever. A producer reports exactly this scrape's
 * samples. It never rejects: a rejection would fail the whole scrape; errors are returned (and logged by
 * OpenTelemetry's `diag`).
 */
function lagProducer(
  base: Attributes,
  lag: () => LagSample[] | Promise<LagSample[]>,
  timeoutMs: number,
): MetricProducer {
  const gauge = (name: string, description: string, unit: string, points: DataPoint<number>[]): GaugeMetricData => ({
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points,
  })
  return {
    async collect() {
      const resource = emptyResource() // ignored: the reader keeps the SDK's resource
      let samples: LagSample[]
      try {
        samples = await withTimeout(Promise.resolve().then(lag), timeoutMs, 'lag()')
      } catch (error) {
        return { resourceMetrics: { resource, scopeMetrics: [] }, errors: [error] }
      }
      const time = millisToHrTime(Date.now())
      const rows: DataPoint<number>[] = []
      const seconds: DataPoint<number>[] = []
      for (const sample of samples) {
        const attributes = { ...base, source: sample.source }
        rows.push({ startTime: time, endTime: time, attributes, value: sample.rows })
        seconds.push({ startTime: time, endTime: time, attributes, value: sample.seconds })
      }
      if (samples.length === 0) return { resourceMetrics: { resource, scopeMetrics: [] }, errors: [] }
      const metrics = [
        gauge(
          metricNames.lagRows,
          'Changelog rows in ClickHouse not yet committed to Kafka, per source',
          '{row}',
          rows,
        ),
        gauge(
          metricNames.lagSeconds,
          'Age of the oldest changelog row not yet committed to Kafka, per source',
          's',
          seconds,
        ),
      ]
      return { resourceMetrics: { resource, scopeMetrics: [{ scope, metrics }] }, errors: [] }
    },
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The lag gauges' samples: every source, with the rows after the cursor and the age of the oldest of them. */
export function lagSamples(
  pending: ReadonlyArray<{ source: string; rows: number; oldestMillis: number }>,
  sources: readonly string[],
  now = Date.now(),
): LagSample[] {
  const bySource = new Map(pending.map((l) => [l.source, l]))
  return sources.map((source) => {
    const lag = bySource.get(source)
    return { source, rows: lag?.rows ?? 0, seconds: lag?.rows ? Math.max(0, (now - lag.oldestMillis) / 1000) : 0 }
  })
}
