import { join } from 'node:path'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { changelogTableName, metaColumns } from '../../engine/capture/changelog-table.js'
import { serveEmbeddedClickHouse } from '../../engine/embedded/query-endpoint.js'
import { startEngine } from '../../engine/start-engine.js'
import { rows } from '../helpers/clickhouse.js'
import { engineFixture, readTopic, testLogger, waitFor } from '../helpers/engine.js'
import { uniqueName } from '../helpers/names.js'
import { type CliResult, runTailhouse } from '../helpers/run-cli.js'
import { repoRoot } from '../stack/paths.js'

/** The test process's embedded ClickHouse (test/helpers/clickhouse.ts), shared so the CLI can look in it. */
const dataDir = join(repoRoot, '.tailhouse', 'test', `clickhouse-${process.pid}`)

/** An engine run traced into the stack's Jaeger and Zipkin: 3 rows of one INSERT, published in one batch. */
async function tracedRun() {
  const { otlpEndpoint, zipkinUrl, jaegerQueryUrl, kafkaBootstrap } = inject('stack')
  const f = await engineFixture((db) => [{ table: `${db}.orders`, exclude: [], key: ['id'] }])
  const service = uniqueName('tailhouse_trace')
  f.config.telemetry = {
    ...f.config.telemetry,
    tracing: true,
    otlpEndpoint,
    zipkinEndpoint: `${zipkinUrl}/api/v2/spans`,
    serviceName: service,
  }
  await f.client.command({
    query: `CREATE TABLE ${f.sourceDb}.orders (id UInt64, amount Decimal(12, 2)) ENGINE = MergeTree ORDER BY id`,
  })
  await f.migrate()
  await f.client.command({ query: `INSERT INTO ${f.sourceDb}.orders VALUES (1, 9.99), (2, 19.99), (3, 0.5)` })
  const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
  await waitFor('3 rows published', () => engine.status().rowsPublished === 3n)
  await engine.stop() // flushes the spans
  const changelog = changelogTableName({ database: f.sourceDb, table: 'orders' })
  const [insert] = await rows<{ query_id: string }>(
    f.client,
    `SELECT DISTINCT ${metaColumns.queryId} AS query_id FROM ${f.database}.${changelog}`,
  )
  const shared = await serveEmbeddedClickHouse({ client: f.client, dataDir, serving: 'the trace test' })
  onTestFinished(() => shared.close())
  const [message] = await readTopic(kafkaBootstrap, f.topic('orders'))
  if (!message || !insert) throw new Error('nothing published')
  const cli = (args: string[]) =>
    runTailhouse(['trace', ...args], {
      TAILHOUSE_CLICKHOUSE_DATA_DIR: dataDir,
      KAFKA_BOOTSTRAP: kafkaBootstrap,
      JAEGER_QUERY_URL: '',
      ZIPKIN_URL: '',
    })
  return { f, service, queryId: insert.query_id, message, jaegerQueryUrl, zipkinUrl, cli }
}

/** Trace stores write asynchronously: runs the command until it succeeds, failing with its last output. */
async function untilFound(what: string, command: () => Promise<CliResult>): Promise<CliResult> {
  let result: CliResult | undefined
  try {
    await waitFor(what, async () => {
      result = await command()
      return result.code === 0
    })
  } catch (error) {
    throw new Error(`${(error as Error).message}; last run: ${JSON.stringify(result)}`)
  }
  return result as CliResult
}

const span = (name: string) => new RegExp(String.raw`^\s*\+\d+\.\d ms\s+\d+\.\d ms  ${name}`, 'm')

