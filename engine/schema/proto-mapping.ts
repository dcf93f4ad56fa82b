/**
 * Maps captured ClickHouse columns to a Protobuf (proto3) `Row` message: the type mapping of ARCHITECTURE.md ("Encoding"), plus the
 * shapes proto cannot write directly. proto-writer.ts prints the result.
 *
 * Field shapes, which the encoder fills (wrapper field names are fixed):
 * - `Nullable(T)` in a field → `optional T`: NULL is an absent field.
 * - `Array(T)` → `repeated T`; `Nested(...)` → `repeated` of its tuple message.
 * - `Map(K, V)` → `map<K', V'>`; K' is K for integers up to 64 bits and Bool, else `string` (text form in the
 *   field comment). A key proto cannot express at all (Array, Tuple, Map, Nullable) makes the map a `repeated`
 *   message `{ K key = 1; V value = 2; }` in ClickHouse's entry order — what a Map is on the wire.
 * - Where proto allows no label (a repeated element, a map value), a wrapper message holds the value:
 *   `Nullable(T)` → `{ optional T value = 1; }`, `Array(T)`/`Nested` → `{ repeated T values = 1; }`,
 *   `Map(K, V)` → `{ map<K', V'> entries = 1; }`.
 * - `Tuple` → a message with one field per element: named elements keep their (sanitized) names, unnamed ones are
 *   `_1`, `_2`, ….
 * Every type created for a field is nested in the message that holds the field and named after it:
 * `<Field>` for a tuple or enum, `<Field>Item` for an array element, `<Field>Value` for a map value.
 */
import type { CapturedColumn, ClickHouseType } from './clickhouse-type.js'
import { formatClickHouseType } from './parse-clickhouse-type.js'
import {
  defaultJsonName,
  enumValueWords,
  fieldIdentifier,
  fieldScope,
  mapEntryName,
  type NameScope,
  typeIdentifier,
  typeScope,
  upperSnake,
} from './proto-names.js'
import { quoteText } from './type-name-scanner.js'

export interface RowProtoOptions {
  /**
   * `timestamp` (default): dates and times as google.protobuf.Timestamp, Time/Time64 as google.protobuf.Duration.
   * `int64`: the ClickHouse integer itself (days, seconds or 10^-p s ticks; the field comment says which).
   */
  timestamps?: 'timestamp' | 'int64'
  /** `enum` (default): a proto enum whose numbers are the ClickHouse values; `string`: the value's name. */
  enums?: 'enum' | 'string'
}

export interface ProtoField {
  name: string
  number: number
  label?: 'optional' | 'repeated'
  /** A type name relative to the enclosing message, a scalar, or `map<K, V>`. */
  type: string
  /** The ClickHouse name, set unless it is the field name and protoc's default JSON name already. */
  jsonName?: string
  /** The ClickHouse type, then notes on the value's form. */
  comment: string
}

export interface ProtoEnum {
  name: string
  values: Array<{ name: string; number: number; comment?: string }>
}

export interface ProtoMessage {
  name: string
  /** Inclusive ranges of field numbers that must not be used again. */
  reserved: Array<[number, number]>
  fields: ProtoField[]
  enums: ProtoEnum[]
  messages: ProtoMessage[]
}

export interface RowMapping {
  row: ProtoMessage
  /** Well-known type files the message needs, sorted. */
  imports: string[]
  /** See {@link numberFields}. */
  fieldNumbers: Record<string, number>
}

export function mapRow(
  columns: readonly CapturedColumn[],
  options: RowProtoOptions = {},
  previousFieldNumbers: Readonly<Record<string, number>> = {},
): RowMapping {
  const numbering = numberFields(
    columns.map((column) => column.name),
    previousFieldNumbers,
  )
  const mapper = new Mapper(options.timestamps ?? 'timestamp', options.enums ?? 'enum')
  const elements = columns.map((column, i) => ({
    name: column.name,
    type: column.type,
    typeText: column.typeName,
    number: numbering.numbers[i] as number,
  }))
  const row = mapper.message('Row', elements)
  row.reserved = numbering.reserved
  return { row, imports: [...mapper.imports].sort(), fieldNumbers: numbering.ledger }
}

