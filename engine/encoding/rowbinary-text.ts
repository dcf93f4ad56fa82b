/**
 * Text forms of the RowBinary values that tailhouse carries as strings: wide integers, decimals, UUIDs and IP
 * addresses, each matching what ClickHouse's own `toString` prints (checked against ClickHouse 26.7 in
 * test/encoding/rowbinary-every-type.integration.test.ts).
 */

const hex = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/** A little-endian two's-complement integer of `limbs` 64-bit words at `at`, as decimal text. */
export function wideIntText(view: DataView, at: number, limbs: 2 | 4, signed: boolean): string {
  const top = at + (limbs - 1) * 8
  let value = signed ? view.getBigInt64(top, true) : view.getBigUint64(top, true)
  for (let limb = top - 8; limb >= at; limb -= 8) value = (value << 64n) | view.getBigUint64(limb, true)
  return value.toString()
}

/** Places the decimal point `scale` digits from the right of integer text: ("-1234", 4) → "-0.1234". */
export function scaleText(integer: string, scale: number): string {
  if (scale === 0) return integer
  const negative = integer.charCodeAt(0) === 45 // '-'
  let digits = negative ? integer.slice(1) : integer
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits
  const point = digits.length - scale
  return `${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`
}

/**
 * ClickHouse writes a UUID as two little-endian UInt64: the high 64 bits first, then the low 64 bits. The
 * canonical text is the 128-bit value in big-endian hex, so each half's bytes are read backwards.
 */
export function uuidText(bytes: Uint8Array, at: number): string {
  // time-low and time-mid/high come from the high half, clock-seq and node from the low half.
  return (
    `${hx(bytes, at + 7)}${hx(bytes, at + 6)}${hx(bytes, at + 5)}${hx(bytes, at + 4)}-` +
    `${hx(bytes, at + 3)}${hx(bytes, at + 2)}-${hx(bytes, at + 1)}${hx(bytes, at)}-` +
    `${hx(bytes, at + 15)}${hx(bytes, at + 14)}-` +
    `${hx(bytes, at + 13)}${hx(bytes, at + 12)}${hx(bytes, at + 11)}${hx(bytes, at + 10)}` +
    `${hx(bytes, at + 9)}${hx(bytes, at + 8)}`
  )
}

function hx(bytes: Uint8Array, at: number): string {
  return hex[bytes[at] as number] as string
}

/** IPv4 is a little-endian UInt32 on the wire: the last byte is the first octet. */
export function ipv4Text(bytes: Uint8Array, at: number): string {
  return `${bytes[at + 3]}.${bytes[at + 2]}.${bytes[at + 1]}.${bytes[at]}`
}

/**
 * IPv6 is 16 bytes in network order. The text follows ClickHouse's formatIPv6 (src/Common/formatIPv6.cpp), which
 * is RFC 5952 (lowercase, no leading zeros, the first longest run of two or more zero groups shortened to `::`)
 * plus one rule of its own: when that run starts the address and is six groups long (`::a.b.c.d`, IPv4-compatible)
 * or five groups followed by ffff (`::ffff:a.b.c.d`, IPv4-mapped), the last 32 bits are printed dotted.
 */
export function ipv6Text(bytes: Uint8Array, at: number): string {
  const groups = new Array<number>(8)
  let bestBase = -1
  let bestLength = 0
  let runBase = -1
  for (let i = 0; i < 8; i++) {
    const group = ((bytes[at + 2 * i] as number) << 8) | (bytes[at + 2 * i + 1] as number)
    groups[i] = group
    if (group === 0) {
      if (runBase === -1) runBase = i
      if (i - runBase + 1 > bestLength) {
        bestBase = runBase
        bestLength = i - runBase + 1
      }
    } else {
      runBase = -1
    }
  }
  if (bestLength < 2) bestBase = -1
  if (bestBase === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    const v4 = `${bytes[at + 12]}.${bytes[at + 13]}.${bytes[at + 14]}.${bytes[at + 15]}`
    return bestLength === 6 ? `::${v4}` : `::ffff:${v4}`
  }
  let text = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      text += '::'
      i += bestLength - 1
      continue
    }
    if (text !== '' && !text.endsWith(':')) text += ':'
    text += (groups[i] as number).toString(16)
  }
  return text
}
