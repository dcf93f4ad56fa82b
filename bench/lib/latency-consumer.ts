import { Consumer, FetchIsolationLevels } from '@platformatic/kafka'

/**
 * Consumer-visible latency: a read_committed consumer in the benchmark's own process records, per message,
 * now − the row's INSERT time (the `tailhouse.ingest_time_us` header, set by ClickHouse when the INSERT ran).
 * Used only for timing; exactly-once is checked separately with the marker-based reader.
 */
export class LatencyConsumer {
  /** Per message: when its row was inserted (ms since the epoch) and how long until this consumer saw it. */
  readonly samples: Array<{ insertedAt: number; latencyMs: number }> = []
  #consumer: Consumer | undefined
  #stream: { close(): Promise<void> } | undefined

  static async start(bootstrap: string, topic: string, groupId: string): Promise<LatencyConsumer> {
    const self = new LatencyConsumer()
    const consumer = new Consumer({
      clientId: 'tailhouse-bench',
      groupId,
      bootstrapBrokers: [bootstrap],
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      maxWaitTime: 20,
    })
    self.#consumer = consumer
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false })
    self.#stream = stream
    stream.on('data', (message) => {
      for (const [name, value] of message.headers) {
        if (String(name) === 'tailhouse.ingest_time_us') {
          const insertedAt = Number(BigInt(String(value)) / 1000n)
          self.samples.push({ insertedAt, latencyMs: Date.now() - insertedAt })
          return
        }
      }
    })
    return self
  }

  /**
   * Latencies of the rows inserted after the first `warmUpMs` of the run: the first rows also pay for the
   * consumer's first fetch and the engine's first metadata lookups, which a steady stream never does.
   */
  latencies(warmUpMs: number): number[] {
    let first = Number.POSITIVE_INFINITY
    for (const s of this.samples) first = Math.min(first, s.insertedAt)
    return this.samples.filter((s) => s.insertedAt >= first + warmUpMs).map((s) => s.latencyMs)
  }

  async close(): Promise<void> {
    await this.#stream?.close()
    await this.#consumer?.close()
  }
}

/** The p-th percentile (0–100) of unsorted samples, nearest rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}
