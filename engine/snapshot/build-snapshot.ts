/**
 * Builds a snapshot's rows into their own table (snapshot-table.ts; ARCHITECTURE.md, "Snapshots and audit"), from
 * scratch every time: a build cut off (a crash) is dropped and run again, so only a sealed table is ever published,
 * and it is never changed afterwards.
 *
 * - initial: the rows the source holds that its changelog does not — the rows that predate capture (and any an
 *   INSERT cut off before its view wrote). The source is copied in one read and diffed against the changelog with
 *   the barrier of engine/diff/settle.ts, so with INSERTs running every row ends up in exactly one of the two.
 * - on-demand: every row (or those `where` holds for), copied after the INSERTs running when the engine decided
 *   the changelog position the snapshot goes after have finished: a row inserted after the copy began has its
 *   changelog copy after that position (ARCHITECTURE.md: the ordering rule).
 *
 * Replacing and Collapsing sources are read with FINAL: a snapshot publishes the rows their merges keep (the state),
 * not versions already replaced or rows already cancelled.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { qualifiedName, quoteIdentifier } from '../clickhouse/sql.js'
import type { SourceConfig } from '../config/config.js'
import { runningInserts, waitForInserts } from '../diff/insert-barrier.js'
import { liveCapture } from '../diff/live-capture.js'
import { settle } from '../diff/settle.js'
import { copySource, createStageSql, dropStageSql, sourceHashesSql } from '../diff/stage-table.js'
import { CaptureError } from '../errors.js'
import type { Position } from '../source/cursor.js'
import { type SnapshotRecord, snapshotTableName } from './snapshot-registry.js'
import { createSnapshotTableSql, fillFromSourceSql, fillFromStageSql } from './snapshot-table.js'

export interface BuildInput {
  client: ClickHouseClient
  /** The capture database. */
  database: string
  record: SnapshotRecord
  config: SourceConfig
  /** Lines for the log (waits, rounds). */
  note: (message: string) => void
}

export interface BuiltSnapshot {
  rows: number
  last: Position | undefined
  /** What the build found, for the registry and the log. */
  detail: string
}

export async function buildSnapshot(input: BuildInput): Promise<BuiltSnapshot> {
  const { client, database, record } = input
  const capture = await liveCapture(client, database, input.config)
  const table = snapshotTableName(record.source, record.id)
  const stage = `${table}_stage`
  await client.command({ query: dropStageSql(database, table) })
  await client.command({ query: dropStageSql(database, stage) })
  await client.command({ query: createSnapshotTableSql(database, table, capture.changelog) })
  const options = { op: "'read'", final: capture.collapses, where: record.where || undefined }
  let detail = capture.collapses ? 'read with FINAL' : ''
  if (record.kind === 'initial') {
    try {
      for (const sql of createStageSql(database, stage, capture.changelog)) await client.command({ query: sql })
      const window = await copySource(client, database, stage, capture.spec, options)
      const settled = await settle({
        client,
        database,
        source: record.source,
        changelog: capture.changelog,
        stage,
        window,
        versions: capture.versions,
        latest: capture.latest,
        withDefault: capture.withDefault,
        sourceHashes: sourceHashesSql(capture.spec, options),
        where: options.where,
        note: input.note,
      })
      if (settled.notComparable.rows > 0) {
        throw new CaptureError(
          record.source,
          `its changelog holds ${settled.notComparable.rows} row(s) that cannot be compared with the table (` +
            `${settled.notComparable.reasons.join('; ')}), so the initial snapshot cannot tell which rows are ` +
            'captured already. Set snapshot: never for it, and re-publish with tailhouse snapshot if needed',
        )
      }
      detail = [detail, `${settled.captured} row(s) already in the changelog left out`].filter(Boolean).join('; ')
      await client.command({ query: fillFromStageSql(database, table, stage, capture.spec) })
    } finally {
      await client.command({ query: dropStageSql(database, stage) }).catch(() => {})
    }
  } else {
    const running = await runningInserts(client)
    await waitForInserts(client, running.ids, (ids, waited) =>
      input.note(
        `snapshot of ${record.source} waits ${Math.round(waited / 1000)} s for ${ids.length} INSERT(s) to finish (query ids ${ids.slice(0, 3).join(', ')})`,
      ),
    )
    await client.command({ query: fillFromSourceSql(database, table, capture.spec, options) })
  }
  const result = await client.query({
    query: `SELECT count() AS n FROM ${qualifiedName(database, table)}`,
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ n: string | number }>()
  const rows = Number(row?.n ?? 0)
  return { rows, last: rows === 0 ? undefined : { blockNumber: 0n, blockOffset: BigInt(rows - 1) }, detail }
}

/** Drops a snapshot's table (after it is published, or when its build is abandoned). */
export async function dropSnapshotTable(client: ClickHouseClient, database: string, record: SnapshotRecord) {
  await client.command({ query: dropStageSql(database, snapshotTableName(record.source, record.id)) })
}

/** Checks a condition on a source's columns before it is stored in a request: ClickHouse parses and types it. */
export async function checkWhere(client: ClickHouseClient, source: string, where: string): Promise<void> {
  const [database, table] = [source.slice(0, source.indexOf('.')), source.slice(source.indexOf('.') + 1)]
  try {
    await client.query({
      query: `SELECT 1 FROM ${quoteIdentifier(database)}.${quoteIdentifier(table)} WHERE (${where}) LIMIT 0`,
      format: 'JSONEachRow',
    })
  } catch (error) {
    throw new CaptureError(
      source,
      `--where ${JSON.stringify(where)} is not a condition on its rows: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
}
