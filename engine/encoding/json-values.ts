/**
 * Typed JSON text of decoded values (rowbinary-decoder.ts shapes), the row values of the `json-schema` and
 * `debezium-json` formats; schema/json-schema-mapping.ts documents the forms. Each type compiles once into a
 * writer that returns JSON text, so a row is one pass of closures and string concatenation.
 */
import type { CapturedColumn, ClickHouseType } from '../schema/clickhouse-type.js'
import { hasKeyText } from '../schema/map-keys.js'
import { RowEncodeError } from './encode-schema.js'
import { dateText, dateTime64Text, dateTimeText, float32Text, float64Text, tickScale } from './encode-values.js'
import { compileKeyText } from './map-key-text.js'
import { scaleText } from './rowbinary-text.js'

export type WriteJson = (value: unknown) => string

export interface JsonValueOptions {
  /** UInt64 as decimal text rather than a JSON number (debezium-json: Connect's int64 cannot hold it). */
  uint64AsText?: boolean
}

/** The row writer: `{"<column>":<value>,…}` in column order; errors name the column ({@link RowEncodeError}). */
export function compileJsonRow(
  columns: readonly CapturedColumn[],
  options: JsonValueOptions = {},
): (row: Record<string, unknown>) => string {
  const parts = columns.map((column) => ({
    column: column.name,
    prefix: `${JSON.stringify(column.name)}:`,
    write: compileJsonValue(column.type, options),
  }))
  return (row) => {
    let out = '{'
    for (const part of parts) {
      let text: string
      try {
        text = part.write(row[part.column])
      } catch (error) {
        throw new RowEncodeError(part.column, error)
      }
      out += out.length === 1 ? part.prefix + text : `,${part.prefix}${text}`
    }
    return `${out}}`
  }
}

export function compileJsonValue(type: ClickHouseType, options: JsonValueOptions = {}): WriteJson {
  const sub = (t: ClickHouseType) => compileJsonValue(t, options)
  switch (type.kind) {
    case 'lowCardinality':
      return sub(type.inner)
    case 'nullable': {
      const inner = sub(type.inner)
      return (value) => (value === null ? 'null' : inner(value))
    }
    case 'array':
      return list(sub(type.element))
    case 'nested':
      return list(sub({ kind: 'tuple', elements: type.fields }))
    case 'map': {
      if (!hasKeyText(type.key)) {
        const key = sub(type.key)
        const value = sub(type.value)
        return (pairs) => {
          let out = '['
          for (const [k, v] of pairs as Array<[unknown, unknown]>) {
            out += `${out.length === 1 ? '' : ','}{"key":${key(k)},"value":${value(v)}}`
          }
          return `${out}]`
        }
      }
      const key = compileKeyText(type.key)
      const value = sub(type.value)
      return (pairs) => {
        // A repeated key keeps its last value, as the map formats do; JSON objects must not repeat keys.
        const entries = new Map<string, string>()
        for (const [k, v] of pairs as Array<[unknown, unknown]>) entries.set(key(k), value(v))
        let out = '{'
        for (const [k, v] of entries) out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${v}`
        return `${out}}`
      }
    }
    case 'tuple': {
      const parts = type.elements.map((element, i) => {
        const key = element.name ?? `_${i + 1}`
        return { key, prefix: `${JSON.stringify(key)}:`, write: sub(element.type) }
      })
      return (value) => {
        const object = value as Record<string, unknown>
        let out = '{'
        for (const part of parts) out += `${out.length === 1 ? '' : ','}${part.prefix}${part.write(object[part.key])}`
        return `${out}}`
      }
    }
    case 'int':
      // 8–32 bits are numbers, 64 bits bigints (written as exact integer text), wider ones decimal text.
      if (type.bits > 64 || (options.uint64AsText && type.bits === 64 && !type.signed)) return (v) => `"${v}"`
      return String
    case 'float': {
      const text = type.bits === 32 ? float32Text : float64Text
      return (value) => text(value as number, nonFiniteJson)
    }
    case 'bool':
      return (value) => (value ? 'true' : 'false')
    case 'string':
    case 'fixedString':
      return (value) => JSON.stringify((value as Buffer).toString('utf8'))
    case 'date':
    case 'date32':
      return (value) => `"${dateText(value as number)}"`
    case 'dateTime':
      return (value) => `"${dateTimeText(value as number, 0, 0)}"`
    case 'dateTime64': {
      const precision = type.precision
      tickScale(precision)
      return (value) => `"${dateTime64Text(value as bigint, precision)}"`
    }
    case 'time':
      return String
    case 'time64': {
      const precision = type.precision
      return (value) => `"${scaleText(String(value), precision)}"`
    }
    case 'decimal':
    case 'uuid':
    case 'ipv4':
    case 'ipv6':
    case 'enum':
    case 'json':
      return JSON.stringify as WriteJson
  }
}

function list(element: WriteJson): WriteJson {
  return (value) => {
    const values = value as unknown[]
    let out = '['
    for (let i = 0; i < values.length; i++) out += i === 0 ? element(values[i]) : `,${element(values[i])}`
    return `${out}]`
  }
}

function nonFiniteJson(value: number): string {
  return Number.isNaN(value) ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"'
}