/** Field numbers 19000–19999 belong to the Protobuf implementation. */
const implementationRange = [19000, 19999] as const

/**
 * Row field numbers, stable across schema versions. `previous` is the `fieldNumbers` ledger of the previous
 * version: a live column → its number, a dropped column → minus its last number. A live column keeps its number;
 * any other column (new, or back after a drop) gets one above every number ever used, so no number is reused.
 * Every unused number up to the highest is reserved. Returns the new ledger in the same form.
 */
export function numberFields(
  columns: readonly string[],
  previous: Readonly<Record<string, number>>,
): { numbers: number[]; ledger: Record<string, number>; reserved: Array<[number, number]> } {
  let highest = Math.max(0, ...Object.values(previous).map(Math.abs))
  const next = () => {
    highest += 1
    if (highest >= implementationRange[0] && highest <= implementationRange[1]) highest = implementationRange[1] + 1
    return highest
  }
  const numbers = columns.map((column) => {
    const known = previous[column]
    return known !== undefined && known > 0 ? known : next()
  })
  const ledger: Record<string, number> = {}
  for (const [column, number] of Object.entries(previous)) ledger[column] = -Math.abs(number)
  columns.forEach((column, i) => {
    ledger[column] = numbers[i] as number
  })
  return { numbers, ledger, reserved: gaps(numbers, highest) }
}

/** The ranges of 1..highest not in `used`, leaving out the implementation range. */
function gaps(used: readonly number[], highest: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  const push = (from: number, to: number) => {
    const [low, high] = implementationRange
    if (from < low) ranges.push([from, Math.min(to, low - 1)])
    if (to > high) ranges.push([Math.max(from, high + 1), to])
  }
  let from = 1
  for (const number of [...new Set(used)].sort((a, b) => a - b)) {
    if (number > from) push(from, number - 1)
    from = number + 1
  }
  if (from <= highest) push(from, highest)
  return ranges
}

/** One field to map: `name` is the ClickHouse name (column, tuple element) or a wrapper's fixed name. */
interface Element {
  name: string
  type: ClickHouseType
  typeText: string
  number: number
}

/** The names already taken in one message: nested types, and enum values (which protoc scopes to the message). */
interface Scope {
  message: ProtoMessage
  types: NameScope
  enumValues: Set<string>
}

interface ValueType {
  type: string
  notes: string[]
}

type Shape = ValueType & { label?: 'optional' | 'repeated' }

class Mapper {
  readonly imports = new Set<string>()

  constructor(
    private readonly timestamps: 'timestamp' | 'int64',
    private readonly enums: 'enum' | 'string',
  ) {}

  message(name: string, elements: readonly Element[]): ProtoMessage {
    const message: ProtoMessage = { name, reserved: [], fields: [], enums: [], messages: [] }
    const scope: Scope = { message, types: typeScope(), enumValues: new Set() }
    const names = fieldScope()
    // JSON parsers accept a field's name and its JSON name (the ClickHouse name), so no field may be named like
    // another field's ClickHouse name (protobuf's Python runtime refuses such files).
    const originals = new Set(elements.map((element) => element.name))
    const fieldNames = elements.map((element) =>
      names.claim(fieldIdentifier(element.name), (name) => name !== element.name && originals.has(name)),
    )
    // protoc adds a `<Field>Entry` message for every map field; no nested type may take that name.
    elements.forEach((element, i) => {
      if (isProtoMap(element.type)) scope.types.take(mapEntryName(fieldNames[i] as string))
    })
    message.fields = elements.map((element, i) => this.field(scope, fieldNames[i] as string, element))
    return message
  }

  private field(scope: Scope, name: string, element: Element): ProtoField {
    const shape = this.shape(scope, typeIdentifier(name), element.type)
    const comment = [element.typeText, ...shape.notes].join('; ')
    const field: ProtoField = { name, number: element.number, type: shape.type, comment }
    if (shape.label) field.label = shape.label
    // Whenever the name changed, or protoc's JSON name would differ: consumers' JSON shows the ClickHouse names.
    if (name !== element.name || defaultJsonName(name) !== element.name) field.jsonName = element.name
    return field
  }

