/**
 * Which payload encoding should the capture view use? For each candidate `formatRow` format this
 * measures, on embedded ClickHouse: the INSERT cost the view adds to the source INSERT, the changelog's bytes
 * on disk, and the engine's cost to decode a payload back to values in Node.
 *
 *   npx tsx bench/payload-encoding/run.ts            # ROWS=1000000 by default
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import { createRowDecoder } from '../../engine/encoding/rowbinary-decoder.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'

const rowsCount = Number(process.env.ROWS ?? 1_000_000)
const columns = [
  ['id', 'UInt64'],
  ['customer', 'String'],
  ['amount', 'Decimal(18, 2)'],
  ['status', "Enum8('new' = 1, 'paid' = 2, 'shipped' = 3)"],
  ['created_at', "DateTime64(6, 'UTC')"],
  ['score', 'Float64'],
] as const
const formats = ['RowBinary', 'JSONEachRow', 'TabSeparated', 'CSV'] as const

const client = await createClickHouse({ dataDir: mkdtempSync(join(tmpdir(), 'tailhouse-bench-payload-')) })
await client.command({ query: 'CREATE DATABASE bench' })
await client.command({
  query: `CREATE TABLE bench.src (${columns.map(([n, t]) => `${n} ${t}`).join(', ')}) ENGINE = Null`,
})
const generator = `SELECT number AS id, concat('customer-', toString(number % 5000)) AS customer,
  toDecimal64(number % 100000 / 100, 2) AS amount, ['new','paid','shipped'][number % 3 + 1] AS status,
  toDateTime64('2026-01-01 00:00:00', 6, 'UTC') + toIntervalMicrosecond(number * 1000) AS created_at,
  number / 7 AS score FROM numbers(${rowsCount})`

// Baseline: the source INSERT with no view at all.
const base = await timed(() => client.command({ query: `INSERT INTO bench.src ${generator}` }))
console.log(`rows ${rowsCount}; INSERT into the source without a view: ${base.toFixed(0)} ms`)
console.log('format        insert+view ms  view overhead ms  changelog bytes/row  decode rows/s (Node)')
const names = columns.map(([n]) => n).join(', ')
for (const format of formats) {
  const table = `bench.cl_${format.toLowerCase()}`
  await client.command({
    query: `CREATE TABLE ${table} (payload String CODEC(ZSTD(1))) ENGINE = MergeTree ORDER BY tuple()
            SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1`,
  })
  await client.command({
    query: `CREATE MATERIALIZED VIEW bench.mv_${format.toLowerCase()} TO ${table}
            AS SELECT formatRow('${format}', ${names}) AS payload FROM bench.src`,
  })
  const ms = await timed(() => client.command({ query: `INSERT INTO bench.src ${generator}` }))
  await client.command({ query: `DROP VIEW bench.mv_${format.toLowerCase()}` })
  await client.command({ query: `OPTIMIZE TABLE ${table} FINAL` })
  const sizes = await client.query({
    query: `SELECT sum(data_compressed_bytes) AS b FROM system.columns WHERE database = 'bench' AND table = 'cl_${format.toLowerCase()}'`,
    format: 'JSONEachRow',
  })
  const [size] = await sizes.json<{ b: string }>()
  const decodeRate = await decodeThroughput(table, format)
  console.log(
    `${format.padEnd(14)}${ms.toFixed(0).padStart(14)}${(ms - base).toFixed(0).padStart(18)}${(Number(size?.b) / rowsCount).toFixed(2).padStart(21)}${decodeRate.padStart(22)}`,
  )
}
await client.close()

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

/** Decodes 200k payloads as the engine would: RowBinary with our decoder, JSON with JSON.parse; text formats are not decoded (no typed decoder). */
async function decodeThroughput(table: string, format: string): Promise<string> {
  if (format !== 'RowBinary' && format !== 'JSONEachRow') return 'n/a'
  const result = await client.query({
    query: `SELECT hex(payload) AS p FROM ${table} LIMIT 200000`,
    format: 'JSONEachRow',
  })
  const payloads = (await result.json<{ p: string }>()).map((r) => Buffer.from(r.p, 'hex'))
  const decode =
    format === 'RowBinary'
      ? createRowDecoder(columns.map(([n, t]) => ({ name: n, type: toCapturedColumn('bench.src', n, t).type })))
      : (p: Uint8Array) => JSON.parse(Buffer.from(p).toString('utf8')) as Record<string, unknown>
  const start = performance.now()
  for (let round = 0; round < 5; round++) for (const p of payloads) decode(p)
  return `${Math.round((payloads.length * 5) / ((performance.now() - start) / 1000)).toLocaleString('en-US')}`
}
