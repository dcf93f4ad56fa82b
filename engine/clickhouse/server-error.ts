import { ClickHouseError } from '@clickhouse/client'

/** An error ClickHouse reported, with its numeric code and name (e.g. 60, UNKNOWN_TABLE). */
export interface ServerError {
  message: string
  code: string
  type: string | undefined
}

/**
 * The ClickHouse error inside what a client threw, or undefined for other failures. Both of `@clickhouse/client`'s
 * `ClickHouseError` classes count: the client's own, and the one of `@clickhouse/client-common`, a separate copy
 * that chDB's connection throws (instanceof tells them apart, so the shape decides).
 */
export function serverError(error: unknown): ServerError | undefined {
  if (error instanceof ClickHouseError) return { message: error.message, code: error.code, type: error.type }
  if (!(error instanceof Error) || error.constructor.name !== 'ClickHouseError') return undefined
  const { code, type } = error as Error & { code?: unknown; type?: unknown }
  if (typeof code !== 'string') return undefined
  return { message: error.message, code, type: typeof type === 'string' ? type : undefined }
}
