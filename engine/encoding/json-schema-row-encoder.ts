/**
 * The `json-schema` format's message values: the json format's envelope (envelope-encoder.ts createEnvelopeJson,
 * with block number and offset as JSON integers) around a row of typed JSON values (json-values.ts), valid against
 * the JSON Schema of schema/json-schema-mapping.ts.
 */
import { microsText } from './envelope-encoder.js'
import { compileJsonRow } from './json-values.js'
import type { MessageEncoder, RowSchema } from './row-encoder.js'

export function createJsonSchemaMessageEncoder(schema: RowSchema): MessageEncoder {
  const row = compileJsonRow(schema.columns)
  return {
    encode: (fields, values) =>
      Buffer.from(
        `{"source":${JSON.stringify(fields.source)},"op":${JSON.stringify(fields.op)},` +
          `"schema_version":${fields.schemaVersion},"cursor":{"partition_id":${JSON.stringify(fields.partitionId)},` +
          `"block_number":${fields.blockNumber},"block_offset":${fields.blockOffset}},` +
          `"query_id":${JSON.stringify(fields.queryId)},"ingest_time":"${microsText(fields.ingestTimeMicros)}",` +
          `"row":${row(values)}}`,
        'utf8',
      ),
  }
}
