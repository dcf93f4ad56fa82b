import type { ClickHouseClient } from '@clickhouse/client'
import { CaptureError } from '../errors.js'

export interface SourceColumn {
  name: string
  /** The type exactly as system.columns prints it. */
  typeName: string
  /** '', DEFAULT, MATERIALIZED, ALIAS or EPHEMERAL. */
  defaultKind: string
}

export interface SourceTable {
  database: string
  table: string
  /** `db.table`, as the config and the changelog's `source` column name it. */
  source: string
  /** The table engine, e.g. ReplicatedReplacingMergeTree. */
  engine: string
  /** The engine's arguments as SQL fragments, e.g. ['ver', 'is_deleted']. */
  engineArgs: string[]
  sortingKey: string
  columns: SourceColumn[]
}

/** Splits `db.table` (as validated by the config). */
export function splitSource(source: string): { database: string; table: string } {
  const dot = source.indexOf('.')
  return { database: source.slice(0, dot), table: source.slice(dot + 1) }
}

/** Reads a source table's engine and columns from the system tables; a missing table is a CaptureError. */
export async function describeSourceTable(client: ClickHouseClient, source: string): Promise<SourceTable> {
  const { database, table } = splitSource(source)
  const tables = await client.query({
    query: `SELECT engine, engine_full, sorting_key FROM system.tables
            WHERE database = {database:String} AND name = {table:String}`,
    query_params: { database, table },
    format: 'JSONEachRow',
  })
  const [info] = await tables.json<{ engine: string; engine_full: string; sorting_key: string }>()
  if (!info) throw new CaptureError(source, 'no such table; check capture.sources in the config')
  const columns = await client.query({
    query: `SELECT name, type, default_kind FROM system.columns
            WHERE database = {database:String} AND table = {table:String} ORDER BY position`,
    query_params: { database, table },
    format: 'JSONEachRow',
  })
  return {
    database,
    table,
    source,
    engine: info.engine,
    engineArgs: engineArguments(info.engine_full),
    sortingKey: info.sorting_key,
    columns: (await columns.json<{ name: string; type: string; default_kind: string }>()).map((c) => ({
      name: c.name,
      typeName: c.type,
      defaultKind: c.default_kind,
    })),
  }
}

/** The top-level arguments of `Engine(a, f(b, c), 'x')` at the start of engine_full. */
export function engineArguments(engineFull: string): string[] {
  const open = engineFull.indexOf('(')
  const firstSpace = engineFull.search(/\s/)
  if (open < 0 || (firstSpace >= 0 && firstSpace < open)) return []
  const args: string[] = []
  let depth = 0
  let quote: string | undefined
  let current = ''
  for (let i = open + 1; i < engineFull.length; i++) {
    const ch = engineFull[i] as string
    if (quote) {
      current += ch
      if (ch === '\\') current += engineFull[++i] ?? ''
      else if (ch === quote) quote = undefined
    } else if (ch === "'" || ch === '`' || ch === '"') {
      quote = ch
      current += ch
    } else if (ch === '(') {
      depth++
      current += ch
    } else if (ch === ')') {
      if (depth === 0) {
        if (current.trim()) args.push(current.trim())
        return args
      }
      depth--
      current += ch
    } else if (ch === ',' && depth === 0) {
      args.push(current.trim())
      current = ''
    } else {
      current += ch
    }
  }
  return args
}
