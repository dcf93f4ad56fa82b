import { createHash } from 'node:crypto'
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'

/**
 * How the Protobuf definitions of a changelog query reach ClickHouse. A server takes them as text in the query
 * (`format_schema_source = 'string'`) and caches them in its own format_schema_path. Embedded ClickHouse (chDB) would
 * cache that text in the process's working directory (`__cache__/`), so there the definitions are written, once per
 * content, into a directory of its data and referred to by absolute path, which embedded ClickHouse accepts.
 */
export interface FormatSchemas {
  /** The SETTINGS of a `FORMAT Protobuf` query writing `message` of `schema`, and the parameters they use. */
  settings(schema: string, message: string): { clause: string; params: Record<string, string> }
}

export const inlineSchemas: FormatSchemas = {
  settings: (schema, message) => ({
    clause: `format_schema_source = 'string', format_schema = {schema:String}, format_schema_message_name = '${message}'`,
    params: { schema },
  }),
}

/** Schema files in `dir`, named by their content. */
export function fileSchemas(dir: string): FormatSchemas {
  const written = new Set<string>()
  return {
    settings(schema, message) {
      const file = join(dir, `${createHash('sha256').update(schema).digest('hex').slice(0, 32)}.proto`)
      if (!written.has(file)) {
        if (!existsSync(file)) writeFileSync(file, schema)
        written.add(file)
      }
      return { clause: 'format_schema = {schema_file:String}', params: { schema_file: `${file}:${message}` } }
    },
  }
}

/**
 * Files when ClickHouse runs embedded in this process (its data directory is here, writable, and it reads a schema
 * by absolute path), text otherwise.
 */
export async function detectFormatSchemas(client: ClickHouseClient): Promise<FormatSchemas> {
  try {
    const result = await client.query({ query: "SELECT getServerSetting('path') AS path", format: 'JSONEachRow' })
    const [row] = await result.json<{ path: string }>()
    if (!row?.path || !existsSync(row.path)) return inlineSchemas
    accessSync(row.path, constants.W_OK)
    const dir = join(row.path, 'tailhouse_format_schemas')
    mkdirSync(dir, { recursive: true })
    const files = fileSchemas(dir)
    const probe = files.settings('syntax = "proto3";\nmessage TH_Probe { uint32 x = 1; }\n', 'TH_Probe')
    const check = await client.exec({
      query: `SELECT toUInt32(1) AS x FORMAT Protobuf SETTINGS ${probe.clause}`,
      query_params: probe.params,
    })
    for await (const _ of check.stream) {
      // drain
    }
    return files
  } catch {
    return inlineSchemas
  }
}
