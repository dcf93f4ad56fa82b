import { DataDirectoryLockedError } from '../errors.js'
import { readEndpointFile } from './endpoint-file.js'
import type { LockHolder } from './lock-holder.js'

/**
 * The error for a data directory another process holds: names that process and what to do, which depends on
 * whether it is a tailhouse engine sharing the directory (query-endpoint.ts) or something else.
 */
export function dataDirectoryLocked(dataDir: string, holder: LockHolder): DataDirectoryLockedError {
  const endpoint = readEndpointFile(dataDir)
  const head = `embedded ClickHouse at ${dataDir} is held by process ${holder.pid}`
  const rule = 'chDB lets one process at a time open a data directory'
  if (endpoint?.pid === holder.pid) {
    return new DataDirectoryLockedError(
      dataDir,
      holder.pid,
      `${head} (${endpoint.serving}, sharing it at ${endpoint.url}): ${rule}. Stop that engine first ` +
        `(kill ${holder.pid}, or Ctrl-C where it runs); tailhouse sql, status and migrate meanwhile go through it`,
    )
  }
  return new DataDirectoryLockedError(
    dataDir,
    holder.pid,
    `${head}${holder.command ? ` (${holder.command})` : ''}: ${rule}. Stop that process and retry; an application ` +
      'that embeds ClickHouse and tailhouse can share its directory with serveEmbeddedClickHouse (see README)',
  )
}
