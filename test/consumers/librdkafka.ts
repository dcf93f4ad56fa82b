import { join } from 'node:path'
import protobuf from 'protobufjs'
import { protoTypes } from '../helpers/engine.js'
import { runPython } from './python.js'

/** A message as librdkafka (Python confluent-kafka, read_committed) read it, its envelope decoded with the .proto files. */
export interface PublishedRow {
  partition: number
  offset: number
  key: string | undefined
  op: string
  source: string
  schemaVersion: number
  /** `<db.table>/<partition id>:<block>:<offset>`, from the envelope. */
  cursor: string
  queryId: string
  row: Record<string, unknown>
  /** The encoded Row, to decode with other options. */
  rowBytes: Uint8Array
}

/**
 * Reads `topic` read_committed with librdkafka (test/consumers/topic_dump.py) until `expect` messages arrived and
 * nothing more for a moment, and decodes each value as a consumer would: the Envelope and the Row of its schema
 * version from the .proto files in `schemasDir` (tables with lower-case names). In partition and offset order.
 */
export async function readPublished(
  bootstrap: string,
  topic: string,
  expect: number,
  schemasDir: string,
  options: { idleSeconds?: number; timeoutSeconds?: number } = {},
): Promise<PublishedRow[]> {
  const lines = (await runPython(
    'topic_dump.py',
    [
      '--bootstrap',
      bootstrap,
      '--topic',
      topic,
      '--expect',
      String(expect),
      '--idle',
      String(options.idleSeconds ?? 2),
      '--timeout',
      String(options.timeoutSeconds ?? 90),
    ],
    ((options.timeoutSeconds ?? 90) + 30) * 1000,
  )) as Array<{ partition: number; offset: number; key: string | null; value: string }>
  const types = new Map<string, ReturnType<typeof protoTypes>>()
  const decodeOptions = { longs: String, enums: String, defaults: true, arrays: true, objects: true }
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(schemasDir, target))
  root.loadSync('tailhouse/v1/envelope.proto', { keepCase: true })
  const Envelope = root.lookupType('tailhouse.v1.Envelope')
  return lines
    .map((line) => {
      const value = Buffer.from(line.value, 'base64')
      const envelope = Envelope.toObject(Envelope.decode(value), decodeOptions) as {
        source: string
        op: string
        schema_version: number
        cursor: { partition_id: string; block_number: string; block_offset: string }
        query_id: string
        row: Uint8Array
      }
      const [database, table] = envelope.source.split('.') as [string, string]
      const file = `${database}/${table}/v${envelope.schema_version}.proto`
      let version = types.get(file)
      if (!version) {
        version = protoTypes(schemasDir, file)
        types.set(file, version)
      }
      const row = version.row.toObject(version.row.decode(envelope.row), decodeOptions) as Record<string, unknown>
      return {
        partition: line.partition,
        offset: line.offset,
        key: line.key === null ? undefined : Buffer.from(line.key, 'base64').toString('utf8'),
        op: envelope.op,
        source: envelope.source,
        schemaVersion: envelope.schema_version,
        cursor: `${envelope.source}/${envelope.cursor.partition_id}:${envelope.cursor.block_number}:${envelope.cursor.block_offset}`,
        queryId: envelope.query_id,
        row,
        rowBytes: envelope.row,
      }
    })
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}
