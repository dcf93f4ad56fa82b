/**
 * `npm run demo` — the main job, end to end on this machine:
 * the local stack (Kafka, Jaeger, Zipkin) and embedded ClickHouse come up; a sample `shop.orders` table is created
 * and captured (`migrate`); the engine starts in this process, tracing every batch; orders are inserted
 * continuously while a live line shows rows inserted, published and the lag; after a bounded time every inserted
 * row is checked in Kafka — exactly once, in order per key, read_committed — and latency from INSERT to a committed
 * message (seen by a live consumer) is reported as p50/p99. The run ends saying where to look at what it did.
 *
 *   npm run demo                              # 20 s at 2,000 rows/s
 *   npm run demo -- --seconds 60 --rate 10000
 *   npm run demo -- --rate max                # as fast as INSERTs go: throughput
 *   npm run demo -- --keep                    # then keep everything up to look at (Ctrl-C ends it)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Consumer, FetchIsolationLevels } from '@platformatic/kafka'
import { stringify } from 'yaml'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import { engineDefaults, kafkaDefaults, type TailhouseConfig, telemetryDefaults } from '../../engine/config/config.js'
import { type SharedEmbedded, serveEmbeddedClickHouse } from '../../engine/embedded/query-endpoint.js'
import { readToEnd } from '../../engine/kafka/read-to-end.js'
import { stderrLogger } from '../../engine/log.js'
import { migrate } from '../../engine/migrate.js'
import { startEngine } from '../../engine/start-engine.js'
import { describeStack, holdUntilSignal } from '../stack/hold.js'
import { startStack } from '../stack/local-stack.js'
import { repoRoot } from '../stack/paths.js'
import { loadRowType } from './proto-reader.js'
import { whereToLook } from './where-to-look.js'

const { values } = parseArgs({
  options: { seconds: { type: 'string' }, rate: { type: 'string' }, keep: { type: 'boolean' } },
})
const seconds = Number(values.seconds ?? 20)
const rate = values.rate === 'max' ? Number.POSITIVE_INFINITY : Number(values.rate ?? 2000)
const keep = values.keep ?? false
if (!(seconds > 0) || !(rate > 0)) {
  process.stderr.write('demo: --seconds and --rate take positive numbers (--rate also takes max); --keep keeps it up\n')
  process.exit(2)
}

const run = `demo-${Date.now().toString(36)}`
const serviceName = 'tailhouse-demo'
// Each run gets its own embedded ClickHouse directory, removed at the end (.tailhouse/ is git-ignored).
mkdirSync(join(repoRoot, '.tailhouse'), { recursive: true })
const runDir = mkdtempSync(join(repoRoot, '.tailhouse', `${run}-`))
const stack = await startStack()
let exitCode = 1
try {
  process.stdout.write(`\n${describeStack(stack)}\n\n`)
  const clickhouseUrl = process.env.CLICKHOUSE_URL || undefined
  const dataDir = join(runDir, 'clickhouse')
  const client = await createClickHouse({ url: clickhouseUrl, dataDir })
  const config: TailhouseConfig = {
    clickhouse: { url: clickhouseUrl, username: undefined, password: undefined, database: undefined, dataDir },
    capture: {
      database: 'tailhouse',
      cluster: undefined,
      retentionDays: 7,
      dedupWindow: 10_000,
      checkSettings: true,
      sources: [{ table: 'shop.orders', exclude: [], key: ['customer_id'] }],
    },
    protobuf: { schemasDir: join(runDir, 'schemas'), timestamps: 'timestamp', enums: 'enum' },
    kafka: {
      ...kafkaDefaults,
      brokers: [stack.endpoints.kafkaBootstrap],
      topicTemplate: `${run}.{database}.{table}`,
      checkpointTopic: `${run}.checkpoints`,
    },
    // Every batch traced: into Jaeger (the query API `tailhouse trace` reads) and Zipkin (a UI to look at).
    telemetry: {
      ...telemetryDefaults,
      tracing: true,
      otlpEndpoint: stack.endpoints.otlpEndpoint,
      zipkinEndpoint: `${stack.endpoints.zipkinUrl}/api/v2/spans`,
      serviceName,
      httpPort: 0,
    },
    engine: {
      ...engineDefaults,
      id: run,
      offsetsPath: join(runDir, 'offsets.sqlite'),
      pollIntervalMs: 20,
      // The live latency below reads each message's tailhouse.ingest_time_us header (lean headers have none).
      headers: 'full',
    },
  }
  // The same settings as a config file, for the tailhouse commands printed at the end.
  writeFileSync(join(runDir, 'tailhouse.config.yaml'), `# Written by npm run demo (${run}).\n${stringify(config)}`)
  // The engine runs in this process, holding embedded ClickHouse: share it, so that the CLI can use it too.
  const shared: SharedEmbedded | undefined =
    clickhouseUrl === undefined
      ? await serveEmbeddedClickHouse({ client, dataDir, serving: 'npm run demo' })
      : undefined
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS shop' })
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS shop.orders (
      order_id UInt64, customer_id UInt32, amount Decimal(12, 2),
      status Enum8('new' = 1, 'paid' = 2, 'shipped' = 3), created_at DateTime64(3, 'UTC'), items Array(String)
    ) ENGINE = MergeTree ORDER BY order_id
    -- The source's half of the capture contract (README, "The capture boundary"): it deduplicates retried INSERTs.
    SETTINGS non_replicated_deduplication_window = 1000`,
  })
  const migrated = await migrate({ client, config, log: (line) => process.stdout.write(`migrate: ${line}\n`) })
  if (!migrated.ok) throw new Error('migrate failed')

  const engine = await startEngine({ config, client, logger: stderrLogger('warn') })
  const topic = `${run}.shop.orders`
  const latencies: number[] = []
  const consumer = new Consumer({
    clientId: 'tailhouse-demo',
    groupId: `${run}-live`,
    bootstrapBrokers: [stack.endpoints.kafkaBootstrap],
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    maxWaitTime: 50,
  })
  const live = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false })
  live.on('data', (message) => {
    const ingest =
      message.headers.get(Buffer.from('tailhouse.ingest_time_us') as never) ??
      findHeader(message.headers, 'tailhouse.ingest_time_us')
    if (ingest) latencies.push(Date.now() - Number(BigInt(ingest.toString()) / 1000n))
  })

  // The workload: orders for 500 customers, about 20 INSERTs a second (10,000 rows each at --rate max).
  const perInsert = Number.isFinite(rate) ? Math.max(100, Math.round(rate / 20)) : 10_000
  // Rows are counted as inserted when their INSERT is sent, so published never exceeds inserted.
  let inserted = 0
  const started = Date.now()
  process.stdout.write(
    [
      '',
      '  inserted: rows sent in INSERTs; published: rows committed to Kafka; lag rows = inserted - published;',
      "  lag ms: age of the oldest row not yet published, at the engine's last read of the changelog",
      '',
      `  ${'time'.padStart(5)}  ${'inserted'.padStart(9)}  ${'published'.padStart(9)}  ${'lag rows'.padStart(8)}  ${'lag ms'.padStart(6)}`,
      '',
    ].join('\n'),
  )
  const progress = setInterval(() => {
    const s = engine.status()
    const published = Number(s.rowsPublished)
    process.stdout.write(
      `  ${`${((Date.now() - started) / 1000).toFixed(0)} s`.padStart(5)}  ${String(inserted).padStart(9)}  ` +
        `${String(published).padStart(9)}  ${String(inserted - published).padStart(8)}  ${String(s.lagMs).padStart(6)}\n`,
    )
  }, 1000)
  // The application's half of the capture contract (README, "The capture boundary"): every INSERT has its own
  // insert_deduplication_token and is sent again, with it and the same rows, until acknowledged. (An application
  // that can stop mid-INSERT also keeps its unacknowledged INSERTs across a restart: test/chaos/insert-journal.ts.)
  const insertOnce = async (query: string, token: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.command({ query, clickhouse_settings: { insert_deduplication_token: token } })
      } catch (error) {
        if (attempt === 5) throw error
        process.stderr.write(`demo: INSERT ${token} failed (${(error as Error).message}); sending it again\n`)
        await new Promise((r) => setTimeout(r, 200 * attempt))
      }
    }
  }
  while (Date.now() - started < seconds * 1000) {
    const first = inserted + 1
    inserted += perInsert
    // Rows are generated server-side: VALUES with expressions parses too slowly to load the engine. Every value
    // is fixed before the first attempt (created_at too, not now64()), so a retry carries the same rows.
    await insertOnce(
      `INSERT INTO shop.orders
       SELECT number AS order_id, number % 500 AS customer_id, (number % 100000) / 100 AS amount,
              1 + number % 3 AS status, fromUnixTimestamp64Milli(${Date.now()}, 'UTC') AS created_at,
              [concat('sku-', toString(number % 97))] AS items
       FROM numbers(${first}, ${perInsert})`,
      `${run}-orders-${first}`,
    )
    const due = started + (inserted / rate) * 1000
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
  }
  const insertSeconds = (Date.now() - started) / 1000
  while (engine.status().rowsPublished < BigInt(inserted)) await new Promise((r) => setTimeout(r, 20))
  const allPublishedSeconds = (Date.now() - started) / 1000
  clearInterval(progress)
  await new Promise((r) => setTimeout(r, 300))
  await live.close()
  await consumer.close()
  if (!keep) await engine.stop()

  // Verification: read the topic to its end, read_committed; every order exactly once, per customer in order.
  const Row = loadRowType(config.protobuf.schemasDir, 'shop/orders/v1.proto')
  const records = await readToEnd({
    connection: { bootstrapBrokers: [stack.endpoints.kafkaBootstrap], clientId: 'tailhouse-demo' },
    topic,
    isolation: 'committed',
  })
  const seen = new Map<number, number>()
  const lastPerCustomer = new Map<string, number>()
  let outOfOrder = 0
  for (const record of records) {
    const { orderId, customerId } = Row.decodeOrder(record.value as Buffer)
    seen.set(orderId, (seen.get(orderId) ?? 0) + 1)
    const key = `${record.partition}/${customerId}`
    if ((lastPerCustomer.get(key) ?? 0) > orderId) outOfOrder += 1
    lastPerCustomer.set(key, orderId)
  }
  const missing = inserted - seen.size
  const duplicated = [...seen.values()].filter((n) => n > 1).length
  latencies.sort((a, b) => a - b)
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN
  const ok = missing === 0 && duplicated === 0 && outOfOrder === 0 && records.length === inserted
  process.stdout.write(
    [
      '',
      `inserted ${inserted} rows in ${insertSeconds.toFixed(1)} s; all published after ${allPublishedSeconds.toFixed(1)} s`,
      `throughput: ${Math.round(inserted / allPublishedSeconds)} rows/s end to end (INSERT -> committed in Kafka)`,
      `latency INSERT -> committed message (live read_committed consumer, ${latencies.length} messages): ` +
        `p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies.at(-1)} ms`,
      `verification (read_committed, ${records.length} messages): missing ${missing}, duplicated ${duplicated}, out of order per key ${outOfOrder}`,
      ok ? 'PASS: every inserted row is in Kafka exactly once, in order per key' : 'FAIL',
      '',
      '',
    ].join('\n'),
  )
  const sample = records[0]
  const traceparent = sample?.headers.find(([k]) => k?.toString() === 'traceparent')?.[1]?.toString()
  const lookout = {
    live: keep,
    zipkinUrl: stack.endpoints.zipkinUrl,
    jaegerQueryUrl: stack.endpoints.jaegerQueryUrl,
    engineHttpUrl: engine.status().httpUrl,
    kafkaBootstrap: stack.endpoints.kafkaBootstrap,
    topic,
    serviceName,
    message: sample && {
      partition: sample.partition,
      offset: sample.offset,
      traceId: traceparent?.split('-')[1],
    },
    runDir,
  }
  process.stdout.write(`${whereToLook(lookout)}\n\n`)
  exitCode = ok ? 0 : 1
  if (keep) {
    // The stack stops in the finally block below, after the engine and the shared ClickHouse.
    await holdUntilSignal({ ...stack, stop: async () => {} })
    await engine.stop()
  }
  await shared?.close()
  await client.close()
} catch (error) {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`)
} finally {
  await stack.stop()
  rmSync(runDir, { recursive: true, force: true })
}
process.exit(exitCode)

function findHeader(headers: Map<unknown, unknown>, name: string): Buffer | undefined {
  for (const [k, v] of headers) if (String(k) === name) return v as Buffer
  return undefined
}
