import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { appendFileSync, createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { transactionOpen } from '../helpers/open-transaction.js'
import { startKafka } from '../stack/kafka-server.js'
import { repoRoot } from '../stack/paths.js'
import { ensurePythonVenv } from '../stack/python-install.js'
import { ChaosCheck, type ChaosComparison } from './compare.js'
import { InsertJournal } from './insert-journal.js'

export interface ChaosOptions {
  /** SIGKILLs of the application. */
  kills: number
  /** The broker is SIGKILLed and restarted during every n-th run of the application (0: never). */
  brokerEvery: number
  /** Rows per second the application inserts, on average (INSERTs of 1–5,000 rows). */
  rate?: number
  /** Progress lines. */
  log?: (line: string) => void
  /** Keep the run's directory (logs, journal, ClickHouse, Kafka) even when everything held. */
  keep?: boolean
}

/** What `npm test` runs (chaos.integration.test.ts) and `npm run chaos` without options: 2–4 minutes here. */
export const ciSize = { kills: 6, brokerEvery: 3 } as const

/** A broker restart in about one run of eight; at least two in a short run. */
export function defaultBrokerEvery(kills: number): number {
  return Math.min(8, Math.max(3, Math.ceil(kills / 2)))
}

/** Where each kill landed. */
export type KillMode = 'random' | 'insert' | 'transaction' | 'broker down'

export interface ChaosReport extends ChaosComparison {
  kills: number
  brokerRestarts: number
  killsByMode: Record<KillMode, number>
  /** Kills that left one of the engine's transactions open (last stable offset below the end). */
  transactionsLeftOpen: number
  /** INSERTs found unacknowledged at a restart, and retried… */
  retriedInserts: number
  /** …of which the source held more rows than the changelog: cut between the source's write and the view's. */
  cutInserts: number
  /** …of which source and changelog held every row already (the acknowledgement was lost, not the write). */
  completeBeforeRetry: number
  changelogRows: number
  seconds: number
  runDir: string
}

/** The one line the issue asks for. */
export function summaryLine(r: ChaosReport): string {
  return (
    `${r.kills} kills, ${r.brokerRestarts} broker restarts, ${r.sourceRows} source rows, ${r.kafkaRows} kafka rows, ` +
    `${r.missing} missing, ${r.duplicated} duplicated, ${r.outOfOrder} out of order`
  )
}

/** Everything beyond that line, and whether the source kept its side of the contract. */
export function detailLines(r: ChaosReport): string[] {
  const modes = Object.entries(r.killsByMode)
    .map(([mode, n]) => `${n} ${mode}`)
    .join(', ')
  const lines = [
    `kills: ${modes}; ${r.transactionsLeftOpen} left a Kafka transaction open`,
    `INSERTs retried after a restart: ${r.retriedInserts} (${r.cutInserts} cut between source and changelog, ` +
      `${r.completeBeforeRetry} already complete)`,
    `changelog rows ${r.changelogRows}; source duplicates ${r.sourceDuplicates}, acknowledged rows not in the source ` +
      `${r.acknowledgedNotInSource}, rows of no INSERT ${r.unknownInSource}; messages with a wrong key or content ` +
      `${r.wrongContent}`,
    `${r.seconds.toFixed(0)} s; run directory ${r.runDir}`,
  ]
  const { missing, duplicated, outOfOrder, wrongContent } = r.examples
  if (missing.length > 0) lines.push(`missing, e.g. ids ${missing.join(' ')}`)
  if (duplicated.length > 0) lines.push(`duplicated, e.g. ids ${duplicated.join(' ')}`)
  for (const o of [...outOfOrder, ...wrongContent]) lines.push(o)
  return lines
}

/** True when nothing was lost, repeated or reordered, and the source kept its side of the contract. */
export function passed(r: ChaosReport): boolean {
  return (
    r.missing + r.duplicated + r.outOfOrder + r.wrongContent + r.sourceDuplicates + r.acknowledgedNotInSource === 0 &&
    r.unknownInSource === 0
  )
}

const modes: KillMode[] = ['transaction', 'insert', 'random']
const random = (from: number, to: number) => from + Math.floor(Math.random() * (to - from))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The chaos test (issue 11, item 8): an application embedding ClickHouse, `migrate` and the engine
 * (chaos-app.ts) inserts continuously under the capture contract while it is SIGKILLed `kills` times — at random
 * moments, just after an INSERT began, and while the broker shows one of the engine's transactions open — and
 * restarted; the broker is SIGKILLed and restarted too, now and then. Then the topic, read by librdkafka as a
 * read_committed consumer (read_committed_rows.py), is compared with the source table, row by row (compare.ts).
 * Runs on a Kafka broker of its own: the kills must not touch the shared stack's.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {})
  const started = Date.now()
  const runDir = mkdtempSync(join(tmpdir(), 'tailhouse-chaos-'))
  const logDir = join(runDir, 'logs')
  mkdirSync(logDir)
  const kafka = await startKafka(runDir)
  const table = 'chaos_src.events'
  const topic = 'chaos.events'
  const schemasDir = join(runDir, 'schemas')
  const configPath = join(runDir, 'tailhouse.config.yaml')
  writeFileSync(
    configPath,
    `capture:
  database: chaos_th
  sources:
    - table: ${table}
      key: [k]
      snapshot: never
protobuf:
  schemasDir: ${schemasDir}
kafka:
  brokers: [${kafka.bootstrap}]
  topicTemplate: chaos.{table}
  partitions: 4
  checkpointTopic: chaos.checkpoints
engine:
  id: chaos
  batchMaxRows: 5000
  pollIntervalMs: 20
  offsetsPath: ${join(runDir, 'offsets.sqlite')}
telemetry:
  httpPort: 0
`,
  )
  const env: NodeJS.ProcessEnv = {
    ...stackFreeEnv(),
    CHAOS_CONFIG: configPath,
    CHAOS_TABLE: table,
    CHAOS_DATA_DIR: join(runDir, 'clickhouse'),
    CHAOS_JOURNAL: join(runDir, 'journal.jsonl'),
    CHAOS_SOURCE_DUMP: join(runDir, 'source-ids.tsv'),
    CHAOS_RATE: String(options.rate ?? 15_000),
  }
  let succeeded = false
  try {
    await runToEnd(startApp('setup', env, join(logDir, 'setup.log')))
    const stats = {
      brokerRestarts: 0,
      killsByMode: { random: 0, insert: 0, transaction: 0, 'broker down': 0 } as Record<KillMode, number>,
      transactionsLeftOpen: 0,
      retriedInserts: 0,
      cutInserts: 0,
      completeBeforeRetry: 0,
    }
    const countUnacked = (app: App) => {
      for (const u of app.unacked) {
        stats.retriedInserts += 1
        if (u.inSource > u.inChangelog) stats.cutInserts += 1
        if (u.inSource === u.rows && u.inChangelog === u.rows) stats.completeBeforeRetry += 1
      }
    }
    let rotation = 0
    for (let run = 0; run < options.kills; run++) {
      const runStarted = Date.now()
      const app = startApp('run', env, join(logDir, `run-${String(run).padStart(3, '0')}.log`))
      await app.ready
      let mode: KillMode | undefined
      let note = ''
      if (options.brokerEvery > 0 && run % options.brokerEvery === options.brokerEvery - 1) {
        await sleep(random(300, 2_000))
        await kafka.kill()
        stats.brokerRestarts += 1
        const down = random(2_000, 8_000)
        await sleep(down)
        note = `, broker down ${(down / 1000).toFixed(1)} s`
        // Every other broker restart, the application dies while the broker is down; else after it is back.
        if (stats.brokerRestarts % 2 === 1) {
          mode = 'broker down'
          await app.kill()
        }
        await kafka.resume()
      }
      mode ??= modes[rotation++ % modes.length] as KillMode
      if (mode === 'random') {
        await sleep(random(200, 3_000))
        await app.kill()
      } else if (mode === 'insert') {
        await sleep(random(100, 1_500))
        await app.nextInsert(10_000)
        await sleep(random(0, 15))
        await app.kill()
      } else if (mode === 'transaction') {
        await killInsideTransaction(app, kafka.bootstrap, topic)
        if (await transactionOpen(kafka.bootstrap, topic).catch(() => false)) stats.transactionsLeftOpen += 1
      }
      stats.killsByMode[mode] += 1
      countUnacked(app)
      log(
        `kill ${run + 1}/${options.kills} (${mode}${note}) after ${((Date.now() - runStarted) / 1000).toFixed(1)} s; ` +
          `${app.unacked.length} unacknowledged INSERT(s) retried at its start, last INSERT ${app.lastInsert}`,
      )
    }
    const drain = startApp('drain', env, join(logDir, 'drain.log'))
    const drained = JSON.parse((await runToEnd(drain)).match(/^DRAINED (.*)$/m)?.[1] ?? '{}') as {
      source: number
      changelog: number
    }
    countUnacked(drain)
    log(`drained: ${drained.source} source rows, ${drained.changelog} changelog rows; reading Kafka read_committed…`)
    if (await transactionOpen(kafka.bootstrap, topic))
      throw new Error(`${topic} still has an open transaction after the engine stopped cleanly`)
    const kafkaRows = join(runDir, 'kafka-rows.tsv')
    await readCommitted(kafka.bootstrap, topic, schemasDir, `${table.replace('.', '/')}/v1.proto`, kafkaRows)
    const journal = new InsertJournal(env.CHAOS_JOURNAL as string)
    const check = new ChaosCheck(journal.intents.values(), journal.acknowledged)
    for await (const line of lines(env.CHAOS_SOURCE_DUMP as string)) check.addSource(Number(line))
    for await (const line of lines(kafkaRows)) {
      const [partition, offset, key, id, k, seq, pos] = line.split('\t')
      check.addKafka({
        partition: Number(partition),
        offset: Number(offset),
        key: key ?? '',
        id: Number(id),
        k: Number(k),
        seq: Number(seq),
        pos: Number(pos),
      })
    }
    const report: ChaosReport = {
      ...check.result(),
      kills: options.kills,
      ...stats,
      changelogRows: drained.changelog,
      seconds: (Date.now() - started) / 1000,
      runDir,
    }
    succeeded = passed(report)
    return report
  } finally {
    await kafka.stop()
    if (succeeded && !options.keep) rmSync(runDir, { recursive: true, force: true })
    else log(`kept ${runDir} (logs in ${logDir})`)
  }
}

