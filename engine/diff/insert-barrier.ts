import type { ClickHouseClient } from '@clickhouse/client'

/**
 * The barrier that makes a read of a source table comparable with its changelog (ARCHITECTURE.md, "Snapshots and
 * audit"). A materialized view is not atomic with its source: an INSERT commits the source's part and the
 * changelog's part at slightly different moments, block after block, so while INSERTs run a source row can be
 * visible before its changelog copy, or after it. Once an INSERT has finished (left system.processes) every part it
 * wrote is committed, or it failed. So: note the INSERTs running around a read, wait until they have all finished,
 * and only then read the other side.
 *
 * Every INSERT counts, not only those naming the source: one into another table can reach the source through a
 * materialized view. Waiting is cheap unless an INSERT runs for long; that is logged.
 */

/** The INSERT queries running at a moment, and that moment by the server's clock. */
export interface RunningInserts {
  /** The server's now64(6), evaluated before system.processes was read, as DateTime64(6) text. */
  at: string
  ids: string[]
}

/** The INSERTs running now. `at` is taken before the list: a query that starts after `at` may or may not be in it. */
export async function runningInserts(client: ClickHouseClient): Promise<RunningInserts> {
  const result = await client.query({
    query: `SELECT toString(now64(6)) AS at, groupArray(query_id) AS ids FROM system.processes WHERE query_kind = 'Insert'`,
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ at: string; ids: string[] }>()
  return { at: row?.at ?? '1970-01-01 00:00:00.000000', ids: row?.ids ?? [] }
}

/** The server's clock now, DateTime64(6) text (the clock of the changelog's __ingest). */
export async function serverNow(client: ClickHouseClient): Promise<string> {
  const result = await client.query({ query: 'SELECT toString(now64(6)) AS at', format: 'JSONEachRow' })
  const [row] = await result.json<{ at: string }>()
  return row?.at ?? '1970-01-01 00:00:00.000000'
}

/**
 * Resolves once none of `ids` runs any more. Calls `onWait` after 10 s and every 10 s after with the ones still
 * running, so a long INSERT that holds a snapshot or an audit up is named, never silent.
 */
export async function waitForInserts(
  client: ClickHouseClient,
  ids: readonly string[],
  onWait: (running: string[], waitedMs: number) => void,
  pollMs = 50,
): Promise<void> {
  if (ids.length === 0) return
  const started = Date.now()
  let reportedAt = started
  for (;;) {
    const result = await client.query({
      query: 'SELECT groupArray(query_id) AS ids FROM system.processes WHERE query_id IN {ids:Array(String)}',
      query_params: { ids: [...ids] },
      format: 'JSONEachRow',
    })
    const [row] = await result.json<{ ids: string[] }>()
    const running = row?.ids ?? []
    if (running.length === 0) return
    if (Date.now() - reportedAt >= 10_000) {
      reportedAt = Date.now()
      onWait(running, reportedAt - started)
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}

/**
 * Which INSERTs a read may straddle: those running just before it (`before`), those running just after it, and —
 * read from the changelog afterwards — those that started and ended in between (their rows were ingested between
 * `before.at` and `afterAt`). Every other changelog row was either written by an INSERT that had finished before the
 * read began (its source rows are in the read: certain) or by one that began after it ended (not in the read).
 */
export interface ReadWindow {
  before: RunningInserts
  afterIds: string[]
  /** The server's clock after `afterIds` was read. */
  afterAt: string
}

/** Runs `read` between the two looks at system.processes that bound it. */
export async function withReadWindow<T>(
  client: ClickHouseClient,
  read: () => Promise<T>,
): Promise<{ window: ReadWindow; result: T }> {
  const before = await runningInserts(client)
  const result = await read()
  const after = await runningInserts(client)
  const afterAt = await serverNow(client)
  return { window: { before, afterIds: after.ids, afterAt }, result }
}

/** Every INSERT of a window that was seen running. */
export function windowInserts(window: ReadWindow): string[] {
  return [...new Set([...window.before.ids, ...window.afterIds])]
}
