import { isAbsolute, join, resolve } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { type CaptureOutcome, captureSources, validateSources } from './capture/capture-sources.js'
import { viewName } from './capture/capture-view.js'
import { changelogTableName } from './capture/changelog-table.js'
import { verifyOnAllReplicas } from './capture/cluster-check.js'
import { type SourceDeduplication, setDedupWindowSql, sourceDeduplication } from './capture/deduplication.js'
import type { DesiredCapture } from './capture/plan-source.js'
import { type RegisteredVersion, readRegistry } from './capture/registry.js'
import { checkServerVersion, unsafeSettings } from './capture/server-checks.js'
import { splitSource } from './capture/source-table.js'
import { quoteIdentifier } from './clickhouse/sql.js'
import { translateClickHouseError } from './clickhouse/translate-error.js'
import type { TailhouseConfig } from './config/config.js'
import { CaptureError, TailhouseError } from './errors.js'
import { type EngineMigrationResult, migrateEngine } from './migrations/migrate-engine.js'
import { packageRoot } from './package-root.js'
import { type SchemaRegistration, schemaRegistrationFor } from './registry/source-registration.js'
import { describeKey, keyWarning } from './source/key-choice.js'

export interface MigrateOptions {
  client: ClickHouseClient
  config: TailhouseConfig
  /** Relative paths in the config (schemasDir) are relative to this directory. Default: the working directory. */
  configDir?: string
  /** Print the SQL, change nothing. */
  dryRun?: boolean
  /** Where the engine's NNNN_name.sql files are. Default: the package's migrations/. */
  migrationsDir?: string
  /** Receives every statement before it runs, or instead of running it in a dry run. */
  onStatement?: (sql: string) => void
  /** Progress lines. */
  log?: (line: string) => void
  /**
   * Give MergeTree sources that do not deduplicate INSERTs a deduplication window of this many blocks
   * (`ALTER TABLE … MODIFY SETTING`), so retried INSERTs are captured exactly once. Default: only report them.
   */
  setDedupWindow?: number
}

export interface MigrateResult {
  serverVersion: string
  /** Unsafe server settings (when capture.checkSettings allows them), then message keys to look at (key-choice.ts). */
  warnings: string[]
  /** Per source: whether it deduplicates retried INSERTs (the capture-boundary contract), after this run. */
  deduplication: SourceDeduplication[]
  engine: EngineMigrationResult[]
  sources: CaptureOutcome[]
  /** False when a source failed (it was rolled back; the others are live). */
  ok: boolean
}

/**
 * Applies the engine's migrations, then installs or evolves capture for every configured source.
 *
 * @example
 *   const { config } = loadConfig()
 *   const result = await migrate({ client, config, log: console.log })
 *   if (!result.ok) process.exitCode = 1
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const { client, config } = options
  const { database, cluster } = config.capture
  const log = options.log ?? (() => {})
  const dryRun = options.dryRun ?? false
  try {
    const serverVersion = await checkServerVersion(client)
    log(
      `ClickHouse ${serverVersion}${cluster ? `, cluster ${cluster}` : ''}${dryRun ? ' (dry run: nothing is changed)' : ''}`,
    )
    const warnings = await unsafeSettings(client)
    if (warnings.length > 0 && config.capture.checkSettings) {
      throw new CaptureError(
        '',
        `unsafe server settings for capture:\n  - ${warnings.join('\n  - ')}\n` +
          '(to migrate anyway, set capture.checkSettings: false; the risk stays)',
      )
    }
    for (const warning of warnings) log(`warning: ${warning}`)
    const desired = await validateSources(client, config.capture.sources)
    const keyWarnings = reportKeys(desired, log)
    const deduplication = await checkDeduplication(options, log)

    await refuseOldLayout(client, database)
    const engine = await migrateEngine({
      client,
      database,
      cluster,
      migrationsDir: options.migrationsDir ?? join(packageRoot, 'migrations'),
      dryRun,
      onStatement: options.onStatement,
    })
    for (const m of engine) if (m.status !== 'already applied') log(`engine migration ${m.name}: ${m.status}`)

    const registration = schemaRegistrationFor(config)
    if (registration) await registerExistingVersions(registration, client, database, dryRun, log)
    const schemasDir = config.protobuf.schemasDir
    const sources = await captureSources({
      client,
      database,
      cluster,
      retentionDays: config.capture.retentionDays,
      dedupWindow: config.capture.dedupWindow,
      desired,
      protobuf: {
        ...config.protobuf,
        schemasDir: isAbsolute(schemasDir) ? schemasDir : resolve(options.configDir ?? process.cwd(), schemasDir),
      },
      dryRun,
      onStatement: options.onStatement,
      log,
      beforeInstall: registration ? (v) => registerVersion(registration, v, dryRun, log) : undefined,
    })
    if (cluster && !dryRun) {
      const live = sources.filter((s) => s.action !== 'failed').map((s) => splitSource(s.source))
      log(`checking that every replica of ${cluster} has ${live.length} changelog(s) and view(s)…`)
      await verifyOnAllReplicas(client, cluster, database, [
        'sources',
        ...live.flatMap((s) => [changelogTableName(s), viewName(s)]),
      ])
    }
    return {
      serverVersion,
      warnings: [...warnings, ...keyWarnings],
      deduplication,
      engine,
      sources,
      ok: sources.every((s) => s.action !== 'failed'),
    }
  } catch (error) {
    throw error instanceof TailhouseError ? error : translateClickHouseError(error, 'ClickHouse')
  }
}

/** Logs each source's message key and warns about the ones to look at; returns the warnings. */
function reportKeys(desired: DesiredCapture[], log: (line: string) => void): string[] {
  const warnings: string[] = []
  desired.forEach((d, i) => {
    log(`${d.source.source}: ${describeKey(d.key)}`)
    const warning = keyWarning(d.source.source, d.key, `capture.sources[${i}]`)
    if (warning) {
      warnings.push(warning)
      log(`warning: ${warning}`)
    }
  })
  return warnings
}

