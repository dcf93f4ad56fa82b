import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { waitFor } from '../helpers/engine.js'
import { runTailhouse } from '../helpers/run-cli.js'
import { repoRoot } from '../stack/paths.js'

/** `npm run demo -- <args>` as a child process, on the test run's stack. */
function demo(args: string[]) {
  const { kafkaBootstrap, otlpEndpoint, jaegerQueryUrl, zipkinUrl } = inject('stack')
  const tsx = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
  const child = spawn(process.execPath, ['--import', tsx, join(repoRoot, 'test/demo/run-demo.ts'), ...args], {
    cwd: repoRoot,
    env: {
      ...process.env,
      KAFKA_BOOTSTRAP: kafkaBootstrap,
      OTLP_ENDPOINT: otlpEndpoint,
      JAEGER_QUERY_URL: jaegerQueryUrl,
      ZIPKIN_URL: zipkinUrl,
      CLICKHOUSE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  return { child, exited, output: () => output }
}

/** The progress table's rows: time, inserted, published, lag rows, lag ms. */
function progressRows(output: string): number[][] {
  return [...output.matchAll(/^\s+(\d+) s\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(\d+)$/gm)].map((m) => m.slice(1).map(Number))
}

describe('npm run demo', () => {
  it('passes, with a lag column equal to inserted - published, and says where to look', async () => {
    const run = demo(['--seconds', '3'])
    expect(await run.exited, run.output()).toBe(0)
    const output = run.output()
    expect(output).toContain('lag rows = inserted - published')
    const rows = progressRows(output)
    expect(rows.length).toBeGreaterThanOrEqual(2)
    for (const [, inserted, published, lag] of rows) expect(lag).toBe((inserted as number) - (published as number))
    expect(output).toContain('PASS: every inserted row is in Kafka exactly once, in order per key')
    expect(output).toMatch(/Where to look: `npm run demo -- --keep` keeps the stack, ClickHouse and the engine up/)
  })

  it('--keep keeps the engine up: its metrics answer, tailhouse sql inserts through it, Ctrl-C ends it', async () => {
    const run = demo(['--seconds', '2', '--keep'])
    await waitFor('the demo to say where to look', () => run.output().includes('press Ctrl-C to stop'), 120_000)
    const output = run.output()
    const trace = /^\s+cd (\S+) && npx tailhouse trace (.+)$/m.exec(output)
    const metrics = /^\s+metrics\s+(http:\/\/\S+\/metrics)/m.exec(output)?.[1]
    const traceUi = /^\s+trace UI \(Zipkin\)\s+(http:\/\/\S+\/zipkin\/traces\/[0-9a-f]{32})/m.exec(output)?.[1]
    expect(output).toMatch(
      /ConsoleConsumer --bootstrap-server \S+ --topic \S+ --from-beginning --isolation-level read_committed/,
    )
    if (!trace || !metrics || !traceUi) throw new Error(`no commands in:\n${output}`)
    const runDir = join(repoRoot, trace[1] as string)
    expect((await fetch(metrics)).status).toBe(200)
    expect((await fetch(traceUi)).status).toBe(200)

    // Spans are exported every few seconds: the printed command works once the batch's trace is in Jaeger.
    let traced = await runTailhouse(['trace', ...(trace[2] as string).split(' ')], {}, 60_000, runDir)
    for (let attempt = 0; traced.code !== 0 && attempt < 10; attempt++) {
      await new Promise((r) => setTimeout(r, 1_000))
      traced = await runTailhouse(['trace', ...(trace[2] as string).split(' ')], {}, 60_000, runDir)
    }
    expect(traced.code, traced.stderr).toBe(0)
    expect(traced.stdout).toMatch(/<- this message's traceparent/)
    // The INSERT the demo prints (with its own insert_deduplication_token, as the capture contract asks).
    const printed = /sql "(INSERT INTO shop\.orders SETTINGS insert_deduplication_token = .+?)" && /.exec(output)?.[1]
    if (!printed) throw new Error(`no tailhouse sql INSERT in:\n${output}`)
    const insert = await runTailhouse(['sql', printed], {}, 60_000, runDir)
    expect(insert, insert.stderr).toMatchObject({ code: 0, stderr: 'Ok.\n' })
    await waitFor('the new row published', async () => {
      const text = await (await fetch(metrics)).text()
      const published = /^tailhouse_published_rows_total\{[^}]*\} (\d+)$/m.exec(text)?.[1]
      const inserted = Number(/^inserted (\d+) rows/m.exec(output)?.[1])
      return Number(published) === inserted + 1
    })

    run.child.kill('SIGINT')
    expect(await run.exited).toBe(0)
    expect(existsSync(runDir)).toBe(false)
  })
})
