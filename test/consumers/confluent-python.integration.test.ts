import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { readRegistry } from '../../engine/capture/registry.js'
import { createMessageEncoder, type EnvelopeFields } from '../../engine/encoding/row-encoder.js'
import { registerSourceVersion } from '../../engine/registry/register-source.js'
import { RegistryClient } from '../../engine/registry/registry-client.js'
import type { RegistryFormat } from '../../engine/registry/source-schema.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { createEveryTypeTable, expected, insertEveryTypeRows } from '../fixtures/every-type-proto.js'
import { captureFixture } from '../helpers/capture.js'
import { rows } from '../helpers/clickhouse.js'
import { testTopic } from '../helpers/kafka.js'
import { uniqueName } from '../helpers/names.js'
import { expectedAvro, expectedJson, protoCanonical } from './expected-python.js'
import { publishCommitted } from './publish.js'
import { runPython } from './python.js'

/**
 * Consumers the project did not write decode tailhouse topics in one step: Python's confluent-kafka with its
 * schema-registry deserializers (AvroDeserializer, JSONDeserializer, ProtobufDeserializer) reads, read_committed,
 * a topic of the every-type table's rows in each registry format, the schemas registered by
 * registerSourceVersion in the local stack's registry (Apicurio). Every column of every row is compared with the
 * source table's value (the changelog row, decoded) through the format's documented mapping, or, for Protobuf,
 * with the proto fixture's values written out by hand.
 *
 * Until the engine publishes these formats itself, the messages are the encoders' values published in a
 * transaction (after an aborted one that the consumer must not see).
 */

interface Decoded {
  key: string
  value: { row: Record<string, unknown> } & Record<string, unknown>
}

describe('Python confluent-kafka consumers with registry deserializers', () => {
  it.each<RegistryFormat>(['avro', 'json-schema', 'protobuf'])(
    'decode every type of the every-type table from a %s topic',
    async (format) => {
      const { kafkaBootstrap, schemaRegistryUrl } = inject('stack')
      const f = await captureFixture((db) => [{ table: `${db}.every`, exclude: [] }])
      const table = `${f.sourceDb}.every`
      await createEveryTypeTable(f.client, table)
      await f.migrate()
      await insertEveryTypeRows(f.client, table)
      const [version] = await readRegistry(f.client, f.database)
      if (!version) throw new Error('nothing registered')
      const columns = version.columns.map((c) => toCapturedColumn(version.source, c.name, c.type))
      const protoText = readFileSync(join(f.schemasDir, version.protoFile), 'utf8')
      const options = { timestamps: f.config.protobuf.timestamps, enums: f.config.protobuf.enums }

      const topic = await testTopic(kafkaBootstrap, uniqueName('th_py'))
      const registry = new RegistryClient({ url: schemaRegistryUrl, subjectNameStrategy: 'topic', timeoutMs: 10_000 })
      const registered = await registerSourceVersion(registry, {
        format,
        topic,
        database: f.sourceDb,
        table: 'every',
        version: version.version,
        columns,
        protoText,
        options,
      })
      expect(registered).toMatchObject({ subject: `${topic}-value`, created: true })
      const encoder = createMessageEncoder(format, {
        protoText,
        columns,
        fieldNumbers: version.fieldNumbers,
        options,
        source: table,
        version: version.version,
        registry: { schemaId: registered?.schemaId as number },
      })

      const changelog = await f.changelog()
      const fieldsOf = (i: number): EnvelopeFields => {
        const captured = changelog[i]
        if (!captured) throw new Error(`no changelog row ${i}`)
        return {
          source: captured.source,
          op: captured.op as EnvelopeFields['op'],
          schemaVersion: captured.schemaVersion,
          partitionId: 'p',
          blockNumber: BigInt(captured.blockNumber),
          blockOffset: BigInt(captured.blockOffset),
          queryId: captured.queryId,
          ingestTimeMicros: 1783339200000001n,
        }
      }
      const messages = changelog.map((captured, i) => ({
        key: String(captured.row.id),
        value: encoder.encode(fieldsOf(i), captured.row),
      }))
      // An aborted transaction holding a copy of row 1: read_committed must skip it.
      await publishCommitted(kafkaBootstrap, topic, messages, messages.slice(0, 1))

      const decoded = (await runPython('confluent_consumer.py', [
        '--bootstrap',
        kafkaBootstrap,
        '--registry',
        schemaRegistryUrl,
        '--topic',
        topic,
        '--format',
        format,
        '--count',
        String(messages.length),
      ])) as Decoded[]

      // As many rows as the source table holds, each once.
      const [{ count } = { count: '0' }] = await rows<{ count: string }>(
        f.client,
        `SELECT count() AS count FROM ${table}`,
      )
      expect(decoded).toHaveLength(Number(count))
      expect(decoded.map((d) => d.key).sort()).toEqual(['1', '2', '3'])

      for (const [i, message] of decoded.entries()) {
        const captured = changelog[i]
        if (!captured) throw new Error(`no changelog row ${i}`)
        const id = captured.row.id as number
        expect(message.key).toBe(String(id))
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
