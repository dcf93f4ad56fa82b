/**
 * Parses the responses of the changelog query (changelog-query.ts) into {@link ChangelogRow}s. Both forms keep the
 * bytes the engine passes on — a message value, a RowBinary payload, a key — as zero-copy slices of the one response
 * buffer, and decode strings that repeat from row to row (partition, query id: one INSERT's rows share them) once.
 */
import { RowBinaryFault, RowBinaryReader } from '../encoding/rowbinary-reader.js'
import { outFields } from './changelog-query.js'
import { cursorKey } from './cursor.js'

export type Op = 'insert' | 'upsert' | 'delete' | 'retract' | 'read'

/** One changelog row as the engine reads it. */
export interface ChangelogRow {
  /** `db.table` of the source. */
  source: string
  /** The cursor key of the row's changelog partition (cursor.ts). */
  stream: string
  partitionId: string
  blockNumber: bigint
  blockOffset: bigint
  op: Op
  schemaVersion: number
  queryId: string
  /** Microseconds since the epoch. */
  ingestMicros: bigint
  /** The message key ClickHouse computed; undefined for a source without key columns, or for a drifted row. */
  key: Buffer | undefined
  /** The Kafka partition of the key; undefined when there is no key. */
  partition: number | undefined
  /** Protobuf encoding: the message value ClickHouse wrote (undefined for a drifted row). */
  value: Buffer | undefined
  /** Rowbinary encoding, and drifted rows: the row's columns in RowBinary. */
  payload: Buffer | undefined
  /**
   * Set for a drifted row (captured after its source's column types changed, before migrate registered them): the
   * fingerprint of the types its payload is written with, decimal text as the registry has it.
   */
  fingerprint: string | undefined
}

const emptyKey = Buffer.alloc(0)

/** The op column's Enum8 values (changelog-table.ts opEnum). */
const ops: Record<number, Op> = { 1: 'insert', 2: 'upsert', 3: 'delete', 4: 'retract', 5: 'read' }

function opOf(value: number, at: number): Op {
  const op = ops[value]
  if (op === undefined) throw new RowBinaryFault(`unknown op ${value}`, 'op', at)
  return op
}

/** A drift column's value: fingerprint (UInt64, little endian) then the payload. */
function splitDrift(bytes: Buffer): { fingerprint: string; payload: Buffer } {
  return { fingerprint: bytes.readBigUInt64LE(0).toString(), payload: bytes.subarray(8) }
}

/**
 * Parses a `FORMAT RowBinary` response of the rowbinary encoding: partition_id, block, offset, query_id, ingest_us,
 * op, version, [key, partition,] payload, drifted.
 */
export function parseRowBinaryRows(response: Buffer, source: string, keyed: boolean): ChangelogRow[] {
  const reader = new RowBinaryReader()
  reader.reset(response)
  const rows: ChangelogRow[] = []
  const partition = new RepeatedString()
  const queryId = new RepeatedString()
  const streams = new Streams(source)
  const view = reader.view
  while (reader.pos < reader.end) {
    let key: Buffer | undefined
    let kafkaPartition: number | undefined
    if (keyed) {
      const keyAt = reader.takeLength('key')
      key = reader.bytes.subarray(keyAt, reader.pos)
      kafkaPartition = view.getUint32(reader.take(4, 'partition'), true)
    }
    const partitionId = partition.read(reader, 'partition_id')
    const blockNumber = view.getBigUint64(reader.take(8, 'block'), true)
    const blockOffset = view.getBigUint64(reader.take(8, 'offset'), true)
    const query = queryId.read(reader, 'query_id')
    const ingestMicros = view.getBigInt64(reader.take(8, 'ingest_us'), true)
    const op = opOf(view.getInt8(reader.take(1, 'op')), reader.pos - 1)
    const schemaVersion = view.getUint16(reader.take(2, 'version'), true)
    const payloadAt = reader.takeLength('payload')
    const bytes = reader.bytes.subarray(payloadAt, reader.pos)
    const drifted = view.getUint8(reader.take(1, 'drifted')) !== 0
    const drift = drifted ? splitDrift(bytes) : undefined
    rows.push({
      source,
      stream: streams.of(partitionId),
      partitionId,
      blockNumber,
      blockOffset,
      op,
      schemaVersion,
      queryId: query,
      ingestMicros,
      key: drifted ? undefined : key,
      partition: drifted ? undefined : kafkaPartition,
      value: undefined,
      payload: drift ? drift.payload : bytes,
      fingerprint: drift?.fingerprint,
    })
  }
  return rows
}

/**
 * Parses a `FORMAT Protobuf` response of TH_Out messages (length-delimited). Each message's value field
 * (`v<version>`) is the encoded Envelope, passed on as it is.
 */
