import { describe, expect, inject, it } from 'vitest'
import { readRegistry } from '../../engine/capture/registry.js'
import { createMessageEncoder, type EnvelopeFields } from '../../engine/encoding/row-encoder.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { createEveryTypeTable, insertEveryTypeRows } from '../fixtures/every-type-proto.js'
import { captureFixture } from '../helpers/capture.js'
import { testTopic } from '../helpers/kafka.js'
import { uniqueName } from '../helpers/names.js'
import { expectedJson } from './expected-python.js'
import { runDebeziumReader } from './java.js'
import { publishCommitted } from './publish.js'

/**
 * debezium-json topics read by Debezium's own classes (test/consumers/debezium/DebeziumEventReader.java, jars from
 * Maven Central), read_committed: with `debezium.includeSchema`, Kafka Connect's JsonConverter and Debezium's
 * ExtractNewRecordState transform — what a sink connector runs — unwrap each event; without it, Debezium's
 * DebeziumSerdes reads `op`, `before` and `after`. The every-type rows go as an insert (c), an upsert (u) and a
 * delete (d); every column is compared with the source table's value through the documented mapping.
 */

type Op = EnvelopeFields['op']
const ops: Op[] = ['insert', 'upsert', 'delete']
const debeziumOps = { insert: 'c', upsert: 'u', delete: 'd' } as const

async function everyTypeEvents(includeSchema: boolean) {
  const { kafkaBootstrap } = inject('stack')
  const f = await captureFixture((db) => [{ table: `${db}.every`, exclude: [] }])
  const table = `${f.sourceDb}.every`
  await createEveryTypeTable(f.client, table)
  await f.migrate()
  await insertEveryTypeRows(f.client, table)
  const [version] = await readRegistry(f.client, f.database)
  if (!version) throw new Error('nothing registered')
  const columns = version.columns.map((c) => toCapturedColumn(version.source, c.name, c.type))
  const encoder = createMessageEncoder('debezium-json', {
    protoText: '',
    columns,
    fieldNumbers: version.fieldNumbers,
    options: { timestamps: 'timestamp', enums: 'enum' },
    source: table,
    version: version.version,
    debezium: { includeSchema, serverName: 'tailhouse' },
  })
  const changelog = await f.changelog()
  const messages = changelog.map((captured, i) => ({
    key: String(captured.row.id),
    value: encoder.encode(
      {
        source: table,
        op: ops[i] as Op,
        schemaVersion: captured.schemaVersion,
        partitionId: 'p',
        blockNumber: BigInt(captured.blockNumber),
        blockOffset: BigInt(captured.blockOffset),
        queryId: captured.queryId,
        ingestTimeMicros: 1783339200000001n,
      },
      captured.row,
    ),
  }))
  const topic = await testTopic(kafkaBootstrap, uniqueName('th_dbz'))
  await publishCommitted(kafkaBootstrap, topic, messages, messages.slice(0, 1))
  return { f, table, topic, columns, changelog, kafkaBootstrap }
}

describe('debezium-json read by Debezium', () => {
  it('Kafka Connect JsonConverter and ExtractNewRecordState unwrap every event with its schema', async () => {
    const { f, topic, columns, changelog, kafkaBootstrap } = await everyTypeEvents(true)
    const read = (await runDebeziumReader([kafkaBootstrap, topic, '3', 'schema'])) as Array<{
      key: string
      value: Record<string, unknown>
    }>
    expect(read.map((r) => r.key)).toEqual(['1', '2', '3'])
    for (const [i, record] of read.entries()) {
      const captured = changelog[i]
      if (!captured) throw new Error(`no changelog row ${i}`)
      const op = ops[i] as Op
      expect(record.value).toMatchObject({
        __op: debeziumOps[op as keyof typeof debeziumOps],
        __db: f.sourceDb,
        __table: 'every',
        __query_id: captured.queryId,
        __deleted: op === 'delete' ? 'true' : 'false',
      })
      for (const column of columns) {
        expect
          .soft(record.value[column.name], `row ${captured.row.id}, column ${column.name} (${column.typeName})`)
          .toEqual(expectedJson(column.type, captured.row[column.name], { uint64AsText: true }))
      }
    }
  })

  it('DebeziumSerdes reads op, before and after of the payload-only events', async () => {
    const { topic, columns, changelog, kafkaBootstrap } = await everyTypeEvents(false)
    const read = (await runDebeziumReader([kafkaBootstrap, topic, '3', 'payload'])) as Array<{
      key: string
      op: string
      before: Record<string, unknown> | null
      after: Record<string, unknown> | null
    }>
    expect(read.map((r) => [r.key, r.op])).toEqual([
      ['1', 'c'],
      ['2', 'u'],
      ['3', 'd'],
    ])
    for (const [i, record] of read.entries()) {
      const captured = changelog[i]
      if (!captured) throw new Error(`no changelog row ${i}`)
      const row = record.op === 'd' ? record.before : record.after
      expect(record.op === 'd' ? record.after : record.before).toBeNull()
      for (const column of columns) {
        expect
          .soft(row?.[column.name], `row ${captured.row.id}, column ${column.name} (${column.typeName})`)
          .toEqual(expectedJson(column.type, captured.row[column.name], { uint64AsText: true }))
      }
    }
  })
})
