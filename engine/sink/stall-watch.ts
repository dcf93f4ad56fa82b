import { KafkaError } from '../errors.js'
import type { Sink } from '../loop/loop-parts.js'

/**
 * How long the engine waits on one Kafka operation before giving it up and starting over with a new producer from
 * the committed checkpoint (the transaction timeout is longer: kafka/transaction-timeout.ts).
 */
export const kafkaGiveUpMs = 60_000

export interface StallWatchOptions {
  /** Say so once an operation has waited this long for Kafka… */
  firstWarningMs: number
  /** …and again every this long while it still waits. */
  repeatWarningMs: number
  /** Give it up after this long, with a retriable error. */
  giveUpMs: number
  /** Called for each warning: what waits, and for how long. */
  onStall: (what: string, waitedMs: number) => void
  /** Aborted: give up at once (the engine is stopping). */
  signal?: AbortSignal
}

/**
 * Kafka work that does not wait in silence. The Kafka client retries a broker that went away on its own, for as long
 * as it takes, and the engine would learn nothing until the broker was back: no log line, no retry counted, lag
 * frozen. Watched, an operation that waits reports it (onStall) after `firstWarningMs` and every `repeatWarningMs`,
 * and is given up after `giveUpMs` with a retriable error, so the engine goes through its retry path (a new
 * producer, fenced, from the committed checkpoint: a transaction that did commit meanwhile is found there).
 */
export function watchStall<T>(what: string, work: Promise<T>, options: StallWatchOptions): Promise<T> {
  const started = Date.now()
  let warn: NodeJS.Timeout | undefined
  let giveUp: NodeJS.Timeout | undefined
  let abort: (() => void) | undefined
  const stalled = new Promise<never>((_, reject) => {
    abort = () => reject(new KafkaError(`stopped while waiting for Kafka (${what})`))
    if (options.signal?.aborted) return abort()
    options.signal?.addEventListener('abort', abort, { once: true })
    const report = () => {
      options.onStall(what, Date.now() - started)
      warn = setTimeout(report, options.repeatWarningMs)
    }
    warn = setTimeout(report, options.firstWarningMs)
    giveUp = setTimeout(
      () =>
        reject(
          new KafkaError(
            `Kafka did not answer in ${Math.round(options.giveUpMs / 1000)} s (${what}); starting over from the committed checkpoint`,
            { canRetry: true },
          ),
        ),
      options.giveUpMs,
    )
  })
  work.catch(() => {}) // given up: its outcome is read from the checkpoint, not from here
  return Promise.race([work, stalled]).finally(() => {
    clearTimeout(warn)
    clearTimeout(giveUp)
    if (abort) options.signal?.removeEventListener('abort', abort)
  })
}

/** A sink whose batches are watched ({@link watchStall}). */
export function watchStalls(sink: Sink, options: StallWatchOptions): Sink {
  return {
    publish(messages, checkpoint) {
      const topics = [...new Set(messages.map((m) => m.topic))].join(', ')
      return watchStall(
        `publishing a batch of ${messages.length} messages to ${topics}`,
        sink.publish(messages, checkpoint),
        options,
      )
    },
  }
}
