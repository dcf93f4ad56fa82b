import { KafkaAuthenticationError, KafkaAuthorizationError } from '../errors.js'
import { describePrincipal, type KafkaClientOptions } from './connection.js'
import {
  authorizationFailures,
  certificateFailure,
  isAuthenticationFailure,
  isAuthorizationFailure,
  isCertificateFailure,
  kafkaErrorTree,
} from './kafka-errors.js'

/** What a Kafka call needed, so that a denial can name the ACL to grant. */
export interface AccessContext {
  /** The connection's options: who the broker sees (the SASL user), for the message. */
  connection: Pick<KafkaClientOptions, 'sasl' | 'tls'>
  /** The operation needed on the topics touched, and their names. */
  topics?: { operation: 'CREATE' | 'DESCRIBE' | 'READ' | 'WRITE'; names: string[] }
  /** The transactional id used (WRITE on it is needed). */
  transactionalId?: string
}

/** The operation each API needs on the resource type it was denied, when the context does not say. */
const neededByApi: Record<string, string> = {
  CreateTopics: 'CREATE',
  Produce: 'WRITE',
  AddPartitionsToTxn: 'WRITE',
  Fetch: 'READ',
  ListOffsets: 'DESCRIBE',
  Metadata: 'DESCRIBE',
  FindCoordinator: 'DESCRIBE',
  InitProducerId: 'WRITE',
  EndTxn: 'WRITE',
  TxnOffsetCommit: 'READ',
  OffsetCommit: 'READ',
  JoinGroup: 'READ',
}

const securityReadme = 'README.md, "Security", lists every ACL tailhouse needs'

/**
 * The client's failures that retrying cannot fix, as TailhouseErrors that say what to change: a refused login
 * or certificate ({@link KafkaAuthenticationError}, TH_KAFKA_AUTH), or a missing ACL ({@link
 * KafkaAuthorizationError}, TH_KAFKA_ACCESS, naming the operation, the resource and the principal). Any other
 * error is returned as it is. Never retriable: the engine stops on them.
 */
export function translateKafkaFailure(error: unknown, context: AccessContext): unknown {
  if (!(error instanceof Error)) return error
  if (isAuthorizationFailure(error)) return authorizationError(error, context)
  if (isAuthenticationFailure(error)) return authenticationError(error, context)
  if (isCertificateFailure(error)) return certificateError(error)
  return error
}

/** Runs `call`, translating its failure (see {@link translateKafkaFailure}). */
export async function withAccessContext<T>(context: AccessContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw translateKafkaFailure(error, context)
  }
}

function authorizationError(error: Error, context: AccessContext): KafkaAuthorizationError {
  const denied = findDenial(error)
  const resourceType = authorizationFailures[denied.apiId as keyof typeof authorizationFailures] ?? 'Topic'
  const principal = describePrincipal(context.connection)
  let resource: string
  let operation: string
  if (resourceType === 'Topic') {
    const names = context.topics?.names ?? []
    resource = denied.resource ?? (names.length > 0 ? names.join(' or ') : 'a topic')
    operation = context.topics?.operation ?? neededByApi[denied.api] ?? 'WRITE'
  } else if (resourceType === 'TransactionalId') {
    resource = denied.resource ?? context.transactionalId ?? "the engine's transactional id"
    operation = 'WRITE'
  } else if (resourceType === 'Cluster') {
    resource = 'kafka-cluster'
    // Without a transactional id, a producer needs IDEMPOTENT_WRITE (or, since Kafka 3.0, WRITE on any topic).
    operation = denied.api === 'InitProducerId' ? 'IDEMPOTENT_WRITE' : (neededByApi[denied.api] ?? 'DESCRIBE')
  } else {
    resource = denied.resource ?? 'a group'
    operation = neededByApi[denied.api] ?? 'READ'
  }
  const implied = operation === 'DESCRIBE' && resourceType === 'Topic' ? ' (or WRITE or READ, which imply it)' : ''
  return new KafkaAuthorizationError(
    { operation, resourceType, resource, principal },
    `Kafka denied ${principal} ${operation} on ${resourceType} ${resource}` +
      ` (${denied.apiId}${denied.api ? ` in ${denied.api}` : ''}): grant ${principal} ${operation}${implied}` +
      ` on ${resourceType} ${resource}; ${securityReadme}`,
    { cause: error },
  )
}

