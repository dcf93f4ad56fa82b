/**
 * The settled diff of a source and its changelog (ARCHITECTURE.md, "Snapshots and audit"): which source rows have no
 * copy in the changelog, exactly, while INSERTs go on.
 *
 * Its input is a copy of the source taken in one read (a "stage" table, stage-table.ts: the rows as the view would
 * write them, each with its row hash), and the window of that read (insert-barrier.ts). It removes from the stage
 * every row whose copy the changelog holds; what stays reached the source and never the changelog.
 *
 * A multiset difference per row hash, made exact by the barrier:
 * - After every INSERT seen around the read has finished, a changelog row is *certain* — its source row is in the
 *   copy — when it was ingested before the read began and its INSERT was not running around the read; it is *later*
 *   (its source row is not in the copy) when its INSERT began after the read. The rest come from INSERTs that may
 *   straddle the read: some of their rows may be in the copy, some not.
 * - For a hash that no straddling INSERT wrote, the copies in the changelog are its certain rows: that many stage rows
 *   with the hash are removed (all of them when the changelog holds more: those are counted as extra).
 * - A hash that a straddling INSERT wrote is settled in a later round, when those INSERTs have finished: the source
 *   is counted again for those hashes only (itself in a window), and the stage keeps n_stage − (n_source − n_certain)
 *   fewer of them. Only rows identical to rows being inserted again at that moment need a further round.
 *
 * Memory is bounded by splitting the first round by hash bucket (ClickHouse groups and sorts one bucket at a time).
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { metaColumns } from '../capture/changelog-table.js'
import type { RegisteredVersion } from '../capture/registry.js'
import { qualifiedName, quoteIdentifier } from '../clickhouse/sql.js'
import { CaptureError } from '../errors.js'
import { type ReadWindow, waitForInserts, windowInserts, withReadWindow } from './insert-barrier.js'
import { changelogRowHash } from './row-hash.js'
import { stageHashColumn } from './stage-table.js'

export interface SettleInput {
  client: ClickHouseClient
  /** The capture database: changelog, stage and the work tables of this diff. */
  database: string
  source: string
  changelog: string
  /** The stage table, a copy of the source taken in `window` (stage-table.ts). */
  stage: string
  window: ReadWindow
  /** Every registered version of the source, and its latest (the stage's columns). */
  versions: readonly RegisteredVersion[]
  latest: RegisteredVersion
  /** Source columns with a DEFAULT or MATERIALIZED expression (row-hash.ts). */
  withDefault: ReadonlySet<string>
  /** A SELECT of the source's row hashes, as column `h`, with the stage's FINAL and condition (a later round). */
  sourceHashes: string
  /** A condition on source columns the stage was taken with; applied to the changelog's rows too. */
  where?: string | undefined
  /** Progress and waits, for the log. */
  note: (message: string) => void
  /** Rows per bucket of the first round (tests use small ones). Default 4,000,000. */
  bucketRows?: number
  /** Rounds for hashes written by straddling INSERTs before giving up. Default 8. */
  maxRounds?: number
}

export interface SettleResult {
  /** Stage rows removed: their copies are in the changelog. */
  captured: number
  /** Changelog rows with no row left in the source (deleted, merged away, expired from the source by TTL). */
  extra: number
  /** Changelog rows of versions that cannot be compared (row-hash.ts), with why. */
  notComparable: { rows: number; reasons: string[] }
  rounds: number
}

const hashColumn = '__row_hash'

