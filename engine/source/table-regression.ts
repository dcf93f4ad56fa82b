import type { ClickHouseClient } from '@clickhouse/client'
import { qualifiedName } from '../clickhouse/sql.js'
import { isSnapshotPartition } from '../snapshot/snapshot-registry.js'
import { type Cursor, cursorKey, type Position, splitCursorKey } from './cursor.js'
import { detectRegression, regressionError } from './cursor-regression.js'
import { partsFromRows, partsQuery } from './replicated-state.js'
import { plainWatermark } from './watermark.js'

/** The cursor's positions in `source`'s table (a changelog, or the source itself in stream mode), by partition id. */
export function partitionCursor(cursor: Cursor, source: string): Map<string, Position> {
  const partitions = new Map<string, Position>()
  for (const [key, position] of cursor) {
    const { source: s, partitionId } = splitCursorKey(key)
    if (s === source && !isSnapshotPartition(partitionId)) partitions.set(partitionId, position)
  }
  return partitions
}

/**
 * Compares the cursor's partitions of `source` with the parts of `database.table`, the table they were read from
 * (cursor-regression.ts): block numbers below the cursor throw a CursorRegressionError naming the table; partitions
 * the table no longer has (DROP PARTITION, TRUNCATE) are left out of the cursor returned, so rows written to them
 * later are read from their start. Not for replicated tables (a lagging replica shows fewer blocks).
 */
export async function checkTableAgainstCursor(
  client: ClickHouseClient,
  table: { database: string; table: string },
  source: string,
  cursor: Cursor,
): Promise<Cursor> {
  const partitions = partitionCursor(cursor, source)
  if (partitions.size === 0) return cursor
  const result = await client.query({ ...partsQuery(table.database, table.table), format: 'JSONEachRow' })
  const parts = partsFromRows(await result.json())
  const report = detectRegression(partitions, plainWatermark(parts), new Set(parts.map((p) => p.partitionId)))
  if (report.regressions.length > 0)
    throw regressionError(qualifiedName(table.database, table.table), report.regressions)
  if (report.retired.length === 0) return cursor
  const checked = new Map(cursor)
  for (const partition of report.retired) checked.delete(cursorKey(source, partition))
  return checked
}
