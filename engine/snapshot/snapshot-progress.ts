/** Rows per second over the last minute, from samples of a growing count. */
export class RateMeter {
  readonly #samples: Array<{ at: number; count: number }> = []

  /** Records `count` now; returns rows per second over the last minute (0 until two samples). */
  sample(count: number, now = Date.now()): number {
    this.#samples.push({ at: now, count })
    while (this.#samples.length > 2 && now - (this.#samples[0]?.at ?? now) > 60_000) this.#samples.shift()
    const first = this.#samples[0]
    if (!first || now === first.at) return 0
    return ((count - first.count) * 1000) / (now - first.at)
  }
}

/** `4,000 of 10,000 rows (40%), 1,200 rows/s, about 5 s left`. */
export function describeProgress(published: number, rows: number, rowsPerSecond: number): string {
  const percent = rows === 0 ? 100 : Math.floor((published * 100) / rows)
  const left = rowsPerSecond > 0 ? Math.ceil((rows - published) / rowsPerSecond) : undefined
  return (
    `${published.toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} rows (${percent}%), ` +
    `${Math.round(rowsPerSecond).toLocaleString('en-US')} rows/s` +
    (left === undefined ? '' : `, about ${formatSeconds(left)} left`)
  )
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  return `${(seconds / 3600).toFixed(1)} h`
}
