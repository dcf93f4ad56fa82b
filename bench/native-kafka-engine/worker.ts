/**
 * The measured process of bench/native-kafka-engine: embedded ClickHouse (chDB) with a source MergeTree table, a
 * `Kafka` engine table and a materialized view from the one to the other, then the timed INSERTs. Started by run.ts
 * with an IPC channel; one run per process, because chDB binds one data directory per process. It exits as soon as
 * the channel closes, so it never outlives its parent.
 *
 * Messages: parent → worker one {@link WorkerStart}; worker → parent {@link WorkerMessage}s.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { Session } from 'chdb'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import { configXml, kafkaEngineTablesSql, peerSchema, producerSettings } from '../lib/kafka-engine-peer.js'
import { createSourceTable, type Workload, workloads } from '../lib/workloads.js'

export interface WorkerStart {
  type: 'start'
  bootstrap: string
  topic: string
  workload: Workload['name']
  rows: number
  rowsPerInsert: number
}

export type WorkerMessage =
  /** Tables are in place; `at` is the wall clock (ms since the epoch) just before the first INSERT. */
  | { type: 'started'; at: number }
  | { type: 'inserted'; rows: number }
  /** Every INSERT returned. `cpuSeconds` covers the INSERTs only; `peakRssMb` the whole process. */
  | {
      type: 'done'
      at: number
      cpuSeconds: number
      peakRssMb: number
      format: string
      producerSettings: Record<string, string>
    }
  | { type: 'error'; message: string }

const send = (message: WorkerMessage) => process.send?.(message)
/** The run's temporary directory (data, schema, configuration, log), removed however the run ends. */
let work: string | undefined
let finished = false

process.on('disconnect', () => {
  // The parent is gone (or we are done): leave nothing behind.
  if (work) rmSync(work, { recursive: true, force: true })
  process.exit(finished ? 0 : 2)
})
process.once('message', (message: WorkerStart) => {
  const reply = (last: WorkerMessage) => {
    finished = true
    process.send?.(last, undefined, undefined, () => process.disconnect())
  }
  run(message).then(reply, (error: unknown) =>
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  )
})

async function run(start: WorkerStart): Promise<WorkerMessage> {
  const workload = workloads[start.workload]
  work = mkdtempSync(join(tmpdir(), 'tailhouse-bench-native-kafka-'))
  const dataDir = join(work, 'data')
  const schemaFile = join(work, `${workload.name}.proto`)
  const logFile = join(work, 'clickhouse.log')
  const peer = peerSchema(workload)
  writeFileSync(schemaFile, peer.proto)
  writeFileSync(join(work, 'config.xml'), configXml(logFile))
  // The first connection to a data directory starts the embedded server, with this configuration; the client's
  // connection below joins the same server.
  const session = new Session(dataDir, { connectionArgs: [`--config-file=${join(work, 'config.xml')}`] })
  let client: ClickHouseClient | undefined
  try {
    client = await createClickHouse({ dataDir })
    const ch = client
    const step = async (what: string, query: string) => {
      try {
        await ch.command({ query })
      } catch (error) {
        throw new Error(`${what} failed: ${clickHouseMessage(error)}`)
      }
    }
    await step('CREATE DATABASE', 'CREATE DATABASE bench')
    await step('creating the source table', createSourceTable(workload, 'bench.src'))
    const [kafkaTable, view] = kafkaEngineTablesSql({
      workload,
      bootstrap: start.bootstrap,
      topic: start.topic,
      schemaFile,
      source: 'bench.src',
      kafkaTable: 'bench.out',
      view: 'bench.mv',
    })
    await step('creating the Kafka engine table', kafkaTable as string)
    await step('creating the materialized view', view as string)

    const cpuBefore = process.cpuUsage()
    send({ type: 'started', at: performance.timeOrigin + performance.now() })
    for (let first = 0; first < start.rows; first += start.rowsPerInsert) {
      const count = Math.min(start.rowsPerInsert, start.rows - first)
      await step(
        `INSERT of rows ${first}..${first + count - 1} (through the view into the Kafka engine table)`,
        `INSERT INTO bench.src ${workload.select(first, count)}`,
      )
      send({ type: 'inserted', rows: first + count })
    }
    const at = performance.timeOrigin + performance.now()
    const cpu = process.cpuUsage(cpuBefore)
    return {
      type: 'done',
      at,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      format: 'ProtobufSingle (tailhouse Row schema, int64 timestamps)',
      producerSettings: producerSettings(logFile),
    }
  } finally {
    await client?.close().catch(() => {})
    session.close()
    rmSync(work, { recursive: true, force: true })
  }
}

/** ClickHouse's error text without the client's decoration. */
function clickHouseMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/\s+$/, '')
}
