import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { describe, expect, it, onTestFinished } from 'vitest'
import { translateClickHouseError } from '../../engine/clickhouse/translate-error.js'
import { createEndpointConnection } from '../../engine/embedded/endpoint-connection.js'
import { endpointFilePath, readEndpointFile } from '../../engine/embedded/endpoint-file.js'
import { serveEmbeddedClickHouse } from '../../engine/embedded/query-endpoint.js'
import { rows, testClickHouse, testDatabase } from '../helpers/clickhouse.js'
import { uniqueName } from '../helpers/names.js'
import { repoRoot } from '../stack/paths.js'

// The test process's own embedded ClickHouse, shared over the endpoint as a running engine shares it.
const dataDir = join(repoRoot, '.tailhouse', 'test', `clickhouse-${process.pid}`)

async function shared() {
  const client = await testClickHouse()
  const endpoint = await serveEmbeddedClickHouse({ client, dataDir, serving: 'the query-endpoint test' })
  onTestFinished(() => endpoint.close())
  const file = readEndpointFile(dataDir)
  if (!file) throw new Error('no endpoint file')
  const remote = createClient({ connection: createEndpointConnection(file), log: { level: ClickHouseLogLevel.OFF } })
  onTestFinished(() => remote.close())
  return { client, endpoint, file, remote }
}

describe('sharing embedded ClickHouse over the loopback endpoint', () => {
  it('writes an owner-only endpoint file naming this process, and removes it on close', async () => {
    const { endpoint, file } = await shared()
    expect(file.pid).toBe(process.pid)
    expect(file.url).toBe(endpoint.url)
    expect(file.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(file.token).toMatch(/^[0-9a-f]{64}$/)
    expect(statSync(endpointFilePath(dataDir)).mode & 0o777).toBe(0o600)
    await endpoint.close()
    expect(existsSync(endpointFilePath(dataDir))).toBe(false)
  })

  it('runs commands, inserts, queries and exec through the client as if it were in-process', async () => {
    const { client, remote } = await shared()
    const db = await testDatabase(client, uniqueName('th_endpoint'))
    await remote.command({ query: `CREATE TABLE ${db}.t (id UInt64, s String) ENGINE = MergeTree ORDER BY id` })
    await remote.insert({
      table: `${db}.t`,
      values: [
        { id: 1, s: 'a;b' },
        { id: 2, s: 'ü' },
      ],
      format: 'JSONEachRow',
    })
    const viaEndpoint = await (
      await remote.query({ query: `SELECT toString(id) AS id, s FROM ${db}.t ORDER BY id`, format: 'JSONEachRow' })
    ).json()
    expect(viaEndpoint).toEqual([
      { id: '1', s: 'a;b' },
      { id: '2', s: 'ü' },
    ])
    // The rows are in the shared instance itself.
    expect(await rows(client, `SELECT toString(count()) AS n FROM ${db}.t`)).toEqual([{ n: '2' }])
    const { stream } = await remote.exec({
      query: `SELECT s FROM ${db}.t WHERE id = {id:UInt64}`,
      query_params: { id: 2 },
      clickhouse_settings: { default_format: 'TabSeparated' },
    })
    const chunks: Buffer[] = []
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
    expect(Buffer.concat(chunks).toString('utf8')).toBe('ü\n')
    expect((await remote.ping()).success).toBe(true)
  })

  it("re-raises ClickHouse's error code and name", async () => {
    const { remote } = await shared()
    const error = await remote.query({ query: 'SELECT * FROM th_no_such_db.t' }).catch((e: unknown) => e)
    const translated = translateClickHouseError(error, 'shared')
    expect(translated).toMatchObject({ code: 'TH_CLICKHOUSE_QUERY', serverCode: '81', serverType: 'UNKNOWN_DATABASE' })
  })

  it('refuses a request without the token, and answers nothing but POST /sql', async () => {
    const { file } = await shared()
    const post = (token: string) =>
      fetch(`${file.url}/sql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'SELECT 1' }),
      })
    expect((await post('0'.repeat(64))).status).toBe(401)
    expect((await post(file.token)).status).toBe(200)
    expect((await fetch(`${file.url}/sql`)).status).toBe(405)
    expect((await fetch(`${file.url}/`, { method: 'POST' })).status).toBe(404)
  })
})