export function parseProtobufRows(response: Buffer, source: string, keyed: boolean): ChangelogRow[] {
  const rows: ChangelogRow[] = []
  const streams = new Streams(source)
  const partition = new RepeatedText()
  const queryId = new RepeatedText()
  const wire = new WireReader(response)
  while (wire.pos < wire.end) {
    const end = wire.varint() + wire.pos
    let key: Buffer | undefined
    let kafkaPartition = 0
    let partitionId = ''
    let blockNumber = 0n
    let blockOffset = 0n
    let query = ''
    let ingestMicros = 0n
    let op: Op = 'insert'
    let schemaVersion = 0
    let drift: Buffer | undefined
    let value: Buffer | undefined
    while (wire.pos < end) {
      const tag = wire.varint()
      const field = tag >>> 3
      switch (field) {
        case outFields.key:
          key = wire.bytes()
          break
        case outFields.partition:
          kafkaPartition = wire.varint()
          break
        case outFields.partitionId:
          partitionId = partition.read(wire)
          break
        case outFields.block:
          blockNumber = wire.bigVarint(false)
          break
        case outFields.offset:
          blockOffset = wire.bigVarint(false)
          break
        case outFields.queryId:
          query = queryId.read(wire)
          break
        case outFields.ingestMicros:
          ingestMicros = wire.bigVarint(true)
          break
        case outFields.op:
          op = opOf(wire.varint(), wire.pos)
          break
        case outFields.version:
          schemaVersion = wire.varint()
          break
        case outFields.drift:
          drift = wire.bytes()
          break
        default:
          if (field > outFields.firstValue && (tag & 7) === 2) value = wire.bytes()
          else wire.skip(tag & 7)
      }
    }
    wire.pos = end
    const drifted = drift !== undefined && drift.length > 0 ? splitDrift(drift) : undefined
    rows.push({
      source,
      stream: streams.of(partitionId),
      partitionId,
      blockNumber,
      blockOffset,
      op,
      schemaVersion,
      queryId: query,
      ingestMicros,
      // proto3 leaves an empty key out: a keyed row without one has the empty key.
      key: drifted || !keyed ? undefined : (key ?? emptyKey),
      partition: drifted || !keyed ? undefined : kafkaPartition,
      value: drifted ? undefined : value,
      payload: drifted?.payload,
      fingerprint: drifted?.fingerprint,
    })
  }
  return rows
}

/** Cursor keys of one source's partitions, built once per partition. */
class Streams {
  readonly #source: string
  #partition = ''
  #key = ''

  constructor(source: string) {
    this.#source = source
  }

  of(partitionId: string): string {
    if (partitionId !== this.#partition || this.#key === '') {
      this.#partition = partitionId
      this.#key = cursorKey(this.#source, partitionId)
    }
    return this.#key
  }
}

/** A RowBinary String column whose value usually equals the previous row's: compares bytes before decoding. */
class RepeatedString {
  #bytes: Buffer = Buffer.alloc(0)
  #value = ''

  read(reader: RowBinaryReader, column: string): string {
    const at = reader.takeLength(column)
    return this.decode(reader.bytes, at, reader.pos)
  }

  decode(bytes: Buffer, at: number, end: number): string {
    const length = end - at
    const last = this.#bytes
    if (length === last.length && bytes.compare(last, 0, length, at, end) === 0) return this.#value
    this.#bytes = Buffer.from(bytes.subarray(at, end))
    this.#value = this.#bytes.toString('utf8')
    return this.#value
  }
}

/** {@link RepeatedString} for a length-delimited Protobuf field. */
class RepeatedText {
  readonly #strings = new RepeatedString()

  read(wire: WireReader): string {
    const length = wire.varint()
    const at = wire.pos
    wire.pos += length
    if (wire.pos > wire.end) throw new RowBinaryFault('truncated Protobuf field', 'TH_Out', at)
    return this.#strings.decode(wire.buffer, at, wire.pos)
  }
}

/** The few Protobuf wire reads TH_Out needs. */
class WireReader {
  pos = 0
  readonly end: number

  constructor(readonly buffer: Buffer) {
    this.end = buffer.length
  }

  varint(): number {
    const bytes = this.buffer
    let value = 0
    let scale = 1
    for (;;) {
      if (this.pos >= this.end) throw new RowBinaryFault('truncated varint', 'TH_Out', this.pos)
      const byte = bytes[this.pos++] as number
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value
      scale *= 128
      if (scale > 2 ** 63) throw new RowBinaryFault('varint too long', 'TH_Out', this.pos)
    }
  }

  /** A varint as a bigint, exact beyond 2^53 (uint64 block numbers, int64 times). */
  bigVarint(signed: boolean): bigint {
    const start = this.pos
    const value = this.varint()
    if (Number.isSafeInteger(value)) return BigInt(value)
    let big = 0n
    let shift = 0n
    for (let at = start; at < this.pos; at++) {
      big |= BigInt((this.buffer[at] as number) & 0x7f) << shift
      shift += 7n
    }
    return signed ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big)
  }

  bytes(): Buffer {
    const length = this.varint()
    const at = this.pos
    this.pos += length
    if (this.pos > this.end) throw new RowBinaryFault('truncated Protobuf field', 'TH_Out', at)
    return this.buffer.subarray(at, this.pos)
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint()
    else if (wireType === 1) this.pos += 8
    else if (wireType === 2) this.pos += this.varint()
    else if (wireType === 5) this.pos += 4
    else throw new RowBinaryFault(`unexpected wire type ${wireType}`, 'TH_Out', this.pos)
  }
}
