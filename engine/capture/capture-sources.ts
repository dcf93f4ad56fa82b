import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { quoteString } from '../clickhouse/sql.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import type { ProtobufConfig, SourceConfig } from '../config/config.js'
import { CaptureError, type TailhouseError } from '../errors.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { envelopeProto } from '../schema/envelope-proto.js'
import { generateRowProto } from '../schema/proto-writer.js'
import {
  type CaptureSpec,
  createViewSql,
  fingerprintQuery,
  modifyViewSql,
  viewName,
  viewSelect,
} from './capture-view.js'
import {
  addChangelogColumnsSql,
  type ChangelogColumn,
  type ChangelogTableSpec,
  changelogTableName,
  createChangelogSql,
  dropChangelogSql,
  planColumns,
  wireType,
} from './changelog-table.js'
import { type DesiredCapture, describeDrift, desiredCapture, sameCapture } from './plan-source.js'
import {
  latestVersions,
  type RegisteredVersion,
  readRegistry,
  registerVersionSql,
  unregisterVersionSql,
} from './registry.js'

export interface CaptureOptions {
  client: ClickHouseClient
  /** Database of the changelog and the registry. */
  database: string
  cluster: string | undefined
  /** Changelog retention and INSERT deduplication window (capture.retentionDays, capture.dedupWindow). */
  retentionDays: number
  dedupWindow: number
  /** The validated sources, from {@link validateSources}. */
  desired: DesiredCapture[]
  /** Where .proto files go (absolute), and how they map types. */
  protobuf: ProtobufConfig
  dryRun: boolean
  onStatement?: (sql: string) => void
  log?: (line: string) => void
  /**
   * Called with a new schema version before anything of it is installed (also on a dry run): the schema registry
   * registers its value schema here, and a refusal fails the source before its view can write the version.
   */
  beforeInstall?: (version: RegisteredVersion) => Promise<void>
}

export interface CaptureOutcome {
  source: string
  version: number
  action: 'captured' | 'evolved' | 'unchanged' | 'repaired' | 'failed'
  detail: string
  error?: TailhouseError
}

/**
 * Installs or updates capture for every validated source. Each source is applied on its own: registry row,
 * then .proto file, then its changelog table (created, or given new columns), then the view; if a step fails, what this run created for that source is removed again, so
 * a source is either fully captured at a version or left as it was, and re-running converges.
 */
export async function captureSources(options: CaptureOptions): Promise<CaptureOutcome[]> {
  const { client, database, desired } = options
  const latest = latestVersions(await readRegistry(client, database))
  const views = await readViews(client, database)
  writeEnvelope(options)
  const outcomes: CaptureOutcome[] = []
  for (const d of desired) {
    const outcome = await applySource(options, d, latest.get(d.source.source), views.get(viewName(d.source)))
    options.log?.(
      `${outcome.source}: ${outcome.action}${outcome.version ? ` at schema version ${outcome.version}` : ''}${outcome.detail ? ` (${outcome.detail})` : ''}`,
    )
    outcomes.push(outcome)
  }
  return outcomes
}

/**
 * Reads and checks every configured source — table, engine, column types, excluded columns — before anything is
 * installed: one bad source stops the run with every problem listed.
 */
export async function validateSources(client: ClickHouseClient, sources: SourceConfig[]): Promise<DesiredCapture[]> {
  const results = await Promise.allSettled(sources.map((s, i) => desiredCapture(client, s, `capture.sources[${i}]`)))
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) {
    const lines = errors.map((e) => `  - ${e instanceof Error ? e.message : String(e)}`).join('\n')
    throw new CaptureError('', `${errors.length} sources cannot be captured; nothing was installed:\n${lines}`)
  }
  return results.map((r) => (r as PromiseFulfilledResult<DesiredCapture>).value)
}

