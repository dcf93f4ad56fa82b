/**
 * The value schema of one source version in a registry format, and the record name the naming strategies use.
 * Protobuf: registry/protobuf-schema.ts; Avro: schema/avro-mapping.ts; JSON Schema: schema/json-schema-mapping.ts.
 */

import { mapAvroRow } from '../schema/avro-mapping.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { mapJsonSchemaRow } from '../schema/json-schema-mapping.js'
import { registryProtoPackage, registryProtoText } from './protobuf-schema.js'
import type { RegistrySchema } from './registry-client.js'

export type RegistryFormat = 'protobuf' | 'avro' | 'json-schema'

export interface SourceVersion {
  database: string
  table: string
  version: number
  columns: CapturedColumn[]
  /** The version's generated `.proto` text (the file in protobuf.schemasDir); used by the protobuf format. */
  protoText: string
  options: { timestamps: 'timestamp' | 'int64'; enums: 'enum' | 'string' }
}

export function sourceRegistrySchema(
  format: RegistryFormat,
  source: SourceVersion,
): { schema: RegistrySchema; recordName: string } {
  const { database, table, version, columns, options } = source
  if (format === 'protobuf') {
    return {
      schema: { schemaType: 'PROTOBUF', schema: registryProtoText(database, table, source.protoText) },
      recordName: `${registryProtoPackage(database, table)}.Envelope`,
    }
  }
  if (format === 'avro') {
    const mapping = mapAvroRow(database, table, version, columns, options)
    return { schema: { schemaType: 'AVRO', schema: JSON.stringify(mapping.schema) }, recordName: mapping.fullName }
  }
  const document = mapJsonSchemaRow(database, table, version, columns, options)
  return { schema: { schemaType: 'JSON', schema: JSON.stringify(document) }, recordName: String(document.title) }
}
