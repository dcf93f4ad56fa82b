/**
 * `tailhouse audit`: compares each source with what capture recorded and names the rows that reached the source but
 * never the changelog (ARCHITECTURE.md, "Snapshots and audit"): an INSERT cut off between the source's write and its
 * view's (a crash, a failed view write) without the retry contract. The source is copied in one read into a stage
 * table as its view would write it, and diffed against the changelog with the settled diff (engine/diff/settle.ts):
 * exact as a multiset while INSERTs go on. `repair` writes what is left into the changelog, where the engine
 * publishes it like any captured row: once, since a second audit finds those rows captured.
 *
 * Limits (also in `limits` of each result): a ReplacingMergeTree or CollapsingMergeTree source is read with FINAL, so
 * only the rows its merges keep are checked (a replaced version that never reached the changelog cannot be found once
 * merged away), and changelog rows beyond it are expected; rows the source lost to TTL, mutations or DELETE are
 * counted as changelog-only; a changelog older than its retention has dropped rows whose source rows would look
 * missing, so the audit then needs a condition that keeps to the retained time (`where`).
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { metaColumns } from '../capture/changelog-table.js'
import { qualifiedName, quoteIdentifier } from '../clickhouse/sql.js'
import type { TailhouseConfig } from '../config/config.js'
import { liveCapture } from '../diff/live-capture.js'
import { settle } from '../diff/settle.js'
import { copySource, createStageSql, dropStageSql, sourceHashesSql } from '../diff/stage-table.js'
import { CaptureError, ConfigError } from '../errors.js'

export interface AuditOptions {
  client: ClickHouseClient
  config: TailhouseConfig
  /** One source (`db.table`); default every configured source. */
  source?: string | undefined
  /** A condition on the source's columns: only the rows it holds for are compared (on both sides). */
  where?: string | undefined
  /** Write the missing rows into the changelog. */
  repair?: boolean
  /** How many missing rows to return per source (default 20; Infinity for all). */
  rowsShown?: number
  /** Waits and rounds of the diff, for the terminal. */
  note?: (line: string) => void
}

export interface SourceAudit {
  source: string
  /** Rows of the source compared (those `where` holds for; with FINAL for Replacing/Collapsing). */
  sourceRows: number
  /** Rows in the source that the changelog does not hold. */
  missing: number
  /** The first `rowsShown` of them, by source column. */
  rows: Array<Record<string, unknown>>
  /** Changelog rows with no row left in the source. */
  changelogOnly: number
  /** Changelog rows of versions that cannot be compared, and why. */
  notComparable: { rows: number; reasons: string[] }
  /** Rows written into the changelog by repair (0 without it). */
  repaired: number
  /** What this audit cannot see for this source. */
  limits: string[]
}

export async function audit(options: AuditOptions): Promise<SourceAudit[]> {
  const { config } = options
  const sources = options.source
    ? config.capture.sources.filter((s) => s.table === options.source)
    : config.capture.sources
  if (options.source && sources.length === 0) {
    throw new ConfigError(
      'capture.sources',
      `${options.source} is not one of the captured sources (${config.capture.sources.map((s) => s.table).join(', ')})`,
    )
  }
  const results: SourceAudit[] = []
  for (const source of sources) {
    // Stream mode reads the table itself: no changelog, and no INSERT can be half captured (README, "Stream mode").
    if (source.mode === 'stream') {
      if (options.source) {
        throw new CaptureError(
          source.table,
          'is captured in stream mode: it has no changelog to audit, and an INSERT cannot be half captured there',
        )
      }
      options.note?.(`${source.table}: stream mode, nothing to audit (no changelog; the engine reads the table itself)`)
      continue
    }
    results.push(await auditSource(options, source))
  }
  return results
}

