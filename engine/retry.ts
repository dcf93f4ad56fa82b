import { NetworkError, TimeoutError } from '@platformatic/kafka'
import { TailhouseError } from './errors.js'
import { isFenced, isSecurityFailure } from './kafka/kafka-errors.js'

export type Failure = 'fenced' | 'retry' | 'fatal'

/** Whether the engine should retry an error, stop because it was fenced, or stop because retrying cannot help. */
export function classify(error: unknown): Failure {
  if (isFenced(error)) return 'fenced'
  if (error instanceof TailhouseError) return error.canRetry ? 'retry' : 'fatal'
  // Before the network checks: the client reports a refused login or certificate as a retriable NetworkError.
  if (isSecurityFailure(error)) return 'fatal'
  if (error instanceof NetworkError || error instanceof TimeoutError) return 'retry'
  if ((error as { canRetry?: unknown })?.canRetry === true) return 'retry'
  const code = (error as NodeJS.ErrnoException)?.code
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))
    return 'retry'
  const name = (error as Error)?.constructor?.name ?? ''
  // @platformatic/kafka wraps network failures of several brokers/partitions in MultipleErrors.
  if (
    /MultipleErrors|ResponseError/.test(name) &&
    (error as { errors?: unknown[] }).errors?.every((e) => classify(e) === 'retry')
  ) {
    return 'retry'
  }
  return 'fatal'
}

/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s, … capped at 30 s. */
export function backoffMs(attempt: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}