export async function settle(input: SettleInput): Promise<SettleResult> {
  const { client, database } = input
  const amb = qualifiedName(database, `${input.stage}_ambiguous`)
  const next = qualifiedName(database, `${input.stage}_ambiguous_next`)
  const work = qualifiedName(database, `${input.stage}_work`)
  const stage = qualifiedName(database, input.stage)
  const rowHash = changelogRowHash(input.versions, input.latest, input.withDefault)
  const changelog = qualifiedName(database, input.changelog)
  const run = (query: string, params: Record<string, unknown> = {}) => client.command({ query, query_params: params })
  const number = async (query: string, params: Record<string, unknown> = {}) => {
    const result = await client.query({ query, query_params: params, format: 'JSONEachRow' })
    const [row] = await result.json<{ n: string | number | null }>()
    return Number(row?.n ?? 0)
  }

  // The changelog's rows as hashes (NULL: a version that cannot be compared), with what classifies them.
  const where = input.where ? `WHERE (${input.where})` : ''
  const values = input.where ? rowHash.values.map((v) => `, ${v.sql} AS ${quoteIdentifier(v.name)}`).join('') : ''
  const rows = `(SELECT * FROM (SELECT ${rowHash.hash} AS ${hashColumn}, ${metaColumns.ingest}, ${metaColumns.queryId}${values}
                FROM ${changelog}) ${where})`
  const straddling = (window: ReadWindow) => ({
    sql: `(has({ids:Array(String)}, ${metaColumns.queryId}) OR ${metaColumns.queryId} IN (
            SELECT DISTINCT ${metaColumns.queryId} FROM ${changelog}
            WHERE ${metaColumns.ingest} > {tb:DateTime64(6)} AND ${metaColumns.ingest} <= {ta:DateTime64(6)}))`,
    params: { ids: windowInserts(window), tb: window.before.at, ta: window.afterAt },
  })
  const certain = (window: ReadWindow) => {
    const s = straddling(window)
    return { sql: `${metaColumns.ingest} <= {tb:DateTime64(6)} AND NOT ${s.sql}`, params: s.params }
  }

  await run(`DROP TABLE IF EXISTS ${amb} SYNC`)
  await run(`DROP TABLE IF EXISTS ${work} SYNC`)
  await run(`CREATE TABLE ${amb} (h FixedString(16)) ENGINE = MergeTree ORDER BY h`)
  await run(
    `CREATE TABLE ${work} (kind Enum8('changelog' = 1, 'source' = 2, 'stage' = 3, 'cancel' = 4), h FixedString(16), c Int64)
     ENGINE = MergeTree ORDER BY (kind, h)`,
  )
  try {
    await barrier(input, input.window)
    const result: SettleResult = { captured: 0, extra: 0, notComparable: { rows: 0, reasons: [] }, rounds: 1 }
    if (rowHash.notComparable.length > 0) {
      result.notComparable.rows = await number(`SELECT count() AS n FROM ${rows} WHERE ${hashColumn} IS NULL`)
      result.notComparable.reasons = rowHash.notComparable.map((v) => `schema version ${v.version}: ${v.reason}`)
    }

    // Round 1, by bucket: hashes no straddling INSERT wrote.
    const first = straddling(input.window)
    await run(
      `INSERT INTO ${amb} SELECT DISTINCT ${hashColumn} FROM ${rows} WHERE ${hashColumn} IS NOT NULL AND ${first.sql}`,
      first.params,
    )
    const changelogRows = await number(`SELECT count() AS n FROM ${changelog}`)
    const buckets = Math.max(1, Math.ceil(changelogRows / (input.bucketRows ?? 4_000_000)))
    const inBucket = (column: string) =>
      `reinterpretAsUInt64(substring(${column}, 1, 8)) % ${buckets} = {bucket:UInt64}`
    const sure = certain(input.window)
    for (let bucket = 0; bucket < buckets; bucket++) {
      await run(`TRUNCATE TABLE ${work}`)
      await run(
        `INSERT INTO ${work} (kind, h, c)
         SELECT 'changelog', ${hashColumn}, count() FROM ${rows}
         WHERE ${hashColumn} IS NOT NULL AND ${sure.sql} AND ${inBucket(hashColumn)}
           AND ${hashColumn} NOT IN (SELECT h FROM ${amb})
         GROUP BY ${hashColumn}`,
        { ...sure.params, bucket },
      )
      await countStage(run, work, stage, `${stageHashColumn} IN (SELECT h FROM ${work} WHERE kind = 'changelog')`)
      result.extra += await number(
        `SELECT sum(greatest(0, l.c - s.c)) AS n FROM (SELECT h, c FROM ${work} WHERE kind = 'changelog') AS l
         LEFT JOIN (SELECT h, c FROM ${work} WHERE kind = 'stage') AS s USING h`,
      )
      await run(
        `INSERT INTO ${work} (kind, h, c)
         SELECT 'cancel', h, least(l.c, s.c) FROM (SELECT h, c FROM ${work} WHERE kind = 'changelog') AS l
         INNER JOIN (SELECT h, c FROM ${work} WHERE kind = 'stage') AS s USING h`,
      )
      result.captured += await removeCancelled(run, number, work, stage)
    }

    // Later rounds: the hashes straddling INSERTs wrote, counted again in the source once those INSERTs are done.
    for (let round = 2; ; round++) {
      const pending = await number(`SELECT count() AS n FROM ${amb}`)
      if (pending === 0) break
      if (round > (input.maxRounds ?? 8)) {
        throw new CaptureError(
          input.source,
          `${pending} row(s) of ${input.source} are identical to rows INSERTed again at every look, so which of them ` +
            `the changelog holds cannot be settled; try again when those INSERTs pause`,
          { canRetry: true },
        )
      }
      result.rounds = round
      input.note(`${input.source}: settling ${pending} row hash(es) written by INSERTs that ran during the read`)
      await run(`TRUNCATE TABLE ${work}`)
      const { window } = await withReadWindow(client, () =>
        run(
          `INSERT INTO ${work} (kind, h, c)
           SELECT 'source', h, count() FROM (${input.sourceHashes}) WHERE h IN (SELECT h FROM ${amb}) GROUP BY h`,
        ),
      )
      await barrier(input, window)
      // Hashes that INSERTs straddling this read wrote again wait for the next round; the others settle now.
      const again = straddling(window)
      await run(`DROP TABLE IF EXISTS ${next} SYNC`)
      await run(`CREATE TABLE ${next} AS ${amb}`)
      await run(
        `INSERT INTO ${next} SELECT DISTINCT ${hashColumn} FROM ${rows}
         WHERE ${hashColumn} IN (SELECT h FROM ${amb}) AND ${again.sql}`,
        again.params,
      )
      const settling = (column: string) =>
        `${column} IN (SELECT h FROM ${amb}) AND ${column} NOT IN (SELECT h FROM ${next})`
      const sureAgain = certain(window)
      await run(
        `INSERT INTO ${work} (kind, h, c)
         SELECT 'changelog', ${hashColumn}, count() FROM ${rows}
         WHERE ${settling(hashColumn)} AND ${sureAgain.sql}
         GROUP BY ${hashColumn}`,
        sureAgain.params,
      )
      await countStage(run, work, stage, settling(stageHashColumn))
      // Per hash the stage keeps n_source - n_certain rows (the ones never captured) and loses the rest.
      const perHash = `(SELECT h, sumIf(c, kind = 'stage') AS stage, sumIf(c, kind = 'source') AS source,
                               sumIf(c, kind = 'changelog') AS changelog
                        FROM ${work} WHERE ${settling('h')} GROUP BY h)`
      result.extra += await number(`SELECT sum(greatest(0, changelog - source)) AS n FROM ${perHash}`)
      await run(
        `INSERT INTO ${work} (kind, h, c)
         SELECT 'cancel', h, stage - greatest(0, source - changelog) AS c FROM ${perHash} WHERE c > 0`,
      )
      result.captured += await removeCancelled(run, number, work, stage)
      await run(`TRUNCATE TABLE ${amb}`)
      await run(`INSERT INTO ${amb} SELECT h FROM ${next}`)
    }
    return result
  } finally {
    await run(`DROP TABLE IF EXISTS ${amb} SYNC`).catch(() => {})
    await run(`DROP TABLE IF EXISTS ${next} SYNC`).catch(() => {})
    await run(`DROP TABLE IF EXISTS ${work} SYNC`).catch(() => {})
  }
}

