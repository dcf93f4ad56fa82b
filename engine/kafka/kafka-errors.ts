import { AuthenticationError, GenericError, MultipleErrors } from '@platformatic/kafka'
import { transactionTimeoutMs } from './transaction-timeout.js'

/** Looks through the client's nested errors (ResponseError holds one per partition) for a property value. */
function find(error: unknown, property: string, value: unknown): boolean {
  if (error instanceof GenericError) return error.findBy(property, value) !== null
  if (error instanceof MultipleErrors) return error.findBy(property, value) !== null
  return false
}

/** Another producer with our transactional id took over: this instance must stop, not retry. */
export function isFenced(error: unknown): boolean {
  return (
    find(error, 'apiId', 'PRODUCER_FENCED') ||
    find(error, 'producerFenced', true) ||
    find(error, 'apiId', 'INVALID_PRODUCER_EPOCH')
  )
}

/**
 * The transaction coordinator is still finishing the previous transaction (writing its markers): the request
 * succeeds when repeated a few milliseconds later. Right after every commit this is the common case.
 */
export function isConcurrentTransactions(error: unknown): boolean {
  return find(error, 'apiId', 'CONCURRENT_TRANSACTIONS')
}

export function isTopicAlreadyExists(error: unknown): boolean {
  return find(error, 'apiId', 'TOPIC_ALREADY_EXISTS')
}

/**
 * Every error in the tree the client builds: MultipleErrors and ResponseError hold `errors`, and a connection
 * failure is a retriable NetworkError whose `cause` says why (an AuthenticationError, a TLS error).
 */
export function* kafkaErrorTree(error: unknown, depth = 0): Generator<unknown> {
  if (error === null || error === undefined || depth > 12) return
  yield error
  const nested = (error as { errors?: unknown }).errors
  if (Array.isArray(nested)) for (const inner of nested) yield* kafkaErrorTree(inner, depth + 1)
  const cause = (error as { cause?: unknown }).cause
  if (cause !== undefined) yield* kafkaErrorTree(cause, depth + 1)
}

function anyInTree(error: unknown, test: (e: unknown) => boolean): boolean {
  for (const e of kafkaErrorTree(error)) if (test(e)) return true
  return false
}

const saslFailures = new Set(['SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE'])

/**
 * The broker refused our credentials or SASL mechanism. The client reports it as a retriable network failure
 * (the AuthenticationError is its cause); repeating it with the same credentials cannot succeed.
 */
export function isAuthenticationFailure(error: unknown): boolean {
  return anyInTree(
    error,
    (e) => e instanceof AuthenticationError || saslFailures.has((e as { apiId?: string })?.apiId ?? ''),
  )
}

/** Kafka denies an operation for lack of an ACL, per resource type. */
export const authorizationFailures = {
  TOPIC_AUTHORIZATION_FAILED: 'Topic',
  GROUP_AUTHORIZATION_FAILED: 'Group',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'TransactionalId',
  CLUSTER_AUTHORIZATION_FAILED: 'Cluster',
} as const

/** An operation was denied: an ACL is missing. Retrying cannot help until someone grants it. */
export function isAuthorizationFailure(error: unknown): boolean {
  return anyInTree(error, (e) => Object.hasOwn(authorizationFailures, (e as { apiId?: string })?.apiId ?? ''))
}

/** Node.js and OpenSSL codes of a broker certificate that could not be trusted or names another host. */
const certificateFailures = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
])

/** The error saying the broker's TLS certificate was refused (untrusted CA, expired, for another host), if any. */
export function certificateFailure(error: unknown): NodeJS.ErrnoException | undefined {
  for (const e of kafkaErrorTree(error)) {
    if (e instanceof Error && certificateFailures.has((e as NodeJS.ErrnoException).code ?? '')) return e
  }
  return undefined
}

export function isCertificateFailure(error: unknown): boolean {
  return certificateFailure(error) !== undefined
}

/** The Kafka error's own one-line description, including nested per-partition errors. */
export function describeKafkaError(error: unknown): string {
  const described = describeTree(error)
  // The claim asks for transactionTimeoutMs; a broker allowing less refuses every claim: say what to change.
  if (find(error, 'apiId', 'INVALID_TRANSACTION_TIMEOUT')) {
    return (
      `${described}: the broker's transaction.max.timeout.ms is below the ${transactionTimeoutMs / 1000} s ` +
      `transaction timeout tailhouse claims its transactional id with; raise it to at least ${transactionTimeoutMs} ` +
      "(Kafka's default is 900000)"
    )
  }
  return described
}

function describeTree(error: unknown): string {
  if (error instanceof MultipleErrors) {
    const inner = error.errors.map((e) => describeTree(e)).filter(Boolean)
    return `${error.message}${inner.length ? `: ${[...new Set(inner)].join('; ')}` : ''}`
  }
  if (error instanceof Error) {
    const api = (error as { apiId?: string }).apiId
    return api ? `${api} (${error.message})` : error.message
  }
  return String(error)
}

/**
 * A failure retrying cannot fix until someone changes credentials, certificates or ACLs: a refused login or SASL
 * mechanism, a refused broker certificate, a denied operation.
 */
export function isSecurityFailure(error: unknown): boolean {
  return isAuthenticationFailure(error) || isAuthorizationFailure(error) || isCertificateFailure(error)
}
