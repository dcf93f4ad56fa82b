import { describe, expect, inject, it } from 'vitest'
import { readRegistry } from '../../engine/capture/registry.js'
import { registryDefaults } from '../../engine/config/config.js'
import type { RegistryFormat } from '../../engine/registry/source-schema.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { startEngine } from '../../engine/start-engine.js'
import { createEveryTypeTable, expected, insertEveryTypeRows } from '../fixtures/every-type-proto.js'
import { rows } from '../helpers/clickhouse.js'
import { engineFixture, testLogger, waitFor } from '../helpers/engine.js'
import { testTopic } from '../helpers/kafka.js'
import { expectedAvro, expectedJson, protoCanonical } from './expected-python.js'
import { publishCommitted } from './publish.js'
import { runPython } from './python.js'

/**
 * Consumers the project did not write decode tailhouse topics in one step: Python's confluent-kafka with its
 * schema-registry deserializers (AvroDeserializer, JSONDeserializer, ProtobufDeserializer) reads, read_committed,
 * the topic the engine published the every-type table's rows to in each registry format: `migrate` registered the
 * schema in the local stack's registry (Apicurio), `start` framed every value with its id. Every column of every
 * row is compared with the source table's value (the changelog row, decoded) through the format's documented
 * mapping, or, for Protobuf (values ClickHouse encoded, framed by the engine), with the proto fixture's values
 * written out by hand. An aborted transaction of garbage precedes the engine's messages: read_committed skips it.
 */

interface Decoded {
  key: string
  value: { row: Record<string, unknown> } & Record<string, unknown>
}

describe('Python confluent-kafka consumers with registry deserializers', () => {
  it.each<RegistryFormat>(['avro', 'json-schema', 'protobuf'])(
    'decode every type of the every-type table from a %s topic the engine published',
    async (format) => {
      const { schemaRegistryUrl } = inject('stack')
      const f = await engineFixture((db) => [{ table: `${db}.every`, exclude: [], key: ['id'] }], { format })
      f.config.registry = { ...registryDefaults, url: schemaRegistryUrl }
      const table = `${f.sourceDb}.every`
      const topic = f.topic('every')
      await createEveryTypeTable(f.client, table)
      const migrateLog: string[] = []
      await f.migrate({ log: (line) => migrateLog.push(line) })
      expect(migrateLog.join('\n')).toContain(`registered in the schema registry as ${topic}-value`)
      await insertEveryTypeRows(f.client, table)
      const changelog = await f.changelog()
      const [version] = await readRegistry(f.client, f.database)
      if (!version) throw new Error('nothing registered')
      const columns = version.columns.map((c) => toCapturedColumn(version.source, c.name, c.type))

      await testTopic(f.kafkaBootstrap, topic, 3)
      await publishCommitted(f.kafkaBootstrap, topic, [], [{ key: '1', value: Buffer.from('not a tailhouse value') }])
      const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
      await waitFor('3 rows published', () => engine.status().rowsPublished === 3n)
      await engine.stop()

      const decoded = (await runPython('confluent_consumer.py', [
        '--bootstrap',
        f.kafkaBootstrap,
        '--registry',
        schemaRegistryUrl,
        '--topic',
        topic,
        '--format',
        format,
        '--count',
        String(changelog.length),
      ])) as Decoded[]

      // As many rows as the source table holds, each once.
      const [{ count } = { count: '0' }] = await rows<{ count: string }>(
        f.client,
        `SELECT count() AS count FROM ${table}`,
      )
      expect(decoded).toHaveLength(Number(count))
      expect(decoded.map((d) => d.key).sort()).toEqual(['1', '2', '3'])

      for (const message of decoded) {
        const captured = changelog.find((c) => String(c.row.id) === message.key)
        if (!captured) throw new Error(`no changelog row for key ${message.key}`)
        const id = captured.row.id as number
        const { row, ...envelope } = message.value
        expect(envelope).toMatchObject({ source: table, schema_version: 1, query_id: captured.queryId })
        if (format === 'protobuf') {
          expect(envelope.op).toBe(1) // OP_INSERT
          const want = protoCanonical({ id, ...expected[id] }) as Record<string, unknown>
          for (const name of Object.keys(want)) {
            expect.soft(row[name], `row ${id}, column ${name}`).toEqual(want[name])
          }
          expect(Object.keys(row).sort()).toEqual(Object.keys(want).sort())
          continue
        }
        expect(envelope.op).toBe('insert')
        const mapValue = format === 'avro' ? expectedAvro : expectedJson
        for (const column of columns) {
          expect
            .soft(row[column.name], `row ${id}, column ${column.name} (${column.typeName})`)
            .toEqual(mapValue(column.type, captured.row[column.name]))
        }
        expect(Object.keys(row).sort()).toEqual(columns.map((c) => c.name).sort())
      }
    },
  )
})
