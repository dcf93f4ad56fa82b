/**
 * Value arithmetic shared by the row encoders: 64-bit integers in the forms protobufjs writes, exact
 * Timestamp/Duration parts from ClickHouse ticks, and the text forms of times and floats (map keys, JSON).
 * Everything here is exact: no tick count goes through a float division.
 */

/**
 * A 64-bit integer as protobufjs's Writer takes it without parsing: a number when it is a safe integer (the usual
 * case), else `{ low, high }` 32-bit halves (what `LongBits.from` reads from a Long). Works for int64 and uint64.
 */
export type Long64 = number | { low: number; high: number }

export function long64(value: bigint): Long64 {
  const n = Number(value)
  // Number() of a bigint beyond 2^53 - 1 rounds to at least 2^53, which is not a safe integer: the test is exact.
  if (Number.isSafeInteger(n)) return n
  return { low: Number(BigInt.asIntN(32, value)), high: Number(BigInt.asIntN(32, value >> 32n)) }
}

/** The integer a {@link Long64} holds, read as signed or unsigned 64 bits. */
export function long64Value(value: Long64, unsigned: boolean): bigint {
  if (typeof value === 'number') return BigInt(value)
  const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0)
  return unsigned ? bits : BigInt.asIntN(64, bits)
}

/** google.protobuf.Timestamp / Duration as protobufjs plain objects; `nanos` 0 is left to the default. */
export interface SecondsNanos {
  seconds: Long64
  nanos: number
}

const powersOfTen = Array.from({ length: 19 }, (_, p) => 10 ** p)
const bigPowersOfTen = Array.from({ length: 19 }, (_, p) => 10n ** BigInt(p))

/** The scale of a ClickHouse precision (0..9 for DateTime64/Time64), checked once at compile time. */
export function tickScale(precision: number): number {
  if (!Number.isInteger(precision) || precision < 0 || precision > 9) {
    throw new TypeError(`precision ${precision} is outside 0..9`)
  }
  return powersOfTen[precision] as number
}

/**
 * A Timestamp from ticks of 10^-precision s since the epoch: seconds rounded toward minus infinity and
 * 0 ≤ nanos < 10^9, as google/protobuf/timestamp.proto requires (-1 tick of DateTime64(3) is -1 s + 999 ms).
 */
export function timestampFromTicks(ticks: bigint, precision: number): SecondsNanos {
  const scale = powersOfTen[precision] as number
  const toNanos = powersOfTen[9 - precision] as number
  const t = Number(ticks)
  if (Number.isSafeInteger(t)) {
    // % and the division of an exact multiple are exact on safe integers.
    let rest = t % scale
    let seconds = (t - rest) / scale
    if (rest < 0) {
      rest += scale
      seconds -= 1
    }
    // + 0 turns the -0 of a negative whole second into 0.
    return { seconds, nanos: rest * toNanos + 0 }
  }
  const big = bigPowersOfTen[precision] as bigint
  let seconds = ticks / big
  let rest = ticks % big
  if (rest < 0n) {
    rest += big
    seconds -= 1n
  }
  return { seconds: long64(seconds), nanos: Number(rest) * toNanos }
}

/**
 * A Duration from ticks of 10^-precision s: seconds truncated toward zero and nanos of the same sign, as
 * google/protobuf/duration.proto requires (-1.5 s is seconds -1, nanos -500000000).
 */
export function durationFromTicks(ticks: bigint, precision: number): SecondsNanos {
  const scale = powersOfTen[precision] as number
  const toNanos = powersOfTen[9 - precision] as number
  const t = Number(ticks)
  if (Number.isSafeInteger(t)) {
    const rest = t % scale
    // `rest * toNanos` is -0 for a negative whole second: + 0 makes it 0, which protobufjs leaves out.
    return { seconds: (t - rest) / scale, nanos: rest * toNanos + 0 }
  }
  const big = bigPowersOfTen[precision] as bigint
  return { seconds: long64(ticks / big), nanos: Number(ticks % big) * toNanos }
}

/** Days since 1970-01-01 as `YYYY-MM-DD` (Date's and Date32's text, the form of their map keys). */
export function dateText(days: number): string {
  if (days === lastDays) return lastDate
  const text = civilText(days)
  lastDays = days
  lastDate = text
  return text
}

// Rows of one batch mostly share their day: one remembered day saves the calendar arithmetic.
let lastDays = 0
let lastDate = '1970-01-01'

/**
 * Seconds since the epoch plus a fraction as `YYYY-MM-DDThh:mm:ss[.f…]Z` in UTC, with exactly `digits` fraction
 * digits (0: no point). `fraction` is the sub-second part in units of 10^-digits s, 0 ≤ fraction < 10^digits.
 */
