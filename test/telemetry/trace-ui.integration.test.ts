import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { changelogTableName, metaColumns } from '../../engine/capture/changelog-table.js'
import { startEngine } from '../../engine/start-engine.js'
import { rows } from '../helpers/clickhouse.js'
import { engineFixture, testLogger, waitFor } from '../helpers/engine.js'
import { uniqueName } from '../helpers/names.js'
import { chromiumArgs, ensureChromium } from '../stack/chromium-install.js'
import { cacheDir } from '../stack/paths.js'

interface ZipkinSpan {
  traceId: string
  id: string
  parentId?: string
  name: string
}

describe('a batch trace in a trace UI (Zipkin, exported next to Jaeger)', () => {
  it("shows the engine's batch span tree in headless Chromium", async () => {
    const { otlpEndpoint, zipkinUrl } = inject('stack')
    const f = await engineFixture((db) => [{ table: `${db}.orders`, exclude: [] }])
    const service = uniqueName('tailhouse_ui')
    f.config.telemetry = {
      ...f.config.telemetry,
      tracing: true,
      otlpEndpoint,
      zipkinEndpoint: `${zipkinUrl}/api/v2/spans`,
      serviceName: service,
    }
    await f.client.command({
      query: `CREATE TABLE ${f.sourceDb}.orders (id UInt64, amount Decimal(12, 2)) ENGINE = MergeTree ORDER BY id`,
    })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.orders VALUES (1, 9.99), (2, 19.99), (3, 0.5)` })
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('3 rows published', () => engine.status().rowsPublished === 3n)
    await engine.stop() // flushes both exporters
    const changelog = changelogTableName({ database: f.sourceDb, table: 'orders' })
    const [insert] = await rows<{ query_id: string }>(
      f.client,
      `SELECT DISTINCT ${metaColumns.queryId} AS query_id FROM ${f.database}.${changelog}`,
    )

    // The trace as Zipkin stored it: the batch root and its four children.
    let spans: ZipkinSpan[] = []
    await waitFor('the batch trace in Zipkin', async () => {
      const response = await fetch(`${zipkinUrl}/api/v2/traces?serviceName=${service}&spanName=tailhouse.batch`)
      spans = ((await response.json()) as ZipkinSpan[][])[0] ?? []
      return spans.length === 5
    })
    const root = spans.find((s) => s.name === 'tailhouse.batch')
    expect(root?.parentId).toBeUndefined()
    const traceId = root?.traceId as string

    const browser = await chromium.launch({ executablePath: await ensureChromium(), args: chromiumArgs })
    onTestFinished(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1400, height: 700 } })
    await page.goto(`${zipkinUrl}/zipkin/traces/${traceId}`)
    await page.getByText(`${service}: tailhouse.checkpoint`).waitFor({ timeout: 30_000 })
    mkdirSync(join(cacheDir, 'screenshots'), { recursive: true })
    const screenshot = join(cacheDir, 'screenshots', 'zipkin-batch-trace.png')
    await page.screenshot({ path: screenshot })
    process.stderr.write(`trace UI screenshot: ${screenshot}\n`)

    // The page's timeline rows, top to bottom: the batch span (whose toggle counts its 4 children), then the
    // children, each with a duration.
    const rowsShown = await page.locator('div[style*="position: absolute"][style*="height: 30px"]').all()
    const timeline = (
      await Promise.all(
        rowsShown.map(async (row) => ({
          top: Number(/top: ([\d.]+)px/.exec((await row.getAttribute('style')) ?? '')?.[1]),
          text: ((await row.textContent()) ?? '').replace(/\s+/g, ' ').trim(),
        })),
      )
    )
      .sort((a, b) => a.top - b.top)
      .map((row) => row.text)
    const duration = String.raw`\d+(\.\d+)?(ms|μs|s)`
    expect(timeline).toHaveLength(5)
    expect(timeline[0]).toMatch(new RegExp(`^4\\s*${service}: tailhouse\\.batch\\s*${duration}$`))
    expect(
      timeline
        .slice(1)
        .map((text) => text.replace(new RegExp(`\\s*${duration}$`), ''))
        .sort(),
    ).toEqual(
      ['publish', 'tailhouse.checkpoint', 'tailhouse.encode', 'tailhouse.poll'].map((name) => `${service}: ${name}`),
    )
    const header = (await page.locator('body').textContent()) ?? ''
    expect(header).toContain(`${service}: tailhouse.batch`)
    expect(header).toMatch(/Total Spans\s*5/)
    expect(header).toContain(traceId)
    // The selected root's tags lead back to the INSERT.
    expect(header).toMatch(new RegExp(`tailhouse\\.query_ids\\s*${insert?.query_id}`))
  })
})
