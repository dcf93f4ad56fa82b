/**
 * A minimal leveled logger; the engine logs what happened, one line per event, with structured fields.
 * {@link createLogger} writes either pino JSON lines (for log collectors) or readable lines (for terminals).
 */
import { type DestinationStream, pino } from 'pino'
import { ConfigError } from './errors.js'
import { formatPrettyLine, toLogFields } from './log-format.js'
import { redactingStream } from './redact.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void
}

/** json: one pino JSON object per line; pretty: `time level message key=value…`; auto: pretty on a TTY, else json. */
export type LogFormat = 'json' | 'pretty' | 'auto'

export const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']
export const logFormats: readonly LogFormat[] = ['json', 'pretty', 'auto']

export interface LoggerOptions {
  level: LogLevel
  format: LogFormat
  /** Where lines go; process.stderr unless given. Each event is one synchronous `write` of one whole line. */
  destination?: NodeJS.WritableStream
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** Keys pino writes itself; a field with one of these names is logged as `_name` so it cannot shadow them. */
const reserved = new Set(['level', 'time', 'msg'])

function isTTY(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true
}

/** Colors on a TTY, unless the terminal says it has none (NO_COLOR, TERM=dumb: see tty.WriteStream#hasColors). */
function hasColors(stream: NodeJS.WritableStream): boolean {
  if (!isTTY(stream)) return false
  const probe = (stream as { hasColors?: () => boolean }).hasColors
  return typeof probe === 'function' ? probe.call(stream) : true
}

function jsonLogger(level: LogLevel, destination: NodeJS.WritableStream): Logger {
  const logger = pino(
    {
      level,
      base: undefined, // no pid/hostname: the collector knows where a line came from
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Fields arrive already serialized (toLogFields); stop pino re-serializing an `err` field as an Error.
      serializers: { err: (value: unknown) => value },
    },
    // A plain stream, not pino.destination(): pino calls write() synchronously, once per line.
    destination as DestinationStream,
  )
  return {
    log(eventLevel, message, fields) {
      if (!logger.isLevelEnabled(eventLevel)) return
      const merged: Record<string, unknown> = {}
      if (fields) {
        for (const [key, value] of Object.entries(toLogFields(fields))) {
          merged[reserved.has(key) ? `_${key}` : key] = value
        }
      }
      logger[eventLevel](merged, message)
    },
  }
}

function prettyLogger(level: LogLevel, destination: NodeJS.WritableStream, color: boolean): Logger {
  return {
    log(eventLevel, message, fields) {
      if (order[eventLevel] < order[level]) return
      destination.write(formatPrettyLine(eventLevel, message, fields, { color }))
    },
  }
}

/**
 * A logger at `level` and above, in `format`, on `destination` (process.stderr by default). Registered secrets
 * (redact.ts) never reach the destination.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stderr
  const format = options.format === 'auto' ? (isTTY(destination) ? 'pretty' : 'json') : options.format
  const redacted = redactingStream(destination)
  return format === 'json'
    ? jsonLogger(options.level, redacted)
    : prettyLogger(options.level, redacted, hasColors(destination))
}

/** Lines like `2026-11-24T00:00:00.000Z info  published batch rows=100` on stderr. */
export function stderrLogger(minimum: LogLevel = 'info'): Logger {
  return createLogger({ level: minimum, format: 'pretty' })
}

export const silentLogger: Logger = { log() {} }

function readChoice<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return fallback
  const value = raw.toLowerCase()
  if ((choices as readonly string[]).includes(value)) return value as T
  throw new ConfigError(name, `must be one of ${choices.join(', ')}; got ${JSON.stringify(env[name])}`)
}

/**
 * The log level and format from TAILHOUSE_LOG_LEVEL (debug|info|warn|error) and TAILHOUSE_LOG_FORMAT
 * (json|pretty|auto), case-insensitive; unset or empty variables take `defaults` (info, auto).
 * @throws ConfigError naming the variable when a value is not one of the choices.
 */
export function logLevelFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  defaults: { level?: LogLevel; format?: LogFormat } = {},
): { level: LogLevel; format: LogFormat } {
  return {
    level: readChoice(env, 'TAILHOUSE_LOG_LEVEL', logLevels, defaults.level ?? 'info'),
    format: readChoice(env, 'TAILHOUSE_LOG_FORMAT', logFormats, defaults.format ?? 'auto'),
  }
}
