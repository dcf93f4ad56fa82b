import { describe, expect, it } from 'vitest'
import { loadProto } from '../../engine/encoding/encode-schema.js'
import { encodeEnvelope } from '../../engine/encoding/envelope-encoder.js'
import { createProtoRowEncoder } from '../../engine/encoding/proto-row-encoder.js'
import type { EnvelopeFields } from '../../engine/encoding/row-encoder.js'
import { rowFieldChanges } from '../../engine/registry/field-changes.js'
import { registryProtoText } from '../../engine/registry/protobuf-schema.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { generateRowProto } from '../../engine/schema/proto-writer.js'
import { decodedRow1 } from '../fixtures/every-type-decoded.js'
import { columns } from '../fixtures/every-type-proto.js'

const options = { timestamps: 'timestamp', enums: 'enum' } as const
const captured = [['id', 'UInt8'] as [string, string], ...columns].map(([n, t]) => toCapturedColumn('db.every', n, t))
const rowProto = generateRowProto({ database: 'db', table: 'every', version: 3, columns: captured, options })

describe('the registered Protobuf schema', () => {
  it('declares the Envelope first, with row typed as the version Row, in a versionless package', () => {
    const text = registryProtoText('db', 'every', rowProto.text)
    const { root, packageName } = loadProto(text)
    expect(packageName).toBe('tailhouse.db.every')
    expect(text.indexOf('message Envelope')).toBeLessThan(text.indexOf('message Row'))
    expect(text.match(/^message \w+/gm)).toEqual(['message Envelope', 'message Cursor', 'message Row'])
    const envelope = root.lookupType('tailhouse.db.every.Envelope')
    expect(envelope.fields.row?.resolvedType?.fullName).toBe('.tailhouse.db.every.Row')
  })

  it('decodes the bytes tailhouse writes (tailhouse.v1.Envelope with bytes row) in one step', () => {
    const fields: EnvelopeFields = {
      source: 'db.every',
      op: 'upsert',
      schemaVersion: 3,
      partitionId: 'p',
      blockNumber: 7n,
      blockOffset: 1n,
      queryId: 'q',
      ingestTimeMicros: 1_000_001n,
    }
    const rows = createProtoRowEncoder({
      protoText: rowProto.text,
      columns: captured,
      fieldNumbers: rowProto.fieldNumbers,
      options,
    })
    const value = encodeEnvelope(fields, rows.encode(decodedRow1))
    const { root } = loadProto(registryProtoText('db', 'every', rowProto.text))
    const Envelope = root.lookupType('tailhouse.db.every.Envelope')
    const decoded = Envelope.toObject(Envelope.decode(value), { longs: String, enums: String })
    expect(decoded).toMatchObject({ source: 'db.every', op: 'OP_UPSERT', schema_version: 3, query_id: 'q' })
    expect(decoded.row).toMatchObject({
      id: 1,
      i64: '9223372036854775807',
      e8: 'E8_NEG',
      uuid: '00112233-4455-6677-8899-aabbccddeeff',
    })
    // Re-encoding the typed message gives the same bytes: the two schemas are wire-identical.
    expect(Buffer.from(Envelope.encode(Envelope.decode(value)).finish())).toEqual(value)
  })

  it('names the Row fields that changed between two registered versions', () => {
    const v1 = generateRowProto({
      database: 'db',
      table: 't',
      version: 1,
      columns: [toCapturedColumn('db.t', 'id', 'UInt64'), toCapturedColumn('db.t', 'qty', 'Int32')],
      options,
    })
    const v2 = generateRowProto({
      database: 'db',
      table: 't',
      version: 2,
      columns: [
        toCapturedColumn('db.t', 'id', 'UInt64'),
        toCapturedColumn('db.t', 'qty', 'String'),
        toCapturedColumn('db.t', 'n', 'UInt8'),
      ],
      options,
      previousFieldNumbers: v1.fieldNumbers,
    })
    const schema = (text: string) => ({ schemaType: 'PROTOBUF' as const, schema: registryProtoText('db', 't', text) })
    expect(rowFieldChanges(schema(v1.text), schema(v2.text))).toEqual([
      { field: 'qty', change: 'changed' },
      { field: 'n', change: 'added' },
    ])
  })
})