async function applySource(
  options: CaptureOptions,
  desired: DesiredCapture,
  latest: RegisteredVersion | undefined,
  currentView: string | undefined,
): Promise<CaptureOutcome> {
  const { client, database, cluster, dryRun } = options
  const source = desired.source.source
  const unchanged = latest !== undefined && sameCapture(latest, desired)
  const version = unchanged ? latest.version : (latest?.version ?? 0) + 1
  const tableSpec: ChangelogTableSpec = {
    database,
    cluster,
    source: desired.source,
    retentionDays: options.retentionDays,
    dedupWindow: options.dedupWindow,
  }
  const existingColumns = await changelogColumns(client, database, changelogTableName(desired.source))
  const columns: ChangelogColumn[] = unchanged
    ? latest.columns.map((c, i) => ({ ...c, wireType: wireType(desired.columns[i] as CapturedColumn) }))
    : planColumns(source, desired.columns, version, existingColumns ?? new Map())
  const proto = generateRowProto({
    database: desired.source.database,
    table: desired.source.table,
    version,
    columns: desired.columns,
    options: { timestamps: options.protobuf.timestamps, enums: options.protobuf.enums },
    previousFieldNumbers: latest?.fieldNumbers,
  })
  const fingerprint = unchanged ? latest.fingerprint : await queryFingerprint(client, source, desired.columns)
  const spec: CaptureSpec = {
    source: desired.source,
    database,
    cluster,
    version,
    opExpression: desired.opExpression,
    columns: desired.columns.map((c, i) => ({ ...c, column: (columns[i] as ChangelogColumn).column })),
    fingerprint,
  }
  const missingColumns = columns.filter((c) => existingColumns?.get(c.column) !== c.wireType)
  const viewUpToDate = currentView !== undefined && (await sameQuery(client, currentView, viewSelect(spec)))
  const needsRegistry = !unchanged || latest.removedAt !== null
  const protoPath = join(options.protobuf.schemasDir, proto.fileName)
  if (!needsRegistry && missingColumns.length === 0 && viewUpToDate && fileHas(protoPath, proto.text)) {
    return { source, version, action: 'unchanged', detail: '' }
  }

  const action: CaptureOutcome['action'] = latest === undefined ? 'captured' : unchanged ? 'repaired' : 'evolved'
  const detail = latest && !unchanged ? describeDrift(latest, desired) : ''
  const run = async (sql: string) => {
    options.onStatement?.(sql)
    if (!dryRun) await client.command({ query: sql })
  }
  let registered = false
  let wroteProto = false
  let createdTable = false
  try {
    const registeredVersion: RegisteredVersion = {
      source,
      version,
      fingerprint,
      columns: columns.map((c, i) => ({
        name: c.name,
        type: c.type,
        field: proto.fieldNumbers[(desired.columns[i] as CapturedColumn).name] ?? 0,
        column: c.column,
      })),
      fieldNumbers: proto.fieldNumbers,
      opExpression: desired.opExpression,
      protoFile: proto.fileName,
      removedAt: null,
    }
    if (!unchanged) await options.beforeInstall?.(registeredVersion)
    if (needsRegistry) {
      await run(registerVersionSql(database, registeredVersion))
      registered = !unchanged
    }
    if (!dryRun && !fileHas(protoPath, proto.text)) {
      mkdirSync(dirname(protoPath), { recursive: true })
      wroteProto = !existsSync(protoPath)
      writeFileSync(protoPath, proto.text)
    }
    // The changelog gets its columns before the view writes them; adding a column rewrites nothing.
    if (existingColumns === undefined) {
      await run(createChangelogSql(tableSpec, columns))
      createdTable = true
    } else if (missingColumns.length > 0) {
      await run(addChangelogColumnsSql(tableSpec, missingColumns))
    }
    if (currentView === undefined) await run(createViewSql(spec))
    else if (!viewUpToDate) await run(modifyViewSql(spec))
    return { source, version, action, detail }
  } catch (cause) {
    const error = translateClickHouseError(cause, 'ClickHouse')
    // Undo what this run added for the source; the previous version (if any) stays live and untouched. A changelog
    // created by this run holds nothing yet (its view was not created); added columns stay, unused.
    if (registered)
      await client.command({ query: unregisterVersionSql(database, cluster, source, version) }).catch(() => {})
    if (wroteProto) rmSync(protoPath, { force: true })
    if (createdTable && !dryRun) await client.command({ query: dropChangelogSql(tableSpec) }).catch(() => {})
    return {
      source,
      version: latest?.version ?? 0,
      action: 'failed',
      detail: error.message,
      error: new CaptureError(source, `capture failed and was rolled back: ${error.message}`, { cause }),
    }
  }
}

/** The changelog table's columns (name → type), or undefined when it does not exist. */
async function changelogColumns(
  client: ClickHouseClient,
  database: string,
  table: string,
): Promise<Map<string, string> | undefined> {
  const result = await client.query({
    query: `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}
            ORDER BY position`,
    query_params: { db: database, table },
    format: 'JSONEachRow',
  })
  const rows = await result.json<{ name: string; type: string }>()
  return rows.length === 0 ? undefined : new Map(rows.map((r) => [r.name, r.type]))
}

/** The views in the changelog database, name → SELECT. */
async function readViews(client: ClickHouseClient, database: string): Promise<Map<string, string>> {
  const result = await client.query({
    query: "SELECT name, as_select FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView'",
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  return new Map((await result.json<{ name: string; as_select: string }>()).map((r) => [r.name, r.as_select]))
}

/** Compares a stored view query with the one we would write, both formatted by ClickHouse itself. */
async function sameQuery(client: ClickHouseClient, stored: string, expected: string): Promise<boolean> {
  const result = await client.query({
    query: `SELECT formatQuerySingleLine(${quoteString(stored)}) = formatQuerySingleLine(${quoteString(expected)}) AS same`,
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ same: number | boolean }>()
  return Boolean(Number(row?.same))
}

async function queryFingerprint(client: ClickHouseClient, source: string, columns: CapturedColumn[]): Promise<string> {
  const result = await client.query({ query: fingerprintQuery(columns), format: 'JSONEachRow' })
  const [row] = await result.json<{ fingerprint: string }>()
  if (!row) throw new CaptureError(source, 'ClickHouse returned no fingerprint')
  return row.fingerprint
}

function writeEnvelope(options: CaptureOptions): void {
  if (options.dryRun) return
  const envelope = envelopeProto()
  const path = join(options.protobuf.schemasDir, envelope.fileName)
  if (fileHas(path, envelope.text)) return
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, envelope.text)
}

function fileHas(path: string, text: string): boolean {
  try {
    return readFileSync(path, 'utf8') === text
  } catch {
    return false
  }
}