  /** How a field of `type` is declared; `base` names the types it needs. */
  private shape(scope: Scope, base: string, type: ClickHouseType): Shape {
    switch (type.kind) {
      case 'lowCardinality':
        return this.shape(scope, base, type.inner)
      case 'nullable':
        return { label: 'optional', ...this.value(scope, base, type.inner) }
      case 'array':
        return { label: 'repeated', ...this.value(scope, `${base}Item`, type.element) }
      case 'nested':
        return { label: 'repeated', ...this.value(scope, `${base}Item`, { kind: 'tuple', elements: type.fields }) }
      case 'map': {
        if (!isScalar(type.key)) {
          const entry = [element('key', type.key, 1), element('value', type.value, 2)]
          return { label: 'repeated', type: this.nestedMessage(scope, `${base}Item`, entry), notes: [] }
        }
        const key = mapKey(type.key)
        const value = this.value(scope, `${base}Value`, type.value)
        const notes = [...key.notes, ...value.notes.map((note) => `values: ${note}`)]
        return { type: `map<${key.type}, ${value.type}>`, notes }
      }
      default:
        return this.value(scope, base, type)
    }
  }

  /** The type of a value where proto takes no label (a repeated element, a map value): collections get a wrapper. */
  private value(scope: Scope, name: string, type: ClickHouseType): ValueType {
    switch (type.kind) {
      case 'lowCardinality':
        return this.value(scope, name, type.inner)
      case 'nullable':
        return this.wrapper(scope, name, 'value', type)
      case 'array':
      case 'nested':
        return this.wrapper(scope, name, 'values', type)
      case 'map':
        return this.wrapper(scope, name, 'entries', type)
      case 'tuple': {
        const elements = type.elements.map((e, i) => element(e.name ?? `_${i + 1}`, e.type, i + 1))
        return plain(this.nestedMessage(scope, name, elements))
      }
      case 'enum':
        return plain(this.enums === 'string' ? 'string' : this.enumType(scope, name, type.values))
      case 'json':
        return { type: 'string', notes: ['JSON text'] }
      case 'int':
        return type.bits <= 64 ? plain(integerType(type)) : { type: 'string', notes: ['decimal text'] }
      case 'float':
        return plain(type.bits === 32 ? 'float' : 'double')
      case 'decimal':
        return { type: 'string', notes: [`decimal text with exactly ${type.scale} fraction digits`] }
      case 'bool':
        return plain('bool')
      case 'string':
      case 'fixedString':
        return plain('bytes')
      case 'date':
      case 'date32':
        return this.instant('days since 1970-01-01')
      case 'dateTime':
        return this.instant('seconds since the Unix epoch')
      case 'dateTime64':
        return this.instant(`${ticks(type.precision)} since the Unix epoch`)
      case 'time':
        return this.duration('seconds')
      case 'time64':
        return this.duration(ticks(type.precision))
      case 'uuid':
      case 'ipv4':
      case 'ipv6':
        return plain('string')
    }
  }

  private instant(unit: string): ValueType {
    if (this.timestamps === 'int64') return { type: 'int64', notes: [unit] }
    this.imports.add('google/protobuf/timestamp.proto')
    return plain('google.protobuf.Timestamp')
  }

  private duration(unit: string): ValueType {
    if (this.timestamps === 'int64') return { type: 'int64', notes: [unit] }
    this.imports.add('google/protobuf/duration.proto')
    return plain('google.protobuf.Duration')
  }

  private wrapper(scope: Scope, name: string, field: 'value' | 'values' | 'entries', type: ClickHouseType): ValueType {
    return plain(this.nestedMessage(scope, name, [element(field, type, 1)]))
  }

  private nestedMessage(scope: Scope, name: string, elements: readonly Element[]): string {
    const message = this.message(scope.types.claim(name), elements)
    scope.message.messages.push(message)
    return message.name
  }

