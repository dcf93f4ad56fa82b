/**
 * The cursor the RowBinary decoders share: one per compiled row decoder, reset for every payload, so decoding a
 * row allocates no reader state. Every read checks the payload bounds and fails with a {@link RowBinaryFault};
 * the row decoder turns the fault into a RowDecodeError that names the column.
 *
 * Positions are absolute in the payload's underlying ArrayBuffer (payloads are often slices of one network
 * buffer, so the DataView over that buffer is built once, not per row); `start` is where the payload begins.
 */
export class RowBinaryReader {
  /** A Buffer over the whole underlying ArrayBuffer of the current payload. */
  bytes: Buffer = Buffer.alloc(0)
  view: DataView = new DataView(new ArrayBuffer(0))
  pos = 0
  start = 0
  end = 0

  reset(payload: Uint8Array): void {
    const buffer = payload.buffer
    const start = payload.byteOffset
    const end = start + payload.byteLength
    if (buffer !== this.bytes.buffer || end > this.bytes.length) {
      this.bytes = Buffer.from(buffer, 0, buffer.byteLength)
      this.view = new DataView(buffer, 0, buffer.byteLength)
    }
    this.pos = start
    this.start = start
    this.end = end
  }

  /** Releases the last payload's buffer, so an idle decoder does not keep a large network buffer alive. */
  release(): void {
    this.bytes = Buffer.alloc(0)
    this.view = new DataView(new ArrayBuffer(0))
    this.pos = this.start = this.end = 0
  }

  /** Claims `size` bytes for a value of `kind` and returns where they start. */
  take(size: number, kind: string): number {
    const at = this.pos
    if (at + size > this.end) throw this.truncated(at, size, kind)
    this.pos = at + size
    return at
  }

  /**
   * An unsigned LEB128 varint (ClickHouse VarUInt: up to 10 bytes, minimal in practice), as a number. Callers
   * bound the value (string lengths by the bytes left, element counts by {@link maxElements}).
   */
  varUInt(kind: string): number {
    const bytes = this.bytes
    const end = this.end
    let at = this.pos
    if (at >= end) throw this.truncated(at, 1, kind)
    const first = bytes[at++] as number
    if (first < 0x80) {
      this.pos = at
      return first
    }
    let value = first & 0x7f
    let scale = 0x80
    for (let i = 1; i < 10; i++) {
      if (at >= end) throw new RowBinaryFault(`truncated varint (${i} of up to 10 bytes)`, kind, this.pos - this.start)
      const byte = bytes[at++] as number
      value += (byte & 0x7f) * scale
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) break
        this.pos = at
        return value
      }
      scale *= 0x80
    }
    throw new RowBinaryFault('invalid varint (more than 10 bytes, or above 2^53)', kind, this.pos - this.start)
  }

  /** A varint byte length, checked against the bytes left; returns where the bytes start. */
  takeLength(kind: string): number {
    const lengthAt = this.pos
    const length = this.varUInt(kind)
    const at = this.pos
    if (at + length > this.end) {
      throw new RowBinaryFault(
        `length ${length} exceeds the ${this.end - at} bytes left (truncated payload?)`,
        kind,
        lengthAt - this.start,
      )
    }
    this.pos = at + length
    return at
  }

  truncated(at: number, size: number, kind: string): RowBinaryFault {
    return new RowBinaryFault(
      `truncated payload: needs ${size} byte${size === 1 ? '' : 's'}, ${Math.max(0, this.end - at)} left`,
      kind,
      at - this.start,
    )
  }
}

/** ClickHouse's own cap on RowBinary array and map sizes (format_binary_max_array_size, 1 GiB). */
export const maxElements = 1 << 30

/** Why a value could not be read: the reason, the kind of the value being read and its offset in the payload. */
export class RowBinaryFault extends Error {
  readonly reason: string
  readonly kind: string
  readonly offset: number

  constructor(reason: string, kind: string, offset: number) {
    super(reason)
    this.name = 'RowBinaryFault'
    this.reason = reason
    this.kind = kind
    this.offset = offset
  }
}
