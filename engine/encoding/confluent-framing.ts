/**
 * Confluent's wire format, which every schema-registry serializer and deserializer (Java, librdkafka, Python's
 * confluent-kafka, Quix Streams, Apicurio in Confluent mode) reads:
 *
 *     byte 0      magic byte 0
 *     bytes 1–4   the schema id the registry assigned, big-endian
 *     Protobuf    the message indexes: which message of the registered file the value is, as a varint count
 *                 followed by that many zigzag varints (the path of indexes through nested messages); the common
 *                 case [0], the first message of the file, is written as the single byte 0
 *     then        the value as Avro binary, JSON text or Protobuf bytes
 *
 * {@link frameConfluent} works on any value Buffer, so values encoded elsewhere (ClickHouse's `FORMAT Protobuf`)
 * get the same prefix.
 */

/** The prefix of values framed with `schemaId` (and, for Protobuf, `messageIndexes`). */
export function confluentPrefix(schemaId: number, messageIndexes?: readonly number[]): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffff_ffff) {
    throw new RangeError(`schema id ${schemaId} is not a 32-bit unsigned integer`)
  }
  const indexes = messageIndexes === undefined ? Buffer.alloc(0) : messageIndexBytes(messageIndexes)
  const prefix = Buffer.allocUnsafe(5 + indexes.length)
  prefix[0] = 0
  prefix.writeUInt32BE(schemaId, 1)
  indexes.copy(prefix, 5)
  return prefix
}

/**
 * The value in Confluent's wire format. `messageIndexes` is for Protobuf only (omit it for Avro and JSON Schema):
 * `[0]` for the first message of the registered file.
 *
 * @example
 *   frameConfluent(7, avroBytes)            // 00 00 00 00 07 <avro>
 *   frameConfluent(7, protoBytes, [0])      // 00 00 00 00 07 00 <protobuf>
 */
export function frameConfluent(schemaId: number, value: Uint8Array, messageIndexes?: readonly number[]): Buffer {
  return prefixWith(confluentPrefix(schemaId, messageIndexes), value)
}

/** `prefix` then `value` in one new Buffer: the per-message step once the prefix is computed. */
export function prefixWith(prefix: Buffer, value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + value.length)
  prefix.copy(out, 0)
  out.set(value, prefix.length)
  return out
}

/** The message-index array: `[0]` is the single byte 0, else a zigzag varint count and zigzag varint indexes. */
export function messageIndexBytes(indexes: readonly number[]): Buffer {
  if (indexes.length === 0) throw new RangeError('a Protobuf message-index array needs at least one index')
  for (const index of indexes) {
    if (!Number.isInteger(index) || index < 0 || index > 0x7fff_ffff) {
      throw new RangeError(`message index ${index} is not a non-negative 32-bit integer`)
    }
  }
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0])
  const bytes: number[] = []
  for (const n of [indexes.length, ...indexes]) writeZigzag(bytes, n)
  return Buffer.from(bytes)
}

export interface ConfluentFrame {
  schemaId: number
  /** Protobuf only, when read with `protobuf: true`. */
  messageIndexes?: number[]
  payload: Buffer
}

/** Reads a framed value back (consumers, tests); throws on a value that is not in the wire format. */
export function readConfluentFrame(value: Buffer, options: { protobuf?: boolean } = {}): ConfluentFrame {
  if (value.length < 5 || value[0] !== 0) {
    throw new TypeError(`not a Confluent-framed value (${value.length} bytes, first byte ${value[0]})`)
  }
  const schemaId = value.readUInt32BE(1)
  if (!options.protobuf) return { schemaId, payload: value.subarray(5) }
  let at = 5
  const next = () => {
    let result = 0
    let shift = 0
    for (;;) {
      const byte = value[at++]
      if (byte === undefined) throw new TypeError('truncated message-index array')
      result += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) break
      shift += 7
      if (shift > 35) throw new TypeError('message-index varint too long')
    }
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2
  }
  const count = next()
  const messageIndexes = count === 0 ? [0] : Array.from({ length: count }, next)
  return { schemaId, messageIndexes, payload: value.subarray(at) }
}

function writeZigzag(out: number[], n: number): void {
  let rest = n * 2 // zigzag of a non-negative number
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
}
