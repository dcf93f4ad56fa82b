/**
 * The Kafka Connect schema of a debezium-json event (`debezium.includeSchema: true`), in the JSON form Kafka
 * Connect's JsonConverter writes and reads with `schemas.enable=true`: what Debezium's own tooling
 * (ExtractNewRecordState, the JDBC and other sink connectors) needs to read the events. Each row value's schema
 * describes the JSON value encoding/json-values.ts writes, with Debezium's semantic names where one fits:
 *
 * | ClickHouse                     | Connect type                                     |
 * |--------------------------------|--------------------------------------------------|
 * | Int8/16/32/64                  | int8 / int16 / int32 / int64                     |
 * | UInt8/16/32                    | int16 / int32 / int64                            |
 * | UInt64, (U)Int128/256, Decimal | string (decimal text, Debezium's `decimal.handling.mode=string`) |
 * | Float32 / Float64              | float / double                                   |
 * | Bool                           | boolean                                          |
 * | String, FixedString            | string                                           |
 * | Date, Date32                   | string io.debezium.time.IsoDate                  |
 * | DateTime, DateTime64           | string io.debezium.time.ZonedTimestamp (UTC, Z)  |
 * | Time / Time64                  | int32 seconds / string seconds                   |
 * | UUID                           | string io.debezium.data.Uuid                     |
 * | IPv4, IPv6                     | string                                           |
 * | Enum8/16                       | string io.debezium.data.Enum (`allowed` lists the names) |
 * | JSON, Dynamic, Variant         | string io.debezium.data.Json                     |
 * | Nullable(T)                    | T, optional                                      |
 * | Array, Nested                  | array                                            |
 * | Map(K, V)                      | map with string keys, or an array of struct { key, value } |
 * | Tuple                          | struct                                           |
 */
import type { CapturedColumn, ClickHouseType } from './clickhouse-type.js'
import { hasKeyText } from './map-keys.js'
import { packageSegment } from './proto-names.js'

export type ConnectSchema = Record<string, unknown>

/** `<server>.<db>.<table>`: the prefix of the Envelope and Value schema names, as Debezium names them. */
export function connectSchemaPrefix(serverName: string, database: string, table: string): string {
  return [serverName, packageSegment(database), packageSegment(table)].join('.')
}

/** The Envelope schema of a source version's events: before/after (the row), source, op, ts_ms. */
export function connectEnvelopeSchema(
  serverName: string,
  database: string,
  table: string,
  columns: readonly CapturedColumn[],
): ConnectSchema {
  const prefix = connectSchemaPrefix(serverName, database, table)
  const value = (field: string) => ({
    type: 'struct',
    name: `${prefix}.Value`,
    optional: true,
    field,
    fields: columns.map((column) => ({ ...connectType(column.type), field: column.name })),
  })
  const required = (field: string, type: string, extra: Record<string, unknown> = {}) => ({
    type,
    optional: false,
    field,
    ...extra,
  })
  return {
    type: 'struct',
    name: `${prefix}.Envelope`,
    optional: false,
    version: 1,
    fields: [
      value('before'),
      value('after'),
      {
        type: 'struct',
        name: 'dev.tailhouse.Source',
        optional: false,
        field: 'source',
        fields: [
          required('version', 'string'),
          required('connector', 'string'),
          required('name', 'string'),
          required('ts_ms', 'int64'),
          required('ts_us', 'int64'),
          required('snapshot', 'string'),
          required('db', 'string'),
          required('table', 'string'),
          required('query_id', 'string'),
          required('schema_version', 'int64'),
          required('partition_id', 'string'),
          required('block_number', 'int64'),
          required('block_offset', 'int64'),
        ],
      },
      required('op', 'string'),
      { type: 'int64', optional: true, field: 'ts_ms' },
    ],
  }
}

function connectType(type: ClickHouseType): ConnectSchema {
  switch (type.kind) {
    case 'lowCardinality':
      return connectType(type.inner)
    case 'nullable':
      return { ...connectType(type.inner), optional: true }
    case 'array':
      return { type: 'array', items: connectType(type.element), optional: false }
    case 'nested':
      return { type: 'array', items: connectType({ kind: 'tuple', elements: type.fields }), optional: false }
    case 'map':
      if (hasKeyText(type.key)) {
        return {
          type: 'map',
          keys: { type: 'string', optional: false },
          values: connectType(type.value),
          optional: false,
        }
      }
      return {
        type: 'array',
        items: {
          type: 'struct',
          optional: false,
          fields: [
            { ...connectType(type.key), field: 'key' },
            { ...connectType(type.value), field: 'value' },
          ],
        },
        optional: false,
      }
    case 'tuple':
      return {
        type: 'struct',
        optional: false,
        fields: type.elements.map((e, i) => ({ ...connectType(e.type), field: e.name ?? `_${i + 1}` })),
      }
    case 'int':
      if (type.bits > 64 || (type.bits === 64 && !type.signed)) return plain('string')
      if (type.signed) return plain(`int${type.bits}`)
      return plain(type.bits === 8 ? 'int16' : type.bits === 16 ? 'int32' : 'int64')
    case 'float':
      return plain(type.bits === 32 ? 'float' : 'double')
    case 'decimal':
      return plain('string')
    case 'bool':
      return plain('boolean')
    case 'string':
    case 'fixedString':
    case 'ipv4':
    case 'ipv6':
      return plain('string')
    case 'date':
    case 'date32':
      return { ...plain('string'), name: 'io.debezium.time.IsoDate', version: 1 }
    case 'dateTime':
    case 'dateTime64':
      return { ...plain('string'), name: 'io.debezium.time.ZonedTimestamp', version: 1 }
    case 'time':
      return plain('int32')
    case 'time64':
      return plain('string')
    case 'uuid':
      return { ...plain('string'), name: 'io.debezium.data.Uuid', version: 1 }
    case 'enum':
      return {
        ...plain('string'),
        name: 'io.debezium.data.Enum',
        version: 1,
        parameters: { allowed: type.values.map((v) => v.name).join(',') },
      }
    case 'json':
      return { ...plain('string'), name: 'io.debezium.data.Json', version: 1 }
  }
}

function plain(type: string): ConnectSchema {
  return { type, optional: false }
}
