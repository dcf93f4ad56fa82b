import type { ClickHouseClient } from '@clickhouse/client'
import { latestVersions, type RegisteredVersion, readRegistry } from '../capture/registry.js'
import { splitSource } from '../capture/source-table.js'
import type { ProtobufConfig, SourceConfig } from '../config/config.js'
import { createMessageEncoder, type EncodingFormat, type MessageEncoder } from '../encoding/row-encoder.js'
import { createRowDecoder, type RowDecoder } from '../encoding/rowbinary-decoder.js'
import { CaptureError } from '../errors.js'
import { toCapturedColumn } from '../schema/parse-clickhouse-type.js'
import { generateRowProto } from '../schema/proto-writer.js'
import { plainKeyColumns } from './message-key.js'

/** Everything needed to turn a changelog row of one (source, fingerprint) into a Kafka message. */
export interface SourceSchema {
  source: string
  /** The payload types' fingerprint this schema decodes (decimal text, as in the changelog). */
  fingerprint: string
  version: number
  decode: RowDecoder
  encoder: MessageEncoder
  keyColumns: string[]
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
 * The decoders and encoders of every registered source version, by (source, fingerprint), built from the
 * capture registry — the same schema text migrate wrote to schemas/ is generated again from it, so the engine
 * needs no files. Unknown fingerprints reload the registry once (migrate may just have registered them).
 */
export class SourceSchemas {
  readonly #options: SourceSchemasOptions
  #byFingerprint = new Map<string, SourceSchema>()
  #registry: RegisteredVersion[] = []
  #sortingKeys = new Map<string, string[]>()

  constructor(options: SourceSchemasOptions) {
    this.#options = options
  }

  /** Every source ever registered. */
  get sources(): string[] {
    return [...latestVersions(this.#registry).keys()]
  }

  /**
   * Schemas from registry entries read elsewhere, with no ClickHouse to reload from (the engine-only benchmark):
   * key columns come from `sources` (configured keys), an unknown fingerprint is an error.
   */
  static preloaded(options: Omit<SourceSchemasOptions, 'client'>, registry: RegisteredVersion[]): SourceSchemas {
    const schemas = new SourceSchemas(options)
    schemas.#registry = registry
    return schemas
  }

  async load(): Promise<void> {
    const client = this.#options.client
    if (!client) throw new Error('these schemas were preloaded: there is no registry to read again')
    this.#registry = await readRegistry(client, this.#options.database)
    this.#sortingKeys = await readSortingKeys(client, this.sources)
    this.#byFingerprint = new Map()
  }

  /** The schema of a row when it is already built: the per-row fast path, without a promise. */
  cached(source: string, fingerprint: string): SourceSchema | undefined {
    return this.#byFingerprint.get(`${source}\u0000${fingerprint}`)
  }

  /** The schema of a row; throws a retriable error naming the source when migrate has not registered it. */
  async get(source: string, fingerprint: string): Promise<SourceSchema> {
    const key = `${source}\u0000${fingerprint}`
    const cached = this.#byFingerprint.get(key)
    if (cached) return cached
    let version = this.#registry.find((v) => v.source === source && v.fingerprint === fingerprint)
    if (!version) {
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

  #build(version: RegisteredVersion): SourceSchema {
    const columns = version.columns.map((c) => toCapturedColumn(version.source, c.name, c.type))
    const { database, table } = splitSource(version.source)
    const proto = generateRowProto({
      database,
      table,
      version: version.version,
      columns,
      options: this.#options.protobuf,
      previousFieldNumbers: version.fieldNumbers,
    })
    const configured = this.#options.sources.find((s) => s.table === version.source)?.key
    const names = columns.map((c) => c.name)
    const keyColumns = configured ?? plainKeyColumns((this.#sortingKeys.get(version.source) ?? []).join(', '), names)
    const missing = keyColumns.filter((k) => !names.includes(k))
    if (missing.length > 0) {
      throw new CaptureError(
        version.source,
        `key column(s) ${missing.join(', ')} are not captured in schema version ${version.version}`,
      )
    }
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
      keyColumns,
    }
  }
}

async function readSortingKeys(client: ClickHouseClient, sources: string[]): Promise<Map<string, string[]>> {
  if (sources.length === 0) return new Map()
  const result = await client.query({
    query: `SELECT concat(database, '.', name) AS source, sorting_key FROM system.tables
            WHERE concat(database, '.', name) IN {sources:Array(String)}`,
    query_params: { sources },
    format: 'JSONEachRow',
  })
  const rows = await result.json<{ source: string; sorting_key: string }>()
  return new Map(rows.map((r) => [r.source, r.sorting_key ? r.sorting_key.split(',').map((s) => s.trim()) : []]))
}