  /**
   * A proto enum with the ClickHouse values as numbers. proto3 needs 0 first: the ClickHouse value 0 if there is
   * one, else `<ENUM>_UNSPECIFIED`. Value names are `<ENUM>_<NAME>`; a name taken already in the message, or
   * equal to another of this enum's once underscores are ignored (protoc refuses both), gets `_<value>` appended.
   */
  private enumType(scope: Scope, name: string, values: Array<{ name: string; value: number }>): string {
    const enumName = scope.types.claim(name)
    const prefix = upperSnake(enumName)
    const keys = new Set<string>()
    const free = (candidate: string) => !scope.enumValues.has(candidate) && !keys.has(candidate.replaceAll('_', ''))
    const claim = (base: string, value: number) => {
      let candidate = base
      if (!free(candidate)) candidate = `${base}_${numberWord(value)}`
      for (let n = 2; !free(candidate); n += 1) candidate = `${base}_${numberWord(value)}_${n}`
      scope.enumValues.add(candidate)
      keys.add(candidate.replaceAll('_', ''))
      return candidate
    }
    const zeroFirst = [...values].sort((a, b) => Number(b.value === 0) - Number(a.value === 0))
    const protoValues: ProtoEnum['values'] = []
    if (zeroFirst[0]?.value !== 0) protoValues.push({ name: claim(`${prefix}_UNSPECIFIED`, 0), number: 0 })
    for (const value of zeroFirst) {
      const words = enumValueWords(value.name) || numberWord(value.value)
      protoValues.push({
        name: claim(`${prefix}_${words}`, value.value),
        number: value.value,
        comment: quoteText(value.name, "'"),
      })
    }
    scope.message.enums.push({ name: enumName, values: protoValues })
    return enumName
  }
}

function element(name: string, type: ClickHouseType, number: number): Element {
  return { name, type, typeText: formatClickHouseType(type), number }
}

function plain(type: string): ValueType {
  return { type, notes: [] }
}

function integerType(type: { signed: boolean; bits: number }): string {
  return `${type.signed ? '' : 'u'}int${type.bits === 64 ? 64 : 32}`
}

function ticks(precision: number): string {
  return precision === 0 ? 'seconds' : `ticks of 10^-${precision} s`
}

/** An enum value as identifier text: `5`, or `MINUS_2` for -2. */
function numberWord(value: number): string {
  return value < 0 ? `MINUS_${-value}` : String(value)
}

function unwrapLowCardinality(type: ClickHouseType): ClickHouseType {
  return type.kind === 'lowCardinality' ? unwrapLowCardinality(type.inner) : type
}

/** A type that fits in one proto map key (as itself or as text). */
function isScalar(type: ClickHouseType): boolean {
  return !['nullable', 'array', 'map', 'tuple', 'nested'].includes(unwrapLowCardinality(type).kind)
}

/** A field declared as a proto `map<K, V>` (not as repeated entries). */
function isProtoMap(type: ClickHouseType): boolean {
  const unwrapped = unwrapLowCardinality(type)
  return unwrapped.kind === 'map' && isScalar(unwrapped.key)
}

/** Proto map keys are integers, bool or string; every other scalar goes as text, said in the comment. */
function mapKey(type: ClickHouseType): ValueType {
  const key = unwrapLowCardinality(type)
  if (key.kind === 'int' && key.bits <= 64) return plain(integerType(key))
  if (key.kind === 'bool') return plain('bool')
  return { type: 'string', notes: [`keys: ${keyText(key)}`] }
}

function keyText(key: ClickHouseType): string {
  switch (key.kind) {
    case 'string':
    case 'fixedString':
      return 'UTF-8 text (String keys must be valid UTF-8)'
    case 'date':
    case 'date32':
      return 'ISO-8601 dates, YYYY-MM-DD'
    case 'dateTime':
      return 'ISO-8601 UTC times, YYYY-MM-DDThh:mm:ssZ'
    case 'dateTime64':
      return `ISO-8601 UTC times, YYYY-MM-DDThh:mm:ss${key.precision === 0 ? '' : `.${'f'.repeat(key.precision)}`}Z`
    case 'time':
    case 'time64':
      return `seconds as decimal text with ${key.kind === 'time' ? 0 : key.precision} fraction digits`
    case 'decimal':
      return `decimal text with exactly ${key.scale} fraction digits`
    case 'float':
      return 'shortest round-trip decimal text'
    case 'enum':
      return 'the enum value names'
    case 'json':
      return 'JSON text'
    case 'uuid':
      return 'lowercase 8-4-4-4-12 text'
    case 'ipv4':
    case 'ipv6':
      return 'the address as ClickHouse prints it'
    default:
      return 'decimal text'
  }
}
