import { RowBinaryFault, RowBinaryReader } from '../encoding/rowbinary-reader.js'
import type { ChangelogRow } from './changelog-reader.js'

/**
 * The changelog columns the engine reads, in order, as the reader's SELECT names them. Read as RowBinary: no
 * text parsing, no base64, and every payload stays a zero-copy slice of the one response buffer.
 */
export const changelogWireColumns = [
  '_partition_id', // String
  '_block_number', // UInt64
  '_block_offset', // UInt64
  'source', // LowCardinality(String): plain String in RowBinary
  'op', // Enum8: its Int8 value
  'schema_version', // UInt32
  'schema_fingerprint', // UInt64
  'query_id', // String
  'toUnixTimestamp64Micro(ingest_ts)', // Int64
  'payload', // String
].join(', ')

/** The op column's Enum8 values (migrations/0001_changelog.sql). */
const ops: Record<number, ChangelogRow['op']> = { 1: 'insert', 2: 'upsert', 3: 'delete', 4: 'retract' }

/**
 * Parses a RowBinary response of {@link changelogWireColumns}. Strings that repeat from row to row (partition,
 * source, query id: one INSERT's rows share them) are decoded once and reused while their bytes stay the same.
 */
export function parseChangelogRows(response: Buffer): ChangelogRow[] {
  const reader = new RowBinaryReader()
  reader.reset(response)
  const rows: ChangelogRow[] = []
  const partition = new RepeatedString()
  const source = new RepeatedString()
  const queryId = new RepeatedString()
  let fingerprintBits = -1n
  let fingerprint = ''
  const view = reader.view
  while (reader.pos < reader.end) {
    const partitionId = partition.read(reader, '_partition_id')
    const blockNumber = view.getBigUint64(reader.take(8, '_block_number'), true)
    const blockOffset = view.getBigUint64(reader.take(8, '_block_offset'), true)
    const sourceName = source.read(reader, 'source')
    const opValue = view.getInt8(reader.take(1, 'op'))
    const op = ops[opValue]
    if (op === undefined) throw new RowBinaryFault(`unknown op ${opValue}`, 'op', reader.pos - 1)
    const schemaVersion = view.getUint32(reader.take(4, 'schema_version'), true)
    const bits = view.getBigUint64(reader.take(8, 'schema_fingerprint'), true)
    if (bits !== fingerprintBits) {
      fingerprintBits = bits
      fingerprint = bits.toString()
    }
    const query = queryId.read(reader, 'query_id')
    const ingestMicros = view.getBigInt64(reader.take(8, 'ingest_ts'), true)
    const payloadAt = reader.takeLength('payload')
    const payload = reader.bytes.subarray(payloadAt, reader.pos)
    rows.push({
      partitionId,
      blockNumber,
      blockOffset,
      source: sourceName,
      op,
      schemaVersion,
      fingerprint,
      queryId: query,
      ingestMicros,
      payload,
    })
  }
  return rows
}

/** A String column whose value usually equals the previous row's: compares bytes before decoding. */
class RepeatedString {
  #bytes: Buffer = Buffer.alloc(0)
  #value = ''

  read(reader: RowBinaryReader, column: string): string {
    const at = reader.takeLength(column)
    const length = reader.pos - at
    const bytes = reader.bytes
    const last = this.#bytes
    if (length === last.length && bytes.compare(last, 0, length, at, reader.pos) === 0) return this.#value
    this.#bytes = Buffer.from(bytes.subarray(at, reader.pos))
    this.#value = this.#bytes.toString('utf8')
    return this.#value
  }
}
