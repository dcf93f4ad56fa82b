import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEngine } from '../../engine/start-engine.js'
import { engineFixture, readTopic, waitFor } from '../helpers/engine.js'
import { capturingLogger, sample } from '../helpers/observe.js'
import { type KafkaServer, startKafka } from '../stack/kafka-server.js'

/**
 * A Kafka outage mid-run is visible (ARCHITECTURE.md, "Failures"): the broker is SIGKILLed while the engine works
 * through a backlog, for 20 s and for 90 s. Within 5 s a warning, then one at least every 30 s; retries counted;
 * lag growing; /readyz 503. When the broker is back, every row is published exactly once.
 */
describe('engine: Kafka going away mid-backlog (own broker, SIGKILLed)', () => {
  let kafka: KafkaServer
  let runDir: string
  beforeAll(async () => {
    runDir = mkdtempSync(join(tmpdir(), 'tailhouse-outage-'))
    kafka = await startKafka(runDir)
  }, 180_000)
  afterAll(async () => {
    await kafka?.stop()
    rmSync(runDir, { recursive: true, force: true })
  })

  for (const outageSeconds of [20, 90]) {
    it(`says so within 5 s and every 30 s through a ${outageSeconds} s outage, and loses nothing`, async () => {
      const f = await engineFixture(
        (db) => [{ table: `${db}.t`, exclude: [] }],
        { batchMaxRows: 500, pollIntervalMs: 50 },
        { brokers: [kafka.bootstrap] },
      )
      f.kafkaBootstrap = kafka.bootstrap
      const source = `${f.sourceDb}.t`
      await f.client.command({ query: `CREATE TABLE ${source} (id UInt64, pad String) ENGINE = MergeTree ORDER BY id` })
      await f.migrate()
      const rows = 200_000
      for (let i = 0; i < 4; i++)
        await f.client.command({
          query: `INSERT INTO ${source} SELECT number, repeat('x', 200) FROM numbers(${(i * rows) / 4}, ${rows / 4})`,
        })

      const saved = process.env.KAFKA_BOOTSTRAP
      delete process.env.KAFKA_BOOTSTRAP // the engine must use this test's broker
      const logger = capturingLogger()
      const engine = await startEngine({ config: f.config, client: f.client, logger })
      try {
        const url = engine.status().httpUrl as string
        await waitFor('a backlog being published', () => engine.status().rowsPublished > 10_000n)
        const killedAt = Date.now()
        await kafka.kill()
        const published = engine.status().rowsPublished
        expect(published).toBeLessThan(BigInt(rows))

        const lagAt = async (ms: number) => {
          while (Date.now() < killedAt + ms) await new Promise((r) => setTimeout(r, 200))
          return engine.status().lagMs
        }
        const early = await lagAt(6_000)
        const ready = await fetch(`${url}/readyz`)
        expect(ready.status).toBe(503)
        const readiness = (await ready.json()) as { checks: Record<string, { ok: boolean }> }
        expect(readiness.checks.kafka?.ok).toBe(false)
        const late = await lagAt(outageSeconds * 1000 - 1_000)
        expect(late - early).toBeGreaterThan((outageSeconds - 8) * 1000) // lag kept growing
        const retries = sample(await (await fetch(`${url}/metrics`)).text(), 'tailhouse_retries_total', {
          reason: 'kafka',
        })
        // Read while the broker is still down: resume() returns once the broker answers the stack's probe, and the
        // engine's client, retrying all along, may have reached it and committed the batch in flight before that.
        const publishedWhileDown = engine.status().rowsPublished
        await kafka.resume()

        const warnings = logger.lines.filter((l) => l.level === 'warn' && l.at >= killedAt && l.at < Date.now())
        expect(warnings[0]?.at).toBeDefined()
        expect((warnings[0]?.at ?? Number.POSITIVE_INFINITY) - killedAt, 'first warning').toBeLessThanOrEqual(5_500)
        const gaps = warnings.slice(1).map((w, i) => w.at - (warnings[i] as { at: number }).at)
        expect(Math.max(0, ...gaps), `gaps between warnings: ${gaps}`).toBeLessThanOrEqual(31_000)
        const lastGap = killedAt + outageSeconds * 1000 - (warnings.at(-1)?.at ?? killedAt)
        expect(lastGap, 'time from the last warning to the end of the outage').toBeLessThanOrEqual(31_000)
        expect(retries).toBeGreaterThanOrEqual(1)
        expect(publishedWhileDown).toBe(published) // nothing published without a broker

        await waitFor('every row published', () => engine.status().rowsPublished === BigInt(rows), 120_000)
        await waitFor('/readyz ready again', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000)
      } finally {
        if (saved !== undefined) process.env.KAFKA_BOOTSTRAP = saved
        expect((await engine.stop()).reason).toBe('stopped')
      }
      const messages = await readTopic(kafka.bootstrap, f.topic('t'))
      expect(messages).toHaveLength(rows)
    }, 300_000)
  }

  it('stops cleanly, saying so, when asked to while Kafka is gone', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }], {}, { brokers: [kafka.bootstrap] })
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    const saved = process.env.KAFKA_BOOTSTRAP
    delete process.env.KAFKA_BOOTSTRAP
    const logger = capturingLogger()
    const engine = await startEngine({ config: f.config, client: f.client, logger })
    if (saved !== undefined) process.env.KAFKA_BOOTSTRAP = saved
    try {
      await kafka.kill()
      await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t SELECT number FROM numbers(100)` })
      await waitFor('a warning about Kafka', () => logger.lines.some((l) => l.level === 'warn'), 20_000)
      const asked = Date.now()
      const exit = await engine.stop()
      expect(exit.reason).toBe('stopped')
      expect(Date.now() - asked).toBeLessThan(15_000)
      expect(logger.lines.map((l) => l.message)).toContain('engine stopped')
    } finally {
      await kafka.resume()
    }
  }, 120_000)
})
