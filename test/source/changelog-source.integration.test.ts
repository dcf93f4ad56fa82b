import { compatibilityPartitioner } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { envelopeProto } from '../../engine/schema/envelope-proto.js'
import { ChangelogSource } from '../../engine/source/changelog-source.js'
import type { ChangelogRow } from '../../engine/source/changelog-wire.js'
import { type Cursor, cursorAfter, cursorKey } from '../../engine/source/cursor.js'
import { detectFormatSchemas } from '../../engine/source/format-schemas.js'
import { SourceSchemas } from '../../engine/source/source-schemas.js'
import { captureFixture } from '../helpers/capture.js'
import { loadProto } from '../schema/load-proto.js'

async function sourceOf(f: Awaited<ReturnType<typeof captureFixture>>, format: 'protobuf' | 'json', partitions = 6) {
  const schemas = new SourceSchemas({
    client: f.client,
    database: f.database,
    format,
    protobuf: f.config.protobuf,
    sources: f.config.capture.sources,
  })
  await schemas.load()
  return new ChangelogSource({
    client: f.client,
    database: f.database,
    schemas,
    target: 'test',
    partitionsOf: async () => partitions,
    formatSchemas: await detectFormatSchemas(f.client),
  })
}

async function readAll(source: ChangelogSource, from: Cursor = new Map()): Promise<ChangelogRow[]> {
  const all: ChangelogRow[] = []
  let cursor = from
  for (;;) {
    const rows = await source.read(cursor, 1000)
    if (rows.length === 0) return all
    all.push(...rows)
    cursor = cursorAfter(cursor, rows)
  }
}

