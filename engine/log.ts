/** A minimal leveled logger; the engine logs what happened, one line per event, with structured fields. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** Lines like `2026-11-24T00:00:00.000Z info  published batch rows=100` on stderr. */
export function stderrLogger(minimum: LogLevel = 'info'): Logger {
  return {
    log(level, message, fields) {
      if (order[level] < order[minimum]) return
      const extra = fields
        ? Object.entries(fields)
            .map(
              ([k, v]) =>
                ` ${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x))}`,
            )
            .join('')
        : ''
      process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}${extra}\n`)
    },
  }
}

export const silentLogger: Logger = { log() {} }