export function dateTimeText(seconds: number, fraction: number, digits: number): string {
  const base = secondsText(seconds)
  return digits === 0 ? `${base}Z` : `${base}.${String(fraction).padStart(digits, '0')}Z`
}

const twoDigits = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'))

/** Whole seconds since the epoch as `YYYY-MM-DDThh:mm:ss` in UTC (proleptic Gregorian, as RFC 3339). */
function secondsText(seconds: number): string {
  const days = Math.floor(seconds / 86_400)
  const rest = seconds - days * 86_400
  const hours = Math.floor(rest / 3600)
  const minutes = Math.floor((rest - hours * 3600) / 60)
  const secs = rest - hours * 3600 - minutes * 60
  return `${dateText(days)}T${twoDigits[hours]}:${twoDigits[minutes]}:${twoDigits[secs]}`
}

/**
 * The calendar date of a day number, by Howard Hinnant's civil_from_days (exact integer arithmetic for any day
 * a double holds; several times faster than formatting a Date). Years print with at least four digits.
 */
function civilText(days: number): string {
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const dayOfEra = z - era * 146_097
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  )
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153) // 0 = March
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  const yearText = year < 0 ? `-${String(-year).padStart(4, '0')}` : String(year).padStart(4, '0')
  return `${yearText}-${twoDigits[month]}-${twoDigits[day]}`
}

/** DateTime64(p) ticks as {@link dateTimeText} with p fraction digits (the form of its map keys). */
export function dateTime64Text(ticks: bigint, precision: number): string {
  const { seconds, nanos } = timestampFromTicks(ticks, precision)
  return dateTimeText(checkedSeconds(seconds), nanos / (powersOfTen[9 - precision] as number), precision)
}

/**
 * A Timestamp in the proto3 JSON form: RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, the fewest that are
 * exact (what protobuf's JsonFormat prints). Years outside 0001–9999 have no such form: RangeError.
 */
export function timestampJson(seconds: Long64, nanos: number): string {
  const s = checkedSeconds(seconds)
  if (s < minTimestampSeconds || s > maxTimestampSeconds) {
    throw new RangeError(`Timestamp seconds ${s} is outside 0001-01-01 to 9999-12-31`)
  }
  return `${secondsText(s)}${nanosText(nanos)}Z`
}

/** A Duration in the proto3 JSON form: seconds with 0, 3, 6 or 9 fraction digits and a trailing `s` ("-1.500s"). */
export function durationJson(seconds: Long64, nanos: number): string {
  const s = typeof seconds === 'number' ? seconds : long64Value(seconds, false)
  const negative = s < 0 || nanos < 0
  const whole = s < 0 ? -s : s
  return `${negative ? '-' : ''}${whole}${nanosText(nanos < 0 ? -nanos : nanos)}s`
}

/** `.fff`, `.ffffff` or `.fffffffff` for 0 < nanos < 10^9; '' for 0. */
function nanosText(nanos: number): string {
  if (nanos === 0) return ''
  if (nanos % 1_000_000 === 0) return `.${String(nanos / 1_000_000).padStart(3, '0')}`
  if (nanos % 1000 === 0) return `.${String(nanos / 1000).padStart(6, '0')}`
  return `.${String(nanos).padStart(9, '0')}`
}

const minTimestampSeconds = -62_135_596_800 // 0001-01-01T00:00:00Z
const maxTimestampSeconds = 253_402_300_799 // 9999-12-31T23:59:59Z

function checkedSeconds(seconds: Long64): number {
  if (typeof seconds === 'number') return seconds
  throw new RangeError(`${long64Value(seconds, false)} seconds is beyond any date`)
}

/**
 * The shortest decimal text that reads back as this Float32 (what ClickHouse and protobuf's JSON printers show:
 * 0.1, not the 0.10000000149011612 its widened double prints as). Non-finite values give `nonFinite`'s texts.
 */
export function float32Text(value: number, nonFinite: (value: number) => string): string {
  if (!Number.isFinite(value)) return nonFinite(value)
  if (value === 0) return Object.is(value, -0) ? '-0' : '0'
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits))
    if (Math.fround(candidate) === value) return String(candidate)
  }
  return String(Number(value.toPrecision(9)))
}

/** A Float64 as its shortest round-trip text, keeping the sign of -0. */
export function float64Text(value: number, nonFinite: (value: number) => string): string {
  if (!Number.isFinite(value)) return nonFinite(value)
  return Object.is(value, -0) ? '-0' : String(value)
}
