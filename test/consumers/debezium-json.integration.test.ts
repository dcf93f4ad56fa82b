import { describe, expect, inject, it } from 'vitest'
import { readRegistry } from '../../engine/capture/registry.js'
import { createMessageEncoder, type EnvelopeFields } from '../../engine/encoding/row-encoder.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { startEngine } from '../../engine/start-engine.js'
import { createEveryTypeTable, insertEveryTypeRows } from '../fixtures/every-type-proto.js'
import { captureFixture } from '../helpers/capture.js'
import { engineFixture, testLogger, waitFor } from '../helpers/engine.js'
import { testTopic } from '../helpers/kafka.js'
import { uniqueName } from '../helpers/names.js'
import { expectedJson } from './expected-python.js'
import { runDebeziumReader } from './java.js'
import { publishCommitted } from './publish.js'

/**
 * debezium-json topics read by Debezium's own classes (test/consumers/debezium/DebeziumEventReader.java, jars from
 * Maven Central), read_committed. With `debezium.includeSchema`, the engine publishes the every-type table and Kafka
 * Connect's JsonConverter and Debezium's ExtractNewRecordState transform — what a sink connector runs — unwrap each
 * event (after an aborted transaction of garbage they must skip). Without it, the encoder's events for an insert
 * (c), an upsert (u) and a delete (d) — ops a MergeTree source never yields — are read by Debezium's DebeziumSerdes
 * (`op`, `before`, `after`). Every column is compared with the source table's value through the documented mapping.
 */

type Op = EnvelopeFields['op']
const ops: Op[] = ['insert', 'upsert', 'delete']

async function encodedEveryTypeEvents() {
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
    debezium: { includeSchema: false, serverName: 'tailhouse' },
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
  it('Kafka Connect JsonConverter and ExtractNewRecordState unwrap every event the engine published', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.every`, exclude: [], key: ['id'] }], {
      format: 'debezium-json',
    })
    f.config.debezium = { includeSchema: true, serverName: 'tailhouse' }
    const table = `${f.sourceDb}.every`
    const topic = f.topic('every')
    await createEveryTypeTable(f.client, table)
    await f.migrate()
    await insertEveryTypeRows(f.client, table)
    const [version] = await readRegistry(f.client, f.database)
    if (!version) throw new Error('nothing registered')
    const columns = version.columns.map((c) => toCapturedColumn(version.source, c.name, c.type))
    const changelog = await f.changelog()
    await testTopic(f.kafkaBootstrap, topic, 1)
    await publishCommitted(f.kafkaBootstrap, topic, [], [{ key: '1', value: Buffer.from('{"not":"an event"') }])
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('3 rows published', () => engine.status().rowsPublished === 3n)
    await engine.stop()

    const read = (await runDebeziumReader([f.kafkaBootstrap, topic, '3', 'schema'])) as Array<{
      key: string
      value: Record<string, unknown>
    }>
    expect(read.map((r) => r.key)).toEqual(['1', '2', '3'])
    for (const [i, record] of read.entries()) {
      const captured = changelog[i]
      if (!captured) throw new Error(`no changelog row ${i}`)
      expect(record.value).toMatchObject({
        __op: 'c',
        __db: f.sourceDb,
        __table: 'every',
        __query_id: captured.queryId,
        __deleted: 'false',
      })
      for (const column of columns) {
        expect
          .soft(record.value[column.name], `row ${captured.row.id}, column ${column.name} (${column.typeName})`)
          .toEqual(expectedJson(column.type, captured.row[column.name], { uint64AsText: true }))
      }
    }
  })

  it('DebeziumSerdes reads op, before and after of the payload-only events', async () => {
    const { topic, columns, changelog, kafkaBootstrap } = await encodedEveryTypeEvents()
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
