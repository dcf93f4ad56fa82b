/**
 * The two calls the engine makes into the schema registry:
 *
 * - `migrate`, for each (source, version) it captures or evolves: {@link registerSourceVersion} registers the
 *   version's value schema under its subject. The registry applies the subject's compatibility level; a refused
 *   change becomes a {@link RegistryError} naming the columns that changed.
 * - `start`, for each source's versions it will encode: {@link checkRegistered} finds the schema id, which goes
 *   into every value's Confluent framing (RowSchema.registry in encoding/row-encoder.ts).
 *
 * @example
 *   const registry = registryClientFor(config)          // undefined when no registry is configured
 *   if (registry) await registerSourceVersion(registry, { format: config.engine.format, topic, database, table,
 *     version, columns, protoText, options: config.protobuf })
 */
import type { TailhouseConfig } from '../config/config.js'
import type { EncodingFormat } from '../encoding/row-encoder.js'
import { ConfigError, RegistryError } from '../errors.js'
import { describeChanges, rowFieldChanges } from './field-changes.js'
import { type CompatibilityLevel, RegistryClient } from './registry-client.js'
import { registryOptions } from './registry-options.js'
import { type RegistryFormat, type SourceVersion, sourceRegistrySchema } from './source-schema.js'
import { subjectName } from './subject-name.js'

export interface SourceVersionInput extends SourceVersion {
  /** engine.format; formats without a registry schema (json, debezium-json) register nothing. */
  format: EncodingFormat
  /** The source's Kafka topic (TopicNameStrategy and TopicRecordNameStrategy name subjects after it). */
  topic: string
}

export interface RegisteredSourceVersion {
  subject: string
  /** The id values are framed with; undefined only on a dry run of a schema not registered yet. */
  schemaId: number | undefined
  compatibility: CompatibilityLevel | undefined
  /** False when the subject held this schema already (a re-run of migrate). */
  created: boolean
}

/**
 * The registry client for `config`, or undefined when no registry URL is configured. Throws a
 * {@link ConfigError} when engine.format needs a registry (avro, json-schema) and none is configured.
 */
export function registryClientFor(
  config: TailhouseConfig,
  env: NodeJS.ProcessEnv = process.env,
): RegistryClient | undefined {
  const options = registryOptions(config.registry, env)
  const format = config.engine.format
  if (!options && (format === 'avro' || format === 'json-schema')) {
    throw new ConfigError('registry.url', `is required with engine.format ${format} (or set SCHEMA_REGISTRY_URL)`)
  }
  return options ? new RegistryClient(options) : undefined
}

export function isRegistryFormat(format: EncodingFormat): format is RegistryFormat {
  return format === 'protobuf' || format === 'avro' || format === 'json-schema'
}

/**
 * Registers the value schema of one source version (idempotent). With `dryRun`, only asks the registry whether
 * the schema would be accepted. Returns undefined for formats without a registry schema.
 */
export async function registerSourceVersion(
  client: RegistryClient,
  input: SourceVersionInput,
  options: { dryRun?: boolean } = {},
): Promise<RegisteredSourceVersion | undefined> {
  if (!isRegistryFormat(input.format)) return undefined
  const { schema, recordName } = sourceRegistrySchema(input.format, input)
  const subject = subjectName(client.options.subjectNameStrategy, input.topic, recordName)
  const known = await client.lookup(subject, schema)
  if (known) return { subject, schemaId: known.id, compatibility: undefined, created: false }
  const compatibility = await client.compatibility(subject)
  if (options.dryRun) {
    const check = await client.checkCompatibility(subject, schema)
    if (!check.compatible) {
      throw await incompatible(client, input, subject, compatibility, schema, check.messages.join('; '))
    }
    return { subject, schemaId: undefined, compatibility, created: false }
  }
  try {
    const schemaId = await client.register(subject, schema)
    return { subject, schemaId, compatibility, created: true }
  } catch (error) {
    if (error instanceof RegistryError && error.status === 409) {
      throw await incompatible(client, input, subject, compatibility, schema, error.detail ?? error.message, error)
    }
    throw error
  }
}

/**
 * The schema id of a source version that `migrate` registered. Throws a {@link RegistryError} saying to run
 * `tailhouse migrate` when the subject does not hold it. Returns undefined for formats without a registry schema.
 */
export async function checkRegistered(
  client: RegistryClient,
  input: SourceVersionInput,
): Promise<{ subject: string; schemaId: number } | undefined> {
  if (!isRegistryFormat(input.format)) return undefined
  const { schema, recordName } = sourceRegistrySchema(input.format, input)
  const subject = subjectName(client.options.subjectNameStrategy, input.topic, recordName)
  const known = await client.lookup(subject, schema)
  if (!known) {
    throw new RegistryError(
      subject,
      `holds no ${input.format} schema of ${input.database}.${input.table} version ${input.version}: run \`tailhouse migrate\` with this registry and engine.format`,
    )
  }
  return { subject, schemaId: known.id }
}

async function incompatible(
  client: RegistryClient,
  input: SourceVersionInput,
  subject: string,
  compatibility: CompatibilityLevel,
  schema: ReturnType<typeof sourceRegistrySchema>['schema'],
  registryMessage: string,
  cause?: unknown,
): Promise<RegistryError> {
  const latest = await client.latest(subject).catch(() => undefined)
  const changes = latest ? rowFieldChanges(latest.schema, schema) : []
  const columns = changes.length > 0 ? `columns ${describeChanges(changes)}` : 'the change'
  return new RegistryError(
    subject,
    `refuses ${input.database}.${input.table} schema version ${input.version} under compatibility ${compatibility}: ` +
      `${columns} since registry version ${latest?.version ?? '?'} (registry: ${registryMessage}). Make the change ` +
      "compatible (e.g. add a column rather than change a type), or change the subject's compatibility level in the registry",
    { status: 409, cause },
  )
}
