import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEngine } from '../../engine/start-engine.js'
import { engineFixture, testLogger, waitFor } from '../helpers/engine.js'
import { type KafkaServer, startKafka } from '../stack/kafka-server.js'

/** One Prometheus sample value from an exposition, or undefined. */
function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

describe('metrics, health and readiness (own Kafka broker, stopped and restarted)', () => {
  let kafka: KafkaServer
  let runDir: string
  beforeAll(async () => {
    runDir = mkdtempSync(join(tmpdir(), 'tailhouse-readiness-'))
    kafka = await startKafka(runDir)
  }, 180_000)
  afterAll(async () => {
    await kafka?.stop()
    rmSync(runDir, { recursive: true, force: true })
  })

  it('reports lag falling to 0 after a workload, and /readyz follows Kafka going away and coming back', async () => {
    const f = await engineFixture(
      (db) => [{ table: `${db}.t`, exclude: [] }],
      { batchMaxRows: 10 },
      { brokers: [kafka.bootstrap] },
    )
    f.kafkaBootstrap = kafka.bootstrap
    const source = `${f.sourceDb}.t`
    await f.client.command({ query: `CREATE TABLE ${source} (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${source} SELECT number FROM numbers(3000)` })

    const saved = process.env.KAFKA_BOOTSTRAP
    delete process.env.KAFKA_BOOTSTRAP // the engine must use this test's broker
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    try {
      const url = engine.status().httpUrl as string
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect((await fetch(`${url}/healthz`)).status).toBe(200)

      const scrape = async () => (await fetch(`${url}/metrics`)).text()
      const early = await scrape()
      expect(sample(early, 'tailhouse_lag_rows', { source })).toBeGreaterThan(0)
      await waitFor('lag 0 and 3000 rows published', async () => {
        const text = await scrape()
        return (
          sample(text, 'tailhouse_lag_rows', { source }) === 0 &&
          sample(text, 'tailhouse_published_rows_total', { source }) === 3000
        )
      })
      const done = await scrape()
      expect(sample(done, 'tailhouse_lag_seconds', { source })).toBe(0)
      expect(sample(done, 'tailhouse_transactions_committed_total', {})).toBeGreaterThanOrEqual(300)
      expect(done).toMatch(/tailhouse_last_commit_timestamp_seconds\{[^}]*\} \d+/)

      const ready = async () => {
        const response = await fetch(`${url}/readyz`)
        return { status: response.status, body: (await response.json()) as { checks: Record<string, { ok: boolean }> } }
      }
      expect((await ready()).status).toBe(200)
      await kafka.pause()
      await waitFor('/readyz unready without Kafka', async () => {
        const r = await ready()
        return r.status === 503 && r.body.checks.kafka?.ok === false
      })
      expect((await fetch(`${url}/healthz`)).status).toBe(200) // alive all the same: nothing to restart for
      await kafka.resume()
      await waitFor('/readyz ready again', async () => (await ready()).status === 200, 60_000)
    } finally {
      if (saved !== undefined) process.env.KAFKA_BOOTSTRAP = saved
      await engine.stop()
    }
  }, 240_000)
})
