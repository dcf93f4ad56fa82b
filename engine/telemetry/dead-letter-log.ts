import type { Logger } from '../log.js'

/**
 * The warnings for dead-lettered rows: one line per row, naming its source, cursor and reason, up to `perMinute`
 * lines a minute; beyond that one line a minute says how many more there were. A poison stream cannot flood the
 * log, and no dead letter goes without a line (the count is also `tailhouse_dead_letter_rows_total{source}`).
 */
export class DeadLetterLog {
  readonly #logger: Logger
  readonly #perMinute: number
  readonly #now: () => number
  #windowStart = Number.NEGATIVE_INFINITY
  #logged = 0
  #suppressed = 0
  #timer: NodeJS.Timeout | undefined

  constructor(logger: Logger, options: { perMinute?: number; now?: () => number } = {}) {
    this.#logger = logger
    this.#perMinute = options.perMinute ?? 10
    this.#now = options.now ?? Date.now
  }

  /**
   * After a batch with dead letters committed. `rows` names the first of them; `total` counts them all (a batch
   * names at most 100).
   */
  report(rows: ReadonlyArray<{ source: string; cursor: string; reason: string }>, total: number): void {
    const now = this.#now()
    if (now - this.#windowStart >= 60_000) {
      this.#flush()
      this.#windowStart = now
      this.#logged = 0
    }
    let named = 0
    for (const row of rows) {
      if (this.#logged >= this.#perMinute) break
      this.#logged += 1
      named += 1
      this.#logger.log('warn', `dead-lettered changelog row ${row.cursor} of ${row.source}: ${row.reason}`, {
        source: row.source,
        cursor: row.cursor,
      })
    }
    this.#suppressed += total - named
    // The rows not named are counted in a line at the end of the minute, even if no other dead letter comes.
    if (this.#suppressed > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flush(), Math.max(0, this.#windowStart + 60_000 - now))
      this.#timer.unref()
    }
  }

  /** Says how many rows went unnamed since the last line (at the next minute, and when the engine stops). */
  flush(): void {
    this.#flush()
  }

  #flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#suppressed <= 0) return
    this.#logger.log(
      'warn',
      `${this.#suppressed} more changelog rows were dead-lettered in the last minute (tailhouse_dead_letter_rows_total)`,
    )
    this.#suppressed = 0
  }
}
