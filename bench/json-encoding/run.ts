/**
 * Where should the json format's per-row work run (issue 10)? The engine's path today — the changelog read as
 * RowBinary, decoded and printed as the proto3 JSON mapping of Envelope + Row in JavaScript — against ClickHouse
 * building a JSON message per row in the read query (`formatRowNoNewline('JSONEachRow', …)` inside an envelope
 * made with concat). Same changelog, batches of 10,000 in cursor order, two rounds each. Wall time, and CPU µs per
 * row of the main thread (the engine) and of the process (with embedded ClickHouse's threads). The ClickHouse
 * variant is close to, not the same as, the proto3 JSON mapping (README.md, "JSON"): see README.md here.
 *
 *   npx tsx bench/json-encoding/run.ts [rows, default 1000000] [narrow|wide]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import { migrate } from '../../engine/migrate.js'
import { batchOptions, createConverter } from '../../engine/sink/batch-builder.js'
import { cursorParams } from '../../engine/source/changelog-query.js'
import { fetchChangelog, parseChangelog } from '../../engine/source/changelog-source.js'
import { type Cursor, cursorAfter } from '../../engine/source/cursor.js'
import { detectFormatSchemas } from '../../engine/source/format-schemas.js'
import { SourceSchemas } from '../../engine/source/source-schemas.js'
import { benchConfig, benchDatabase } from '../lib/bench-config.js'
import { cpuTime, cpuTimeSince } from '../lib/cpu-time.js'
import { createSourceTable, workloads } from '../lib/workloads.js'

const rows = Number(process.argv[2] ?? 1_000_000)
const workload = workloads[(process.argv[3] ?? 'narrow') as 'narrow' | 'wide']
const runDir = mkdtempSync(join(tmpdir(), 'json-measure-'))
const client = await createClickHouse({ dataDir: join(runDir, 'ch') })
const config = benchConfig({
  bootstrap: '127.0.0.1:9',
  run: 'j',
  runDir,
  workload,
  delivery: 'exactly-once',
  engine: { format: 'json' },
})
await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${benchDatabase}` })
await client.command({ query: createSourceTable(workload, `${benchDatabase}.${workload.name}`) })
if (!(await migrate({ client, config, configDir: runDir })).ok) throw new Error('migrate failed')
for (let first = 0; first < rows; first += 100_000)
  await client.command({
    query: `INSERT INTO ${benchDatabase}.${workload.name} ${workload.select(first + 1, Math.min(100_000, rows - first))}`,
  })
const schemas = new SourceSchemas({
  client,
  database: 'tailhouse',
  format: 'json',
  protobuf: config.protobuf,
  sources: config.capture.sources,
})
await schemas.load()
const source = `${benchDatabase}.${workload.name}`
const formatSchemas = await detectFormatSchemas(client)
const converter = createConverter(schemas, batchOptions(config))

async function jsPath() {
  const query = schemas.query(source)
  let cursor: Cursor = new Map()
  let n = 0
  let bytes = 0
  for (;;) {
    const params = { ...cursorParams(cursor, source), limit: 10_000, partitions: 6 }
    const response = await fetchChangelog(client, query, params, '', 'embedded', formatSchemas)
    const got = parseChangelog(query, response, source)
    if (got.length === 0) break
    let from = cursor
    let rest = got
    while (rest.length > 0) {
      const batch = await converter.convert(rest, from)
      for (const m of batch.messages) bytes += m.value.length
      const used = batch.rows
      rest = rest.slice(used)
      from = batch.cursor
    }
    n += got.length
    cursor = cursorAfter(cursor, got)
  }
  return { n, bytes }
}

// ClickHouse-side: the envelope's JSON per row built in the query (close to, not exactly, the proto3 JSON mapping).
async function sqlPath() {
  const table = `tailhouse.changelog_bench__${workload.name}`
  const cols = workload.columns.map(([c]) => c).join(', ')
  const sql = `SELECT _block_number AS b, _block_offset AS o, toString(customer_id) AS key,
      toUInt32(kafkaMurmurHash(key) % 6) AS partition,
      concat('{"source":"${source}","op":"', toString(__op), '","schemaVersion":', toString(__schema_version),
             ',"queryId":"', __query_id, '","ingestTime":"', formatDateTime(__ingest, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC'),
             '","row":', formatRowNoNewline('JSONEachRow', ${cols}), '}') AS value
    FROM (SELECT _block_number, _block_offset, * FROM ${table}
          WHERE toUInt64(splitByChar('_', _part)[3]) >= {b:UInt64} AND (_block_number, _block_offset) > ({b:UInt64}, {o:UInt64})
          ORDER BY _block_number, _block_offset LIMIT 10000)
    ORDER BY b, o
    SETTINGS output_format_json_quote_64bit_integers = 1, output_format_json_quote_decimals = 1, date_time_output_format = 'iso'
    FORMAT RowBinary`
  let b = 0n
  let o = 0n
  let n = 0
  let bytes = 0
  for (;;) {
    const rs = await client.exec({ query: sql.replaceAll('{b:UInt64}', String(b)).replaceAll('{o:UInt64}', String(o)) })
    const chunks: Buffer[] = []
    for await (const c of rs.stream) chunks.push(c as Buffer)
    const buf = Buffer.concat(chunks)
    if (buf.length === 0) break
    let p = 0
    let got = 0
    const readVar = () => {
      let r = 0
      let s = 0
      for (;;) {
        const x = buf[p++] as number
        r |= (x & 0x7f) << s
        if (x < 128) return r
        s += 7
      }
    }
    while (p < buf.length) {
      b = buf.readBigUInt64LE(p)
      o = buf.readBigUInt64LE(p + 8)
      p += 16
      const kl = readVar()
      p += kl // the key
      p += 4 // partition UInt32
      const vl = readVar()
      const value = buf.subarray(p, p + vl)
      p += vl
      bytes += value.length
      got++
    }
    n += got
  }
  return { n, bytes }
}

for (let round = 0; round < 2; round++) {
  for (const [name, f] of [
    ['js', jsPath],
    ['sql', sqlPath],
  ] as const) {
    const cpu0 = cpuTime()
    const t0 = performance.now()
    const r = await f()
    const wall = (performance.now() - t0) / 1000
    const cpu = cpuTimeSince(cpu0)
    console.log(
      `${workload.name} ${name}: ${r.n} rows in ${wall.toFixed(2)} s = ${Math.round(r.n / wall)} rows/s; main thread ${(((cpu.mainThreadSeconds ?? 0) * 1e6) / r.n).toFixed(1)} µs/row, process ${((cpu.processSeconds * 1e6) / r.n).toFixed(1)} µs/row; ${(r.bytes / r.n).toFixed(0)} B/value`,
    )
  }
}
await client.close()
