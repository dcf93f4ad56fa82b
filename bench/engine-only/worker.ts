/**
 * The engine's own cost, without ClickHouse: the per-batch path of the engine service over changelog responses
 * captured beforehand — parse the RowBinary response, decode and encode every row (buildBatch), publish the batch
 * with its checkpoint in one transaction (exactly-once) or without (at-least-once), record it in SQLite — with
 * the next batch prepared while the current one commits, as the engine loop does.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RegisteredVersion } from '../../engine/capture/registry.js'
import { silentLogger } from '../../engine/log.js'
import { SqliteOffsetStore } from '../../engine/offsets/sqlite-offset-store.js'
import { type Batch, buildBatch } from '../../engine/sink/batch-builder.js'
import { createPublisher } from '../../engine/sink/publisher.js'
import type { ChangelogRow } from '../../engine/source/changelog-reader.js'
import { parseChangelogRows } from '../../engine/source/changelog-wire.js'
import type { Cursor } from '../../engine/source/cursor.js'
import { SourceSchemas } from '../../engine/source/source-schemas.js'
import { benchConfig } from '../lib/bench-config.js'
import { workerMain } from '../lib/worker-main.js'
import { workloads } from '../lib/workloads.js'
import type { CapturedChangelog } from './capture-changelog.js'

export interface EngineOnlyInput extends CapturedChangelog {
  bootstrap: string
  run: string
  runDir: string
  workload: keyof typeof workloads
  delivery: 'exactly-once' | 'at-least-once'
}

export interface EngineOnlyOutput {
  rows: number
  batches: number
  seconds: number
}

workerMain<EngineOnlyInput, EngineOnlyOutput>(async (input, report) => {
  const workload = workloads[input.workload]
  const config = benchConfig({ ...input, workload })
  // One response file read per batch, as the engine receives one response per poll: memory stays a batch or two.
  const responses = input.responses
  const registry = JSON.parse(readFileSync(input.registryFile, 'utf8')) as RegisteredVersion[]
  const schemas = SourceSchemas.preloaded(
    { database: 'tailhouse', format: config.engine.format, protobuf: config.protobuf, sources: config.capture.sources },
    registry,
  )
  const store = new SqliteOffsetStore(join(input.runDir, 'offsets.sqlite'))
  const publisher = createPublisher({
    logger: silentLogger,
    kafka: config.kafka,
    connection: { clientId: config.kafka.clientId, bootstrapBrokers: [input.bootstrap] },
    engineId: config.engine.id,
    changelog: 'tailhouse.changelog',
  })
  await publisher.init()

  let pending: ChangelogRow[] = []
  let next = 0
  // What the engine does between a read returning and the transaction starting.
  const prepare = async (from: Cursor): Promise<Batch | undefined> => {
    if (pending.length < config.engine.batchMaxRows && next < responses.length)
      pending = pending.concat(parseChangelogRows(readFileSync(responses[next++] as string)))
    if (pending.length === 0) return undefined
    const batch = await buildBatch(pending.slice(0, config.engine.batchMaxRows), from, schemas, {
      topicTemplate: config.kafka.topicTemplate,
      maxBytes: config.engine.batchMaxBytes,
      onPoisonRow: 'stop',
      deadLetterTopic: config.kafka.deadLetterTopic,
    })
    pending = pending.slice(batch.rows)
    return batch
  }

  const started = performance.now()
  let rows = 0
  let batches = 0
  let rowsTotal = 0n
  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000
    report.progress(`${elapsed.toFixed(0)} s: committed ${rows} rows (${Math.round(rows / elapsed)} rows/s)`)
  }, 2000)
  try {
    let batch = await prepare(new Map())
    while (batch) {
      rowsTotal += BigInt(batch.rows)
      const startedAt = performance.now()
      const committed = publisher.publish(batch.messages, { cursor: batch.cursor, rowsTotal })
      const ahead = prepare(batch.cursor)
      ahead.catch(() => {})
      const { commitMs } = await committed
      store.save(config.engine.id, {
        rows: batch.rows,
        bytes: batch.payloadBytes,
        cursor: batch.cursor,
        committedAt: new Date(),
        commitMs: commitMs || performance.now() - startedAt,
      })
      rows += batch.rows
      batches += 1
      batch = await ahead
    }
    return { rows, batches, seconds: (performance.now() - started) / 1000 }
  } finally {
    clearInterval(progress)
    await publisher.close()
    store.close()
  }
})
