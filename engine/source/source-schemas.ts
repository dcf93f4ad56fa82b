import type { ClickHouseClient } from '@clickhouse/client'
import { type CaptureMode, latestVersions, type RegisteredVersion, readRegistry } from '../capture/registry.js'
import { splitSource } from '../capture/source-table.js'
import type { ProtobufConfig, SourceConfig } from '../config/config.js'
import { confluentPrefix } from '../encoding/confluent-framing.js'
import { createMessageEncoder, type EncodingFormat, type MessageEncoder } from '../encoding/row-encoder.js'
import { createRowDecoder, type RowDecoder } from '../encoding/rowbinary-decoder.js'
import { CaptureError } from '../errors.js'
import type { SchemaRegistration } from '../registry/source-registration.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { toCapturedColumn } from '../schema/parse-clickhouse-type.js'
import { generateRowProto } from '../schema/proto-writer.js'
import {
  type ChangelogQuery,
  type ChangelogQueryInput,
  changelogQuery,
  type VersionColumns,
} from './changelog-query.js'
import { chooseKey, type KeyedTable, keyColumnsOf } from './key-choice.js'
import { streamQuery } from './stream-query.js'

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
  /**
   * The Confluent wire-format prefix of this version's values when a schema registry is configured: the engine's
   * encoder adds it; values ClickHouse encoded get it in the converter.
   */
  framing: Buffer | undefined
}

export interface SourceSchemasOptions {
  /** Where the registry is read; absent for {@link SourceSchemas.preloaded} schemas. */
  client?: ClickHouseClient
  database: string
  format: EncodingFormat
  protobuf: Pick<ProtobufConfig, 'timestamps' | 'enums'>
  sources: SourceConfig[]
  /** With a schema registry: every version's schema id (registered by migrate), for the values' framing. */
  registration?: SchemaRegistration
  /** engine.format debezium-json: `source.name` and whether events carry their Connect schema. */
  debezium?: { serverName?: string; includeSchema?: boolean }
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
  #tables = new Map<string, KeyedTable>()
  #byFingerprint = new Map<string, SourceSchema>()
  #byVersion = new Map<string, SourceSchema>()
  #queries = new Map<string, ChangelogQuery>()
  #streamQueries = new Map<string, ChangelogQuery>()
  #schemaIds = new Map<string, number>()

  constructor(options: SourceSchemasOptions) {
    this.#options = options
  }

  /** True when values are framed for a schema registry (each version's {@link SourceSchema.framing}). */
  get framed(): boolean {
    return this.#options.registration !== undefined
  }

