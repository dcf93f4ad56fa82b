import type { ClickHouseOptions } from '../clickhouse/options.js'
import { brokersFromEnv } from '../kafka/brokers.js'
import type { TailhouseConfig } from './config.js'
import { clickHouseOptions } from './resolve-clickhouse.js'

/**
 * The config as the engine uses it: the file's values with the environment's overrides applied, once, in one place —
 * `KAFKA_BOOTSTRAP` for kafka.brokers, `OTLP_ENDPOINT` (which also turns tracing on) for telemetry, the
 * `CLICKHOUSE_*` variables for the connection. Nothing downstream reads the environment again.
 */
export interface EffectiveConfig extends TailhouseConfig {
  /** Where ClickHouse is: a server URL with credentials and TLS, or the embedded engine's data directory. */
  clickhouseOptions: ClickHouseOptions
}

export function resolveConfig(config: TailhouseConfig, env: NodeJS.ProcessEnv = process.env): EffectiveConfig {
  const otlp = env.OTLP_ENDPOINT || undefined
  return {
    ...config,
    kafka: { ...config.kafka, brokers: brokersFromEnv(config.kafka.brokers, env) },
    telemetry: {
      ...config.telemetry,
      tracing: config.telemetry.tracing || otlp !== undefined,
      otlpEndpoint: otlp ?? config.telemetry.otlpEndpoint,
    },
    clickhouseOptions: clickHouseOptions(config.clickhouse, env),
  }
}
