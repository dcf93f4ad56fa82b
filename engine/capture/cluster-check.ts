import type { ClickHouseClient } from '@clickhouse/client'
import { CaptureError } from '../errors.js'

/**
 * ON CLUSTER DDL runs asynchronously on each host, so capture is reported live only when every replica of the
 * cluster has the changelog and every capture view. Polls `clusterAllReplicas` for up to `timeoutMs`.
 */
export async function verifyOnAllReplicas(
  client: ClickHouseClient,
  cluster: string,
  database: string,
  tables: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let missing: string[] = []
  for (;;) {
    missing = await missingOnReplicas(client, cluster, database, tables)
    if (missing.length === 0) return
    if (Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, 1_000))
  }
  throw new CaptureError(
    '',
    `after ${timeoutMs / 1000} s these replicas of cluster ${cluster} still lack capture objects: ${missing.join('; ')}. ` +
      'Check system.distributed_ddl_queue on them; capture is not live there until migrate succeeds',
  )
}

/** `host: table, table` for every replica missing one of `tables`. */
export async function missingOnReplicas(
  client: ClickHouseClient,
  cluster: string,
  database: string,
  tables: string[],
): Promise<string[]> {
  const result = await client.query({
    query: `SELECT host, arrayFilter(t -> NOT has(present, t), {tables:Array(String)}) AS missing
            FROM (
              SELECT hostName() AS host, groupArray(name) AS present
              FROM clusterAllReplicas({cluster:String}, system.tables)
              WHERE database = {database:String}
              GROUP BY host
            )`,
    query_params: { cluster, database, tables },
    format: 'JSONEachRow',
  })
  const rows = await result.json<{ host: string; missing: string[] }>()
  const hosts = await replicaCount(client, cluster)
  const problems = rows.filter((r) => r.missing.length > 0).map((r) => `${r.host}: ${r.missing.join(', ')}`)
  if (rows.length < hosts) problems.push(`${hosts - rows.length} replica(s) without the database ${database}`)
  return problems
}

async function replicaCount(client: ClickHouseClient, cluster: string): Promise<number> {
  const result = await client.query({
    query: 'SELECT count() AS n FROM system.clusters WHERE cluster = {cluster:String}',
    query_params: { cluster },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ n: string | number }>()
  return Number(row?.n ?? 0)
}
