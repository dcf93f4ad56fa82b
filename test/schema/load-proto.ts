import protobuf from 'protobufjs'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import type { RowProtoOptions } from '../../engine/schema/proto-mapping.js'
import { generateRowProto, type RowProto } from '../../engine/schema/proto-writer.js'

/** The well-known types generated files may import, from protobufjs's bundled copies. */
const wellKnown = ['google/protobuf/timestamp.proto', 'google/protobuf/duration.proto']

/**
 * Parses generated `.proto` text the way a consumer's protobufjs would (field names as written), with the
 * well-known types resolved, and returns the root plus what the file declared.
 */
export function loadProto(text: string): { root: protobuf.Root; packageName: string; imports: string[] } {
  const root = new protobuf.Root()
  for (const file of wellKnown) {
    const json = protobuf.common.get(file)
    if (!json) throw new Error(`protobufjs has no ${file}`)
    root.addJSON(json.nested ?? {})
  }
  const parsed = protobuf.parse(text, root, { keepCase: true })
  root.resolveAll()
  return { root, packageName: parsed.package ?? '', imports: parsed.imports ?? [] }
}

/** Generates shop.orders v1 from `name → ClickHouse type name` and loads its Row message. */
export function loadRow(
  columns: Record<string, string>,
  options?: RowProtoOptions,
  previousFieldNumbers?: Record<string, number>,
): { proto: RowProto; root: protobuf.Root; row: protobuf.Type } {
  const captured = Object.entries(columns).map(([name, typeName]) => toCapturedColumn('shop.orders', name, typeName))
  const input = { database: 'shop', table: 'orders', version: 1, columns: captured, options, previousFieldNumbers }
  const proto = generateRowProto(input)
  const { root } = loadProto(proto.text)
  return { proto, root, row: root.lookupType(`${proto.packageName}.Row`) }
}

/** A field as one line, e.g. `optional int32 value = 1`, `map<string, uint64> tags = 3`, `repeated Row.TagsItem tags = 2`. */
export function fieldLine(field: protobuf.Field): string {
  const type = field.resolvedType
    ? field.resolvedType.fullName.replace(/^\.(tailhouse\.shop\.orders\.v1\.)?/, '')
    : field.type
  const shape =
    field instanceof protobuf.MapField
      ? `map<${field.keyType}, ${type}>`
      : `${field.repeated ? 'repeated ' : field.options?.proto3_optional ? 'optional ' : ''}${type}`
  return `${shape} ${field.name} = ${field.id}`
}

/** Every field of the message at `path` (relative to `root`'s package), as {@link fieldLine}s. */
export function fieldLines(root: protobuf.Root, path: string): string[] {
  return root.lookupType(`tailhouse.shop.orders.v1.${path}`).fieldsArray.map(fieldLine)
}
