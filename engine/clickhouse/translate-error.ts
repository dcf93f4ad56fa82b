import { ClickHouseError } from '@clickhouse/client'
import { ClickHouseQueryError, ClickHouseUnreachableError, TailhouseError } from '../errors.js'

const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH'])

/**
 * Turns what `@clickhouse/client` throws into a {@link TailhouseError}: server errors keep ClickHouse's code and
 * name (parsed by the client itself); network failures become retriable "unreachable" errors naming `target`.
 */
export function translateClickHouseError(error: unknown, target: string): TailhouseError {
  if (error instanceof TailhouseError) return error
  if (error instanceof ClickHouseError) {
    const name = error.type ? ` ${error.type}` : ''
    return new ClickHouseQueryError(
      `ClickHouse error ${error.code}${name}: ${error.message.trim()}`,
      error.code,
      error.type,
      {
        cause: error,
      },
    )
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const message = error instanceof Error ? error.message : String(error)
  if ((code && unreachableCodes.has(code)) || /timeout|socket hang up/i.test(message)) {
    return new ClickHouseUnreachableError(target, code ? `${code} (${message})` : message, { cause: error })
  }
  return new ClickHouseQueryError(`ClickHouse request failed: ${message}`, undefined, undefined, { cause: error })
}
