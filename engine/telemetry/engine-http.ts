import type { ClickHouseClient } from '@clickhouse/client'
import { Admin } from '@platformatic/kafka'
import type { KafkaConfig, TelemetryConfig } from '../config/config.js'
import type { EngineState } from '../engine-state.js'
import { kafkaClientOptions } from '../kafka/connection.js'
import { createEngineMetrics, type LagSample, type MetricsHandle } from './engine-metrics.js'
import { type HealthServer, readinessChecks, startHealthServer } from './health-server.js'

export interface EngineHttpOptions {
  telemetry: TelemetryConfig
  kafka: KafkaConfig
  engineId: string
  state: () => EngineState
  fenced: () => boolean
  /** The current producer holds the transactional id (Kafka answered its InitProducerId). */
  claimed: () => boolean
  /** The engine's ClickHouse client, once connected. */
  client: () => ClickHouseClient | undefined
  /** Lag per source, for the lag gauges (scraped). */
  lag: () => Promise<LagSample[]>
  /** Snapshot progress per source, for the snapshot metrics (scraped). */
  snapshots?: () => ReadonlyArray<{ source: string; published: number; remaining: number }>
}

/**
 * The engine's /healthz, /readyz and /metrics: liveness is the engine's state; readiness checks the engine is
 * running and not fenced, and that ClickHouse and Kafka answer. Started before anything else, so probes answer while
 * the engine starts.
 */
export async function startEngineHttp(
  options: EngineHttpOptions,
): Promise<{ http: HealthServer; metrics: MetricsHandle }> {
  const { telemetry, kafka } = options
  const metrics = createEngineMetrics({ engineId: options.engineId, lag: options.lag, snapshots: options.snapshots })
  const http = await startHealthServer({
    host: telemetry.httpHost,
    port: telemetry.httpPort,
    liveness: () => {
      const state = options.state()
      return { alive: state !== 'failed' && state !== 'stopped', detail: state }
    },
    readiness: readinessChecks({
      engine: () => ({ ok: options.state() === 'running', detail: options.state() }),
      fenced: () =>
        options.fenced()
          ? { ok: false, detail: 'fenced by another instance' }
          : options.claimed()
            ? { ok: true, detail: 'holds its transactional id' }
            : { ok: false, detail: 'has not claimed its transactional id yet (Kafka has not answered)' },
      clickhouse: async () => {
        const client = options.client()
        if (!client) return { ok: false, detail: 'not connected yet' }
        await client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json())
        return { ok: true, detail: 'answers' }
      },
      kafka: async () => {
        const admin = new Admin({
          ...kafkaClientOptions(kafka),
          clientId: `${kafka.clientId}-readiness`,
          retries: 0,
          timeout: 1_000,
        })
        try {
          const metadata = await admin.metadata({ topics: [] })
          return { ok: metadata.brokers.size > 0, detail: `${metadata.brokers.size} broker(s)` }
        } finally {
          await admin.close().catch(() => {})
        }
      },
    }),
    metrics: metrics.handle,
  })
  return { http, metrics }
}
