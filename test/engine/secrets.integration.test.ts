// Secrets stay out of sight: the engine runs with known secret strings (the real SASL password, a wrong one, a
// ClickHouse password) and every output is scanned for them: logs at debug level, error messages and whole error
// objects, --debug output, /metrics, /readyz, /healthz, status, span attributes and events (Jaeger's API).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, expect, inject, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfig } from '../../engine/config/load-config.js'
import { requiredAcls } from '../../engine/kafka/required-acls.js'
import { waitFor } from '../helpers/engine.js'
import { uniqueName } from '../helpers/names.js'
import { runTailhouse } from '../helpers/run-cli.js'
import {
  capturedLogger,
  exitWithin,
  grant,
  saslConfig,
  securedFixture,
  startAs,
  useSecuredKafka,
} from '../helpers/secured-kafka.js'
import { repoRoot } from '../stack/paths.js'

const secured = useSecuredKafka()
const principal = 'User:tailhouse'

/** Fails naming the output and the secret when any secret, or its base64 as in an HTTP Basic header, is in `text`. */
function expectNoSecret(what: string, text: string, secrets: string[]): void {
  expect(text.length, `${what} is empty: nothing was scanned`).toBeGreaterThan(0)
  for (const secret of secrets) {
    const forms = [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]
    for (const form of forms) expect(text.includes(form), `${what} shows a secret (${form.slice(0, 3)}…)`).toBe(false)
  }
}

