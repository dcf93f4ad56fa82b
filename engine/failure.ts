import { NetworkError, TimeoutError } from '@platformatic/kafka'
import { CaptureError, TailhouseError } from './errors.js'
import { isFenced, isSecurityFailure } from './kafka/kafka-errors.js'

/**
 * The one place that decides what a failure means for the engine (ARCHITECTURE.md, "Failures"): retry it (after a
 * backoff, from the committed checkpoint), stop because another instance took over (fenced), or stop because
 * retrying cannot help (fatal). `reason` names the dependency for `tailhouse_retries_total{reason}`.
 */
export interface Failure {
  action: 'retry' | 'fenced' | 'fatal'
  reason: 'kafka' | 'clickhouse' | 'schema' | 'engine'
}

/** Network error codes of Node's sockets that a retry can outlast. */
const transientSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'])

export function classifyFailure(error: unknown): Failure {
  if (isFenced(error)) return { action: 'fenced', reason: 'kafka' }
  if (error instanceof TailhouseError) {
    const reason =
      error instanceof CaptureError
        ? 'schema'
        : error.code === 'TH_CLICKHOUSE_UNREACHABLE' || error.code === 'TH_CLICKHOUSE_QUERY'
          ? 'clickhouse'
          : error.code.startsWith('TH_KAFKA')
            ? 'kafka'
            : 'engine'
    return { action: error.canRetry ? 'retry' : 'fatal', reason }
  }
  // Before the network checks: the client reports a refused login or certificate as a retriable NetworkError.
  if (isSecurityFailure(error)) return { action: 'fatal', reason: 'kafka' }
  return { action: kafkaRetriable(error) ? 'retry' : 'fatal', reason: 'kafka' }
}

/** Errors of the Kafka client (and the sockets under it) that a retry can outlast. */
function kafkaRetriable(error: unknown): boolean {
  if (error instanceof NetworkError || error instanceof TimeoutError) return true
  if ((error as { canRetry?: unknown })?.canRetry === true) return true
  const code = (error as NodeJS.ErrnoException)?.code
  if (code && transientSocketCodes.has(code)) return true
  const name = (error as Error)?.constructor?.name ?? ''
  // @platformatic/kafka wraps failures of several brokers/partitions in MultipleErrors.
  const inner = (error as { errors?: unknown[] }).errors
  return /MultipleErrors|ResponseError/.test(name) && Array.isArray(inner) && inner.every(kafkaRetriable)
}

/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s, … capped at 30 s. */
export function backoffMs(attempt: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}
