import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import { CaptureError } from '../errors.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { generateRowProto } from '../schema/proto-writer.js'
import type { CaptureOptions, CaptureOutcome } from './capture-sources.js'
import { fingerprintQuery } from './capture-view.js'
import { metaColumns } from './changelog-table.js'
import type { DesiredCapture } from './plan-source.js'
import { type RegisteredVersion, registerVersionSql, unregisterVersionSql } from './registry.js'
import { blockColumnsEnabled, describeExistingParts, enableBlockColumnsSql } from './stream-capture.js'

const metaNames = new Set<string>(Object.values(metaColumns))

/**
 * Captures one source in stream mode: its block columns turned on (once, saying what that means for the parts
 * already there), then its registry row (mode stream, each captured column read from the source column of its
 * name), then its .proto file. No changelog table, no view. A failed step undoes what this run registered; the
 * block columns stay on (they change no row and cost the table two UInt64 columns). Schema evolution is a new
 * registry version, like view mode's, without a view to swap: the engine reads with the newest version's columns.
 */
export async function applyStreamSource(
  options: CaptureOptions,
  desired: DesiredCapture,
  latest: RegisteredVersion | undefined,
  sameCapture: boolean,
): Promise<CaptureOutcome> {
  const { client, database, cluster, dryRun } = options
  const source = desired.source.source
  const clash = desired.columns.find((c) => metaNames.has(c.name))
  if (clash) {
    const error = new CaptureError(
      source,
      `column ${clash.name} has a name tailhouse's read query uses itself; rename it or add it to exclude`,
    )
    return { source, version: latest?.version ?? 0, action: 'failed', detail: error.message, error }
  }
  const unchanged = latest !== undefined && sameCapture
  const version = unchanged ? latest.version : (latest?.version ?? 0) + 1
  const proto = generateRowProto({
    database: desired.source.database,
    table: desired.source.table,
    version,
    columns: desired.columns,
    options: { timestamps: options.protobuf.timestamps, enums: options.protobuf.enums },
    previousFieldNumbers: latest?.fieldNumbers,
  })
  const protoPath = join(options.protobuf.schemasDir, proto.fileName)
  const enabled = await blockColumnsEnabled(client, desired.source)
  const needsRegistry = !unchanged || latest.removedAt !== null
  if (!needsRegistry && enabled && fileHas(protoPath, proto.text))
    return { source, version, action: 'unchanged', detail: '' }

  const action: CaptureOutcome['action'] = latest === undefined ? 'captured' : unchanged ? 'repaired' : 'evolved'
  const run = async (sql: string) => {
    options.onStatement?.(sql)
    if (!dryRun) await client.command({ query: sql })
  }
  let registered = false
  let wroteProto = false
  try {
    // The columns first: the engine reads a source only once the registry names it.
    if (!enabled) {
      options.log?.(await describeExistingParts(client, desired.source))
      await run(enableBlockColumnsSql(desired.source, cluster))
    }
    if (needsRegistry) {
      const registeredVersion: RegisteredVersion = {
        source,
        version,
        fingerprint: unchanged ? latest.fingerprint : await queryFingerprint(options, source, desired.columns),
        columns: desired.columns.map((c) => ({
          name: c.name,
          type: c.typeName,
          field: proto.fieldNumbers[c.name] ?? 0,
          column: c.name,
        })),
        fieldNumbers: proto.fieldNumbers,
        opExpression: desired.opExpression,
        protoFile: proto.fileName,
        removedAt: null,
        mode: 'stream',
      }
      // The schema registry's refusal fails the source before the engine can read the version.
      if (!unchanged) await options.beforeInstall?.(registeredVersion)
      await run(registerVersionSql(database, registeredVersion))
      registered = !unchanged
    }
    if (!dryRun && !fileHas(protoPath, proto.text)) {
      mkdirSync(dirname(protoPath), { recursive: true })
      wroteProto = !existsSync(protoPath)
      writeFileSync(protoPath, proto.text)
    }
    return { source, version, action, detail: 'mode stream' }
  } catch (cause) {
    const error = translateClickHouseError(cause, 'ClickHouse')
    if (registered)
      await client.command({ query: unregisterVersionSql(database, cluster, source, version) }).catch(() => {})
    if (wroteProto) rmSync(protoPath, { force: true })
    return {
      source,
      version: latest?.version ?? 0,
      action: 'failed',
      detail: error.message,
      error: new CaptureError(source, `capture failed and was rolled back: ${error.message}`, { cause }),
    }
  }
}

async function queryFingerprint(options: CaptureOptions, source: string, columns: CapturedColumn[]): Promise<string> {
  const result = await options.client.query({ query: fingerprintQuery(columns), format: 'JSONEachRow' })
  const [row] = await result.json<{ fingerprint: string }>()
  if (!row) throw new CaptureError(source, 'ClickHouse returned no fingerprint')
  return row.fingerprint
}

function fileHas(path: string, text: string): boolean {
  try {
    return readFileSync(path, 'utf8') === text
  } catch {
    return false
  }
}