/** Every trace Jaeger holds for `service`, as its API returns them (span tags, logs and process tags included). */
async function jaegerTraces(service: string, atLeast: number): Promise<string> {
  const { jaegerQueryUrl } = inject('stack')
  const deadline = Date.now() + 20_000
  for (;;) {
    const response = await fetch(`${jaegerQueryUrl}/api/traces?service=${service}&limit=100`)
    const text = await response.text()
    const traces = (JSON.parse(text) as { data: unknown[] | null }).data ?? []
    if (traces.length >= atLeast) return text
    if (Date.now() > deadline) throw new Error(`Jaeger has ${traces.length} of ${atLeast} traces for ${service}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('secrets stay out of sight', () => {
  it('the engine: logs at debug, errors, /metrics, /readyz, status and spans never show a secret', async () => {
    const secure = secured()
    const chPassword = `ch-secret-${uniqueName('pw')}`
    const wrongPassword = `wrong-secret-${uniqueName('pw')}`
    const secrets = [secure.scramUser.password, chPassword, wrongPassword]
    const { otlpEndpoint } = inject('stack')
    const f = await securedFixture(secure)
    const service = uniqueName('tailhouse_secrets')
    f.config.clickhouse = { ...f.config.clickhouse, password: chPassword }
    f.config.telemetry = { ...f.config.telemetry, tracing: true, otlpEndpoint, serviceName: service }
    await grant(secure, principal, f.acls)

    const log = capturedLogger()
    const engine = await startAs(f, log.logger)
    await waitFor('3 rows published', () => engine.status().rowsPublished === 3n)
    const http = engine.status().httpUrl as string
    const endpoints = await Promise.all(
      ['/metrics', '/readyz', '/healthz'].map(
        async (path) => `${path}\n${await (await fetch(`${http}${path}`)).text()}`,
      ),
    )
    expect(endpoints[0]).toContain('tailhouse_published_rows_total')
    expect(endpoints[1]).toMatch(/kafka/)
    const status = JSON.stringify(engine.status(), (_, v) => (typeof v === 'bigint' ? String(v) : v))
    await engine.stop() // flushes the spans
    expectNoSecret('the debug log', log.text(), secrets)
    for (const body of endpoints) expectNoSecret(body.split('\n')[0] as string, body, secrets)
    expectNoSecret('status()', status, secrets)
    const spans = await jaegerTraces(service, 1)
    expect(spans).toContain('tailhouse.batch')
    expectNoSecret('the spans', spans, secrets)

    // A failing run: the wrong password is a secret too, and so is everything in the error object.
    const wrong = capturedLogger()
    f.config.kafka = {
      ...f.config.kafka,
      ...saslConfig(secure, 'SCRAM-SHA-512', { username: 'tailhouse', password: wrongPassword }),
    }
    const exit = await exitWithin(await startAs(f, wrong.logger), 10_000)
    expect(exit.error?.message).toMatch(/refused to authenticate/)
    expectNoSecret('the failing run log', wrong.text(), secrets)
    expectNoSecret('the error message', exit.error?.message ?? '', secrets)
    expectNoSecret('the whole error object', inspect(exit.error, { depth: 20, showHidden: true }), secrets)

    // A failing batch records its exception on its spans.
    const failing = await securedFixture(secure, { rows: 2 })
    const failingService = uniqueName('tailhouse_secrets_failing')
    failing.config.clickhouse = { ...failing.config.clickhouse, password: chPassword }
    failing.config.telemetry = { ...failing.config.telemetry, tracing: true, otlpEndpoint, serviceName: failingService }
    await grant(
      secure,
      principal,
      failing.acls.filter((a) => !(a.operation === 'WRITE' && a.patternType === 'PREFIXED')),
    )
    const denied = await exitWithin(await startAs(failing), 20_000)
    expect(denied.error?.message).toMatch(/Kafka denied User:tailhouse WRITE/)
    const failedSpans = await jaegerTraces(failingService, 1)
    expect(failedSpans).toContain('Kafka denied')
    expectNoSecret('the spans of a failed batch', failedSpans, secrets)
  })

  it('the CLI: start, status, and --debug error output never show a secret', async () => {
    const secure = secured()
    const dir = mkdtempSync(join(tmpdir(), 'tailhouse-secrets-cli-'))
    const chPassword = `ch-secret-${uniqueName('pw')}`
    const wrongPassword = `wrong-secret-${uniqueName('pw')}`
    const secrets = [secure.scramUser.password, chPassword, wrongPassword]
    writeFileSync(join(dir, 'clickhouse-password'), `${chPassword}\n`)
    const run = uniqueName('cli')
    const sourceDb = uniqueName('th_src')
    const config = {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a config reference, resolved by loadConfig
      clickhouse: { dataDir: join(dir, 'clickhouse'), password: '${file:clickhouse-password}' },
      capture: { database: uniqueName('th_capture'), sources: [{ table: `${sourceDb}.t` }] },
      protobuf: { schemasDir: join(dir, 'schemas') },
      kafka: {
        brokers: [secure.bootstrap],
        topicTemplate: `${run}.src.{database}.{table}`,
        checkpointTopic: `${run}-checkpoints`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a config reference, resolved by loadConfig
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'tailhouse', password: '${env:TH_TEST_KAFKA_PASSWORD}' },
        tls: { caFile: secure.certificates.ca },
      },
      engine: { id: run, offsetsPath: join(dir, 'offsets.sqlite') },
      telemetry: { httpPort: 0 },
    }
    const configPath = join(dir, 'tailhouse.config.yaml')
    writeFileSync(configPath, stringify(config))
    const env = { TH_TEST_KAFKA_PASSWORD: secure.scramUser.password }
    const loaded = loadConfig(configPath, dir, env).config
    expect(loaded.kafka.sasl?.password).toBe(secure.scramUser.password)
    expect(loaded.clickhouse.password).toBe(chPassword)
    // The capture set-up as an application would do it, in the directory the CLI then opens.
    await setUpCapture(loaded, join(dir, 'clickhouse'), `${sourceDb}.t`)
    await grant(secure, principal, requiredAcls(loaded))

    const running = await startUntil(
      ['start', '--config', configPath, '--log-level', 'debug', '--log-format', 'json', '--progress', '1'],
      env,
      /"msg":"progress"/,
    )
    expect(running.code).toBe(0)
    expect(running.stderr).toContain('"msg":"running: ')
    expectNoSecret('tailhouse start (debug log)', running.stdout + running.stderr, secrets)

    for (const args of [['status'], ['status', '--debug'], ['status', '--json']]) {
      const status = await runTailhouse([...args, '--config', configPath], env)
      expect(status.code, status.stderr).toBe(0)
      expectNoSecret(`tailhouse ${args.join(' ')}`, status.stdout + status.stderr, secrets)
    }

    const wrong = await runTailhouse(['start', '--debug', '--config', configPath], {
      TH_TEST_KAFKA_PASSWORD: wrongPassword,
    })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/KafkaAuthenticationError.*refused to authenticate User:tailhouse/s)
    expectNoSecret('tailhouse start --debug with a wrong password', wrong.stdout + wrong.stderr, secrets)

    // A server that does not answer, with credentials: the --debug dump of the client's error holds no password.
    const unreachable = await runTailhouse(['status', '--debug', '--config', configPath], {
      ...env,
      CLICKHOUSE_URL: 'http://127.0.0.1:9',
      CLICKHOUSE_USER: 'tailhouse',
    })
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toMatch(/ECONNREFUSED/)
    expectNoSecret('tailhouse status --debug, server unreachable', unreachable.stdout + unreachable.stderr, secrets)
  })
})

/** Creates the source table and migrates capture, in a process of its own (one process per chDB directory). */
async function setUpCapture(config: object, dataDir: string, table: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/engine/fixtures/crash-app.ts')], {
    cwd: repoRoot,
    env: { ...process.env, TH_MODE: 'setup', TH_CONFIG: JSON.stringify(config), TH_DATA_DIR: dataDir, TH_TABLE: table },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const result = await finished(child)
  if (result.code !== 0) throw new Error(`capture set-up failed: ${result.stderr}`)
}

/** Runs `tailhouse <args>` until its stderr matches `until`, then stops it with SIGTERM as a user would. */
async function startUntil(args: string[], env: NodeJS.ProcessEnv, until: RegExp) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'engine/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, TAILHOUSE_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const result = finished(child)
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk.toString()
  })
  await waitFor(`tailhouse ${args[0]} to log ${until}`, () => until.test(stderr) || child.exitCode !== null, 60_000)
  child.kill('SIGTERM')
  return result
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk.toString()
  })
  return new Promise((resolveExit) => child.on('exit', (code) => resolveExit({ code, stdout, stderr })))
}
