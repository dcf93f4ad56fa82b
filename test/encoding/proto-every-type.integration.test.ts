import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { readRegistry } from '../../engine/capture/registry.js'
import { createMessageEncoder, type EnvelopeFields } from '../../engine/encoding/row-encoder.js'
import { envelopeProto } from '../../engine/schema/envelope-proto.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { columns, createEveryTypeTable, expected, insertEveryTypeRows } from '../fixtures/every-type-proto.js'
import { captureFixture } from '../helpers/capture.js'

/**
 * The engine's own Protobuf encoding (used for every row whose value ClickHouse does not encode: a row captured
 * between an ALTER … MODIFY COLUMN and the next migrate) end to end: a table with a column of every type (the
 * columns and rows of rowbinary-every-type.integration.test.ts), captured by `migrate`, rows INSERTed, the changelog read and decoded,
 * each row encoded as a Kafka message value with the generated `.proto` and the registry's field numbers — then
 * decoded as a consumer in another language would: with the `.proto` files `migrate` wrote to disk, loaded by a
 * fresh protobufjs root. Every column is compared with its proto value written out by hand.
 */

describe('Protobuf encoding against ClickHouse (embedded chDB, or CLICKHOUSE_URL)', () => {
  it.each(['view', 'stream'] as const)(
    'encodes every type captured by migrate (mode %s) so that the .proto files on disk decode it',
    async (mode) => {
      const f = await captureFixture((db) => [{ table: `${db}.every`, exclude: [], mode }])
      const table = `${f.sourceDb}.every`
      await createEveryTypeTable(f.client, table)
      const result = await f.migrate()
      expect(result.sources[0]).toMatchObject({ action: 'captured', version: 1 })
      await insertEveryTypeRows(f.client, table)

      // The engine's inputs: the registered version, its .proto, the decoded changelog and its cursor columns.
      const [version] = await readRegistry(f.client, f.database)
      if (!version) throw new Error('nothing registered')
      const protoText = readFileSync(join(f.schemasDir, version.protoFile), 'utf8')
      const encoder = createMessageEncoder('protobuf', {
        protoText,
        columns: version.columns.map((c) => toCapturedColumn(version.source, c.name, c.type)),
        fieldNumbers: version.fieldNumbers,
        options: { timestamps: f.config.protobuf.timestamps, enums: f.config.protobuf.enums },
      })
      const changelog = await f.changelog()
      expect(changelog.map((r) => r.row.id)).toEqual([1, 2, 3])

      // The consumer: a fresh protobufjs root loading the files migrate wrote (imports resolved from disk, the
      // google/protobuf ones from protobufjs's bundled copies).
      const consumer = new protobuf.Root()
      consumer.loadSync([join(f.schemasDir, envelopeProto().fileName), join(f.schemasDir, version.protoFile)], {
        keepCase: true,
      })
      consumer.resolveAll()
      const Envelope = consumer.lookupType('tailhouse.v1.Envelope')
      const Row = consumer.lookupType(`tailhouse.${f.sourceDb}.every.v1.Row`)

      for (const captured of changelog) {
        const fields: EnvelopeFields = {
          source: captured.source,
          op: captured.op as EnvelopeFields['op'],
          schemaVersion: captured.schemaVersion,
          partitionId: 'all',
          blockNumber: BigInt(captured.blockNumber),
          blockOffset: BigInt(captured.blockOffset),
          queryId: captured.queryId,
          ingestTimeMicros: captured.ingestMicros,
        }
        const value = encoder.encode(fields, captured.row)
        const envelope = Envelope.toObject(Envelope.decode(value), { longs: String, enums: String })
        const micros = captured.ingestMicros
        expect(envelope).toEqual({
          source: table,
          op: 'OP_INSERT',
          schema_version: 1,
          cursor: {
            partition_id: 'all',
            ...(captured.blockNumber === 0 ? {} : { block_number: String(captured.blockNumber) }),
            ...(captured.blockOffset === 0 ? {} : { block_offset: String(captured.blockOffset) }),
          },
          // proto3 leaves an empty string out: stream mode has no query id.
          ...(captured.queryId === '' ? {} : { query_id: captured.queryId }),
          ingest_time: { seconds: String(micros / 1_000_000n), nanos: Number(micros % 1_000_000n) * 1000 },
          row: expect.any(Uint8Array),
        })

        const id = captured.row.id as number
        const row = Row.toObject(Row.decode(envelope.row as Uint8Array), {
          longs: String,
          enums: Number,
          defaults: true,
          arrays: true,
          objects: true,
        })
        expect(Object.keys(row).sort()).toEqual(Object.keys({ id, ...expected[id] }).sort())
        expect(row.id).toBe(id)
        for (const [name, sql] of columns) {
          expect.soft(row[name], `row ${id}, column ${name} (${sql})`).toEqual(expected[id]?.[name])
        }
      }
    },
  )
})
