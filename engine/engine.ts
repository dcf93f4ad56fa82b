import { resolve } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { readChangelogIdentity } from './capture/identity.js'
import { checkServerVersion } from './capture/server-checks.js'
import { createClickHouse } from './clickhouse/client-factory.js'
import { describeClickHouse } from './clickhouse/options.js'
import { translateClickHouseError } from './clickhouse/translate-error.js'
import type { TailhouseConfig } from './config/config.js'
import { type EffectiveConfig, resolveConfig } from './config/effective-config.js'
import { type SharedEmbedded, serveEmbeddedClickHouse } from './embedded/query-endpoint.js'
import { type EngineState, StateMachine } from './engine-state.js'
import { backoffMs, classifyFailure } from './failure.js'
import { checkpointKey, readCheckpoint } from './kafka/checkpoint.js'
import { kafkaClientOptions } from './kafka/connection.js'
import { EngineTopics } from './kafka/engine-topics.js'
import { FenceCheck } from './kafka/fence-check.js'
import { describeKafkaError } from './kafka/kafka-errors.js'
import type { Logger } from './log.js'
import { BatchLoop } from './loop/batch-loop.js'
import type { OffsetStore } from './offsets/offset-store.js'
import { reconcile, resetStreams } from './offsets/reconcile.js'
import { SqliteOffsetStore } from './offsets/sqlite-offset-store.js'
import { schemaRegistrationFor } from './registry/source-registration.js'
import { batchOptions, createConverter } from './sink/batch-builder.js'
import { createPublisher, type Publisher, transactionalId } from './sink/publisher.js'
import { kafkaGiveUpMs, watchStall, watchStalls } from './sink/stall-watch.js'
import { type Cursor, type CursorJson, cursorToJson, describeCursor } from './source/cursor.js'
import { createEngineSource, type EngineSource } from './source/engine-source.js'
import { detectFormatSchemas } from './source/format-schemas.js'
import { SourceSchemas } from './source/source-schemas.js'
import { startEngineHttp } from './telemetry/engine-http.js'
import { type EngineMetrics, lagSamples, type MetricsHandle, noopMetrics } from './telemetry/engine-metrics.js'
import type { HealthServer } from './telemetry/health-server.js'
import { loopTelemetry } from './telemetry/loop-telemetry.js'
import { createTracing, type Tracing } from './telemetry/tracing.js'

export interface EngineOptions {
  config: TailhouseConfig
  /** Relative paths of the config (engine.offsetsPath) resolve against this directory. Default: the cwd. */
  configDir?: string
  /**
   * A ClickHouse client to use instead of creating one: an application that embeds ClickHouse (chDB) passes its
   * own, since no second client can open the same data directory. The engine does not close it.
   */
  client?: ClickHouseClient
  logger: Logger
  /**
   * Cursor streams (`<db.table>/<partition>`, or a source `db.table` for all of its partitions) to read again from
   * their start, after an operator checked a reported cursor regression (their rows may be published a second
   * time: the cursor cannot tell old rows from re-numbered ones).
   */
  resetPartitions?: string[]
}

export interface EngineStatus {
  state: EngineState
  engineId: string
  delivery: 'exactly-once' | 'at-least-once'
  /** Changelog rows committed (checkpoint's count): published, or dead-lettered — rowsDeadLettered since start. */
  rowsPublished: bigint
  rowsDeadLettered: bigint
  batches: number
  lastCommitAt: Date | null
  /** Rows in the changelogs after the cursor, measured at most once a second; null until known. */
  lagRows: number | null
  /** Age of the oldest row not yet published at the last poll, ms; 0 when caught up. */
  lagMs: number
  cursor: CursorJson
  /** Base URL of /healthz, /readyz and /metrics, when served. */
  httpUrl: string | undefined
}

export interface EngineExit {
  /** stopped: asked to stop; fenced: another instance took over this engine id; failed: an error retrying cannot fix. */
  reason: 'stopped' | 'fenced' | 'failed'
  error?: Error
}

/**
 * The engine service: lifecycle, set-up, reconciliation and retry around the batch loop (loop/batch-loop.ts), which
 * tails the changelog tables and publishes each batch in one Kafka transaction with its end cursor. Lifecycle:
 * created → starting → running → stopping → stopped (or failed). `stop()` is safe from any state and idempotent;
 * `done` resolves once, with why.
 */
