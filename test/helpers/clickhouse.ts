import { join } from 'node:path'
import { type ClickHouseClient, createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { onTestFinished } from 'vitest'
import { createClickHouse } from '../../engine/clickhouse/index.js'
import { repoRoot } from '../stack/paths.js'

let shared: Promise<ClickHouseClient> | undefined

const dataDir = () => join(repoRoot, '.tailhouse', 'test', `clickhouse-${process.pid}`)

/**
 * The ClickHouse the tests use: the server at CLICKHOUSE_URL when set, else embedded ClickHouse (chDB) on a data
 * directory of this test process (chDB allows one directory per process). One client per process, closed when the
 * process ends; tests isolate themselves with their own database from {@link testDatabase}.
 */
export function testClickHouse(): Promise<ClickHouseClient> {
  shared ??= createClickHouse({
    url: process.env.CLICKHOUSE_URL || undefined,
    username: process.env.CLICKHOUSE_USER || undefined,
    password: process.env.CLICKHOUSE_PASSWORD,
    dataDir: dataDir(),
  })
  return shared
}

/**
 * Another connection to the same ClickHouse as {@link testClickHouse}, for queries that must run at the same time
 * as that client's (a chDB connection runs one query at a time; two connections run side by side, as an
 * application's would). Closed when the test finishes.
 */
export async function otherConnection(): Promise<ClickHouseClient> {
  await testClickHouse()
  const url = process.env.CLICKHOUSE_URL || undefined
  const client = url
    ? createClient({
        url,
        username: process.env.CLICKHOUSE_USER || undefined,
        password: process.env.CLICKHOUSE_PASSWORD,
      })
    : createClient({
        connection: createChdbConnection({ path: dataDir() }) as unknown as NonNullable<
          NonNullable<Parameters<typeof createClient>[0]>['connection']
        >,
      })
  onTestFinished(() => client.close())
  return client
}

/** Creates a database for this test and drops it when the test finishes. */
export async function testDatabase(client: ClickHouseClient, name: string): Promise<string> {
  await client.command({ query: `CREATE DATABASE ${name}` })
  onTestFinished(async () => {
    await client.command({ query: `DROP DATABASE IF EXISTS ${name} SYNC` })
  })
  return name
}

/** Runs a SELECT and returns its rows. */
export async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const result = await client.query({ query, format: 'JSONEachRow' })
  return result.json<T>()
}
