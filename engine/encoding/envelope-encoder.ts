/**
 * The Kafka message value around an encoded row: a serialized `tailhouse.v1.Envelope` (schema/envelope-proto.ts)
 * for the protobuf format, or the json format's object with the same fields.
 *
 * The Envelope is written by hand rather than through protobufjs: it is small and fixed, and writing it into one
 * exactly sized Buffer is about three times faster than protobufjs's Writer. The bytes are what protobufjs (and
 * protoc's encoders) write — fields in number order, proto3 defaults left out — which the tests check against
 * protobufjs's `Type.encode` of envelope.proto.
 */
import { dateTimeText, timestampFromTicks } from './encode-values.js'
import type { EnvelopeFields } from './row-encoder.js'

/** The Envelope's Op numbers (envelope.proto). */
const opNumbers: Readonly<Record<string, number>> = { insert: 1, upsert: 2, delete: 3, retract: 4, read: 5 }

/**
 * An Envelope encoder. It remembers the UTF-8 bytes of the last source, partition and query id it saw (rows of
 * one block share them), so keep one per stream of messages.
 */
export function createEnvelopeEncoder(): (fields: EnvelopeFields, row: Uint8Array) => Buffer {
  const source = lastUtf8()
  const partition = lastUtf8()
  const query = lastUtf8()
  return (fields, row) => {
    const op = opNumber(fields.op)
    const sourceBytes = source(fields.source)
    const partitionBytes = partition(fields.partitionId)
    const queryBytes = query(fields.queryId)
    const version = fields.schemaVersion
    if (!Number.isInteger(version) || version < 0 || version > 0xffff_ffff) {
      throw new RangeError(`schema version ${version} is not a uint32`)
    }
    const blockNumber = uint64(fields.blockNumber, 'block number')
    const blockOffset = uint64(fields.blockOffset, 'block offset')
    const { seconds, nanos } = timestampFromTicks(fields.ingestTimeMicros, 6)
    // Whole seconds of a 64-bit microsecond count always fit a double exactly; negative ones are ten-byte varints.
    if (typeof seconds !== 'number') throw new RangeError(`ingest time ${fields.ingestTimeMicros} µs is out of range`)
    const secondsVarint: Varint = seconds >= 0 ? seconds : BigInt.asUintN(64, BigInt(seconds))

    const cursorSize =
      stringSize(partitionBytes) +
      (blockNumber === 0 ? 0 : 1 + varintSize(blockNumber)) +
      (blockOffset === 0 ? 0 : 1 + varintSize(blockOffset))
    const timeSize =
      (secondsVarint === 0 ? 0 : 1 + varintSize(secondsVarint)) + (nanos === 0 ? 0 : 1 + varintSize(nanos))
    const size =
      stringSize(sourceBytes) +
      2 + // op: never 0, one byte
      (version === 0 ? 0 : 1 + varintSize(version)) +
      1 +
      varintSize(cursorSize) +
      cursorSize +
      stringSize(queryBytes) +
      1 +
      varintSize(timeSize) +
      timeSize +
      stringSize(row)

    const out = Buffer.allocUnsafe(size)
    let at = writeBytes(out, 0, 0x0a, sourceBytes) // 1: source
    out[at++] = 0x10 // 2: op
    out[at++] = op
    if (version !== 0) {
      out[at++] = 0x18 // 3: schema_version
      at = writeVarint(out, at, version)
    }
    out[at++] = 0x22 // 4: cursor
    at = writeVarint(out, at, cursorSize)
    at = writeBytes(out, at, 0x0a, partitionBytes) // cursor 1: partition_id
    if (blockNumber !== 0) {
      out[at++] = 0x10 // cursor 2: block_number
      at = writeVarint(out, at, blockNumber)
    }
    if (blockOffset !== 0) {
      out[at++] = 0x18 // cursor 3: block_offset
      at = writeVarint(out, at, blockOffset)
    }
    at = writeBytes(out, at, 0x2a, queryBytes) // 5: query_id
    out[at++] = 0x32 // 6: ingest_time
    at = writeVarint(out, at, timeSize)
    if (secondsVarint !== 0) {
      out[at++] = 0x08 // Timestamp 1: seconds
      at = writeVarint(out, at, secondsVarint)
    }
    if (nanos !== 0) {
      out[at++] = 0x10 // Timestamp 2: nanos
      at = writeVarint(out, at, nanos)
    }
    at = writeBytes(out, at, 0x3a, row) // 7: row
    if (at !== size) throw new Error(`envelope size ${size} computed, ${at} written`) // a bug, never the input
    return out
  }
}

