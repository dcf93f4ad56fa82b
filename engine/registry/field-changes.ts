/**
 * Which row fields differ between the version a subject holds and the one refused: registries name the
 * incompatible field for some formats only (Apicurio's Protobuf check says "not backward compatible at /"), so
 * tailhouse compares the two Row definitions itself to name the columns in its refusal.
 */
import protobuf from 'protobufjs'
import { loadProto } from '../encoding/encode-schema.js'
import type { RegistrySchema } from './registry-client.js'

export interface FieldChange {
  field: string
  change: 'changed' | 'removed' | 'added'
}

/** Row field changes from `before` to `after`, changed and removed ones first. Empty when either cannot be read. */
export function rowFieldChanges(before: RegistrySchema, after: RegistrySchema): FieldChange[] {
  let old: Map<string, string>
  let next: Map<string, string>
  try {
    old = rowSignatures(before)
    next = rowSignatures(after)
  } catch {
    return []
  }
  const changes: FieldChange[] = []
  for (const [field, signature] of old) {
    const now = next.get(field)
    if (now === undefined) changes.push({ field, change: 'removed' })
    else if (now !== signature) changes.push({ field, change: 'changed' })
  }
  for (const field of next.keys()) if (!old.has(field)) changes.push({ field, change: 'added' })
  return changes
}

/** Row field name → a text that changes whenever the field's type does. */
function rowSignatures(schema: RegistrySchema): Map<string, string> {
  if (schema.schemaType === 'AVRO') {
    const envelope = JSON.parse(schema.schema) as { fields: Array<{ name: string; type: unknown }> }
    const row = envelope.fields.find((f) => f.name === 'row')?.type as {
      fields: Array<{ name: string; type: unknown }>
    }
    return new Map(row.fields.map((f) => [f.name, JSON.stringify(f.type)]))
  }
  if (schema.schemaType === 'JSON') {
    const document = JSON.parse(schema.schema) as { properties: { row: { properties: Record<string, unknown> } } }
    return new Map(
      Object.entries(document.properties.row.properties).map(([name, property]) => [name, JSON.stringify(property)]),
    )
  }
  const { root, packageName } = loadProto(schema.schema)
  const row = root.lookupType(`${packageName}.Row`)
  return new Map(
    row.fieldsArray.map((field) => {
      const resolved = field.resolvedType
      const nested = resolved instanceof protobuf.Type || resolved instanceof protobuf.Enum ? resolved.toJSON() : ''
      return [
        field.name,
        `${field.id} ${field.rule ?? ''} ${field.type} ${field.map ? 'map' : ''} ${JSON.stringify(nested)}`,
      ]
    }),
  )
}

/** "qty (changed), note (removed)": the columns the refusal is about. */
export function describeChanges(changes: readonly FieldChange[]): string {
  const breaking = changes.filter((c) => c.change !== 'added')
  const shown = breaking.length > 0 ? breaking : changes
  return shown.map((c) => `${c.field} (${c.change})`).join(', ')
}
