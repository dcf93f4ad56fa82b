import { describe, expect, it } from 'vitest'
import { rows, testClickHouse, testDatabase } from '../helpers/clickhouse.js'
import { uniqueName } from '../helpers/names.js'

/**
 * Per-query settings stay with their query on the embedded connection, as over HTTP: an INSERT with an
 * insert_deduplication_token, then INSERTs without one, must not reuse it (chDB would SET it on its session, and the
 * later INSERTs would be dropped as duplicates of the first).
 */
describe('per-query settings on embedded ClickHouse', () => {
  it('do not leak into later queries: an INSERT without a token after one with a token writes all its rows', async () => {
    const client = await testClickHouse()
    const db = await testDatabase(client, uniqueName('scoped'))
    await client.command({
      query: `CREATE TABLE ${db}.t (id UInt64) ENGINE = MergeTree ORDER BY id
              SETTINGS non_replicated_deduplication_window = 100`,
    })
    await client.insert({
      table: `${db}.t`,
      values: [{ id: 1 }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: 'token-a' },
    })
    const [setting] = await rows<{ t: string }>(client, "SELECT getSetting('insert_deduplication_token') AS t")
    expect(setting?.t).toBe('')
    for (let i = 0; i < 10; i++) await client.command({ query: `INSERT INTO ${db}.t VALUES (${100 + i})` })
    await client.insert({ table: `${db}.t`, values: [{ id: 2 }, { id: 3 }], format: 'JSONEachRow' })
    // The token still deduplicates what it should: the same INSERT with the same token again.
    await client.insert({
      table: `${db}.t`,
      values: [{ id: 1 }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: 'token-a' },
    })
    const [count] = await rows<{ n: string }>(client, `SELECT count() AS n FROM ${db}.t`)
    expect(Number(count?.n)).toBe(13)
  })

  it('a failing query with settings does not leave them either, and concurrent queries never see them', async () => {
    const client = await testClickHouse()
    await expect(
      client.command({ query: 'SELECT throwIf(1)', clickhouse_settings: { max_threads: 1 } }),
    ).rejects.toThrow()
    const [setting] = await rows<{ t: string }>(client, "SELECT toString(getSetting('max_threads')) AS t")
    expect(setting?.t).not.toBe('1')
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? client.command({ query: 'SELECT 1', clickhouse_settings: { insert_deduplication_token: `t${i}` } })
          : rows<{ t: string }>(client, "SELECT getSetting('insert_deduplication_token') AS t"),
      ),
    )
    for (const result of seen.filter(Array.isArray)) expect(result).toEqual([{ t: '' }])
  })
})
