import { describe, expect, it, onTestFinished } from 'vitest'
import {
  createEngineMetrics,
  type EngineMetricsOptions,
  type LagSample,
  noopMetrics,
} from '../../engine/telemetry/engine-metrics.js'
import { startHealthServer } from '../../engine/telemetry/health-server.js'
import { version } from '../../engine/version.js'

interface Exposition {
  /** `name{label="v",...}` (labels sorted) → value. */
  samples: Map<string, number>
  types: Map<string, string>
}

/** Parses the Prometheus text format into sample keys with sorted labels, so assertions do not depend on order. */
function parse(text: string): Exposition {
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type?.[1] && type[2]) types.set(type[1], type[2])
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match?.[1] || !match[3]) throw new Error(`unparsable exposition line: ${line}`)
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}="${v}"`)
      .sort()
    samples.set(labels.length ? `${match[1]}{${labels.join(',')}}` : match[1], Number(match[3]))
  }
  return { samples, types }
}

/** Metrics served through our own health server, as in production; closed when the test ends. */
async function scrapeable(options: Partial<EngineMetricsOptions> & Pick<EngineMetricsOptions, 'lag'>) {
  const telemetry = createEngineMetrics({ engineId: 'e1', ...options })
  const server = await startHealthServer({
    port: 0,
    liveness: () => ({ alive: true, detail: 'running' }),
    readiness: async () => ({ ready: true, checks: {} }),
    metrics: telemetry.handle,
  })
  onTestFinished(async () => {
    await server.close()
    await telemetry.shutdown()
  })
  const scrape = async () => {
    const response = await fetch(`${server.url}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    return parse(await response.text())
  }
  return { ...telemetry, scrape, url: server.url }
}

