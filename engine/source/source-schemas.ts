import type { ClickHouseClient } from '@clickhouse/client'
import { latestVersions, type RegisteredVersion, readRegistry } from '../capture/registry.js'
import { splitSource } from '../capture/source-table.js'
import type { ProtobufConfig, SourceConfig } from '../config/config.js'
import { createMessageEncoder, type EncodingFormat, type MessageEncoder } from '../encoding/row-encoder.js'
import { createRowDecoder, type RowDecoder } from '../encoding/rowbinary-decoder.js'
import { CaptureError } from '../errors.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { toCapturedColumn } from '../schema/parse-clickhouse-type.js'
import { generateRowProto } from '../schema/proto-writer.js'
import {
  type ChangelogQuery,
  type ChangelogQueryInput,
  changelogQuery,
  type VersionColumns,
} from './changelog-query.js'
import { keyColumnProblem, keyColumns } from './message-key.js'

/** One registered version of a source, ready for the engine's own decoding and encoding. */
export interface SourceSchema {
  source: string
  /** The payload types' fingerprint this schema decodes (decimal text, as in the registry). */
  fingerprint: string
  version: number
  decode: RowDecoder
  encoder: MessageEncoder
  /** The key columns, in key order. */
  keys: CapturedColumn[]
}

export interface SourceSchemasOptions {
  /** Where the registry is read; absent for {@link SourceSchemas.preloaded} schemas. */
  client?: ClickHouseClient
  database: string
  format: EncodingFormat
  protobuf: Pick<ProtobufConfig, 'timestamps' | 'enums'>
  sources: SourceConfig[]
}

/**
 * What the engine knows of every registered source version, built from the capture registry (the same schema text
 * migrate wrote to schemas/ is generated again from it, so the engine needs no files): the changelog query of each
 * source, and the decoders and encoders for the rows the engine encodes itself. Unknown versions and fingerprints
 * reload the registry once (migrate may just have registered them).
 */
export class SourceSchemas {
  readonly #options: SourceSchemasOptions
  #registry: RegisteredVersion[] = []
  #sortingKeys = new Map<string, string>()
  #byFingerprint = new Map<string, SourceSchema>()
  #byVersion = new Map<string, SourceSchema>()
  #queries = new Map<string, ChangelogQuery>()

  constructor(options: SourceSchemasOptions) {
    this.#options = options
  }