/** The environment without the stack's variables: the app must use this run's broker and its own ClickHouse. */
function stackFreeEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(KAFKA_|OTLP_|SCHEMA_REGISTRY_|CLICKHOUSE_|JAEGER_|ZIPKIN_|TAILHOUSE_(?!CACHE_DIR))/.test(name),
    ),
  )
}

interface Unacked {
  seq: number
  rows: number
  inSource: number
  inChangelog: number
}

interface App {
  child: ChildProcess
  logFile: string
  /** Resolves on READY; rejects when the app exits first, or is not ready after 3 minutes. */
  ready: Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  unacked: Unacked[]
  lastInsert: number
  stdout: () => string
  /** Resolves as the next INSERT is sent (or after `timeoutMs`). */
  nextInsert(timeoutMs: number): Promise<void>
  /** SIGKILLs it; fails when it had already exited by itself (an error, logged in its file). */
  kill(): Promise<void>
}

function startApp(mode: string, env: NodeJS.ProcessEnv, logFile: string): App {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/chaos/chaos-app.ts')], {
    cwd: repoRoot,
    env: { ...env, CHAOS_MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  writeFileSync(logFile, '')
  let out = ''
  let pending = ''
  let insertWaiters: Array<() => void> = []
  let ready!: { resolve: () => void; reject: (error: Error) => void }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const app: App = {
    child,
    logFile,
    ready: new Promise<void>((resolve, reject) => {
      ready = { resolve, reject }
    }),
    exited,
    unacked: [],
    lastInsert: 0,
    stdout: () => out,
    nextInsert: (timeoutMs) =>
      new Promise<void>((resolve) => {
        insertWaiters.push(resolve)
        setTimeout(resolve, timeoutMs)
      }),
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) throw exitedError(app)
      child.kill('SIGKILL')
      const { signal } = await exited
      if (signal !== 'SIGKILL') throw exitedError(app)
    },
  }
  // Only `run` prints READY (setup and drain end by themselves); a restart can wait for the broker to come back:
  // up to 3 minutes.
  const notReady =
    mode === 'run'
      ? setTimeout(() => {
          ready.reject(new Error(`chaos app (${mode}) not READY after 180 s; log ${logFile}`))
          child.kill('SIGKILL')
        }, 180_000)
      : undefined
  app.ready.then(
    () => clearTimeout(notReady),
    () => clearTimeout(notReady),
  )
  void exited.then(() => ready.reject(exitedError(app)))
  child.stderr?.on('data', (d: Buffer) => appendFileSync(logFile, d))
  child.stdout?.on('data', (d: Buffer) => {
    out += d
    pending += d
    const complete = pending.split('\n')
    pending = complete.pop() ?? ''
    for (const line of complete) {
      appendFileSync(logFile, `stdout: ${line}\n`)
      const [word, ...rest] = line.split(' ')
      if (word === 'READY') ready.resolve()
      else if (word === 'I') {
        app.lastInsert = Number(rest[0])
        for (const wake of insertWaiters) wake()
        insertWaiters = []
      } else if (word === 'UNACKED') {
        const [seq, rows, inSource, inChangelog] = rest.map(Number) as [number, number, number, number]
        app.unacked.push({ seq, rows, inSource, inChangelog })
      }
    }
  })
  return app
}

