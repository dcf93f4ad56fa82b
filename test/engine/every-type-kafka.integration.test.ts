import { describe, expect, it } from 'vitest'
import { startEngine } from '../../engine/start-engine.js'
import {
  columns,
  createEveryTypeTable,
  expected,
  insertEveryTypeRows,
  withDefaultMessages,
} from '../fixtures/every-type-proto.js'
import { rows } from '../helpers/clickhouse.js'
import { engineFixture, protoTypes, readTopic, testLogger, waitFor } from '../helpers/engine.js'

/**
 * The Protobuf mapping end to end through the real engine and broker: a table with a column of every type (columns,
 * rows and expected proto values from test/fixtures/every-type-proto.ts, shared with the encoder's test), captured
 * by `migrate`, rows INSERTed, published by the engine to Kafka, then read back read_committed and decoded as a
 * consumer in another language would: with the `.proto` files `migrate` wrote to disk, by a fresh protobufjs root.
 * ClickHouse encodes these values in the read query (clickhouse-protobuf.ts); a proto3 consumer reads a left-out
 * singular message (a Timestamp of 1970-01-01) as its default, as withDefaultMessages does here.
 */

describe.each(['view', 'stream'] as const)('engine: every type to Kafka, mode %s', (mode) => {
  it('every ClickHouse type of the mapping round-trips through Kafka, decoded with protobufjs from the .proto files', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.every`, exclude: [], mode }], { headers: 'full' })
    const table = `${f.sourceDb}.every`
    await createEveryTypeTable(f.client, table)
    const result = await f.migrate()
    expect(result.sources[0]).toMatchObject({ action: 'captured', version: 1 })
    await insertEveryTypeRows(f.client, table)
    const inserted = Object.keys(expected).length

    const startedMicros = BigInt(Date.now()) * 1000n
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor(`${inserted} rows published`, () => engine.status().rowsPublished === BigInt(inserted))
    expect((await engine.stop()).reason).toBe('stopped')

    // The changelog's cursor, ingest time and query id of each row, to check the envelopes and headers against. In
    // stream mode the rows are the table's own, with no query id, ingested when read (checked below against the run).
    const changelog = await rows<{ cursor: string; micros: string; query_id: string }>(
      f.client,
      mode === 'view'
        ? `SELECT concat('${table}/', _partition_id, ':', toString(_block_number), ':', toString(_block_offset)) AS cursor,
                  toString(toUnixTimestamp64Micro(__ingest)) AS micros, __query_id AS query_id
           FROM ${f.database}.changelog_${f.sourceDb}__every`
        : `SELECT concat('${table}/', _partition_id, ':', toString(_block_number), ':', toString(_block_offset)) AS cursor,
                  '' AS micros, '' AS query_id
           FROM ${table}`,
    )
    const endedMicros = BigInt(Date.now()) * 1000n
    const byCursor = new Map(changelog.map((r) => [r.cursor, r]))
    expect(changelog).toHaveLength(inserted)

    const messages = await readTopic(f.kafkaBootstrap, f.topic('every'))
    expect(messages).toHaveLength(inserted)
    // sourceDb is th_src_<hex>: already lower-case [a-z0-9_], so the generated path is the names as they are.
    const { envelope: Envelope, row: Row } = protoTypes(f.schemasDir, `${f.sourceDb}/every/v1.proto`)

    const seen: number[] = []
    for (const message of messages) {
      const { headers } = message
      expect(headers).toMatchObject({
        'tailhouse.source': table,
        'tailhouse.op': 'insert',
        'tailhouse.schema_version': '1',
      })
      expect(headers['tailhouse.cursor']).toMatch(/^[\w.]+\/\w+:\d+:\d+$/)
      const captured = byCursor.get(headers['tailhouse.cursor'] ?? '')
      if (!captured) throw new Error(`header tailhouse.cursor ${headers['tailhouse.cursor']} is no changelog row`)
      expect(headers['tailhouse.query_id']).toBe(captured.query_id)
      if (mode === 'view') expect(captured.query_id).not.toBe('')
      else {
        // Read while the engine ran: that is the ingest time stream mode records.
        const read = BigInt(headers['tailhouse.ingest_time_us'] ?? 0)
        expect(read >= startedMicros && read <= endedMicros, `ingest time ${read}`).toBe(true)
        captured.micros = String(read)
      }

      const envelope = Envelope.toObject(Envelope.decode(message.value), { longs: String, enums: String })
      const [stream, blockNumber, blockOffset] = (headers['tailhouse.cursor'] ?? '').split(':')
      const partitionId = stream?.split('/')[1]
      const micros = BigInt(captured.micros)
      expect(envelope).toEqual({
        source: table,
        op: 'OP_INSERT',
        schema_version: 1,
        cursor: {
          partition_id: partitionId,
          ...(blockNumber === '0' ? {} : { block_number: blockNumber }),
          ...(blockOffset === '0' ? {} : { block_offset: blockOffset }),
        },
        // proto3 leaves an empty string out: stream mode has no query id.
        ...(captured.query_id === '' ? {} : { query_id: captured.query_id }),
        ingest_time: { seconds: String(micros / 1_000_000n), nanos: Number(micros % 1_000_000n) * 1000 },
        row: expect.any(Uint8Array),
      })

      const options = { longs: String, enums: Number, defaults: true, arrays: true, objects: true }
      const row = withDefaultMessages(Row, Row.toObject(Row.decode(envelope.row as Uint8Array), options), options)
      const id = row.id as number
      seen.push(id)
      expect(Object.keys(row).sort(), `row ${id}: fields`).toEqual(Object.keys({ id, ...expected[id] }).sort())
      for (const [name, sql] of columns) {
        expect.soft(row[name], `row ${id}, column ${name} (${sql})`).toEqual(expected[id]?.[name])
      }
    }
    expect(seen.sort()).toEqual([1, 2, 3])
  })
})
