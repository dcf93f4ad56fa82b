/**
 * The measured process of bench/capture-overhead: one embedded ClickHouse (chDB) holding four copies of a
 * workload's source table — without capture, captured by tailhouse's own `migrate` in view mode and in stream mode,
 * and feeding ClickHouse's Kafka engine through a materialized view — and the interleaved INSERTs, each followed by
 * a wait for the merges it caused.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { Session } from 'chdb'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import { migrate } from '../../engine/migrate.js'
import { benchConfig } from '../lib/bench-config.js'
import { configXml, kafkaEngineTablesSql, peerSchema } from '../lib/kafka-engine-peer.js'
import { workerMain } from '../lib/worker-main.js'
import { createSourceTable, type Workload, workloads } from '../lib/workloads.js'
import { calibratePollCpu, waitForMerges } from './merge-watch.js'

export interface CaptureOverheadInput {
  bootstrap: string
  /** The Kafka engine's topic (created by the parent). */
  topic: string
  runDir: string
  workload: Workload['name']
  rows: number
  rowsPerInsert: number
}

export const variants = ['baseline', 'tailhouse', 'tailhouseStream', 'kafkaEngine'] as const
export type Variant = (typeof variants)[number]

export interface VariantCost {
  /** Wall time of the INSERTs. */
  insertSeconds: number
  /** Per INSERT, from its end until the last merge of the variant's tables was seen running; summed. */
  mergeSeconds: number
  /** Process CPU (all threads) from each INSERT's start to the end of the quiet period after it, minus the polls. */
  cpuSeconds: number
}

export interface CaptureOverheadOutput {
  rounds: number
  /** Untimed rows inserted into each variant first, two INSERTs of `rowsPerInsert` (ids after the timed ones). */
  warmUpRows: number
  costs: Record<Variant, VariantCost>
  /** CPU µs per poll of an idle wait (see calibratePollCpu); subtracted per poll from `cpuSeconds`. */
  pollCpuMicros: number
  /** Polls, all variants, in which a merge of another variant's tables was running (started late). */
  otherMergePolls: number
  /** After the run: rows in each source table, and in tailhouse's capture database (changelog and registry). */
  sourceRows: Record<Variant, number>
  capturedRows: number
}

/** BENCH_OVERHEAD_VERBOSE=1: a line per INSERT. */
const verbose = process.env.BENCH_OVERHEAD_VERBOSE === '1'

/** One database per variant, so that merges are told apart by database, never by table name. */
const databases: Record<Variant, string> = {
  baseline: 'overhead_baseline',
  tailhouse: 'overhead_tailhouse',
  tailhouseStream: 'overhead_tailhouse_stream',
  kafkaEngine: 'overhead_kafka_engine',
}

