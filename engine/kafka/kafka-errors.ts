import { GenericError, MultipleErrors } from '@platformatic/kafka'

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

/** The Kafka error's own one-line description, including nested per-partition errors. */
export function describeKafkaError(error: unknown): string {
  if (error instanceof MultipleErrors) {
    const inner = error.errors.map((e) => describeKafkaError(e)).filter(Boolean)
    return `${error.message}${inner.length ? `: ${[...new Set(inner)].join('; ')}` : ''}`
  }
  if (error instanceof Error) {
    const api = (error as { apiId?: string }).apiId
    return api ? `${api} (${error.message})` : error.message
  }
  return String(error)
}
