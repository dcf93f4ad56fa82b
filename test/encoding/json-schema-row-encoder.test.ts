import { describe, expect, it } from 'vitest'
import { createDebeziumJsonEncoder } from '../../engine/encoding/debezium-json-encoder.js'
import { createMessageEncoder, type EnvelopeFields, type RowSchema } from '../../engine/encoding/row-encoder.js'
import { mapJsonSchemaRow } from '../../engine/schema/json-schema-mapping.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { decodedRow1 } from '../fixtures/every-type-decoded.js'
import { columns } from '../fixtures/every-type-proto.js'

const captured = [['id', 'UInt8'] as [string, string], ...columns].map(([name, type]) =>
  toCapturedColumn('db.every', name, type),
)
const schema: RowSchema = {
  protoText: '',
  columns: captured,
  fieldNumbers: {},
  options: { timestamps: 'timestamp', enums: 'enum' },
  source: 'db.every',
  version: 1,
}
const fields: EnvelopeFields = {
  source: 'db.every',
  op: 'insert',
  schemaVersion: 2,
  partitionId: '2026070612',
  blockNumber: 3n,
  blockOffset: 18446744073709551615n,
  queryId: 'q"1',
  ingestTimeMicros: 1783339200000001n,
}

/** Every column of row 1 as the json-schema and debezium-json formats write it (schema/json-schema-mapping.ts). */
const row1Json =
  '{"id":1,"i8":127,"i16":32767,"i32":2147483647,"i64":9223372036854775807,' +
  '"i128":"170141183460469231731687303715884105727",' +
  '"i256":"57896044618658097711785492504343953926634992332820282019728792003956564819967",' +
  '"u8":255,"u16":65535,"u32":4294967295,"u64":18446744073709551615,' +
  '"u128":"340282366920938463463374607431768211455",' +
  '"u256":"115792089237316195423570985008687907853269984665640564039457584007913129639935",' +
  '"f32":1.5,"f64":-2.25,"d32":"-12.3400","d64":"-0.000001","d128":"-1234567890.0123456789",' +
  '"d256":"-0.00000000000000000001","d92":"0.05","b":true,"s":"héllo","fs":"ab\\u0000\\u0000",' +
  '"dt":"2000-01-01","dt32":"1900-01-01","dtm":"2000-01-01T00:00:00Z","dt64":"1969-12-31T23:59:59.500000Z",' +
  '"t":-3601,"t64":"45296.789","uuid":"00112233-4455-6677-8899-aabbccddeeff","ip4":"1.2.3.4",' +
  '"ip6":"2001:db8::1","e8":"neg","e16":"m","lc":"lc-one","lcn":"x","n":-7,"arr":["a",null,""],' +
  '"m":{"z":1,"a":18446744073709551615},"tu":{"_1":1,"_2":"x"},"tn":{"a":-5,"b":[1,2]},' +
  '"nest":[{"sku":"A1","qty":3},{"sku":"B2","qty":0}],"j":"{\\"a\\":1,\\"b\\":{\\"c\\":\\"s\\"}}",' +
  '"dyn":"42","v":"\\"str\\"","ns":"2023-11-14T22:13:20.123456789Z",' +
  '"dm":{"2000-01-01":null,"1970-01-01":0},"em":{"two":[1],"neg":[]},' +
  '"am":[{"key":[1,2],"value":"x"},{"key":[],"value":""}]}'

describe('json-schema encoder', () => {
  it('writes the envelope with typed row values, 64-bit integers exact', () => {
    const value = createMessageEncoder('json-schema', schema).encode(fields, decodedRow1).toString('utf8')
    expect(value).toBe(
      '{"source":"db.every","op":"insert","schema_version":2,"cursor":{"partition_id":"2026070612",' +
        '"block_number":3,"block_offset":18446744073709551615},"query_id":"q\\"1",' +
        `"ingest_time":"2026-07-06T12:00:00.000001Z","row":${row1Json}}`,
    )
  })

  it('describes every column in the schema, keyed by the ClickHouse names', () => {
    const document = mapJsonSchemaRow('db', 'every', 1, captured)
    expect(document.title).toBe('tailhouse.db.every.Envelope')
    const row = (document.properties as Record<string, { properties: Record<string, unknown> }>).row
    expect(Object.keys(row?.properties ?? {})).toEqual(captured.map((c) => c.name))
    expect(row?.properties).toMatchObject({
      i8: { type: 'integer', minimum: -128, maximum: 127 },
      u32: { type: 'integer', minimum: 0, maximum: 4294967295 },
      i64: { type: 'integer' },
      i128: { type: 'string', pattern: '^-?[0-9]+$' },
      d92: { type: 'string', pattern: '^-?[0-9]+\\.[0-9]{2}$' },
      dt: { type: 'string', format: 'date' },
      dt64: { type: 'string', format: 'date-time' },
      e8: { type: 'string', enum: ['neg', 'two'] },
      lcn: { oneOf: [{ type: 'null' }, { type: 'string' }] },
      m: { type: 'object', additionalProperties: { type: 'integer' } },
      am: { type: 'array' },
      tu: { type: 'object', required: ['_1', '_2'] },
      uuid: { format: 'uuid' },
    })
    // Every value the encoder wrote must match its pattern where the schema gives one.
    const written = JSON.parse(row1Json) as Record<string, unknown>
    for (const [name, property] of Object.entries(row?.properties ?? {})) {
      const pattern = (property as { pattern?: string }).pattern
      if (pattern) expect(String(written[name]), name).toMatch(new RegExp(pattern))
    }
  })
})