workerMain<CaptureOverheadInput, CaptureOverheadOutput>(async (input, report) => {
  const workload = workloads[input.workload]
  mkdirSync(input.runDir, { recursive: true })
  const dataDir = join(input.runDir, 'clickhouse')
  const configFile = join(input.runDir, 'config.xml')
  // The Kafka engine's producer settings (as in bench/native-kafka-engine), no server log: all three variants run
  // in this server, so it is configured once for all of them.
  writeFileSync(configFile, configXml())
  // The first connection to a data directory starts the embedded server with this configuration; the client joins it.
  const session = new Session(dataDir, { connectionArgs: [`--config-file=${configFile}`] })
  const client = await createClickHouse({ dataDir })
  try {
    const config = benchConfig({
      bootstrap: input.bootstrap,
      run: 'capture-overhead',
      runDir: input.runDir,
      workload,
      delivery: 'exactly-once',
      sourceDatabase: databases.tailhouse,
    })
    const captureDatabase = config.capture.database
    const table = (variant: Variant) => `${databases[variant]}.${workload.name}`
    for (const variant of variants) {
      await client.command({ query: `CREATE DATABASE ${databases[variant]}` })
      await client.command({ query: createSourceTable(workload, table(variant)) })
    }
    // The same capture database holds the stream-mode source's registry row: stream mode installs nothing else
    // (its cost to the INSERTs is the two block columns migrate turns on).
    const [streamSource] = benchConfig({
      bootstrap: input.bootstrap,
      run: 'capture-overhead',
      runDir: input.runDir,
      workload,
      delivery: 'exactly-once',
      sourceDatabase: databases.tailhouseStream,
      captureMode: 'stream',
    }).capture.sources
    if (streamSource) config.capture.sources.push(streamSource)
    const migrated = await migrate({ client, config, configDir: input.runDir })
    if (!migrated.ok) throw new Error('tailhouse migrate failed')
    const schemaFile = join(input.runDir, `${workload.name}-peer.proto`)
    writeFileSync(schemaFile, peerSchema(workload).proto)
    for (const query of kafkaEngineTablesSql({
      workload,
      bootstrap: input.bootstrap,
      topic: input.topic,
      schemaFile,
      source: table('kafkaEngine'),
      kafkaTable: `${databases.kafkaEngine}.out`,
      view: `${databases.kafkaEngine}.to_kafka`,
    }))
      await client.command({ query })

    const own: Record<Variant, string[]> = {
      baseline: [databases.baseline],
      tailhouse: [databases.tailhouse, captureDatabase],
      tailhouseStream: [databases.tailhouseStream],
      kafkaEngine: [databases.kafkaEngine],
    }
    const watched = [...Object.values(databases), captureDatabase]

    const insert = (variant: Variant, first: number, count: number) =>
      client.command({ query: `INSERT INTO ${table(variant)} ${workload.select(first, count)}` })
    // Two untimed rounds first: the first INSERTs of a fresh server cost more than later ones, once (the 4th INSERT
    // of a run used 1.4–1.8× the CPU of later ones of its variant, whichever variant it was, also 5 s after the 3rd).
    const warmUpRounds = 2
    const warmUpRows = warmUpRounds * input.rowsPerInsert
    for (let round = 0; round < warmUpRounds; round++)
      for (const variant of variants) {
        await insert(variant, input.rows + round * input.rowsPerInsert, input.rowsPerInsert)
        await waitForMerges(client, watched, watched)
      }
    const pollCpuMicros = await calibratePollCpu(client, watched)

    const costs = Object.fromEntries(
      variants.map((v) => [v, { insertSeconds: 0, mergeSeconds: 0, cpuSeconds: 0 }]),
    ) as Record<Variant, VariantCost>
    let otherMergePolls = 0
    const rounds = Math.ceil(input.rows / input.rowsPerInsert)
    for (let round = 0; round < rounds; round++) {
      const first = round * input.rowsPerInsert
      const count = Math.min(input.rowsPerInsert, input.rows - first)
      // Rotated per round, so no variant always goes first.
      const order = variants.map((_, i) => variants[(i + round) % variants.length] as Variant)
      for (const variant of order) {
        const cpuBefore = process.cpuUsage()
        const started = performance.now()
        await insert(variant, first, count)
        const inserted = performance.now()
        const wait = await waitForMerges(client, own[variant], watched)
        const cpu = process.cpuUsage(cpuBefore)
        const cost = costs[variant]
        cost.insertSeconds += (inserted - started) / 1000
        cost.mergeSeconds += ((wait.lastOwnMergeAt ?? inserted) - inserted) / 1000
        cost.cpuSeconds += Math.max(0, cpu.user + cpu.system - wait.polls * pollCpuMicros) / 1e6
        otherMergePolls += wait.otherMergePolls
        if (verbose)
          report.progress(
            `  ${variant}: INSERT ${ms(inserted - started)} + merges ${ms((wait.lastOwnMergeAt ?? inserted) - inserted)}, ` +
              `CPU ${ms((cpu.user + cpu.system) / 1000)} in ${wait.polls} polls`,
          )
      }
      report.progress(`${workload.name}: round ${round + 1}/${rounds}, ${describe(costs)}`)
    }
    report.progress(
      `${workload.name}: ${Math.round(pollCpuMicros)} µs CPU per poll (idle), ${otherMergePolls} polls saw another variant's merge`,
    )

    const sourceRows = Object.fromEntries(
      await Promise.all(variants.map(async (v) => [v, await count(client, `SELECT count() FROM ${table(v)}`)])),
    ) as Record<Variant, number>
    const capturedRows = await count(
      client,
      `SELECT sum(rows) FROM system.parts WHERE active AND database = '${captureDatabase}'`,
    )
    const expected = input.rows + warmUpRows
    for (const variant of variants)
      if (sourceRows[variant] !== expected)
        throw new Error(`${table(variant)} holds ${sourceRows[variant]} rows, not ${expected}`)
    if (capturedRows < expected)
      throw new Error(`capture database ${captureDatabase} holds ${capturedRows} rows, fewer than ${expected} inserted`)
    // Stream mode captured by its block columns: every row of the table carries its INSERT position.
    const positioned = await count(
      client,
      `SELECT uniqExact(_block_number, _block_offset) FROM ${table('tailhouseStream')}`,
    )
    if (positioned !== expected)
      throw new Error(`${table('tailhouseStream')} has ${positioned} distinct block positions for ${expected} rows`)
    return { rounds, warmUpRows, costs, pollCpuMicros, otherMergePolls, sourceRows, capturedRows }
  } finally {
    await client.close()
    session.close()
  }
})

function describe(costs: Record<Variant, VariantCost>): string {
  const total = (v: Variant) => costs[v].insertSeconds + costs[v].mergeSeconds
  return variants
    .map((v) => {
      const ratio = v === 'baseline' ? '' : ` (${(total(v) / total('baseline')).toFixed(2)}×)`
      return `${v} ${costs[v].insertSeconds.toFixed(2)} + ${costs[v].mergeSeconds.toFixed(2)} s merges${ratio}`
    })
    .join(', ')
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`
}

async function count(client: ClickHouseClient, query: string): Promise<number> {
  const result = await client.query({ query, format: 'TabSeparated' })
  return Number((await result.text()).trim())
}