function exitedError(app: App): Error {
  const tail = readFileSync(app.logFile, 'utf8').split('\n').slice(-15).join('\n')
  return new Error(
    `chaos app exited by itself (code ${app.child.exitCode}, signal ${app.child.signalCode}); ` +
      `log ${app.logFile}, last lines:\n${tail}`,
  )
}

/** Waits for a mode that ends by itself (setup, drain); returns its stdout, fails naming its log. */
async function runToEnd(app: App): Promise<string> {
  const { code } = await app.exited
  if (code !== 0) throw exitedError(app)
  return app.stdout()
}

/**
 * Kills the app while the broker shows one of its transactions open: seen open, the app is frozen (SIGSTOP) and
 * looked at again; still open, it dies inside the transaction, else it resumes. At most 20 s of trying, then it is
 * killed wherever it is.
 */
async function killInsideTransaction(app: App, bootstrap: string, topic: string): Promise<void> {
  const open = () => transactionOpen(bootstrap, topic).catch(() => false)
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline && app.child.exitCode === null) {
    if (!(await open())) continue
    app.child.kill('SIGSTOP')
    if (await open()) break
    app.child.kill('SIGCONT')
  }
  await app.kill()
}

async function readCommitted(
  bootstrap: string,
  topic: string,
  schemasDir: string,
  rowProto: string,
  out: string,
): Promise<void> {
  const python = await ensurePythonVenv()
  const script = join(repoRoot, 'test/chaos/read_committed_rows.py')
  await new Promise<void>((resolve, reject) => {
    execFile(
      python,
      [
        script,
        '--bootstrap',
        bootstrap,
        '--topic',
        topic,
        '--schemas',
        schemasDir,
        '--row-proto',
        rowProto,
        '--out',
        out,
      ],
      { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`read_committed_rows.py: ${error.message}\n${stderr}`)) : resolve(),
    )
  })
}

function lines(path: string): AsyncIterable<string> {
  return (async function* () {
    for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY }))
      if (line !== '') yield line
  })()
}