export class Engine {
  readonly #options: EngineOptions
  readonly #config: EffectiveConfig
  readonly #log: Logger
  readonly #state = new StateMachine()
  readonly #engineId: string
  readonly #tracing: Tracing
  readonly done: Promise<EngineExit>
  #finish!: (exit: EngineExit) => void
  #client: ClickHouseClient | undefined
  #ownsClient = false
  #shared: SharedEmbedded | undefined
  #store: OffsetStore | undefined
  #publisher: Publisher | undefined
  #schemas: SourceSchemas | undefined
  /** The identity of the changelogs this engine reads (capture/identity.ts). */
  #changelogId = ''
  #source: EngineSource | undefined
  #loop: BatchLoop | undefined
  #observer: ReturnType<typeof loopTelemetry> | undefined
  #stopRequested = false
  #wake: (() => void) | undefined
  #fenced = false
  readonly #fenceCheck = new FenceCheck()
  /** The transactional id is claimed (InitProducerId answered) by the current producer. */
  #claimed = false
  /** Aborted when a stop has waited long enough for Kafka work in flight. */
  readonly #abortKafka = new AbortController()
  /** How waiting on Kafka is reported (sink/stall-watch.ts): a warning after 5 s, then every 30 s. */
  readonly #stallWatch = {
    signal: this.#abortKafka.signal,
    firstWarningMs: 5_000,
    repeatWarningMs: 30_000,
    giveUpMs: kafkaGiveUpMs,
    onStall: (what: string, waitedMs: number) => {
      this.#metrics.recordRetry('kafka')
      this.#log.log('warn', `Kafka has not answered for ${Math.round(waitedMs / 1000)} s (${what}); still trying`, {
        brokers: this.#config.kafka.brokers.join(','),
      })
    },
  }
  #http: HealthServer | undefined
  #metricsHandle: MetricsHandle | undefined
  #metrics: EngineMetrics = noopMetrics

  constructor(options: EngineOptions) {
    this.#options = options
    this.#config = resolveConfig(options.config)
    this.#log = options.logger
    this.#engineId = this.#config.engine.id
    const { telemetry } = this.#config
    this.#tracing = createTracing({
      enabled: telemetry.tracing,
      endpoint: telemetry.otlpEndpoint,
      zipkinEndpoint: telemetry.zipkinEndpoint,
      samplingRatio: telemetry.samplingRatio,
      serviceName: telemetry.serviceName,
    })
    this.done = new Promise((resolveDone) => {
      this.#finish = resolveDone
    })
  }

  status(): EngineStatus {
    const position = this.#loop?.position
    return {
      state: this.#state.state,
      engineId: this.#engineId,
      delivery: this.#config.kafka.delivery,
      rowsPublished: position?.rowsTotal ?? 0n,
      rowsDeadLettered: this.#observer?.deadLettered ?? 0n,
      batches: position?.batches ?? 0,
      lastCommitAt: position?.lastCommitAt ?? null,
      lagRows: position?.lagRows ?? null,
      lagMs: position?.lagMs ?? 0,
      cursor: cursorToJson(position?.cursor ?? new Map()),
      httpUrl: this.#http?.url,
    }
  }

  /** Starts the loop in the background; resolves once the engine runs (or `done` already says why it could not). */
  async start(): Promise<void> {
    this.#state.set('created', 'starting')
    await this.#startHttp()
    const ready = new Promise<void>((resolveReady) => {
      void this.#run(resolveReady)
    })
    await Promise.race([ready, this.done.then(() => {})])
  }

  /** Finishes or abandons the batch in flight (never half-commits it), closes everything, and resolves `done`. */
  async stop(): Promise<EngineExit> {
    if (!this.#stopRequested) {
      this.#stopRequested = true
      this.#log.log('info', 'stopping: finishing the batch in flight')
      this.#loop?.stop()
      this.#wake?.()
      // A batch waiting on a Kafka that is gone would hold the stop for a minute: after 5 s it is abandoned (never
      // half-committed: the next start reads what committed from the checkpoint).
      setTimeout(() => this.#abortKafka.abort(), 5_000).unref()
      if (this.#state.state === 'created') this.#close({ reason: 'stopped' })
    }
    return this.done
  }

  async #run(ready: () => void): Promise<void> {
    let attempt = 0
    let started = false
    while (!this.#stopRequested) {
      try {
        if (!started) {
          await this.#setUp()
          started = true
          this.#state.set('starting', 'running')
          ready()
        } else {
          // After a failure: the producer may hold a broken transaction, and a commit that failed on our side may
          // have succeeded on the broker's. Start over with a new producer, fenced, from the committed checkpoint.
          await this.#connect()
        }
        await this.#loop?.run()
        attempt = 0
      } catch (error) {
        if (this.#stopRequested) {
          this.#log.log('info', `stopping after: ${describeKafkaError(error)}`)
          break
        }
        const failure = classifyFailure(error)
        if (failure.action === 'fenced' && this.#fenceCheck.onFenced(this.#publisher?.identity()) === 'verify') {
          this.#log.log(
            'warn',
            `Kafka refused this producer as fenced (${describeKafkaError(error)}): another instance took over, or the transaction coordinator aborted a transaction that outlived its timeout; claiming the transactional id as this producer tells which`,
          )
        } else if (failure.action === 'fenced') {
          this.#fenced = true
          this.#log.log(
            'warn',
            `fenced: another instance started with engine id ${this.#engineId} (transactional id ${transactionalId(this.#engineId, this.#changelogId)}); this one stops`,
          )
          return this.#close({ reason: 'fenced' })
        }
        if (failure.action === 'fatal') {
          const wrapped = error instanceof Error ? error : new Error(String(error))
          this.#log.log('error', `stopping: ${describeKafkaError(wrapped)}`)
          return this.#close({ reason: 'failed', error: wrapped })
        }
        this.#metrics.recordRetry(failure.reason)
        const wait = backoffMs(attempt++)
        this.#log.log('warn', `retrying in ${(wait / 1000).toFixed(1)} s: ${describeKafkaError(error)}`, { attempt })
        await this.#resetPublisher()
        await this.#sleep(wait)
      }
    }
    this.#close({ reason: 'stopped' })
  }

  async #setUp(): Promise<void> {
    const config = this.#config
    const target = this.#options.client
      ? "the application's ClickHouse client"
      : describeClickHouse(config.clickhouseOptions)
    if (!this.#client) {
      this.#client = this.#options.client ?? (await createClickHouse(config.clickhouseOptions))
      this.#ownsClient = this.#options.client === undefined
      // Embedded ClickHouse opened here: share it with tailhouse sql/status/migrate (chDB: one process per directory).
      if (this.#ownsClient && config.clickhouseOptions.url === undefined)
        this.#shared = await serveEmbeddedClickHouse({
          client: this.#client,
          dataDir: config.clickhouseOptions.dataDir,
        })
    }
    try {
      await checkServerVersion(this.#client)
    } catch (error) {
      throw translateClickHouseError(error, target)
    }
    this.#changelogId = await readChangelogIdentity(this.#client, config.capture.database)
    this.#schemas = new SourceSchemas({
      client: this.#client,
      database: config.capture.database,
      format: config.engine.format,
      protobuf: config.protobuf,
      sources: config.capture.sources,
      registration: schemaRegistrationFor(config),
      debezium: config.debezium,
    })
    await this.#schemas.load()
    const topics = new EngineTopics(config.kafka, this.#log)
    await topics.ensure(topics.engineTopics(this.#schemas.sources, config.engine.onPoisonRow === 'dead-letter'))
    this.#store = new SqliteOffsetStore(resolve(this.#options.configDir ?? process.cwd(), config.engine.offsetsPath))
    this.#store.bind(this.#engineId, this.#changelogId, `capture database ${config.capture.database} on ${target}`)
    this.#source = createEngineSource({
      client: this.#client,
      database: config.capture.database,
      schemas: this.#schemas,
      target,
      partitionsOf: (source) => topics.partitionsOf(source),
      formatSchemas: await detectFormatSchemas(this.#client),
      warn: (message) => this.#log.log('warn', message),
      snapshots: { engineId: this.#engineId, config, logger: this.#log },
      committed: () => this.#loop?.position.cursor ?? new Map(),
    })
    const start = await this.#connect()
    this.#log.log(
      'info',
      `running: ${target}, Kafka ${config.kafka.brokers.join(',')}, ${config.kafka.delivery}, ${this.#schemas.sources.length} source(s), from ${describeCursor(start)}`,
    )
  }

  /**
   * A new publisher, its transactional id claimed (fencing any older instance) before the checkpoint is read — the
   * order of Kafka Connect's exactly-once source (KIP-618): a commit returns once prepared and its markers land
   * afterwards, so a checkpoint read before the claim could miss the previous instance's last commit. Then the loop
   * resumes from the reconciled cursor. Returns that cursor.
   */
  async #connect(): Promise<Cursor> {
    const config = this.#config
    this.#publisher = createPublisher({
      logger: this.#log,
      kafka: config.kafka,
      connection: kafkaClientOptions(config.kafka),
      engineId: this.#engineId,
      changelog: config.capture.database,
      changelogId: this.#changelogId,
      claimAs: this.#fenceCheck.claimAs,
    })
    await watchStall('claiming the transactional id', this.#publisher.init(), this.#stallWatch)
    if (this.#fenceCheck.claimAs)
      this.#log.log('info', 'no other instance took over: Kafka aborted our transaction itself; resuming')
    this.#fenceCheck.claimed()
    this.#claimed = true
    const start = await this.#reconcile()
    const sink = watchStalls(this.#publisher, this.#stallWatch)
    if (this.#loop) {
      this.#loop.sink = sink
      this.#loop.resume(start)
    } else {
      this.#observer = loopTelemetry({
        tracing: this.#tracing,
        metrics: () => this.#metrics,
        logger: this.#log,
        engineId: this.#engineId,
        database: config.capture.database,
        partitions: config.kafka.partitions,
        transactionalId:
          config.kafka.delivery === 'exactly-once' ? transactionalId(this.#engineId, this.#changelogId) : '',
      })
      this.#loop = new BatchLoop(
        {
          source: this.#source as EngineSource,
          converter: createConverter(this.#schemas as SourceSchemas, batchOptions(config)),
          sink,
          offsets: this.#store as OffsetStore,
          observer: this.#observer,
          engineId: this.#engineId,
          batchMaxRows: config.engine.batchMaxRows,
          pollIntervalMs: config.engine.pollIntervalMs,
        },
        start,
      )
    }
    if (this.#stopRequested) this.#loop.stop()
    return start.cursor
  }

  /** Exactly-once: the committed checkpoint wins over SQLite (reconcile.ts). At-least-once: SQLite is the authority. */
  async #reconcile(): Promise<{ cursor: Cursor; rowsTotal: bigint }> {
    const { kafka } = this.#config
    const store = this.#store as OffsetStore
    const local = store.load(this.#engineId)
    let start = { cursor: local, rowsTotal: this.#loop?.position.rowsTotal ?? 0n }
    if (kafka.delivery === 'exactly-once') {
      const key = checkpointKey(this.#engineId, this.#changelogId)
      const committed = await watchStall(
        `reading the checkpoint topic ${kafka.checkpointTopic}`,
        readCheckpoint(kafkaClientOptions(kafka), kafka.checkpointTopic, key),
        this.#stallWatch,
      )
      const decided = reconcile(local, committed, () => store.history(this.#engineId, 10_000), {
        engineId: this.#engineId,
        checkpointTopic: kafka.checkpointTopic,
      })
      if (decided.note) this.#log.log(decided.note.level, decided.note.message)
      if (decided.mirror) {
        store.save(this.#engineId, {
          rows: 0,
          bytes: 0,
          cursor: decided.cursor,
          committedAt: new Date(committed?.checkpoint.committedAt ?? Date.now()),
          commitMs: 0,
        })
      }
      start = { cursor: decided.cursor, rowsTotal: committed ? decided.rowsTotal : start.rowsTotal }
    }
    const resets = this.#options.resetPartitions ?? []
    this.#options.resetPartitions = [] // once: a retry later resumes from the checkpoint as usual
    return { cursor: resetStreams(start.cursor, resets, this.#log), rowsTotal: start.rowsTotal }
  }

  /** /healthz, /readyz and /metrics, before anything else, so probes answer while the engine starts. */
  async #startHttp(): Promise<void> {
    if (!this.#config.telemetry.http) return
    const { http, metrics } = await startEngineHttp({
      telemetry: this.#config.telemetry,
      kafka: this.#config.kafka,
      engineId: this.#engineId,
      state: () => this.#state.state,
      fenced: () => this.#fenced,
      claimed: () => this.#claimed,
      client: () => this.#client,
      lag: async () =>
        this.#source && this.#loop
          ? lagSamples(await this.#source.lagBySource(this.#loop.position.cursor), this.#schemas?.sources ?? [])
          : [],
      snapshots: () => this.#source?.snapshots?.samples() ?? [],
    })
    this.#http = http
    this.#metricsHandle = metrics
    this.#metrics = metrics.metrics
    this.#log.log('info', `serving /healthz, /readyz and /metrics at ${http.url}`)
  }

  async #resetPublisher(): Promise<void> {
    const publisher = this.#publisher
    this.#publisher = undefined
    this.#claimed = false
    await publisher?.close().catch(() => {})
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopRequested) return Promise.resolve()
    return new Promise((resolveSleep) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolveSleep()
      }
      this.#wake = done
    })
  }

  #closing = false

  #close(exit: EngineExit): void {
    if (this.#closing) return
    this.#closing = true
    if (this.#state.state === 'running' || this.#state.state === 'starting')
      this.#state.set(['running', 'starting'], 'stopping')
    void (async () => {
      await this.#resetPublisher()
      await this.#tracing.shutdown().catch(() => {})
      await this.#http?.close().catch(() => {})
      await this.#metricsHandle?.shutdown().catch(() => {})
      this.#store?.close()
      await this.#shared?.close().catch(() => {})
      if (this.#ownsClient) await this.#client?.close().catch(() => {})
      this.#state.end(exit.reason === 'failed' ? 'failed' : 'stopped')
      const status = this.status()
      this.#log.log(exit.reason === 'failed' ? 'error' : 'info', `engine ${exit.reason}`, {
        rowsPublished: status.rowsPublished,
        batches: status.batches,
      })
      this.#finish(exit)
    })()
  }
}
