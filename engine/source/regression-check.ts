import type { ClickHouseClient } from '@clickhouse/client'
import type { Cursor } from './cursor.js'
import { detectRegression, regressionError } from './cursor-regression.js'
import { partsFromRows, partsQuery } from './replicated-state.js'
import { plainWatermark } from './watermark.js'

/**
 * Compares the cursor with the changelog's visible parts. Throws (fatal) when a partition's visible max block fell
 * below the cursor: block numbers were re-issued after the highest parts were dropped, and reading on would skip
 * rows silently. Returns the cursor without partitions that are gone entirely (TTL drops old hourly partitions).
 */
export async function checkCursor(client: ClickHouseClient, database: string, cursor: Cursor): Promise<Cursor> {
  if (cursor.size === 0) return cursor
  const request = partsQuery(database, 'changelog')
  const result = await client.query({ ...request, format: 'JSONEachRow' })
  const parts = partsFromRows(await result.json())
  const { regressions, retired } = detectRegression(
    cursor,
    plainWatermark(parts),
    new Set(parts.map((p) => p.partitionId)),
  )
  if (regressions.length > 0) throw regressionError(`${database}.changelog`, regressions)
  if (retired.length === 0) return cursor
  const kept = new Map(cursor)
  for (const partition of retired) kept.delete(partition)
  return kept
}
