import { describe, expect, it } from 'vitest'
import { startEngine } from '../../engine/start-engine.js'
import { readPublished } from '../consumers/librdkafka.js'
import {
  columns,
  createEveryTypeTable,
  expected,
  insertEveryTypeRows,
  withDefaultMessages,
} from '../fixtures/every-type-proto.js'
import { engineFixture, protoTypes, testLogger, waitFor } from '../helpers/engine.js'

/**
 * Every type of the mapping through an initial snapshot: the every-type table's rows are in the table before capture
 * starts, so only the snapshot publishes them (op read). Their row hashes (the diff against the changelog) and their
 * values (ClickHouse's Protobuf encoding, read from the snapshot's own table) must come out as the encoder's test and
 * the live path expect them; read back read_committed by librdkafka, decoded with the .proto files.
 */
describe('initial snapshot: every type', () => {
  it('publishes every ClickHouse type of the mapping with op read, decoded with protobufjs from the .proto files', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.every`, exclude: [] }])
    const table = `${f.sourceDb}.every`
    await createEveryTypeTable(f.client, table)
    await insertEveryTypeRows(f.client, table)
    const migrated = await f.migrate()
    expect(migrated.sources[0], migrated.sources[0]?.detail).toMatchObject({ action: 'captured' })
    const inserted = Object.keys(expected).length

    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor(`${inserted} rows published`, () => engine.status().rowsPublished === BigInt(inserted))
    expect((await engine.stop()).reason).toBe('stopped')

    const published = await readPublished(f.kafkaBootstrap, f.topic('every'), inserted, f.schemasDir)
    expect(published).toHaveLength(inserted)
    const { row: Row } = protoTypes(f.schemasDir, `${f.sourceDb}/every/v1.proto`)
    const options = { longs: String, enums: Number, defaults: true, arrays: true, objects: true }
    const seen: number[] = []
    for (const message of published) {
      expect(message).toMatchObject({ op: 'OP_READ', source: table, schemaVersion: 1 })
      expect(message.cursor).toMatch(new RegExp(`^${table}/snapshot-\\d+:0:\\d+$`))
      // Decoded again with enums as numbers, as the fixture's expected values are.
      const row = withDefaultMessages(Row, Row.toObject(Row.decode(message.rowBytes), options), options)
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
