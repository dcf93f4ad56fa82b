/**
 * The `debezium-json` format: each message value is a Debezium change event in JSON, the payload Debezium's
 * connectors write with Kafka Connect's JsonConverter and `schemas.enable=false`, so sinks and tools that read
 * Debezium events can read tailhouse topics:
 *
 *     { "before": <row> | null, "after": <row> | null, "source": { … }, "op": "c" | "u" | "d" | "r", "ts_ms": … }
 *
 * | tailhouse op | op  | before                          | after        |
 * |--------------|-----|---------------------------------|--------------|
 * | insert       | c   | null                            | the row      |
 * | upsert       | u   | null (the previous state is not captured; as Debezium's PostgreSQL connector without REPLICA IDENTITY FULL) | the row |
 * | delete       | d   | the row written with is_deleted = 1 (its key and last values) | null |
 * | retract      | d   | the row the -1 row cancels (a CollapsingMergeTree -1 row repeats the cancelled row's values) | null |
 * | read         | r   | null                            | the row (a snapshot's)       |
 *
 * `source` holds `version` (tailhouse's), `connector` "tailhouse", `name` (the logical server name), `ts_ms` (the
 * row's ingest time, ms), `ts_us`, `snapshot` "false", `db`, `table`, `query_id`, `schema_version` and the
 * changelog cursor (`partition_id`, `block_number`, `block_offset`); top-level `ts_ms` is when tailhouse encoded
 * the event. Row values are the typed JSON of json-values.ts (schema/json-schema-mapping.ts's table), except that
 * UInt64 is decimal text (as Debezium writes unsigned BIGINT with `decimal.handling.mode=string`). No tombstone
 * follows a delete.
 *
 * With `debezium.includeSchema` each value is `{ "schema": <Connect schema>, "payload": <event> }`, what
 * JsonConverter writes with `schemas.enable=true` (schema/connect-schema-mapping.ts): sink connectors and
 * Debezium's transforms need it.
 */
import { connectEnvelopeSchema } from '../schema/connect-schema-mapping.js'
import { version as tailhouseVersion } from '../version.js'
import { compileJsonRow } from './json-values.js'
import type { MessageEncoder, RowSchema } from './row-encoder.js'

const debeziumOps: Readonly<Record<string, { op: string; rowIn: 'before' | 'after' }>> = {
  insert: { op: 'c', rowIn: 'after' },
  upsert: { op: 'u', rowIn: 'after' },
  delete: { op: 'd', rowIn: 'before' },
  retract: { op: 'd', rowIn: 'before' },
  read: { op: 'r', rowIn: 'after' },
}

/** The Debezium `op` of a tailhouse op, and whether the row goes in `before` or `after`. */
export function debeziumOp(op: string): { op: string; rowIn: 'before' | 'after' } {
  const mapped = debeziumOps[op]
  if (!mapped) throw new TypeError(`unknown op ${JSON.stringify(op)}`)
  return mapped
}

export function createDebeziumJsonEncoder(schema: RowSchema, now: () => number = Date.now): MessageEncoder {
  const row = compileJsonRow(schema.columns, { uint64AsText: true })
  const connector = `"version":${JSON.stringify(tailhouseVersion)},"connector":"tailhouse"`
  const name = schema.debezium?.serverName ?? 'tailhouse'
  let wrap = (event: string) => event
  if (schema.debezium?.includeSchema) {
    const [database = '', table = ''] = (schema.source ?? '.').split(/\.(.*)/s)
    const prefix = `{"schema":${JSON.stringify(connectEnvelopeSchema(name, database, table, schema.columns))},"payload":`
    wrap = (event) => `${prefix}${event}}`
  }
  return {
    encode: (fields, values) => {
      const { op, rowIn } = debeziumOp(fields.op)
      const dot = fields.source.indexOf('.')
      const database = fields.source.slice(0, dot)
      const table = fields.source.slice(dot + 1)
      const ingestMicros = fields.ingestTimeMicros
      const source =
        `{${connector},"name":${JSON.stringify(name)},"ts_ms":${ingestMicros / 1000n},"ts_us":${ingestMicros},` +
        `"snapshot":"false","db":${JSON.stringify(database)},"table":${JSON.stringify(table)},` +
        `"query_id":${JSON.stringify(fields.queryId)},"schema_version":${fields.schemaVersion},` +
        `"partition_id":${JSON.stringify(fields.partitionId)},"block_number":${fields.blockNumber},` +
        `"block_offset":${fields.blockOffset}}`
      const rowText = row(values)
      const before = rowIn === 'before' ? rowText : 'null'
      const after = rowIn === 'after' ? rowText : 'null'
      return Buffer.from(
        wrap(`{"before":${before},"after":${after},"source":${source},"op":"${op}","ts_ms":${now()}}`),
        'utf8',
      )
    },
  }
}
