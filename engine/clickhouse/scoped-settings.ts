/**
 * Per-query settings for embedded ClickHouse. chDB's connection applies a query's `clickhouse_settings` as `SET`
 * statements on its session, where they outlive the query: an INSERT with an `insert_deduplication_token`, then an
 * INSERT without one, and the second silently reuses the first's token — and is dropped as a duplicate. Over HTTP
 * every request has its own settings; this wrapper gives the embedded connection the same semantics: a call with
 * settings runs alone, and its settings are reset (`SET name = DEFAULT`) before any other call starts, whether it
 * succeeded or failed.
 */

/** The subset of @clickhouse/client's Connection contract used here: every method takes one params object. */
export interface WrappableConnection {
  ping(params: unknown): Promise<unknown>
  query(params: { clickhouse_settings?: Record<string, unknown> }): Promise<unknown>
  exec(params: { clickhouse_settings?: Record<string, unknown> }): Promise<unknown>
  command(params: { query?: string; clickhouse_settings?: Record<string, unknown> }): Promise<unknown>
  insert(params: { clickhouse_settings?: Record<string, unknown> }): Promise<unknown>
  close(): Promise<void>
}

/** Settings the HTTP client sends that chDB drops rather than SETs (chdb-connection.js HTTP_ONLY_SETTINGS). */
const notSet = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_response_buffer_size',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
  'default_format',
])

/** Names of the settings a call would leave on the session. */
function sessionSettings(params: { clickhouse_settings?: Record<string, unknown> }): string[] {
  return Object.entries(params.clickhouse_settings ?? {})
    .filter(([name, value]) => value !== undefined && !notSet.has(name))
    .map(([name]) => name)
}

/**
 * A readers–writer gate: calls without settings run concurrently; a call with settings waits for them, runs alone,
 * and resets its settings before the gate opens again.
 */
class Gate {
  #shared = 0
  #exclusive: Promise<void> = Promise.resolve()
  #drained: (() => void) | undefined

  async shared<T>(run: () => Promise<T>): Promise<T> {
    await this.#exclusive
    this.#shared += 1
    try {
      return await run()
    } finally {
      this.#shared -= 1
      if (this.#shared === 0) this.#drained?.()
    }
  }

  exclusive<T>(run: () => Promise<T>): Promise<T> {
    const previous = this.#exclusive
    let open!: () => void
    this.#exclusive = new Promise((resolve) => {
      open = resolve
    })
    return (async () => {
      await previous
      if (this.#shared > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
      this.#drained = undefined
      try {
        return await run()
      } finally {
        open()
      }
    })()
  }
}

export function withQueryScopedSettings<C extends WrappableConnection>(connection: C): C {
  const gate = new Gate()
  const call =
    <P extends { clickhouse_settings?: Record<string, unknown> }, R>(method: (params: P) => Promise<R>) =>
    (params: P): Promise<R> => {
      const names = sessionSettings(params)
      if (names.length === 0) return gate.shared(() => method(params))
      return gate.exclusive(async () => {
        try {
          return await method(params)
        } finally {
          await connection.command({ query: names.map((name) => `SET ${name} = DEFAULT`).join('; ') })
        }
      })
    }
  const wrapped: WrappableConnection = {
    ping: (params: unknown) => gate.shared(() => connection.ping(params)),
    query: call(connection.query.bind(connection)),
    exec: call(connection.exec.bind(connection)),
    command: call(connection.command.bind(connection)),
    insert: call(connection.insert.bind(connection)),
    close: () => connection.close(),
  }
  return wrapped as C
}
