/**
 * Maps a captured source version to the JSON Schema (draft-07) of its `json-schema` format values: the json
 * format's envelope `{ source, op, schema_version, cursor, query_id, ingest_time, row }` with the row's values
 * typed (encoding/json-schema-row-encoder.ts writes them). Row keys are the ClickHouse column names.
 *
 * | ClickHouse                       | JSON value                                   | JSON Schema                               |
 * |----------------------------------|----------------------------------------------|-------------------------------------------|
 * | Int8–64, UInt8–64                | number (64-bit ones exact as written)        | integer (bounds up to 32 bits)            |
 * | (U)Int128/256                    | string, decimal text                         | string, pattern                           |
 * | Float32/64                       | number; "NaN", "Infinity", "-Infinity"       | oneOf number / those three strings        |
 * | Decimal(P, S)                    | string with exactly S fraction digits        | string, pattern                           |
 * | Bool                             | true / false                                 | boolean                                   |
 * | String, FixedString              | string, the bytes as UTF-8 (invalid → U+FFFD) | string                                   |
 * | Date, Date32                     | "YYYY-MM-DD"                                 | string, format date                       |
 * | DateTime, DateTime64(p)          | "YYYY-MM-DDThh:mm:ss[.p digits]Z" (UTC)      | string, format date-time                  |
 * | Time                             | number, seconds                              | integer                                   |
 * | Time64(p)                        | string, seconds with p fraction digits       | string, pattern                           |
 * | UUID, IPv4, IPv6                 | string                                       | string, format uuid / ipv4 / ipv6         |
 * | Enum8/16                         | string, the value name                       | string, enum of the names                 |
 * | LowCardinality(T)                | as T                                         | as T                                      |
 * | Nullable(T)                      | null or as T                                 | oneOf null / T                            |
 * | Array(T), Nested                 | array                                        | array                                     |
 * | Map(K, V)                        | object keyed by the key text (map-keys.ts), or [{ key, value }] when K has none | object / array |
 * | Tuple                            | object keyed by element names, or _1, _2, …  | object, all required                      |
 * | JSON, Dynamic, Variant           | string, JSON text                            | string                                    |
 *
 * The Row object is closed (additionalProperties false) and no column is `required`, so adding a column is a
 * compatible change for a registry's BACKWARD check.
 */
import type { CapturedColumn, ClickHouseType } from './clickhouse-type.js'
import { hasKeyText, keyTextDescription } from './map-keys.js'
import { formatClickHouseType } from './parse-clickhouse-type.js'
import { packageSegment } from './proto-names.js'

export type JsonSchema = Record<string, unknown>

export interface JsonSchemaOptions {
  enums?: 'enum' | 'string'
}

/** `tailhouse.<db>.<table>.Envelope`: the schema's title, which RecordNameStrategy uses as the record name. */
export function jsonSchemaTitle(database: string, table: string): string {
  return ['tailhouse', packageSegment(database), packageSegment(table), 'Envelope'].join('.')
}

export function mapJsonSchemaRow(
  database: string,
  table: string,
  version: number,
  columns: readonly CapturedColumn[],
  options: JsonSchemaOptions = {},
): JsonSchema {
  const enums = options.enums ?? 'enum'
  const properties: Record<string, JsonSchema> = {}
  for (const column of columns) {
    properties[column.name] = { description: column.typeName, ...valueSchema(column.type, enums) }
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: jsonSchemaTitle(database, table),
    description: `One change captured by tailhouse from ${database}.${table}, schema version ${version}.`,
    type: 'object',
    properties: {
      source: { type: 'string', description: 'The source table, "<database>.<table>".' },
      op: { type: 'string', enum: ['insert', 'upsert', 'delete', 'retract'] },
      schema_version: { type: 'integer', minimum: 0 },
      cursor: {
        type: 'object',
        properties: {
          partition_id: { type: 'string' },
          block_number: { type: 'integer', minimum: 0 },
          block_offset: { type: 'integer', minimum: 0 },
        },
        required: ['partition_id', 'block_number', 'block_offset'],
        additionalProperties: false,
      },
      query_id: { type: 'string' },
      ingest_time: { type: 'string', format: 'date-time' },
      row: { type: 'object', properties, additionalProperties: false },
    },
    required: ['source', 'op', 'schema_version', 'cursor', 'query_id', 'ingest_time', 'row'],
    additionalProperties: false,
  }
}

const nonFinite = { enum: ['NaN', 'Infinity', '-Infinity'] }

function valueSchema(type: ClickHouseType, enums: 'enum' | 'string'): JsonSchema {
  switch (type.kind) {
    case 'lowCardinality':
      return valueSchema(type.inner, enums)
    case 'nullable':
      return { oneOf: [{ type: 'null' }, valueSchema(type.inner, enums)] }
    case 'array':
      return { type: 'array', items: valueSchema(type.element, enums) }
    case 'nested':
      return { type: 'array', items: valueSchema({ kind: 'tuple', elements: type.fields }, enums) }
    case 'map':
      if (hasKeyText(type.key)) {
        return {
          type: 'object',
          description: `keys: ${keyTextDescription(type.key)}`,
          additionalProperties: valueSchema(type.value, enums),
        }
      }
      return {
        type: 'array',
        items: {
          type: 'object',
          properties: { key: valueSchema(type.key, enums), value: valueSchema(type.value, enums) },
          required: ['key', 'value'],
          additionalProperties: false,
        },
      }
    case 'tuple': {
      const properties: Record<string, JsonSchema> = {}
      type.elements.forEach((element, i) => {
        properties[element.name ?? `_${i + 1}`] = {
          description: formatClickHouseType(element.type),
          ...valueSchema(element.type, enums),
        }
      })
      return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false }
    }
    case 'int':
      if (type.bits > 64) return { type: 'string', pattern: '^-?[0-9]+$' }
      if (type.bits === 64) return { type: 'integer' }
      return type.signed
        ? { type: 'integer', minimum: -(2 ** (type.bits - 1)), maximum: 2 ** (type.bits - 1) - 1 }
        : { type: 'integer', minimum: 0, maximum: 2 ** type.bits - 1 }
    case 'float':
      return { oneOf: [{ type: 'number' }, nonFinite] }
    case 'decimal':
      return { type: 'string', pattern: type.scale === 0 ? '^-?[0-9]+$' : `^-?[0-9]+\\.[0-9]{${type.scale}}$` }
    case 'bool':
      return { type: 'boolean' }
    case 'string':
    case 'fixedString':
      return { type: 'string' }
    case 'date':
    case 'date32':
      return { type: 'string', format: 'date' }
    case 'dateTime':
    case 'dateTime64':
      return { type: 'string', format: 'date-time' }
    case 'time':
      return { type: 'integer', description: 'seconds' }
    case 'time64':
      return {
        type: 'string',
        description: 'seconds',
        pattern: type.precision === 0 ? '^-?[0-9]+$' : `^-?[0-9]+\\.[0-9]{${type.precision}}$`,
      }
    case 'uuid':
      return { type: 'string', format: 'uuid' }
    case 'ipv4':
      return { type: 'string', format: 'ipv4' }
    case 'ipv6':
      return { type: 'string', format: 'ipv6' }
    case 'enum':
      return enums === 'string' ? { type: 'string' } : { type: 'string', enum: type.values.map((v) => v.name) }
    case 'json':
      return { type: 'string', description: 'JSON text' }
  }
}