describe('debezium-json encoder', () => {
  const encode = (op: string) =>
    JSON.parse(
      createDebeziumJsonEncoder(schema, () => 1234)
        .encode({ ...fields, op: op as EnvelopeFields['op'] }, decodedRow1)
        .toString('utf8'),
    )

  it('writes an insert as op c with the row in after, and the source block', () => {
    const event = encode('insert')
    expect(event).toMatchObject({ before: null, op: 'c', ts_ms: 1234 })
    // As the json-schema row, but UInt64 as decimal text (Connect's int64 cannot hold it).
    const row1Debezium = row1Json
      .replace('"u64":18446744073709551615', '"u64":"18446744073709551615"')
      .replace('"m":{"z":1,"a":18446744073709551615}', '"m":{"z":"1","a":"18446744073709551615"}')
    expect(JSON.stringify(event.after)).toBe(JSON.stringify(JSON.parse(row1Debezium)))
    expect(event.source).toEqual({
      version: expect.any(String),
      connector: 'tailhouse',
      name: 'tailhouse',
      ts_ms: 1783339200000,
      ts_us: 1783339200000001,
      snapshot: 'false',
      db: 'db',
      table: 'every',
      query_id: 'q"1',
      schema_version: 2,
      partition_id: '2026070612',
      block_number: 3,
      block_offset: 2 ** 64, // JSON.parse rounds 18446744073709551615 so
    })
  })

  it('maps upsert to u (after), delete and retract to d (before)', () => {
    expect(encode('upsert')).toMatchObject({ op: 'u', before: null, after: { id: 1 } })
    expect(encode('delete')).toMatchObject({ op: 'd', before: { id: 1 }, after: null })
    expect(encode('retract')).toMatchObject({ op: 'd', before: { id: 1 }, after: null })
    expect(() => encode('merge')).toThrow(/unknown op "merge"/)
  })

  it('wraps events with their Kafka Connect schema when asked', () => {
    const wrapped = JSON.parse(
      createDebeziumJsonEncoder({ ...schema, debezium: { includeSchema: true, serverName: 'ch' } }, () => 1)
        .encode(fields, decodedRow1)
        .toString('utf8'),
    )
    expect(wrapped.payload).toMatchObject({ op: 'c', before: null, after: { id: 1 }, source: { name: 'ch' } })
    expect(wrapped.schema).toMatchObject({ type: 'struct', name: 'ch.db.every.Envelope', optional: false })
    const after = wrapped.schema.fields.find((f: { field: string }) => f.field === 'after')
    expect(after).toMatchObject({ name: 'ch.db.every.Value', optional: true })
    const types = Object.fromEntries(after.fields.map((f: { field: string }) => [f.field, f]))
    expect(types).toMatchObject({
      u8: { type: 'int16' },
      u64: { type: 'string' },
      dt: { type: 'string', name: 'io.debezium.time.IsoDate' },
      dt64: { type: 'string', name: 'io.debezium.time.ZonedTimestamp' },
      e8: { type: 'string', name: 'io.debezium.data.Enum', parameters: { allowed: 'neg,two' } },
      lcn: { type: 'string', optional: true },
      arr: { type: 'array', items: { type: 'string', optional: true } },
      m: { type: 'map', keys: { type: 'string' }, values: { type: 'string' } },
      am: { type: 'array', items: { type: 'struct' } },
      tu: {
        type: 'struct',
        fields: [
          { field: '_1', type: 'int16' },
          { field: '_2', type: 'string' },
        ],
      },
    })
    // Every column has a schema, in column order.
    expect(after.fields.map((f: { field: string }) => f.field)).toEqual(captured.map((c) => c.name))
  })
})