/**
 * Every captured version in the schema registry, oldest first, before any new version is installed: a registry
 * configured after capture began gets the history its compatibility checks compare against (idempotent).
 */
async function registerExistingVersions(
  registration: SchemaRegistration,
  client: ClickHouseClient,
  database: string,
  dryRun: boolean,
  log: (line: string) => void,
): Promise<void> {
  const versions = (await readRegistry(client, database)).sort((a, b) => a.version - b.version)
  for (const version of versions) await registerVersion(registration, version, dryRun, log)
}

async function registerVersion(
  registration: SchemaRegistration,
  version: RegisteredVersion,
  dryRun: boolean,
  log: (line: string) => void,
): Promise<void> {
  const result = await registration.register(version, { dryRun })
  if (!result || (!result.created && result.schemaId !== undefined && !dryRun)) return
  const what = `${version.source} schema version ${version.version}`
  if (dryRun) {
    log(`${what}: the schema registry would accept it as ${result.subject} (compatibility ${result.compatibility})`)
  } else {
    log(
      `${what}: registered in the schema registry as ${result.subject}, id ${result.schemaId} (compatibility ${result.compatibility})`,
    )
  }
}

/**
 * The capture layout before per-source changelogs (one `changelog` table of RowBinary payloads) is not upgraded in
 * place: nothing was released with it. Say what to do instead of mixing the two.
 */
async function refuseOldLayout(client: ClickHouseClient, database: string): Promise<void> {
  const result = await client.query({
    query: `SELECT count() AS n FROM system.columns
            WHERE database = {db:String} AND table = 'changelog' AND name = 'payload'`,
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ n: string | number }>()
  if (Number(row?.n ?? 0) === 0) return
  throw new CaptureError(
    '',
    `${database}.changelog is the capture layout of an earlier tailhouse (one changelog with RowBinary payloads), ` +
      'which this version does not read or upgrade. Let the old engine publish what it holds (lag 0), then drop ' +
      `its views and the database (DROP DATABASE ${quoteIdentifier(database)}) and run migrate again, or set ` +
      'capture.database to a new database',
  )
}

/**
 * Reports each source that does not deduplicate retried INSERTs, and gives MergeTree ones a window when asked
 * (options.setDedupWindow). Returns the state after this run.
 */
async function checkDeduplication(
  options: MigrateOptions,
  log: (line: string) => void,
): Promise<SourceDeduplication[]> {
  const { client, config } = options
  const sources = config.capture.sources.map((s) => s.table)
  const window = options.setDedupWindow ?? config.capture.dedupWindow
  let found = await sourceDeduplication(client, sources, window)
  if (options.setDedupWindow !== undefined) {
    for (const sql of setDedupWindowSql(found, options.setDedupWindow)) {
      options.onStatement?.(sql)
      if (!options.dryRun) await client.command({ query: sql })
    }
    if (!options.dryRun) found = await sourceDeduplication(client, sources, window)
  }
  for (const d of found.filter((f) => !f.deduplicates)) {
    log(`warning: ${d.source} does not deduplicate retried INSERTs (${d.detail}): ${d.fix ?? ''}`)
  }
  return found
}
