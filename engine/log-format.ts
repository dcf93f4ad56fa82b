/**
 * How log fields become text: {@link toLogValue} makes any value JSON-safe (bigint → string, Error → a plain
 * {type, message, code, stack} object), {@link formatPrettyLine} renders one event as a terminal line.
 */
import type { LogLevel } from './log.js'

/** The shape an Error takes in a log: `code` (e.g. TH_CONFIG) and `cause` only when the error has them. */
export interface LoggedError {
  type: string
  message: string
  code?: unknown
  stack?: string
  cause?: unknown
}

export function serializeError(error: Error, seen: WeakSet<object> = new WeakSet()): LoggedError {
  seen.add(error)
  try {
    const type = typeof error.constructor === 'function' && error.constructor.name ? error.constructor.name : error.name
    const out: LoggedError = { type, message: error.message }
    const code = (error as { code?: unknown }).code
    if (code !== undefined) out.code = toLogValue(code, seen)
    if (error.stack !== undefined) out.stack = error.stack
    if (error.cause !== undefined) out.cause = toLogValue(error.cause, seen)
    return out
  } finally {
    seen.delete(error)
  }
}

/**
 * A JSON-safe copy of `value`: bigints become decimal strings, Errors {@link LoggedError}s, at any depth in
 * arrays and plain objects; cycles become "[Circular]". Objects with their own `toJSON` (Date, Buffer) are kept.
 */
export function toLogValue(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value === null || typeof value !== 'object') return value
  if (seen.has(value)) return '[Circular]'
  if (value instanceof Error) return serializeError(value, seen)
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.map((item) => toLogValue(item, seen))
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = toLogValue(item, seen)
    return out
  } finally {
    seen.delete(value) // a value seen twice side by side is not a cycle
  }
}

/** {@link toLogValue} over each field; the fields object itself is copied, never changed. */
export function toLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  const seen = new WeakSet<object>()
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) out[key] = toLogValue(value, seen)
  return out
}

const colors: Record<LogLevel, string> = { debug: '\x1b[90m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m' }

/** ` key=value`: bare when the value is a string without whitespace, else JSON; an Error reads `Type: message [code]`. */
function formatField(key: string, value: unknown): string {
  let shown = value
  if (value instanceof Error) {
    const { type, message, code } = serializeError(value)
    shown = `${type}: ${message}${code === undefined ? '' : ` [${String(code)}]`}`
  }
  if (typeof shown === 'string' && shown !== '' && !/\s/.test(shown)) return ` ${key}=${shown}`
  return ` ${key}=${JSON.stringify(toLogValue(shown)) ?? String(shown)}`
}

/** `2026-11-24T00:00:00.000Z info  published batch rows=100` (with a newline); the level colored when `color`. */
export function formatPrettyLine(
  level: LogLevel,
  message: string,
  fields: Record<string, unknown> | undefined,
  options: { time?: Date; color?: boolean } = {},
): string {
  const time = (options.time ?? new Date()).toISOString()
  const padding = ' '.repeat(Math.max(0, 5 - level.length))
  const label = options.color ? `${colors[level]}${level}\x1b[39m${padding}` : `${level}${padding}`
  const extra = fields
    ? Object.entries(fields)
        .map(([key, value]) => formatField(key, value))
        .join('')
    : ''
  return `${time} ${label} ${message}${extra}\n`
}
