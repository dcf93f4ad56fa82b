/**
 * The schema registry as the engine uses it, over the capture registry's versions (`<capture db>.sources`):
 *
 * - `migrate` calls {@link SchemaRegistration.register} for every version of a source, oldest first, and for a new
 *   version before it installs it: a registry that refuses the change stops the source's migration, so the view
 *   never writes rows no consumer could decode.
 * - `start` calls {@link SchemaRegistration.schemaId} for every version it will publish: the id goes into each
 *   value's Confluent framing. A version the registry does not hold stops with "run tailhouse migrate".
 *
 * Each version's value schema is generated again from the capture registry (the same `.proto` migrate wrote, the
 * same Avro and JSON Schema mappings), so neither side reads files.
 */
import type { RegisteredVersion } from '../capture/registry.js'
import { splitSource } from '../capture/source-table.js'
import type { TailhouseConfig } from '../config/config.js'
import type { EncodingFormat } from '../encoding/row-encoder.js'
import { topicFor } from '../kafka/topics.js'
import { toCapturedColumn } from '../schema/parse-clickhouse-type.js'
import { generateRowProto } from '../schema/proto-writer.js'
import {
  checkRegistered,
  isRegistryFormat,
  type RegisteredSourceVersion,
  registerSourceVersion,
  registryClientFor,
  type SourceVersionInput,
} from './register-source.js'
import type { RegistryClient } from './registry-client.js'

export interface SchemaRegistrationOptions {
  format: EncodingFormat
  /** kafka.topicTemplate: subjects are named after the source's topic by default. */
  topicTemplate: string
  protobuf: { timestamps: 'timestamp' | 'int64'; enums: 'enum' | 'string' }
}

export class SchemaRegistration {
  readonly #client: RegistryClient
  readonly #options: SchemaRegistrationOptions
  readonly #ids = new Map<string, Promise<number | undefined>>()

  constructor(client: RegistryClient, options: SchemaRegistrationOptions) {
    this.#client = client
    this.#options = options
  }

  /** The registry's URL, for log lines. */
  get url(): string {
    return this.#client.options.url
  }

  /** Registers (or, on a dry run, checks) one version's value schema; idempotent. */
  register(
    version: RegisteredVersion,
    options: { dryRun?: boolean } = {},
  ): Promise<RegisteredSourceVersion | undefined> {
    return registerSourceVersion(this.#client, this.#input(version), options)
  }

  /** The schema id of a version migrate registered (looked up once per version). */
  schemaId(version: RegisteredVersion): Promise<number | undefined> {
    const key = `${version.source}\u0000${version.version}`
    let id = this.#ids.get(key)
    if (id === undefined) {
      id = checkRegistered(this.#client, this.#input(version)).then((found) => found?.schemaId)
      // A failed lookup (registry down, not registered yet) is asked again next time.
      id.catch(() => this.#ids.delete(key))
      this.#ids.set(key, id)
    }
    return id
  }

  #input(version: RegisteredVersion): SourceVersionInput {
    const { database, table } = splitSource(version.source)
    const columns = version.columns.map((c) => toCapturedColumn(version.source, c.name, c.type))
    const proto = generateRowProto({
      database,
      table,
      version: version.version,
      columns,
      options: this.#options.protobuf,
      previousFieldNumbers: version.fieldNumbers,
    })
    return {
      format: this.#options.format,
      topic: topicFor(this.#options.topicTemplate, version.source),
      database,
      table,
      version: version.version,
      columns,
      protoText: proto.text,
      options: this.#options.protobuf,
    }
  }
}

/**
 * The registration for `config`, or undefined when values are not framed: no registry configured, or a format
 * without registry schemas. Throws a ConfigError when the format needs a registry and none is configured.
 */
export function schemaRegistrationFor(
  config: TailhouseConfig,
  env: NodeJS.ProcessEnv = process.env,
): SchemaRegistration | undefined {
  const client = registryClientFor(config, env)
  if (!client || !isRegistryFormat(config.engine.format)) return undefined
  return new SchemaRegistration(client, {
    format: config.engine.format,
    topicTemplate: config.kafka.topicTemplate,
    protobuf: config.protobuf,
  })
}