async function auditSource(
  options: AuditOptions,
  sourceConfig: TailhouseConfig['capture']['sources'][number],
): Promise<SourceAudit> {
  const { client, config } = options
  const { database, retentionDays } = config.capture
  const capture = await liveCapture(client, database, sourceConfig)
  const source = capture.source
  const where = options.where?.trim() || undefined
  const limits: string[] = []
  const startedDaysAgo = await captureAgeDays(client, database, source)
  if (startedDaysAgo > retentionDays) {
    if (!where) {
      throw new CaptureError(
        source,
        `has been captured for ${Math.floor(startedDaysAgo)} days, longer than capture.retentionDays (${retentionDays}): ` +
          'its changelog has dropped rows older than that, whose source rows would look missing. Audit the retained ' +
          `time with --where on a time column, e.g. --where "created_at >= now() - INTERVAL ${Math.max(1, retentionDays - 1)} DAY"`,
      )
    }
    limits.push(`changelog rows older than ${retentionDays} days are gone: only rows --where keeps are compared`)
  }
  if (capture.sums) {
    // Merges add rows of a key into one: the rows the view copied no longer exist as such, so they look missing.
    if (options.repair) {
      throw new CaptureError(
        source,
        'is a SummingMergeTree: its merges add rows into sums, which would look missing and be published again as new ' +
          'rows; --repair is refused for it (audit it without --repair, and read the result with that in mind)',
      )
    }
    limits.push('SummingMergeTree: rows its merges added into sums look missing; do not trust the missing count')
  }
  if (capture.collapses) {
    limits.push(
      'read with FINAL: only the rows its merges keep are checked; a replaced or cancelled row that never reached the ' +
        'changelog cannot be found once merged away, and changelog rows beyond it are expected',
    )
  }
  const stage = `audit_${source.replace('.', '__')}__${Date.now()}`
  await client.command({ query: dropStageSql(database, stage) })
  try {
    for (const sql of createStageSql(database, stage, capture.changelog)) await client.command({ query: sql })
    const selection = { final: capture.collapses, where }
    const window = await copySource(client, database, stage, capture.spec, selection)
    const sourceRows = await count(client, qualifiedName(database, stage))
    const settled = await settle({
      client,
      database,
      source,
      changelog: capture.changelog,
      stage,
      window,
      versions: capture.versions,
      latest: capture.latest,
      withDefault: capture.withDefault,
      sourceHashes: sourceHashesSql(capture.spec, selection),
      where,
      note: options.note ?? (() => {}),
    })
    if (settled.notComparable.rows > 0) {
      limits.push(
        `${settled.notComparable.rows} changelog row(s) cannot be compared (${settled.notComparable.reasons.join('; ')}): ` +
          'the source rows they copy show as missing; restrict the audit with --where',
      )
    }
    const table = qualifiedName(database, stage)
    const missing = await count(client, table)
    const shown = Math.min(missing, options.rowsShown ?? 20)
    const names = capture.spec.columns.map((c) => `${quoteIdentifier(c.column)} AS ${quoteIdentifier(c.name)}`)
    const rows =
      shown === 0
        ? []
        : await (
            await client.query({
              query: `SELECT ${names.join(', ')} FROM ${table} ORDER BY _block_number, _block_offset LIMIT {n:UInt64}`,
              query_params: { n: shown },
              format: 'JSONEachRow',
            })
          ).json<Record<string, unknown>>()
    let repaired = 0
    if (options.repair && missing > 0) {
      const columns = [
        metaColumns.schemaVersion,
        metaColumns.op,
        metaColumns.drift,
        ...capture.spec.columns.map((c) => quoteIdentifier(c.column)),
      ]
      await client.command({
        query: `INSERT INTO ${qualifiedName(database, capture.changelog)} (${[metaColumns.ingest, metaColumns.queryId, ...columns].join(', ')})
                SELECT now64(6), queryID(), ${columns.join(', ')} FROM ${table} ORDER BY _block_number, _block_offset`,
      })
      repaired = missing
    }
    return {
      source,
      sourceRows,
      missing,
      rows,
      changelogOnly: settled.extra,
      notComparable: settled.notComparable,
      repaired,
      limits,
    }
  } finally {
    await client.command({ query: dropStageSql(database, stage) }).catch(() => {})
  }
}

async function count(client: ClickHouseClient, table: string): Promise<number> {
  const result = await client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })
  const [row] = await result.json<{ n: string | number }>()
  return Number(row?.n ?? 0)
}

/** Days since the source's first schema version was registered (its capture began). */
async function captureAgeDays(client: ClickHouseClient, database: string, source: string): Promise<number> {
  const result = await client.query({
    query: `SELECT dateDiff('second', min(created_at), now64(3)) / 86400 AS days FROM ${qualifiedName(database, 'sources')} FINAL
            WHERE source = {source:String}`,
    query_params: { source },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ days: number | string }>()
  return Number(row?.days ?? 0)
}
