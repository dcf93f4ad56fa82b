import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * How a process that holds embedded ClickHouse's data directory (a running engine) tells other tailhouse processes
 * of the same user where to send their queries: `<dataDir>/tailhouse-endpoint.json`, mode 0600, written once the
 * endpoint listens and removed when it closes. The token in it is the endpoint's only credential, so the file is
 * readable by its owner alone.
 */
export interface EndpointFile {
  /** The process serving the endpoint, i.e. holding the data directory. */
  pid: number
  /** Base URL on the loopback interface, e.g. http://127.0.0.1:40123. */
  url: string
  /** Bearer token every request must carry. */
  token: string
  /** What the serving process is, for messages (e.g. "tailhouse start"). */
  serving: string
  startedAt: string
}

export const endpointFileName = 'tailhouse-endpoint.json'

export function endpointFilePath(dataDir: string): string {
  return join(dataDir, endpointFileName)
}

/** Writes the file atomically (a reader never sees half of it) with owner-only permissions. */
export function writeEndpointFile(dataDir: string, endpoint: EndpointFile): void {
  const path = endpointFilePath(dataDir)
  const partial = `${path}.${process.pid}.partial`
  writeFileSync(partial, `${JSON.stringify(endpoint, null, 2)}\n`, { mode: 0o600 })
  renameSync(partial, path)
}

/** The file's content, or undefined when there is none or it is not one of ours. */
export function readEndpointFile(dataDir: string): EndpointFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(endpointFilePath(dataDir), 'utf8')) as Partial<EndpointFile>
    if (typeof parsed.pid !== 'number' || typeof parsed.url !== 'string' || typeof parsed.token !== 'string')
      return undefined
    return {
      pid: parsed.pid,
      url: parsed.url,
      token: parsed.token,
      serving: String(parsed.serving ?? 'a tailhouse process'),
      startedAt: String(parsed.startedAt ?? ''),
    }
  } catch {
    return undefined
  }
}

/** Removes the file if it still describes `token`'s endpoint (a newer engine may have replaced it). */
export function removeEndpointFile(dataDir: string, token: string): void {
  if (readEndpointFile(dataDir)?.token !== token) return
  rmSync(endpointFilePath(dataDir), { force: true })
}
