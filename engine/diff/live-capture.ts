import type { ClickHouseClient } from '@clickhouse/client'
import type { CaptureSpec } from '../capture/capture-view.js'
import { changelogTableName } from '../capture/changelog-table.js'
import { describeDrift, desiredCapture, sameCapture } from '../capture/plan-source.js'
import { latestVersions, type RegisteredVersion, readRegistry } from '../capture/registry.js'
import type { SourceConfig } from '../config/config.js'
import { CaptureError } from '../errors.js'
import { toCapturedColumn } from '../schema/parse-clickhouse-type.js'

/** A captured source as it is now: its view's spec, its registered versions, what its table is. */
export interface LiveCapture {
  source: string
  spec: CaptureSpec
  versions: RegisteredVersion[]
  latest: RegisteredVersion
  changelog: string
  /** Source columns with a DEFAULT or MATERIALIZED expression. */
  withDefault: Set<string>
  /**
   * Replacing or Collapsing: its merges drop rows, so it is read with FINAL (the rows its merges keep), and rows the
   * changelog holds beyond it are expected.
   */
  collapses: boolean
  /** SummingMergeTree: its merges add rows into one, so the rows the changelog copied are not in it any more. */
  sums: boolean
}

/**
 * Reads a captured source's latest version and checks the table still matches it: a snapshot or an audit reads the
 * source through the view's SELECT, which would send rows of changed types to `__drift` instead of comparing them.
 */
export async function liveCapture(
  client: ClickHouseClient,
  database: string,
  config: SourceConfig,
): Promise<LiveCapture> {
  const source = config.table
  const versions = (await readRegistry(client, database)).filter((v) => v.source === source)
  const latest = latestVersions(versions).get(source)
  if (!latest || latest.removedAt !== null) {
    throw new CaptureError(source, 'is not captured: run tailhouse migrate first')
  }
  const desired = await desiredCapture(client, config, source)
  if (!sameCapture(latest, desired)) {
    throw new CaptureError(
      source,
      `changed since it was captured (${describeDrift(latest, desired)}): run tailhouse migrate, then try again`,
      { canRetry: true },
    )
  }
  const engine = desired.source.engine.replace(/^Replicated/, '')
  return {
    source,
    versions,
    latest,
    changelog: changelogTableName(desired.source),
    withDefault: new Set(desired.source.columns.filter((c) => c.defaultKind !== '').map((c) => c.name)),
    collapses: /^(Replacing|Collapsing|VersionedCollapsing)MergeTree$/.test(engine),
    sums: engine === 'SummingMergeTree',
    spec: {
      source: desired.source,
      database,
      cluster: undefined,
      version: latest.version,
      opExpression: latest.opExpression,
      columns: latest.columns.map((c) => ({ ...toCapturedColumn(source, c.name, c.type), column: c.column })),
      fingerprint: latest.fingerprint,
    },
  }
}
