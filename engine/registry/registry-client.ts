/**
 * A client of the Confluent Schema Registry REST API (v7, which Confluent's registry, Apicurio's `ccompat` API and
 * Karapace serve): the few calls tailhouse needs to register each source version's value schema and to find it
 * again. Every failure is a {@link RegistryError}: unreachable (retriable), refused with the registry's message, or
 * incompatible (status 409).
 */
import { RegistryError } from '../errors.js'
import { type JsonResponse, requestJson } from './http-json.js'
import type { RegistryOptions } from './registry-options.js'

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

/** A schema as the registry takes it. Protobuf imports of other registered files are `references`. */
export interface RegistrySchema {
  schemaType: SchemaType
  schema: string
  references?: Array<{ name: string; subject: string; version: number }>
}

export interface RegisteredSchema {
  subject: string
  id: number
  version: number
  schema: RegistrySchema
}

export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'

export class RegistryClient {
  constructor(readonly options: RegistryOptions) {}

  /** Registers `schema` under `subject` (the registry returns the existing id when it holds it already). */
  async register(subject: string, schema: RegistrySchema): Promise<number> {
    const res = await this.#call(subject, 'POST', `/subjects/${encode(subject)}/versions`, schema)
    if (res.status === 200) return idOf(subject, res.body)
    throw refusal(subject, 'refused the schema', res)
  }

  /** The registered version of `schema` under `subject`, or undefined when the subject does not hold it. */
  async lookup(subject: string, schema: RegistrySchema): Promise<RegisteredSchema | undefined> {
    const res = await this.#call(subject, 'POST', `/subjects/${encode(subject)}`, schema)
    if (res.status === 404) return undefined
    if (res.status !== 200) throw refusal(subject, 'could not look the schema up', res)
    const body = res.body as { id: number; version: number }
    return { subject, id: idOf(subject, body), version: body.version, schema }
  }

  /** The subject's latest version, or undefined when the subject does not exist. */
  async latest(subject: string): Promise<RegisteredSchema | undefined> {
    const res = await this.#call(subject, 'GET', `/subjects/${encode(subject)}/versions/latest`)
    if (res.status === 404) return undefined
    if (res.status !== 200) throw refusal(subject, 'could not read the latest version', res)
    const body = res.body as { id: number; version: number; schema: string; schemaType?: SchemaType; references?: [] }
    return {
      subject,
      id: idOf(subject, body),
      version: body.version,
      schema: { schemaType: body.schemaType ?? 'AVRO', schema: body.schema, references: body.references ?? [] },
    }
  }

  /** The compatibility level in force for `subject`: its own, else the registry's global one. */
  async compatibility(subject: string): Promise<CompatibilityLevel> {
    const own = await this.#call(subject, 'GET', `/config/${encode(subject)}`)
    const level = levelOf(own.body)
    if (own.status === 200 && level) return level
    if (own.status !== 200 && own.status !== 404) throw refusal(subject, 'could not read its compatibility level', own)
    const global = await this.#call('', 'GET', '/config')
    const globalLevel = levelOf(global.body)
    if (global.status === 200 && globalLevel) return globalLevel
    throw refusal('', 'could not read the global compatibility level', global)
  }

  /**
   * Whether `schema` could be registered under `subject` given its compatibility level, without registering it.
   * `messages` are the registry's reasons when it gives them.
   */
  async checkCompatibility(
    subject: string,
    schema: RegistrySchema,
  ): Promise<{ compatible: boolean; messages: string[] }> {
    const res = await this.#call(
      subject,
      'POST',
      `/compatibility/subjects/${encode(subject)}/versions/latest?verbose=true`,
      schema,
    )
    if (res.status === 404) return { compatible: true, messages: [] } // no version yet: anything goes
    if (res.status !== 200) throw refusal(subject, 'could not check compatibility', res)
    const body = res.body as { is_compatible?: boolean; messages?: string[] }
    return { compatible: body.is_compatible === true, messages: body.messages ?? [] }
  }

  async #call(subject: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<JsonResponse> {
    let res: JsonResponse
    try {
      res = await requestJson(this.options, method, path, body)
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      throw new RegistryError(subject, `cannot reach ${this.options.url}: ${reason}`, { canRetry: true, cause: error })
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        subject,
        `${this.options.url} answered ${res.status}: check registry.username / registry.password (SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD)`,
        { status: res.status },
      )
    }
    if (res.status >= 500) throw refusal(subject, 'failed', res, true)
    return res
  }
}

function encode(subject: string): string {
  return encodeURIComponent(subject)
}

function idOf(subject: string, body: unknown): number {
  const id = (body as { id?: unknown } | undefined)?.id
  if (typeof id !== 'number') throw new RegistryError(subject, `answered without a schema id: ${JSON.stringify(body)}`)
  return id
}

function levelOf(body: unknown): CompatibilityLevel | undefined {
  const b = body as { compatibilityLevel?: string; compatibility?: string } | undefined
  return (b?.compatibilityLevel ?? b?.compatibility) as CompatibilityLevel | undefined
}

/** The registry's own message and code, kept in the error (a registry message never holds credentials). */
export function refusal(subject: string, what: string, res: JsonResponse, canRetry = false): RegistryError {
  const body = res.body as { message?: string; error_code?: number } | string | undefined
  const message = typeof body === 'string' ? body.slice(0, 500) : (body?.message ?? JSON.stringify(body))
  const registryCode = typeof body === 'object' ? body?.error_code : undefined
  return new RegistryError(subject, `${what} (HTTP ${res.status}): ${message}`, {
    status: res.status,
    registryCode,
    canRetry,
    detail: message,
  })
}
