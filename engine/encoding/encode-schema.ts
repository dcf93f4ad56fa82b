/**
 * The generated `.proto` text of a source version, loaded with protobufjs the way a consumer would load it (field
 * names as written, google/protobuf/timestamp.proto and duration.proto from protobufjs's bundled copies), and the
 * checks that bind captured columns to the fields of its `Row`. Used once per schema version, never per row.
 */
import protobuf from 'protobufjs'
import { defaultJsonName } from '../schema/proto-names.js'

const wellKnownFiles = ['google/protobuf/timestamp.proto', 'google/protobuf/duration.proto']

export const timestampType = '.google.protobuf.Timestamp'
export const durationType = '.google.protobuf.Duration'

/** A value that does not fit the Row it is encoded as. Retrying cannot help: the value is what it is. */
export class RowEncodeError extends Error {
  /** The column (or, from the JSON printer, the Row field's JSON name) being encoded. */
  readonly column: string
  readonly canRetry = false

  constructor(column: string, cause: unknown) {
    super(`cannot encode column "${column}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'RowEncodeError'
    this.column = column
  }
}

/** Parses `.proto` text into a resolved root that also holds the well-known types it may import. */
export function loadProto(text: string): { root: protobuf.Root; packageName: string } {
  const root = new protobuf.Root()
  for (const file of wellKnownFiles) {
    const json = protobuf.common.get(file)
    if (!json?.nested) throw new Error(`protobufjs has no ${file}`)
    root.addJSON(json.nested)
  }
  const parsed = protobuf.parse(text, root, { keepCase: true })
  root.resolveAll()
  return { root, packageName: parsed.package ?? '' }
}

/** The `Row` message of a generated row `.proto` (package `tailhouse.<db>.<table>.v<n>`). */
export function loadRowType(protoText: string): protobuf.Type {
  const { root, packageName } = loadProto(protoText)
  const name = packageName === '' ? 'Row' : `${packageName}.Row`
  const row = root.lookup(name)
  if (!(row instanceof protobuf.Type)) throw new TypeError(`the .proto text declares no message ${name}`)
  return row
}

/** The field numbered `id` of `type`; `where` names the place for the error. */
export function fieldById(type: protobuf.Type, id: number, where: string): protobuf.FieldBase {
  const field = type.fieldsById[id]
  if (!field) throw new TypeError(`${where}: message ${type.name} has no field number ${id}`)
  return field
}

/** The message type of a field (of its elements, for repeated and map fields). */
export function messageOf(field: protobuf.FieldBase, where: string): protobuf.Type {
  if (field.resolvedType instanceof protobuf.Type) return field.resolvedType
  throw new TypeError(`${where}: expected a message type, the .proto declares ${describeField(field)}`)
}

/** The enum type of a field (of its elements, for repeated and map fields). */
export function enumOf(field: protobuf.FieldBase, where: string): protobuf.Enum {
  if (field.resolvedType instanceof protobuf.Enum) return field.resolvedType
  throw new TypeError(`${where}: expected an enum type, the .proto declares ${describeField(field)}`)
}

/** The full name of the field's value type (`.google.protobuf.Timestamp`, `.p.Row.Status`) or its scalar name. */
export function valueTypeName(field: protobuf.FieldBase): string {
  return field.resolvedType ? field.resolvedType.fullName : field.type
}

/** Throws unless the field's value type (of its elements, for repeated and map fields) is `expected`. */
export function expectValueType(field: protobuf.FieldBase, expected: string, where: string): void {
  const actual = valueTypeName(field)
  if (actual !== expected) {
    throw new TypeError(`${where}: expected ${expected}, the .proto declares ${describeField(field)}`)
  }
}

/** Whether a set field shows up even when it is absent: proto3 `optional` and singular message fields. */
export function hasPresence(field: protobuf.FieldBase): boolean {
  if (field.repeated || field.map) return false
  return (
    field.options?.proto3_optional === true ||
    field.resolvedType instanceof protobuf.Type ||
    (field instanceof protobuf.Field && field.hasPresence)
  )
}

/** The key type of a map field (`string`, `int64`, …); undefined for any other field. */
export function mapKeyType(field: protobuf.FieldBase): string | undefined {
  return field instanceof protobuf.MapField ? field.keyType : undefined
}

/** The field's name in proto3 JSON: its json_name option, else protoc's default (lowerCamelCase). */
export function jsonName(field: protobuf.FieldBase): string {
  const option: unknown = field.options?.json_name
  return typeof option === 'string' ? option : defaultJsonName(field.name)
}

/** A field as the .proto spells it, for error messages: `optional int32 n`, `map<string, bytes> m`. */
export function describeField(field: protobuf.FieldBase): string {
  const type = valueTypeName(field).replace(/^\./, '')
  if (field instanceof protobuf.MapField) return `map<${field.keyType}, ${type}> ${field.name}`
  const label = field.repeated ? 'repeated ' : field.options?.proto3_optional ? 'optional ' : ''
  return `${label}${type} ${field.name}`
}
