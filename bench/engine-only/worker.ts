/**
 * The engine's own cost, without ClickHouse: the engine's batch loop (engine/loop/batch-loop.ts) — the same code
 * `tailhouse start` runs — over changelog responses captured beforehand (ReplaySource): parse the response, build
 * the messages, publish each batch with its checkpoint in one transaction (exactly-once) or without
 * (at-least-once), record it in SQLite, with the next batch prepared while the current one commits.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RegisteredVersion } from '../../engine/capture/registry.js'
import { silentLogger } from '../../engine/log.js'
import { BatchLoop } from '../../engine/loop/batch-loop.js'
import { silentObserver } from '../../engine/loop/loop-parts.js'
import { SqliteOffsetStore } from '../../engine/offsets/sqlite-offset-store.js'
import { batchOptions, createConverter } from '../../engine/sink/batch-builder.js'
import { createPublisher } from '../../engine/sink/publisher.js'
import { SourceSchemas } from '../../engine/source/source-schemas.js'
import { benchConfig } from '../lib/bench-config.js'
import { type CpuTime, cpuTime, cpuTimeSince } from '../lib/cpu-time.js'
import { workerMain } from '../lib/worker-main.js'
import { workloads } from '../lib/workloads.js'
import type { CapturedChangelog } from './capture-changelog.js'
import { ReplaySource } from './replay-source.js'

export interface EngineOnlyInput extends CapturedChangelog {
  bootstrap: string
  run: string
  runDir: string
  workload: keyof typeof workloads
  delivery: 'exactly-once' | 'at-least-once'
  rows: number
}

export interface EngineOnlyOutput {
  rows: number
  batches: number
  seconds: number
  cpu: CpuTime
}

workerMain<EngineOnlyInput, EngineOnlyOutput>(async (input, report) => {
  const workload = workloads[input.workload]
  const config = benchConfig({ ...input, workload })
  const registry = JSON.parse(readFileSync(input.registryFile, 'utf8')) as RegisteredVersion[]
  const schemas = SourceSchemas.preloaded(
    { database: 'tailhouse', format: config.engine.format, protobuf: config.protobuf, sources: config.capture.sources },
    registry,
  )
  const offsets = new SqliteOffsetStore(join(input.runDir, 'offsets.sqlite'))
  const publisher = createPublisher({
    logger: silentLogger,
    kafka: config.kafka,
    connection: { clientId: config.kafka.clientId, bootstrapBrokers: [input.bootstrap] },
    engineId: config.engine.id,
    changelog: 'tailhouse',
    changelogId: input.changelogId,
  })
  await publisher.init()
  const loop = new BatchLoop(
    {
      source: new ReplaySource(input.responses, input.query, input.source),
      converter: createConverter(schemas, { ...batchOptions(config), onPoisonRow: 'stop' }),
      // The loop runs until stopped: stop it once every captured row is committed.
      sink: {
        async publish(messages, checkpoint) {
          const committed = await publisher.publish(messages, checkpoint)
          if (checkpoint.rowsTotal >= BigInt(input.rows)) loop.stop()
          return committed
        },
      },
      offsets,
      observer: silentObserver,
      engineId: config.engine.id,
      batchMaxRows: config.engine.batchMaxRows,
      pollIntervalMs: 1,
    },
    { cursor: new Map(), rowsTotal: 0n },
  )

  const cpuBefore = cpuTime()
  const started = performance.now()
  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000
    const rows = Number(loop.position.rowsTotal)
    report.progress(`${elapsed.toFixed(0)} s: committed ${rows} rows (${Math.round(rows / elapsed)} rows/s)`)
  }, 2000)
  try {
    await loop.run()
    const seconds = (performance.now() - started) / 1000
    return {
      rows: Number(loop.position.rowsTotal),
      batches: loop.position.batches,
      seconds,
      cpu: cpuTimeSince(cpuBefore),
    }
  } finally {
    clearInterval(progress)
    await publisher.close()
    offsets.close()
  }
})
