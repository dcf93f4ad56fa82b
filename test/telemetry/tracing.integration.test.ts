import { describe, expect, inject, it } from 'vitest'
import { startEngine } from '../../engine/start-engine.js'
import { rows } from '../helpers/clickhouse.js'
import { engineFixture, readTopic, testLogger, waitFor } from '../helpers/engine.js'
import { uniqueName } from '../helpers/names.js'

interface JaegerSpan {
  traceID: string
  spanID: string
  operationName: string
  references: Array<{ refType: string; spanID: string }>
  tags: Array<{ key: string; value: unknown }>
}

const tag = (span: JaegerSpan | undefined, key: string) => span?.tags.find((t) => t.key === key)?.value

/** Jaeger stores spans asynchronously: poll its query API until `count` traces of the service are there. */
async function jaegerTraces(queryUrl: string, service: string, count: number): Promise<JaegerSpan[][]> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const response = await fetch(`${queryUrl}/api/traces?service=${service}&limit=100`)
    const body = (await response.json()) as { data: Array<{ spans: JaegerSpan[] }> | null }
    const traces = (body.data ?? []).map((t) => t.spans)
    if (traces.length >= count && traces.every((t) => t.length >= 5)) return traces
    if (Date.now() > deadline) throw new Error(`Jaeger has ${traces.length} of ${count} traces for ${service}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('tracing: from a Kafka message back to its INSERT, in Jaeger', () => {
  it('exports a span tree per batch and puts the publish span in every message traceparent', async () => {
    const { otlpEndpoint, jaegerQueryUrl } = inject('stack')
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    const service = uniqueName('tailhouse_test')
    f.config.telemetry = { ...f.config.telemetry, tracing: true, otlpEndpoint, serviceName: service }
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (1), (2), (3)` })
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('3 rows published', () => engine.status().rowsPublished === 3n)
    await engine.stop() // flushes the spans

    const [trace] = await jaegerTraces(jaegerQueryUrl, service, 1)
    const spans = trace ?? []
    const batch = spans.find((s) => s.operationName === 'tailhouse.batch')
    expect(batch?.references ?? []).toEqual([]) // the root
    const children = spans.filter((s) =>
      s.references.some((r) => r.refType === 'CHILD_OF' && r.spanID === batch?.spanID),
    )
    expect(children.map((s) => s.operationName).sort()).toEqual([
      'publish',
      'tailhouse.checkpoint',
      'tailhouse.encode',
      'tailhouse.poll',
    ])

    const poll = spans.find((s) => s.operationName === 'tailhouse.poll')
    expect(tag(poll, 'db.system.name')).toBe('clickhouse')
    expect(tag(poll, 'db.response.returned_rows')).toBe(3)
    expect(tag(poll, 'span.kind')).toBe('client')
    const publish = spans.find((s) => s.operationName === 'publish')
    expect(tag(publish, 'span.kind')).toBe('producer')
    expect(tag(publish, 'messaging.system')).toBe('kafka')
    expect(tag(publish, 'messaging.destination.name')).toBe(f.topic('t'))
    expect(tag(publish, 'messaging.batch.message_count')).toBe(3)
    expect(tag(publish, 'tailhouse.transactional_id')).toMatch(
      new RegExp(`^tailhouse-${f.config.engine.id}-[0-9a-f]{8}$`),
    )

    // From the message back to the INSERT: the batch span names the INSERT's query id, which system.query_log has.
    const [insert] = await rows<{ query_id: string }>(
      f.client,
      `SELECT DISTINCT __query_id AS query_id FROM ${f.database}.changelog_${f.sourceDb}__t`,
    )
    expect(JSON.stringify(tag(batch, 'tailhouse.query_ids'))).toContain(insert?.query_id)

    // A consumer continues the trace: every message's traceparent is the publish span.
    const messages = await readTopic(f.kafkaBootstrap, f.topic('t'))
    expect(messages).toHaveLength(3)
    for (const message of messages) {
      expect(message.headers.traceparent).toBe(
        `00-${publish?.traceID.padStart(32, '0')}-${publish?.spanID.padStart(16, '0')}-01`,
      )
    }
  })

  it('sends no traceparent and exports nothing when tracing is off', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    f.config.telemetry = { ...f.config.telemetry, tracing: false }
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (1)` })
    const saved = process.env.OTLP_ENDPOINT
    delete process.env.OTLP_ENDPOINT
    try {
      const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
      await waitFor('1 row published', () => engine.status().rowsPublished === 1n)
      await engine.stop()
    } finally {
      if (saved !== undefined) process.env.OTLP_ENDPOINT = saved
    }
    const [message] = await readTopic(f.kafkaBootstrap, f.topic('t'))
    expect(message?.headers.traceparent).toBeUndefined()
  })
})