describe('ChangelogSource on embedded ClickHouse', () => {
  it('reads exactly the rows after the cursor, in block order, also from parts merged across the cursor', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    expect((await f.migrate()).ok).toBe(true)
    // Twelve INSERTs of 5 rows: twelve blocks. Merge them into one part, then add two more unmerged blocks.
    for (let i = 0; i < 12; i++)
      await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t SELECT number FROM numbers(${i * 5}, 5)` })
    await f.client.command({ query: `OPTIMIZE TABLE ${f.database}.changelog_${f.sourceDb}__t FINAL` })
    for (let i = 12; i < 14; i++)
      await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t SELECT number FROM numbers(${i * 5}, 5)` })

    for (const format of ['protobuf', 'json'] as const) {
      const source = await sourceOf(f, format)
      const all = await source.read(new Map(), 1000)
      expect(all).toHaveLength(70)
      const blocks = [...new Set(all.map((r) => r.blockNumber))]
      expect(blocks).toEqual([...blocks].sort((a, b) => Number(a - b)))
      expect(blocks).toHaveLength(14)
      expect(all.every((r) => (format === 'protobuf' ? r.value !== undefined : r.payload !== undefined))).toBe(true)

      // A cursor inside the merged part (block 6 of 12, offset 2) and one at the last merged block: the prune on
      // the part's block range must keep the merged part whenever any of its rows is after the cursor.
      const stream = cursorKey(`${f.sourceDb}.t`, 'all')
      for (const [blockIndex, offset, expected] of [
        [5, 2n, 70 - 5 * 5 - 3],
        [11, 4n, 10],
        [13, 4n, 0],
      ] as const) {
        const cursor: Cursor = new Map([[stream, { blockNumber: blocks[blockIndex] as bigint, blockOffset: offset }]])
        const after = await sourceOf(f, format).then((s) => readAll(s, cursor))
        expect(after).toHaveLength(expected)
        expect(await source.pendingRows(cursor)).toBe(expected)
        const expectedIds = all.slice(70 - expected).map((r) => `${r.blockNumber}/${r.blockOffset}`)
        expect(after.map((r) => `${r.blockNumber}/${r.blockOffset}`)).toEqual(expectedIds)
      }
    }
  })

  it('reads the rest of a block cut short even when a dropped read of it ends after unfinished()', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    expect((await f.migrate()).ok).toBe(true)
    // One INSERT: one block of 10 rows, so the only part's max block is the cursor's own block throughout.
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t SELECT number FROM numbers(10)` })
    const source = await sourceOf(f, 'protobuf')
    const first = await source.read(new Map(), 6)
    expect(first).toHaveLength(6)
    // The batch of those 6 is cut after 3 (by bytes). A read from the end of the 6 (the loop's read ahead) is in
    // flight when the loop says the table holds more; it ends later, with fewer than a full batch.
    const dropped = source.read(cursorAfter(new Map(), first), 6)
    source.unfinished(`${f.sourceDb}.t`)
    expect(await dropped).toHaveLength(4)
    const rest = await source.read(cursorAfter(new Map(), first, 3), 6)
    expect(rest.map((r) => r.blockOffset)).toEqual([3n, 4n, 5n, 6n, 7n, 8n])
  })

  it('takes turns between sources, and finds rows inserted after it had read everything', async () => {
    const f = await captureFixture((db) => [
      { table: `${db}.a`, exclude: [] },
      { table: `${db}.b`, exclude: [] },
    ])
    for (const t of ['a', 'b'])
      await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.${t} (id UInt64) ENGINE = MergeTree ORDER BY id` })
    expect((await f.migrate()).ok).toBe(true)
    for (const t of ['a', 'b'])
      await f.client.command({ query: `INSERT INTO ${f.sourceDb}.${t} SELECT number FROM numbers(25)` })
    const source = await sourceOf(f, 'protobuf')
    let cursor: Cursor = new Map()
    const order: string[] = []
    for (;;) {
      const rows = await source.read(cursor, 10)
      if (rows.length === 0) break
      order.push(`${rows[0]?.source.slice(-1)}${rows.length}`)
      cursor = cursorAfter(cursor, rows)
    }
    expect(order).toEqual(['a10', 'b10', 'a10', 'b10', 'a5', 'b5'])
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.b VALUES (100)` })
    const more = await source.read(cursor, 10)
    expect(more.map((r) => [r.source, r.blockOffset])).toEqual([[`${f.sourceDb}.b`, 0n]])
  })

  it('computes the key and its partition as the engine and Java clients do, for every key type', async () => {
    const keyTypes: Array<[string, string, string]> = [
      ['i', 'Int64', '-9223372036854775808'],
      ['u', 'UInt32', '4294967295'],
      ['s', 'String', '\'sl/ash "quoted" é\\n\''],
      ['fs', 'FixedString(3)', "'ab'"],
      ['b', 'Bool', 'true'],
      ['uu', 'UUID', "'00112233-4455-6677-8899-aabbccddeeff'"],
      ['ip4', 'IPv4', "'1.2.3.4'"],
      ['ip6', 'IPv6', "'2001:db8::1'"],
      ['e', "Enum8('neg' = -1, 'two' = 2)", "'neg'"],
      ['d', 'Date', "'2024-01-31'"],
      ['d32', 'Date32', "'1900-01-01'"],
      ['dt', "DateTime('Europe/Berlin')", "'2024-01-31 12:00:00'"],
      ['dt64', "DateTime64(3, 'UTC')", "'1969-12-31 23:59:59.500'"],
      ['dec', 'Decimal(12, 4)', '-1.5'],
      ['n', 'Nullable(Int32)', 'NULL'],
      ['lc', 'LowCardinality(String)', "'low'"],
    ]
    const f = await captureFixture((db) => [
      ...keyTypes.map(([name]) => ({ table: `${db}.k_${name}`, exclude: [], key: [name] })),
      { table: `${db}.multi`, exclude: [], key: ['s', 'i', 'n'] },
    ])
    for (const [name, type] of keyTypes) {
      await f.client.command({
        query: `CREATE TABLE ${f.sourceDb}.k_${name} (id UInt8, ${name} ${type}) ENGINE = MergeTree ORDER BY id`,
      })
    }
    await f.client.command({
      query: `CREATE TABLE ${f.sourceDb}.multi (id UInt8, s String, i Int64, n Nullable(Int32)) ENGINE = MergeTree ORDER BY id`,
    })
    expect((await f.migrate()).ok).toBe(true)
    for (const [name, , value] of keyTypes)
      await f.client.command({ query: `INSERT INTO ${f.sourceDb}.k_${name} VALUES (1, ${value})` })
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.multi VALUES (1, 'a"b\\\\c/d', -5, NULL)` })

    const expectedKeys: Record<string, string> = {
      i: '-9223372036854775808',
      u: '4294967295',
      s: 'sl/ash "quoted" é\n',
      fs: 'ab', // ClickHouse's text of a FixedString drops its trailing zero bytes
      b: 'true',
      uu: '00112233-4455-6677-8899-aabbccddeeff',
      ip4: '1.2.3.4',
      ip6: '2001:db8::1',
      e: 'neg',
      d: '2024-01-31',
      d32: '1900-01-01',
      dt: '2024-01-31 11:00:00',
      dt64: '1969-12-31 23:59:59.500',
      dec: '-1.5000',
      n: 'null',
      lc: 'low',
      multi: '["a\\"b\\\\c/d","-5","null"]',
    }
    const partitions = 7
    const protobufRows = await readAll(await sourceOf(f, 'protobuf', partitions))
    const jsonRows = await readAll(await sourceOf(f, 'json', partitions))
    // The engine's own key for rows it decodes itself (messageKey), from the rowbinary read of the same rows.
    const schemas = new SourceSchemas({
      client: f.client,
      database: f.database,
      format: 'json',
      protobuf: f.config.protobuf,
      sources: f.config.capture.sources,
    })
    await schemas.load()
    const { messageKey } = await import('../../engine/source/message-key.js')
    for (const [name, expected] of Object.entries(expectedKeys)) {
      const source = `${f.sourceDb}.${name === 'multi' ? 'multi' : `k_${name}`}`
      const fromProtobuf = protobufRows.find((r) => r.source === source)
      const fromJson = jsonRows.find((r) => r.source === source) as ChangelogRow
      expect.soft(fromProtobuf?.key?.toString('utf8'), name).toBe(expected)
      expect.soft(fromJson.key?.toString('utf8'), name).toBe(expected)
      const schema = await schemas.version(source, 1)
      expect
        .soft(messageKey(schema.decode(fromJson.payload as Buffer), schema.keys)?.toString('utf8'), name)
        .toBe(expected)
      // Java's default partitioner: murmur2 of the key bytes, positive, modulo the partitions.
      const java = compatibilityPartitioner(undefined as never, Buffer.from(expected))
      expect.soft(fromProtobuf?.partition, name).toBe(java % partitions)
    }

    // The value ClickHouse wrote is the Envelope consumers decode with envelope.proto.
    const { root } = loadProto(envelopeProto().text)
    const Envelope = root.lookupType('tailhouse.v1.Envelope')
    const row = protobufRows.find((r) => r.source === `${f.sourceDb}.multi`) as ChangelogRow
    const envelope = Envelope.toObject(Envelope.decode(row.value as Buffer), { longs: String, enums: String })
    expect(envelope).toMatchObject({
      source: `${f.sourceDb}.multi`,
      op: 'OP_INSERT',
      schema_version: 1,
      cursor: { partition_id: 'all', block_number: String(row.blockNumber) },
      query_id: row.queryId,
      ingest_time: { seconds: String(row.ingestMicros / 1_000_000n) },
    })
  })
})