let shared: ((fields: EnvelopeFields, row: Uint8Array) => Buffer) | undefined

/** A serialized `tailhouse.v1.Envelope` whose `row` is `row`, the serialized `Row` of the source version. */
export function encodeEnvelope(fields: EnvelopeFields, row: Uint8Array): Buffer {
  shared ??= createEnvelopeEncoder()
  return shared(fields, row)
}

/**
 * A json-format envelope writer: `{ source, op, schema_version, cursor: { partition_id, block_number,
 * block_offset }, query_id, ingest_time, row }` with `rowJson` (the Row's JSON text) as `row`. `op` is lowercase
 * as in EnvelopeFields; block number and offset are strings (uint64, as proto3 JSON writes them); `ingest_time`
 * is RFC 3339 in UTC with exactly six fraction digits. Remembers the last texts it built, as the encoder does.
 */
export function createEnvelopeJson(): (fields: EnvelopeFields, rowJson: string) => string {
  const source = lastText(JSON.stringify)
  const partition = lastText(JSON.stringify)
  const query = lastText(JSON.stringify)
  let lastMicros: bigint | undefined
  let lastTime = ''
  return (fields, rowJson) => {
    opNumber(fields.op)
    if (fields.ingestTimeMicros !== lastMicros) {
      lastTime = microsText(fields.ingestTimeMicros)
      lastMicros = fields.ingestTimeMicros
    }
    return (
      `{"source":${source(fields.source)},"op":"${fields.op}","schema_version":${fields.schemaVersion},` +
      `"cursor":{"partition_id":${partition(fields.partitionId)},"block_number":"${fields.blockNumber}",` +
      `"block_offset":"${fields.blockOffset}"},"query_id":${query(fields.queryId)},` +
      `"ingest_time":"${lastTime}","row":${rowJson}}`
    )
  }
}

/** Microseconds since the epoch as `YYYY-MM-DDThh:mm:ss.ffffffZ`. */
export function microsText(micros: bigint): string {
  const { seconds, nanos } = timestampFromTicks(micros, 6)
  if (typeof seconds !== 'number') throw new RangeError(`ingest time ${micros} µs is beyond any date`)
  return dateTimeText(seconds, nanos / 1000, 6)
}

function opNumber(op: string): number {
  const number = opNumbers[op]
  if (number === undefined) throw new TypeError(`unknown op ${JSON.stringify(op)}`)
  return number
}

/** A varint value: a non-negative safe integer, or a bigint below 2^64. */
type Varint = number | bigint

function uint64(value: bigint, what: string): Varint {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new RangeError(`${what} ${value} is not a uint64`)
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}

function varintSize(value: Varint): number {
  let size = 1
  if (typeof value === 'number') {
    for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) size++
  } else {
    for (let rest = value; rest >= 128n; rest >>= 7n) size++
  }
  return size
}

function writeVarint(out: Buffer, at: number, value: Varint): number {
  let pos = at
  if (typeof value === 'number') {
    let rest = value
    while (rest >= 128) {
      out[pos++] = (rest % 128) | 128
      rest = Math.floor(rest / 128)
    }
    out[pos++] = rest
    return pos
  }
  let rest = value
  while (rest >= 128n) {
    out[pos++] = Number(rest & 127n) | 128
    rest >>= 7n
  }
  out[pos++] = Number(rest)
  return pos
}

/** A length-delimited field's size; 0 when empty, since proto3 leaves empty strings and bytes out. */
function stringSize(bytes: Uint8Array): number {
  return bytes.length === 0 ? 0 : 1 + varintSize(bytes.length) + bytes.length
}

function writeBytes(out: Buffer, at: number, tag: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return at
  out[at] = tag
  const start = writeVarint(out, at + 1, bytes.length)
  out.set(bytes, start)
  return start + bytes.length
}

function lastUtf8(): (text: string) => Buffer {
  let last: string | undefined
  let bytes = Buffer.alloc(0)
  return (text) => {
    if (text !== last) {
      bytes = Buffer.from(text, 'utf8')
      last = text
    }
    return bytes
  }
}

function lastText(make: (text: string) => string): (text: string) => string {
  let last: string | undefined
  let made = ''
  return (text) => {
    if (text !== last) {
      made = make(text)
      last = text
    }
    return made
  }
}