describe('createEngineMetrics', () => {
  it('exposes batches, aborts and retries under the documented names and values', async () => {
    const { metrics, scrape } = await scrapeable({ lag: () => [] })
    metrics.recordBatch({
      rowsBySource: new Map([
        ['shop.orders', 30],
        ['shop.users', 4],
      ]),
      bytes: 2_048,
      commitMs: 7,
      committedAt: new Date('2026-01-02T03:04:05.500Z'),
    })
    metrics.recordBatch({
      rowsBySource: new Map([['shop.orders', 600]]),
      bytes: 100_000,
      commitMs: 120,
      committedAt: new Date('2026-01-02T03:04:06.000Z'),
    })
    metrics.recordAbort()
    metrics.recordRetry('kafka')
    metrics.recordRetry('kafka')
    metrics.recordRetry('clickhouse')

    const { samples, types } = await scrape()
    const e = 'engine_id="e1"'
    expect(Object.fromEntries([...samples].filter(([key]) => !key.includes('_bucket')))).toEqual({
      [`target_info{service_instance_id="e1",service_name="tailhouse",service_version="${version}"}`]: 1,
      [`tailhouse_published_rows_total{${e},source="shop.orders"}`]: 630,
      [`tailhouse_published_rows_total{${e},source="shop.users"}`]: 4,
      [`tailhouse_published_bytes_total{${e}}`]: 102_048,
      [`tailhouse_batch_rows_count{${e}}`]: 2,
      [`tailhouse_batch_rows_sum{${e}}`]: 634,
      [`tailhouse_commit_duration_ms_count{${e}}`]: 2,
      [`tailhouse_commit_duration_ms_sum{${e}}`]: 127,
      [`tailhouse_transactions_committed_total{${e}}`]: 2,
      [`tailhouse_transactions_aborted_total{${e}}`]: 1,
      [`tailhouse_retries_total{${e},reason="kafka"}`]: 2,
      [`tailhouse_retries_total{${e},reason="clickhouse"}`]: 1,
      [`tailhouse_last_commit_timestamp_seconds{${e}}`]: Date.parse('2026-01-02T03:04:06.000Z') / 1000,
    })
    // Buckets are cumulative: 34 rows falls in le=50, 600 in le=1000.
    expect(samples.get(`tailhouse_batch_rows_bucket{${e},le="10"}`)).toBe(0)
    expect(samples.get(`tailhouse_batch_rows_bucket{${e},le="50"}`)).toBe(1)
    expect(samples.get(`tailhouse_batch_rows_bucket{${e},le="1000"}`)).toBe(2)
    expect(samples.get(`tailhouse_batch_rows_bucket{${e},le="+Inf"}`)).toBe(2)
    expect(samples.get(`tailhouse_commit_duration_ms_bucket{${e},le="5"}`)).toBe(0)
    expect(samples.get(`tailhouse_commit_duration_ms_bucket{${e},le="10"}`)).toBe(1)
    expect(samples.get(`tailhouse_commit_duration_ms_bucket{${e},le="250"}`)).toBe(2)
    expect(Object.fromEntries(types)).toMatchObject({
      tailhouse_published_rows_total: 'counter',
      tailhouse_published_bytes_total: 'counter',
      tailhouse_batch_rows: 'histogram',
      tailhouse_commit_duration_ms: 'histogram',
      tailhouse_transactions_committed_total: 'counter',
      tailhouse_transactions_aborted_total: 'counter',
      tailhouse_retries_total: 'counter',
      tailhouse_last_commit_timestamp_seconds: 'gauge',
    })
  })

  it('has no commit timestamp and no counters before the first batch', async () => {
    const { scrape } = await scrapeable({ lag: () => [] })
    const keys = [...(await scrape()).samples.keys()]
    expect(keys.filter((key) => key.startsWith('tailhouse_'))).toEqual([])
  })

  it('reads lag at scrape time, showing exactly the sources of the latest call', async () => {
    let lag: LagSample[] = [
      { source: 'shop.orders', rows: 1_500, seconds: 12.5 },
      { source: 'shop.users', rows: 0, seconds: 0 },
    ]
    let calls = 0
    const { scrape } = await scrapeable({
      lag: async () => {
        calls++
        return lag
      },
    })
    const first = await scrape()
    expect(calls).toBe(1) // one call serves both gauges
    expect(first.types.get('tailhouse_lag_rows')).toBe('gauge')
    expect(first.types.get('tailhouse_lag_seconds')).toBe('gauge')
    expect(first.samples.get('tailhouse_lag_rows{engine_id="e1",source="shop.orders"}')).toBe(1_500)
    expect(first.samples.get('tailhouse_lag_seconds{engine_id="e1",source="shop.orders"}')).toBe(12.5)
    expect(first.samples.get('tailhouse_lag_rows{engine_id="e1",source="shop.users"}')).toBe(0)

    // A source that is gone must not linger with its last value (open-telemetry/opentelemetry-js#4096).
    lag = [{ source: 'shop.users', rows: 7, seconds: 0.25 }]
    const second = await scrape()
    const lagKeys = [...second.samples.keys()].filter((key) => key.startsWith('tailhouse_lag_'))
    expect(lagKeys.sort()).toEqual([
      'tailhouse_lag_rows{engine_id="e1",source="shop.users"}',
      'tailhouse_lag_seconds{engine_id="e1",source="shop.users"}',
    ])
    expect(second.samples.get('tailhouse_lag_rows{engine_id="e1",source="shop.users"}')).toBe(7)
    expect(second.samples.get('tailhouse_lag_seconds{engine_id="e1",source="shop.users"}')).toBe(0.25)
  })

  it('drops only the lag series when lag() throws or hangs, and still answers', async () => {
    let mode: 'throw' | 'hang' | 'ok' = 'throw'
    const { metrics, scrape } = await scrapeable({
      lagTimeoutMs: 50,
      lag: () => {
        if (mode === 'throw') throw new Error('ClickHouse is down')
        if (mode === 'hang') return new Promise<LagSample[]>(() => {})
        return [{ source: 's', rows: 1, seconds: 1 }]
      },
    })
    metrics.recordAbort()
    for (const next of ['throw', 'hang'] as const) {
      mode = next
      const { samples } = await scrape()
      expect([...samples.keys()].some((key) => key.startsWith('tailhouse_lag_'))).toBe(false)
      expect(samples.get('tailhouse_transactions_aborted_total{engine_id="e1"}')).toBe(1)
    }
    mode = 'ok'
    expect((await scrape()).samples.get('tailhouse_lag_rows{engine_id="e1",source="s"}')).toBe(1)
  })

  it('escapes label values', async () => {
    const { metrics, scrape } = await scrapeable({ engineId: 'a"b', lag: () => [] })
    metrics.recordRetry('schema')
    expect((await scrape()).samples.get('tailhouse_retries_total{engine_id="a\\"b",reason="schema"}')).toBe(1)
  })

  it('answers 503 after shutdown, and shutdown is idempotent', async () => {
    const { shutdown, url } = await scrapeable({ lag: () => [] })
    await shutdown()
    await shutdown()
    expect((await fetch(`${url}/metrics`)).status).toBe(503)
  })

  it('validates its options', () => {
    expect(() => createEngineMetrics({ engineId: '', lag: () => [] })).toThrow(/engineId/)
    expect(() => createEngineMetrics({ engineId: 'e', lag: () => [], lagTimeoutMs: 0 })).toThrow(/lagTimeoutMs/)
  })

  it('noopMetrics accepts every call', () => {
    noopMetrics.recordBatch({ rowsBySource: new Map([['s', 1]]), bytes: 1, commitMs: 1, committedAt: new Date() })
    noopMetrics.recordAbort()
    noopMetrics.recordRetry('kafka')
    expect(Object.isFrozen(noopMetrics)).toBe(true)
  })
})