describe('tailhouse trace', () => {
  it("draws a message's batch trace from Jaeger, with its INSERT, and says chDB has no query_log", async () => {
    const run = await tracedRun()
    const { message } = run
    const result = await untilFound('the trace in Jaeger', () =>
      run.cli([
        '--topic',
        run.f.topic('orders'),
        '--partition',
        String(message.partition),
        '--offset',
        String(message.offset),
        '--jaeger',
        run.jaegerQueryUrl,
      ]),
    )
    const out = result.stdout
    expect(out).toMatch(
      new RegExp(
        `^message ${run.f.topic('orders')}/${message.partition}@${message.offset} key \\d, INSERT query_id ${run.queryId}$`,
        'm',
      ),
    )
    expect(out).toMatch(
      new RegExp(
        `^trace [0-9a-f]{32} in Jaeger at ${run.jaegerQueryUrl}: 5 spans, \\d+\\.\\d ms, service ${run.service}$`,
        'm',
      ),
    )
    expect(out).toMatch(/^\s*start\s+duration {2}span$/m)
    expect(out).toMatch(
      span('tailhouse\\.batch  tailhouse\\.engine_id=\\S+  tailhouse\\.payload_bytes=\\d+  tailhouse\\.rows=3'),
    )
    expect(out).toMatch(
      span(`├─ tailhouse\\.poll  db\\.collection\\.name=${run.f.sourceDb}\\.orders  db\\.namespace=${run.f.database}`),
    )
    expect(out).toMatch(span('├─ tailhouse\\.encode'))
    expect(out).toMatch(
      span(`├─ publish  .*messaging\\.destination\\.name=${run.f.topic('orders')}.*  <- this message's traceparent$`),
    )
    expect(out).toMatch(span('└─ tailhouse\\.checkpoint'))
    // Children in start order, under the batch.
    const order = ['tailhouse.batch', 'tailhouse.poll', 'tailhouse.encode', 'publish', 'tailhouse.checkpoint'].map(
      (n) => out.indexOf(`${n}`),
    )
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(out).toContain(
      `INSERT query ids of this batch (tailhouse.query_ids; system.query_log's query_id):\n  ${run.queryId}  <- this message's\n`,
    )
    expect(out).toContain(
      'system.query_log: none here: embedded ClickHouse (chDB) keeps no query log: it has no system.query_log table',
    )
  })

  it('finds the batch trace of an INSERT by its query id, in Zipkin too', async () => {
    const run = await tracedRun()
    const result = await untilFound('the trace in Zipkin', () =>
      run.cli(['--query-id', run.queryId, '--zipkin', run.zipkinUrl, '--service', run.service]),
    )
    expect(result.stdout).toMatch(new RegExp(`^INSERT ${run.queryId}: 1 batch trace\\(s\\)$`, 'm'))
    expect(result.stdout).toMatch(new RegExp(`^trace [0-9a-f]{32} in Zipkin at ${run.zipkinUrl}: 5 spans`, 'm'))
    expect(result.stdout).toMatch(span('└─ tailhouse\\.checkpoint'))
    expect(result.stdout).toContain(`  ${run.queryId}  <- the one asked for\n`)

    const unknown = await run.cli([
      '--query-id',
      'no-such-query',
      '--jaeger',
      run.jaegerQueryUrl,
      '--service',
      run.service,
    ])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr.trim()).toMatch(
      new RegExp(
        `^tailhouse: no tailhouse\\.batch trace of service ${run.service} in the last 1h in Jaeger at ${run.jaegerQueryUrl} ` +
          'lists query id no-such-query in tailhouse\\.query_ids \\(of 1 searched\\) \\[TH_TRACE\\]$',
      ),
    )
  })

  it('says why a message has no trace, and what a bad address is', async () => {
    const { kafkaBootstrap, jaegerQueryUrl } = inject('stack')
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    f.config.telemetry = { ...f.config.telemetry, tracing: false }
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (7)` })
    const saved = process.env.OTLP_ENDPOINT
    delete process.env.OTLP_ENDPOINT
    try {
      const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
      await waitFor('1 row published', () => engine.status().rowsPublished === 1n)
      await engine.stop()
    } finally {
      if (saved !== undefined) process.env.OTLP_ENDPOINT = saved
    }
    const [message] = await readTopic(kafkaBootstrap, f.topic('t'))
    const at = (partition: number, offset: bigint | number) =>
      runTailhouse(
        [
          'trace',
          '--topic',
          f.topic('t'),
          '--partition',
          String(partition),
          '--offset',
          String(offset),
          '--jaeger',
          jaegerQueryUrl,
        ],
        { KAFKA_BOOTSTRAP: kafkaBootstrap },
      )
    const untraced = await at(message?.partition ?? 0, message?.offset ?? 0n)
    expect(untraced.code, untraced.stderr).toBe(1)
    expect(untraced.stderr).toMatch(
      /tailhouse: \S+ has no traceparent header: the engine published it with tracing off \(telemetry\.tracing\) or in a batch not sampled \(telemetry\.samplingRatio\); its INSERT's query_id is \S+ \[TH_TRACE\]/,
    )
    const beyond = await at(message?.partition ?? 0, 1000)
    expect(beyond.code).toBe(2)
    expect(beyond.stderr).toMatch(
      new RegExp(
        `tailhouse: ${f.topic('t')}/${message?.partition} has no offset 1000: it holds offsets 0\\.\\.\\d+ \\[TH_USAGE\\]`,
      ),
    )
    const noPartition = await at(99, 0)
    expect(noPartition.stderr).toContain(`tailhouse: topic ${f.topic('t')} has no partition 99; it has 0..2 [TH_USAGE]`)
  })
})
