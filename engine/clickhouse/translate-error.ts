import { lockHolder } from '../embedded/lock-holder.js'
import { dataDirectoryLocked } from '../embedded/locked-error.js'
import { ClickHouseQueryError, ClickHouseUnreachableError, TailhouseError } from '../errors.js'
import { serverError } from './server-error.js'

const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH'])

/**
 * Turns what `@clickhouse/client` throws into a {@link TailhouseError}: server errors keep ClickHouse's code and
 * name (parsed by the client itself); network failures become retriable "unreachable" errors naming `target`.
 */
export function translateClickHouseError(error: unknown, target: string): TailhouseError {
  if (error instanceof TailhouseError) return error
  const server = serverError(error)
  if (server) {
    // Error 76 on embedded ClickHouse's status file: another process holds the data directory; name it.
    const locked = server.code === '76' ? /Cannot lock file (\S+)\/status\b/.exec(server.message)?.[1] : undefined
    const holder = locked ? lockHolder(locked) : undefined
    if (locked && holder) return dataDirectoryLocked(locked, holder)
    const name = server.type ? ` ${server.type}` : ''
    return new ClickHouseQueryError(
      `ClickHouse error ${server.code}${name}: ${server.message.trim()}`,
      server.code,
      server.type,
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