/** Waits for the INSERTs of a window, naming the ones that hold it up. */
function barrier(input: SettleInput, window: ReadWindow): Promise<void> {
  return waitForInserts(input.client, windowInserts(window), (running, waited) =>
    input.note(
      `${input.source}: waiting ${Math.round(waited / 1000)} s for ${running.length} INSERT(s) that ran during the ` +
        `read to finish (query ids ${running.slice(0, 3).join(', ')}${running.length > 3 ? ', …' : ''})`,
    ),
  )
}

/** Stage rows per hash, for the stage rows `filter` (a condition on the stage) keeps. */
function countStage(
  run: (query: string, params?: Record<string, unknown>) => Promise<unknown>,
  work: string,
  stage: string,
  filter: string,
): Promise<unknown> {
  return run(
    `INSERT INTO ${work} (kind, h, c)
     SELECT 'stage', ${stageHashColumn}, count() FROM ${stage} WHERE ${filter} GROUP BY ${stageHashColumn}`,
  )
}

/** Deletes, per hash in the work table's cancel rows, that many stage rows (the first by cursor). Returns how many. */
async function removeCancelled(
  run: (query: string, params?: Record<string, unknown>) => Promise<unknown>,
  number: (query: string) => Promise<number>,
  work: string,
  stage: string,
): Promise<number> {
  const total = await number(`SELECT sum(c) AS n FROM ${work} WHERE kind = 'cancel'`)
  if (total === 0) return 0
  await run(
    `DELETE FROM ${stage} WHERE (_block_number, _block_offset) IN (
       SELECT b, o FROM (
         SELECT _block_number AS b, _block_offset AS o, ${stageHashColumn} AS h,
                row_number() OVER (PARTITION BY ${stageHashColumn} ORDER BY _block_number, _block_offset) AS i
         FROM ${stage} WHERE ${stageHashColumn} IN (SELECT h FROM ${work} WHERE kind = 'cancel')
       ) AS s INNER JOIN (SELECT h, c FROM ${work} WHERE kind = 'cancel') AS w USING h
       WHERE s.i <= w.c)`,
  )
  return total
}