  /** Every source ever registered. */
  get sources(): string[] {
    return [...latestVersions(this.#registry).keys()]
  }

  /**
   * Schemas from registry entries read elsewhere, with no ClickHouse to reload from (the engine-only benchmark):
   * key columns come from `sources` (configured keys) or `tables` (engine and sorting key per source), an unknown
   * version is an error.
   */
  static preloaded(
    options: Omit<SourceSchemasOptions, 'client'>,
    registry: RegisteredVersion[],
    tables: Map<string, KeyedTable> = new Map(),
  ): SourceSchemas {
    const schemas = new SourceSchemas(options)
    schemas.#registry = registry
    schemas.#tables = tables
    return schemas
  }

  async load(): Promise<void> {
    const client = this.#options.client
    if (!client) throw new Error('these schemas were preloaded: there is no registry to read again')
    this.#registry = await readRegistry(client, this.#options.database)
    this.#tables = await readKeyedTables(client, this.sources)
    this.#schemaIds = await schemaIds(this.#registry, this.#options.registration)
    this.#byFingerprint = new Map()
    this.#byVersion = new Map()
    this.#queries = new Map()
    this.#streamQueries = new Map()
  }

  /** How `source` is captured: its newest version's mode (a source keeps its mode). */
  modeOf(source: string): CaptureMode {
    return latestVersions(this.#registry).get(source)?.mode ?? 'view'
  }

  /** Stream-mode sources still captured: an uncaptured one is no longer read (it has no changelog to drain). */
  get streamSources(): string[] {
    return [...latestVersions(this.#registry).values()]
      .filter((v) => v.mode === 'stream' && v.removedAt === null)
      .map((v) => v.source)
  }

  /** Rows in the registry, to notice a migrate while the engine runs. */
  get registeredVersions(): number {
    return this.#registry.length
  }

  /**
   * The STREAM read of a stream-mode source (stream-query.ts), with its newest version's columns. Throws a
   * CaptureError (not retried) when a key column is missing or cannot be a key.
   */
  streamQuery(source: string, readTimeoutMs: number): ChangelogQuery {
    const cached = this.#streamQueries.get(source)
    if (cached) return cached
    const latest = latestVersions(this.#registry).get(source)
    if (!latest) throw new CaptureError(source, 'is not in the registry', { canRetry: true })
    const columns = capturedColumns(latest)
    const query = streamQuery({
      source,
      version: {
        version: latest.version,
        columns,
        fieldNumbers: latest.fieldNumbers,
        keyColumns: this.#keys(latest, columns).map((c) => c.name),
        opExpression: latest.opExpression,
        fingerprint: latest.fingerprint,
      },
      encoding: this.#options.format === 'protobuf' ? 'protobuf' : 'rowbinary',
      protobuf: this.#options.protobuf,
      readTimeoutMs,
    })
    this.#streamQueries.set(source, query)
    return query
  }

  /**
   * The changelog query of `source` over every registered version (or, given `stream`, the same query over a
   * snapshot's table). Throws a CaptureError (not retried) when a key
   * column is missing or cannot be a key.
   */
  query(source: string, snapshotTable?: ChangelogQueryInput['snapshotTable']): ChangelogQuery {
    const cacheKey = snapshotTable ? `${source}\u0000${snapshotTable.table}` : source
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
      snapshotTable,
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

  /** The key columns of a version (key-choice.ts); throws a CaptureError or ConfigError (not retried) naming why not. */
  #keys(version: RegisteredVersion, columns: CapturedColumn[]): CapturedColumn[] {
    const index = this.#options.sources.findIndex((s) => s.table === version.source)
    const table = this.#tables.get(version.source) ?? { engine: '', sortingKey: '' }
    const choice = chooseKey(table, this.#options.sources[index]?.key)
    // migrate refuses an identity key column that is not captured; one missing here was added to the sorting key
    // (ALTER … ADD COLUMN, MODIFY ORDER BY) after this version: its rows are keyed by the columns they have.
    if (choice.from === 'identity') choice.columns = choice.columns.filter((n) => columns.some((c) => c.name === n))
    return keyColumnsOf(version.source, choice, columns, {
      configKey: index >= 0 ? `capture.sources[${index}]` : `the capture.sources entry of ${version.source}`,
      version: version.version,
    })
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
    const schemaId = this.#schemaIds.get(`${version.source}\u0000${version.version}`)
    const format = this.#options.format
    return {
      source: version.source,
      fingerprint: version.fingerprint,
      version: version.version,
      decode: createRowDecoder(columns),
      encoder: createMessageEncoder(format, {
        protoText: proto.text,
        columns,
        fieldNumbers: proto.fieldNumbers,
        options: this.#options.protobuf,
        source: version.source,
        version: version.version,
        registry: schemaId === undefined ? undefined : { schemaId },
        debezium: this.#options.debezium,
      }),
      keys: this.#keys(version, columns),
      // The registered Protobuf file declares Envelope first (registry/protobuf-schema.ts): message index [0].
      framing: schemaId === undefined ? undefined : confluentPrefix(schemaId, format === 'protobuf' ? [0] : undefined),
    }
  }
}

/** The captured columns of a version, each with the changelog column holding it. */
function capturedColumns(version: RegisteredVersion): Array<CapturedColumn & { column: string }> {
  return version.columns.map((c) => ({ ...toCapturedColumn(version.source, c.name, c.type), column: c.column }))
}

/** Every version's schema id in the schema registry; a version migrate has not registered stops the engine. */
async function schemaIds(
  registry: RegisteredVersion[],
  registration: SchemaRegistration | undefined,
): Promise<Map<string, number>> {
  if (!registration) return new Map()
  // Looked up at once; when several fail, the first in registry order (oldest version first) is the one reported,
  // whichever answer came first.
  const settled = await Promise.allSettled(registry.map((v) => registration.schemaId(v)))
  const failed = settled.find((r) => r.status === 'rejected')
  if (failed) throw failed.reason
  return new Map(
    registry.flatMap((v, i) => {
      const result = settled[i]
      const id = result?.status === 'fulfilled' ? result.value : undefined
      return id === undefined ? [] : [[`${v.source}\u0000${v.version}`, id] as const]
    }),
  )
}

/** Each source table's engine and sorting key; a source whose table is gone has none (its rows go without a key). */
async function readKeyedTables(client: ClickHouseClient, sources: string[]): Promise<Map<string, KeyedTable>> {
  if (sources.length === 0) return new Map()
  const result = await client.query({
    query: `SELECT concat(database, '.', name) AS source, engine, sorting_key FROM system.tables
            WHERE concat(database, '.', name) IN {sources:Array(String)}`,
    query_params: { sources },
    format: 'JSONEachRow',
  })
  const rows = await result.json<{ source: string; engine: string; sorting_key: string }>()
  return new Map(rows.map((r) => [r.source, { engine: r.engine, sortingKey: r.sorting_key }]))
}
