import { join } from 'node:path'
import { engineDefaults, kafkaDefaults, type TailhouseConfig, telemetryDefaults } from '../../engine/config/config.js'
import type { Workload } from './workloads.js'

export interface BenchConfigOptions {
  bootstrap: string
  /** Unique per run: names the engine, its topics and its checkpoint topic. */
  run: string
  runDir: string
  workload: Workload
  delivery: 'exactly-once' | 'at-least-once'
  /** Overrides of engine settings (batch size, poll interval) under test. */
  engine?: Partial<TailhouseConfig['engine']>
  /** The captured source table's database (default {@link benchDatabase}); the table is named after the workload. */
  sourceDatabase?: string
  /** How the source is captured (capture.sources[].mode): view (default) or stream. */
  captureMode?: 'view' | 'stream'
  /**
   * capture.sources[].snapshot. Default never: the live runs measure capture from an empty table, and an initial
   * snapshot taken while their INSERTs begin would be timed with them (the snapshot stage sets initial).
   */
  snapshot?: 'initial' | 'never'
}

/** The source database every benchmark captures from. */
export const benchDatabase = 'bench'

/** tailhouse's configuration for a benchmark run: the documented defaults, with the run's own names. */
export function benchConfig(options: BenchConfigOptions): TailhouseConfig {
  const { run, runDir, workload } = options
  return {
    clickhouse: { url: undefined, username: undefined, password: undefined, database: undefined, dataDir: undefined },
    capture: {
      database: 'tailhouse',
      cluster: undefined,
      retentionDays: 7,
      dedupWindow: 10_000,
      checkSettings: true,
      sources: [
        {
          table: `${options.sourceDatabase ?? benchDatabase}.${workload.name}`,
          exclude: [],
          key: workload.key,
          mode: options.captureMode ?? 'view',
          // Stream mode has no snapshot setting: its stream starts at the table's first row.
          ...(options.captureMode === 'stream' ? {} : { snapshot: options.snapshot ?? 'never' }),
        },
      ],
    },
    protobuf: { schemasDir: join(runDir, 'schemas'), timestamps: 'timestamp', enums: 'enum' },
    kafka: {
      ...kafkaDefaults,
      brokers: [options.bootstrap],
      delivery: options.delivery,
      topicTemplate: `${run}.{database}.{table}`,
      checkpointTopic: `${run}.checkpoints`,
      deadLetterTopic: `${run}.dead-letter`,
    },
    telemetry: { ...telemetryDefaults, http: false },
    engine: { ...engineDefaults, id: run, offsetsPath: join(runDir, 'offsets.sqlite'), ...options.engine },
  }
}

/** The topic tailhouse publishes a workload's rows to. */
export function benchTopic(run: string, workload: Workload): string {
  return `${run}.${benchDatabase}.${workload.name}`
}