function authenticationError(error: Error, context: AccessContext): KafkaAuthenticationError {
  const sasl = context.connection.sasl
  const broker = brokerOf(error)
  const server = [...kafkaErrorTree(error)]
    .map((e) => (e as { serverErrorMessage?: unknown }).serverErrorMessage)
    .find((m): m is string => typeof m === 'string' && m !== '')
  const provider = [...kafkaErrorTree(error)].find(
    (e) => e instanceof Error && /provider threw/.test(e.message) && (e as Error).cause instanceof Error,
  ) as Error | undefined
  const reason =
    server ?? (provider ? `${provider.message} ${(provider.cause as Error).message}` : 'authentication failed')
  const who = sasl ? `${describePrincipal(context.connection)} with SASL ${sasl.mechanism}` : 'tailhouse'
  return new KafkaAuthenticationError(
    `Kafka${broker ? ` at ${broker}` : ''} refused to authenticate ${who}: ${reason}; ` +
      'check kafka.sasl (or KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD)',
    broker,
    { cause: error },
  )
}

function certificateError(error: Error): KafkaAuthenticationError {
  const broker = brokerOf(error)
  const tlsError = certificateFailure(error)
  const reason = tlsError ? `${tlsError.message.trim()} [${tlsError.code}]` : 'certificate refused'
  return new KafkaAuthenticationError(
    `TLS to Kafka${broker ? ` at ${broker}` : ''} failed, the broker's certificate was refused: ${reason}; ` +
      'check kafka.tls.caFile (the CA that signed it) and that the certificate names the host in kafka.brokers ' +
      '(or set kafka.tls.serverName to the name it has)',
    broker,
    { cause: error },
  )
}

interface Denial {
  apiId: string
  /** e.g. CreateTopics, from the ResponseError that carried it. */
  api: string
  /** The topic, group or transactional id named by the response at the error's path, when it names one. */
  resource: string | undefined
}

function findDenial(error: Error): Denial {
  for (const parent of kafkaErrorTree(error)) {
    const nested = (parent as { errors?: unknown[] }).errors
    if (!Array.isArray(nested)) continue
    for (const inner of nested) {
      const apiId = (inner as { apiId?: string })?.apiId
      if (!apiId || !Object.hasOwn(authorizationFailures, apiId)) continue
      const api = /executing API (\w+)\(/.exec((parent as Error).message)?.[1] ?? ''
      const response = (parent as { response?: unknown }).response
      const path = (inner as { path?: string }).path
      return { apiId, api, resource: nameAt(response, path) }
    }
  }
  return { apiId: 'TOPIC_AUTHORIZATION_FAILED', api: '', resource: undefined }
}

/**
 * The client marks a per-item error with its path in the response, e.g. `/topics/1` or `/coordinators/0`; the
 * item there (or the nearest one above it) names the resource: `name` for topics, `key` for coordinators.
 */
function nameAt(response: unknown, path: string | undefined): string | undefined {
  if (!path || response === null || typeof response !== 'object') return undefined
  const steps = path.split('/').filter(Boolean)
  const chain: unknown[] = [response]
  for (const step of steps) {
    const at = chain.at(-1) as Record<string, unknown> | undefined
    // Some paths are in the protocol's snake_case, the parsed response in camelCase.
    const next = at?.[step] ?? at?.[step.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())]
    if (next === undefined) break
    chain.push(next)
  }
  for (const item of chain.reverse()) {
    if (item === null || typeof item !== 'object') continue
    for (const field of ['name', 'topic', 'key', 'transactionalId', 'groupId']) {
      const value = (item as Record<string, unknown>)[field]
      if (typeof value === 'string' && value !== '') return value
    }
  }
  return undefined
}

function brokerOf(error: Error): string | undefined {
  for (const e of kafkaErrorTree(error)) {
    const m = e instanceof Error ? /Connection to (\S+:\d+) failed/.exec(e.message) : null
    if (m) return m[1]
  }
  return undefined
}
