import type { ClickHouseClient } from '@clickhouse/client'
import type { SourceConfig } from '../config/config.js'
import { CaptureError, ConfigError } from '../errors.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { toCapturedColumn } from '../schema/parse-clickhouse-type.js'
import { chooseKey, type KeyChoice, keyColumnsOf } from '../source/key-choice.js'
import { opExpression } from './op-mapping.js'
import type { CaptureMode, RegisteredVersion } from './registry.js'
import { describeSourceTable, type SourceTable } from './source-table.js'
import { checkStreamSupport, streamEngineProblem } from './stream-capture.js'

/** What a source should look like now, before anything is installed. */
export interface DesiredCapture {
  source: SourceTable
  opExpression: string
  columns: CapturedColumn[]
  /** view: capture view and changelog; stream: the engine reads the table itself (stream-capture.ts). */
  mode: CaptureMode
  /** The message key the engine will use (source/key-choice.ts), its columns checked against the captured ones. */
  key: KeyChoice
}

/** Column kinds that never reach a view: ALIAS is computed on read, EPHEMERAL is never stored. */
const notInBlock = new Set(['ALIAS', 'EPHEMERAL'])

/**
 * Reads a configured source and decides what capturing it means: its op mapping, its captured columns and its
 * message key. Every problem (missing table, engine, unsupported type, unknown excluded or key column) is thrown
 * here, before
 * anything is installed for any source.
 */
export async function desiredCapture(
  client: ClickHouseClient,
  config: SourceConfig,
  key: string,
): Promise<DesiredCapture> {
  const source = await describeSourceTable(client, config.table)
  const op = opExpression(source)
  const mode = config.mode ?? 'view'
  if (mode === 'stream') {
    // A stream starts at the table's first row: there is no "from now on" to give snapshot: never its meaning.
    if (config.snapshot === 'never') {
      throw new ConfigError(
        `${key}.snapshot`,
        `${config.table} is captured in stream mode, which always reads the table from its first row; remove snapshot: never (or use mode: view)`,
      )
    }
    const problem = streamEngineProblem(source)
    if (problem) throw new CaptureError(config.table, problem)
    await checkStreamSupport(client, config.table)
  }
  for (const name of config.exclude) {
    if (!source.columns.some((c) => c.name === name)) {
      throw new ConfigError(`${key}.exclude`, `${config.table} has no column "${name}"`)
    }
  }
  const columns = source.columns
    .filter((c) => !notInBlock.has(c.defaultKind) && !config.exclude.includes(c.name))
    .map((c) => toCapturedColumn(config.table, c.name, c.typeName))
  if (columns.length === 0)
    throw new ConfigError(`${key}.exclude`, `${config.table} would have no captured column left`)
  const keyChoice = chooseKey(source, config.key)
  keyColumnsOf(config.table, keyChoice, columns, { configKey: key, sourceColumns: source.columns.map((c) => c.name) })
  return { source, opExpression: op, columns, mode, key: keyChoice }
}

/** True when a registered version captures exactly these columns, types and op mapping. */
export function sameCapture(registered: RegisteredVersion, desired: DesiredCapture): boolean {
  return (
    registered.mode === desired.mode &&
    registered.opExpression === desired.opExpression &&
    registered.columns.length === desired.columns.length &&
    registered.columns.every((c, i) => c.name === desired.columns[i]?.name && c.type === desired.columns[i]?.typeName)
  )
}

/** A human summary of what changed between two captures, for logs and `status`. */
export function describeDrift(registered: RegisteredVersion, desired: DesiredCapture): string {
  const before = new Map(registered.columns.map((c) => [c.name, c.type]))
  const after = new Map(desired.columns.map((c) => [c.name, c.typeName]))
  const changes: string[] = []
  for (const [name, type] of after) {
    const old = before.get(name)
    if (old === undefined) changes.push(`+${name} ${type}`)
    else if (old !== type) changes.push(`~${name} ${old} -> ${type}`)
  }
  for (const name of before.keys()) if (!after.has(name)) changes.push(`-${name}`)
  if (registered.mode !== desired.mode) changes.push(`mode ${registered.mode} -> ${desired.mode}`)
  if (registered.opExpression !== desired.opExpression)
    changes.push(`op ${registered.opExpression} -> ${desired.opExpression}`)
  if (changes.length === 0) changes.push('column order')
  return changes.join(', ')
}