  /** Every source ever registered. */
  get sources(): string[] {
    return [...latestVersions(this.#registry).keys()]
  }

  /**
   * Schemas from registry entries read elsewhere, with no ClickHouse to reload from (the engine-only benchmark):
   * key columns come from `sources` (configured keys), an unknown version is an error.
   */
  static preloaded(
    options: Omit<SourceSchemasOptions, 'client'>,
    registry: RegisteredVersion[],
    sortingKeys: Map<string, string> = new Map(),
  ): SourceSchemas {
    const schemas = new SourceSchemas(options)
    schemas.#registry = registry
    schemas.#sortingKeys = sortingKeys
    return schemas
  }

  async load(): Promise<void> {
    const client = this.#options.client
    if (!client) throw new Error('these schemas were preloaded: there is no registry to read again')
    this.#registry = await readRegistry(client, this.#options.database)
    this.#sortingKeys = await readSortingKeys(client, this.sources)
    this.#byFingerprint = new Map()
    this.#byVersion = new Map()
    this.#queries = new Map()
  }

  /**
   * The changelog query of `source` over every registered version (or, given `stream`, the same query over a
   * snapshot's table). Throws a CaptureError (not retried) when a key
   * column is missing or cannot be a key.
   */
  query(source: string, stream?: ChangelogQueryInput['stream']): ChangelogQuery {
    const cacheKey = stream ? `${source}\u0000${stream.table}` : source
    const cached = this.#queries.get(cacheKey)
    if (cached) return cached
    const versions = this.#registry
      .filter((v) => v.source === source)
      .map((v): VersionColumns => {
        const columns = capturedColumns(v)
        return {
          version: v.version,
          columns,
          fieldNumbers: v.fieldNumbers,
          keyColumns: this.#keys(v, columns).map((c) => c.name),
        }
      })
    const query = changelogQuery({
      database: this.#options.database,
      source,
      versions,
      encoding: this.#options.format === 'protobuf' ? 'protobuf' : 'rowbinary',
      protobuf: this.#options.protobuf,
      stream,
    })
    this.#queries.set(cacheKey, query)
    return query
  }

  /** The schema of a native row of `version`, or undefined when the registry has no such version. */
  async version(source: string, version: number): Promise<SourceSchema> {
    const key = `${source}\u0000${version}`
    const cached = this.#byVersion.get(key)
    if (cached) return cached
    let registered = this.#registry.find((v) => v.source === source && v.version === version)
    if (!registered && this.#options.client) {
      await this.load()
      registered = this.#registry.find((v) => v.source === source && v.version === version)
    }
    if (!registered) {
      throw new CaptureError(source, `changelog rows of schema version ${version} are not in the registry`, {
        canRetry: true,
      })
    }
    const schema = this.#build(registered)
    this.#byVersion.set(key, schema)
    return schema
  }

  /** The schema of a drifted row by its types' fingerprint, when already built: the per-row fast path. */
  cached(source: string, fingerprint: string): SourceSchema | undefined {
    return this.#byFingerprint.get(`${source}\u0000${fingerprint}`)
  }

  /** The schema of a drifted row; throws a retriable error naming the source when migrate has not registered it. */
  async get(source: string, fingerprint: string): Promise<SourceSchema> {
    const key = `${source}\u0000${fingerprint}`
    const cached = this.#byFingerprint.get(key)
    if (cached) return cached
    let version = this.#registry.find((v) => v.source === source && v.fingerprint === fingerprint)
    if (!version && this.#options.client) {
      await this.load()
      version = this.#registry.find((v) => v.source === source && v.fingerprint === fingerprint)
    }
    if (!version) {
      throw new CaptureError(
        source,
        `changelog rows with schema fingerprint ${fingerprint} have no registered schema: the source changed type ` +
          '(ALTER ... MODIFY COLUMN) and tailhouse migrate has not run since; run it, the engine resumes by itself',
        { canRetry: true },
      )
    }
    const schema = this.#build(version)
    this.#byFingerprint.set(key, schema)
    return schema
  }

  #keys(version: RegisteredVersion, columns: CapturedColumn[]): CapturedColumn[] {
    const configured = this.#options.sources.find((s) => s.table === version.source)?.key
    const keys = keyColumns(columns, configured, this.#sortingKeys.get(version.source) ?? '')
    const missing = (configured ?? []).filter((name) => !columns.some((c) => c.name === name))
    if (missing.length > 0) {
      throw new CaptureError(
        version.source,
        `key column(s) ${missing.join(', ')} are not captured in schema version ${version.version}`,
      )
    }
    for (const key of keys) {
      const problem = keyColumnProblem(key.type)
      if (problem) throw new CaptureError(version.source, `key column ${key.name} (${key.typeName}): ${problem}`)
    }
    return keys
  }

  #build(version: RegisteredVersion): SourceSchema {
    const columns = capturedColumns(version)
    const { database, table } = splitSource(version.source)
    const proto = generateRowProto({
      database,
      table,
      version: version.version,
      columns,
      options: this.#options.protobuf,
      previousFieldNumbers: version.fieldNumbers,
    })
    return {
      source: version.source,
      fingerprint: version.fingerprint,
      version: version.version,
      decode: createRowDecoder(columns),
      encoder: createMessageEncoder(this.#options.format, {
        protoText: proto.text,
        columns,
        fieldNumbers: proto.fieldNumbers,
        options: this.#options.protobuf,
      }),
      keys: this.#keys(version, columns),
    }
  }
}

/** The captured columns of a version, each with the changelog column holding it. */
function capturedColumns(version: RegisteredVersion): Array<CapturedColumn & { column: string }> {
  return version.columns.map((c) => ({ ...toCapturedColumn(version.source, c.name, c.type), column: c.column }))
}

async function readSortingKeys(client: ClickHouseClient, sources: string[]): Promise<Map<string, string>> {
  if (sources.length === 0) return new Map()
  const result = await client.query({
    query: `SELECT concat(database, '.', name) AS source, sorting_key FROM system.tables
            WHERE concat(database, '.', name) IN {sources:Array(String)}`,
    query_params: { sources },
    format: 'JSONEachRow',
  })
  const rows = await result.json<{ source: string; sorting_key: string }>()
  return new Map(rows.map((r) => [r.source, r.sorting_key]))
}
