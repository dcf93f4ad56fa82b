import type { ClickHouseClient } from '@clickhouse/client'

/**
 * INSERTs running all the time on connections of their own, as an application's: each connection runs `insert`
 * again as soon as the previous one returned, until `stop()`, which waits for the last ones and returns how many
 * INSERTs ran. A failed INSERT stops its connection and is raised by `stop()`.
 */
export function insertContinuously(
  clients: readonly ClickHouseClient[],
  insert: (client: ClickHouseClient, n: number) => Promise<void>,
): { stop(): Promise<number>; count(): number } {
  let stopped = false
  let n = 0
  const loops = clients.map(async (client) => {
    while (!stopped) await insert(client, n++)
  })
  return {
    count: () => n,
    async stop() {
      stopped = true
      await Promise.all(loops)
      return n
    },
  }
}
