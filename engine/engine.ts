import { resolve } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { type Context, type Span, SpanKind } from '@opentelemetry/api'
import { Admin } from '@platformatic/kafka'
import { checkServerVersion } from './capture/server-checks.js'
import { createClickHouse } from './clickhouse/client-factory.js'
import { describeClickHouse } from './clickhouse/options.js'
import { translateClickHouseError } from './clickhouse/translate-error.js'
import type { TailhouseConfig } from './config/config.js'
import { clickHouseOptions } from './config/resolve-clickhouse.js'
import { type SharedEmbedded, serveEmbeddedClickHouse } from './embedded/query-endpoint.js'
import { type EngineState, StateMachine } from './engine-state.js'
import { CaptureError, TailhouseError } from './errors.js'
import { brokersFromEnv } from './kafka/brokers.js'
import { readCheckpoint } from './kafka/checkpoint.js'
import { describeKafkaError } from './kafka/kafka-errors.js'
import { ensureTopics, topicFor } from './kafka/topics.js'
import type { Logger } from './log.js'
import type { OffsetStore } from './offsets/offset-store.js'
import { SqliteOffsetStore } from './offsets/sqlite-offset-store.js'
import { backoffMs, classify } from './retry.js'
import { type Batch, buildBatch } from './sink/batch-builder.js'
import { headerNames } from './sink/outgoing-message.js'
import { createPublisher, type Publisher, transactionalId } from './sink/publisher.js'
import { ChangelogReader, type ChangelogRow } from './source/changelog-reader.js'
import {
  type Cursor,
  type CursorJson,
  compareCursors,
  cursorAfter,
  cursorToJson,
  describeCursor,
  sameCursor,
} from './source/cursor.js'
import { checkCursor } from './source/regression-check.js'
import { ReplicatedWatermarkSource } from './source/replicated-watermark-source.js'
import { SourceSchemas } from './source/source-schemas.js'
import { createEngineMetrics, type EngineMetrics, type MetricsHandle, noopMetrics } from './telemetry/engine-metrics.js'
import { type HealthServer, readinessChecks, startHealthServer } from './telemetry/health-server.js'
import { spanNames } from './telemetry/span-names.js'
import { createTracing, failSpan, type Tracing, traceparentOf, withSpan } from './telemetry/tracing.js'

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
   * Changelog partitions to read again from their start, after an operator checked a reported cursor regression
   * (their rows may be published a second time: the cursor cannot tell old rows from re-numbered ones).
   */
  resetPartitions?: string[]
}

export interface EngineStatus {
  state: EngineState
  engineId: string
  delivery: 'exactly-once' | 'at-least-once'
  rowsPublished: bigint
  batches: number
  lastCommitAt: Date | null
  /** Rows in the changelog after the cursor, measured at most once a second; null until known. */
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
 * The engine service: tails the changelog in block order, publishes each batch in one Kafka transaction with its
 * end cursor, and mirrors the cursor to SQLite after the commit. Lifecycle: created → starting → running →
 * stopping → stopped (or failed). `stop()` is safe from any state and idempotent; `done` resolves once, with why.
 */
export class Engine {
  readonly #options: EngineOptions
  readonly #log: Logger
  readonly #state = new StateMachine()
  readonly #engineId: string
  #client: ClickHouseClient | undefined
  #ownsClient = false
  #shared: SharedEmbedded | undefined
  #store: OffsetStore | undefined
  #publisher: Publisher | undefined
  #cursor: Cursor = new Map()
  #rowsTotal = 0n
  #batches = 0
  #lastCommitAt: Date | null = null
  #lagRows: number | null = null
  #lagMs = 0
  #lagMeasuredAt = 0
  #stopRequested = false
  #wake: (() => void) | undefined
  readonly done: Promise<EngineExit>
  #finish!: (exit: EngineExit) => void
  readonly #tracing: Tracing

  constructor(options: EngineOptions) {
    this.#options = options
    this.#log = options.logger
    this.#engineId = options.config.engine.id
    const telemetry = options.config.telemetry
    const otlpFromEnv = process.env.OTLP_ENDPOINT || undefined
    this.#tracing = createTracing({
      enabled: telemetry.tracing || otlpFromEnv !== undefined,
      endpoint: otlpFromEnv ?? telemetry.otlpEndpoint,
      zipkinEndpoint: telemetry.zipkinEndpoint,
      samplingRatio: telemetry.samplingRatio,
      serviceName: telemetry.serviceName,
    })
    this.done = new Promise((resolveDone) => {
      this.#finish = resolveDone
    })
  }

  status(): EngineStatus {
    return {
      state: this.#state.state,
      engineId: this.#engineId,
      delivery: this.#options.config.kafka.delivery,
      rowsPublished: this.#rowsTotal,
      batches: this.#batches,
      lastCommitAt: this.#lastCommitAt,
      lagRows: this.#lagRows,
      lagMs: this.#lagMs,
      cursor: cursorToJson(this.#cursor),
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
      this.#wake?.()
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
        }
        await this.#loop()
        attempt = 0
      } catch (error) {
        const failure = classify(error)
        if (failure === 'fenced') {
          this.#fenced = true
          this.#log.log(
            'warn',
            `fenced: another instance started with engine id ${this.#engineId} (transactional id tailhouse-${this.#engineId}); this one stops`,
          )
          return this.#close({ reason: 'fenced' })
        }
        if (failure === 'fatal') {
          const wrapped = error instanceof Error ? error : new Error(String(error))
          this.#log.log('error', `stopping: ${describeKafkaError(wrapped)}`)
          return this.#close({ reason: 'failed', error: wrapped })
        }
        this.#metrics.recordRetry(retryReason(error))
        const wait = backoffMs(attempt++)
        this.#log.log('warn', `retrying in ${(wait / 1000).toFixed(1)} s: ${describeKafkaError(error)}`, { attempt })
        // The producer may hold a broken transaction, and a commit that failed on our side may have succeeded on
        // the broker's: start over with a new producer, fenced, from the committed checkpoint.
        await this.#resetPublisher()
        this.#resync = started
        await this.#sleep(wait)
      }
    }
    this.#close({ reason: 'stopped' })
  }

  async #setUp(): Promise<void> {
    const { config } = this.#options
    const chOptions = clickHouseOptions(config.clickhouse)
    const target = this.#options.client ? "the application's ClickHouse client" : describeClickHouse(chOptions)
    if (!this.#client) {
      this.#client = this.#options.client ?? (await createClickHouse(chOptions))
      this.#ownsClient = this.#options.client === undefined
      // Embedded ClickHouse opened here: share it with tailhouse sql/status/migrate (chDB: one process per directory).
      if (this.#ownsClient && chOptions.url === undefined)
        this.#shared = await serveEmbeddedClickHouse({ client: this.#client, dataDir: chOptions.dataDir })
    }
    try {
      await checkServerVersion(this.#client)
    } catch (error) {
      throw translateClickHouseError(error, target)
    }
    const brokers = brokersFromEnv(config.kafka.brokers)
    this.#schemas ??= new SourceSchemas({
      client: this.#client,
      database: config.capture.database,
      format: config.engine.format,
      protobuf: config.protobuf,
      sources: config.capture.sources,
    })
    await this.#schemas.load()
    const topics = [
      ...this.#schemas.sources.map((s) => ({
        name: topicFor(config.kafka.topicTemplate, s),
        partitions: config.kafka.partitions,
        replicationFactor: config.kafka.replicationFactor,
      })),
      {
        name: config.kafka.checkpointTopic,
        partitions: 1,
        replicationFactor: config.kafka.replicationFactor,
        configs: { 'cleanup.policy': 'compact' },
      },
      ...(config.engine.onPoisonRow === 'dead-letter'
        ? [{ name: config.kafka.deadLetterTopic, partitions: 1, replicationFactor: config.kafka.replicationFactor }]
        : []),
    ]
    const created = await ensureTopics(brokers, config.kafka.clientId, topics)
    if (created.length > 0) this.#log.log('info', `created topics ${created.join(', ')}`)
    for (const topic of topics) this.#knownTopics.add(topic.name)
    this.#store ??= new SqliteOffsetStore(resolve(this.#options.configDir ?? process.cwd(), config.engine.offsetsPath))
    // Fence first, then read the checkpoint (the order of Kafka Connect's exactly-once source, KIP-618): a commit
    // returns once prepared and its markers land afterwards, so a checkpoint read before init() could miss the
    // previous instance's last commit and publish that batch again.
    this.#publisher ??= this.#createPublisher()
    await this.#publisher.init()
    await this.#reconcile(brokers)
    for (const partition of this.#options.resetPartitions ?? []) {
      const at = this.#cursor.get(partition)
      this.#cursor.delete(partition)
      this.#log.log('warn', `reset: changelog partition ${partition} is read again from its start`, {
        was: at ? `${at.blockNumber}/${at.blockOffset}` : 'unread',
      })
    }
    this.#reader = new ChangelogReader(this.#client, config.capture.database, target)
    this.#watermarks = await ReplicatedWatermarkSource.forChangelog(this.#client, config.capture.database)
    this.#log.log(
      'info',
      `running: ${target}, Kafka ${brokers.join(',')}, ${config.kafka.delivery}, ${this.#schemas.sources.length} source(s), from ${describeCursor(this.#cursor)}`,
    )
  }

  #schemas: SourceSchemas | undefined
  /** Set for a ReplicatedMergeTree changelog (cluster), where a safe watermark bounds every read. */
  #watermarks: ReplicatedWatermarkSource | undefined
  /** Set after a retriable failure: re-fence and re-read the committed checkpoint before the next batch. */
  #resync = false
  #reader: ChangelogReader | undefined

  /** Exactly-once: the committed checkpoint wins over SQLite, and SQLite is brought in line. At-least-once: SQLite. */
  async #reconcile(brokers: string[]): Promise<void> {
    const { config } = this.#options
    const store = this.#store as OffsetStore
    const local = store.load(this.#engineId)
    if (config.kafka.delivery === 'at-least-once') {
      this.#cursor = local
      return
    }
    const committed = await readCheckpoint(brokers, config.kafka.clientId, config.kafka.checkpointTopic, this.#engineId)
    if (!committed) {
      if (local.size > 0) {
        this.#log.log(
          'warn',
          `no checkpoint for engine ${this.#engineId} in ${config.kafka.checkpointTopic}; resuming from the SQLite cursor ${describeCursor(local)}`,
        )
      }
      this.#cursor = local
      return
    }
    const relation = compareCursors(local, committed.cursor)
    if (relation === 'ahead') {
      // SQLite records a batch only after its commit returned, and a returned commit is final in Kafka: a
      // checkpoint read behind SQLite missed committed checkpoints, and publishing from it would repeat rows.
      const later = store
        .history(this.#engineId, 10_000)
        .filter((b) => compareCursors(b.cursor, committed.cursor) === 'ahead')
      this.#cursor = local
      this.#rowsTotal = BigInt(committed.checkpoint.rowsTotal) + BigInt(later.reduce((n, b) => n + b.rows, 0))
      this.#log.log(
        'warn',
        `reconciled: the checkpoint read (${describeCursor(committed.cursor)}) is behind SQLite (${describeCursor(local)}), ` +
          'which records only committed batches: resuming from SQLite',
      )
      return
    }
    this.#cursor = committed.cursor
    this.#rowsTotal = BigInt(committed.checkpoint.rowsTotal)
    if (relation !== 'same') {
      this.#log.log(
        relation === 'diverged' ? 'warn' : 'info',
        `reconciled: the committed checkpoint (${describeCursor(committed.cursor)}) wins over SQLite (${describeCursor(local)})`,
      )
      store.save(this.#engineId, {
        rows: 0,
        bytes: 0,
        cursor: committed.cursor,
        committedAt: new Date(committed.checkpoint.committedAt),
        commitMs: 0,
      })
    }
  }

  /**
   * Polls, encodes and publishes batches until asked to stop. While one batch's transaction commits, the next
   * one is read and encoded from the in-flight batch's end cursor, so ClickHouse, the encoder and the broker work
   * at the same time; transactions still run one at a time, in cursor order. A batch prepared ahead is dropped,
   * never published, when the batch before it fails (the retry re-reads from the committed checkpoint) or the
   * engine stops.
   */
  async #loop(): Promise<void> {
    const { config } = this.#options
    const reader = this.#reader as ChangelogReader
    let ahead: Promise<PreparedBatch | undefined> | undefined
    try {
      while (!this.#stopRequested) {
        if (this.#resync) {
          this.#publisher = this.#createPublisher()
          await this.#publisher.init()
          await this.#reconcile(brokersFromEnv(config.kafka.brokers))
          this.#resync = false
        }
        const prepared = await (ahead ?? this.#prepare(this.#cursor))
        ahead = undefined
        if (!prepared) {
          this.#lagMs = 0
          // On a replicated changelog a lagging replica can show fewer blocks than were read elsewhere before a
          // fail-over, so the plain regression check does not apply there.
          if (!this.#watermarks) await this.#checkCursor()
          await this.#measureLag(reader, true)
          await this.#sleep(config.engine.pollIntervalMs)
          continue
        }
        const committed = this.#commit(prepared)
        if (!this.#stopRequested) {
          ahead = this.#prepare(prepared.batch.cursor)
          // Its failure is raised where it is awaited, after this batch's commit.
          ahead.catch(() => {})
        }
        await committed
        await this.#measureLag(reader, false)
      }
    } finally {
      // Let reads ahead finish before the caller retries (from the committed checkpoint) or closes the client.
      // A batch prepared ahead and dropped still ends its span, marked as not published.
      const dropped = await ahead?.catch(() => undefined)
      dropped?.span.setAttribute('tailhouse.dropped', true).end()
      const read = this.#readAhead
      this.#readAhead = undefined
      await read?.rows.catch(() => {})
    }
  }

  /**
   * Reads the rows after `from` and encodes them into a batch, traced as the batch span's poll and encode
   * children; undefined when there is nothing new.
   */
  async #prepare(from: Cursor): Promise<PreparedBatch | undefined> {
    const { config } = this.#options
    const pollStarted = Date.now()
    const rows = await this.#readRows(from)
    if (rows.length === 0) return undefined
    const tracer = this.#tracing.tracer
    const span = tracer.startSpan(spanNames.batch, {
      startTime: pollStarted,
      attributes: { 'tailhouse.engine_id': this.#engineId },
    })
    const parent = withSpan(span)
    // Attributes that cost a pass over the batch are computed only for a recorded (enabled, sampled) trace.
    const traced = span.isRecording()
    try {
      tracer
        .startSpan(
          spanNames.poll,
          {
            kind: SpanKind.CLIENT,
            startTime: pollStarted,
            attributes: {
              'db.system.name': 'clickhouse',
              'db.namespace': config.capture.database,
              'db.collection.name': 'changelog',
              'db.operation.name': 'SELECT',
              'db.response.returned_rows': rows.length,
              ...(traced ? { 'tailhouse.payload_bytes': rows.reduce((n, r) => n + r.payload.length, 0) } : {}),
            },
          },
          parent,
        )
        .end()

      const encodeSpan = tracer.startSpan(spanNames.encode, {}, parent)
      const batch = await buildBatch(rows, from, this.#schemas as SourceSchemas, {
        topicTemplate: config.kafka.topicTemplate,
        maxBytes: config.engine.batchMaxBytes,
        onPoisonRow: config.engine.onPoisonRow,
        deadLetterTopic: config.kafka.deadLetterTopic,
      }).catch((error) => {
        failSpan(encodeSpan, error)
        throw error
      })
      encodeSpan.setAttributes({ 'tailhouse.rows': batch.rows, 'messaging.batch.message_count': batch.messages.length })
      encodeSpan.end()
      if (batch.firstIngestMicros !== undefined)
        this.#lagMs = Math.max(0, Date.now() - Number(batch.firstIngestMicros / 1000n))
      if (traced) {
        span.setAttributes({
          'tailhouse.rows': batch.rows,
          'tailhouse.payload_bytes': batch.payloadBytes,
          // From a message back to its INSERT: system.query_log WHERE query_id IN (…)
          'tailhouse.query_ids': [...batch.queryIds].slice(0, 1000),
          'tailhouse.sources': [...new Set(rows.slice(0, batch.rows).map((r) => r.source))],
        })
      }
      return { rows, batch, span, parent }
    } catch (error) {
      failSpan(span, error)
      throw error
    }
  }

  /** The read of the rows after `from`, started before they were asked for (see #readRows). */
  #readAhead: { from: Cursor; rows: Promise<ChangelogRow[]> } | undefined

  /**
   * The rows after `from`. When a read returns a full batch there is a backlog, and the read after it starts at
   * once, so ClickHouse works on it while this batch is encoded and the previous one commits. It is used only if
   * the next batch starts exactly where this read ended (a batch cut short by batchMaxBytes re-reads instead).
   */
  async #readRows(from: Cursor): Promise<ChangelogRow[]> {
    const ahead = this.#readAhead
    this.#readAhead = undefined
    const rows = ahead && sameCursor(ahead.from, from) ? await ahead.rows : await this.#read(from)
    if (rows.length === this.#options.config.engine.batchMaxRows && !this.#stopRequested) {
      const next = cursorAfter(from, rows)
      const read = this.#read(next)
      read.catch(() => {}) // a failure is raised where the rows are used, or the read is dropped
      this.#readAhead = { from: next, rows: read }
    }
    return rows
  }

  async #read(from: Cursor): Promise<ChangelogRow[]> {
    const watermark = await this.#watermarks?.watermark(from)
    return (this.#reader as ChangelogReader).read(from, {
      limit: this.#options.config.engine.batchMaxRows,
      watermark,
    })
  }

  /**
   * Publishes a prepared batch in one transaction with its end cursor, then records it; traced as the batch
   * span's publish and checkpoint children. Every message carries the publish span's traceparent.
   */
  async #commit({ rows, batch, span, parent }: PreparedBatch): Promise<void> {
    const { config } = this.#options
    const tracer = this.#tracing.tracer
    try {
      const rowsTotal = this.#rowsTotal + BigInt(batch.rows)
      const topics = [...new Set(batch.messages.map((m) => m.topic))]
      await this.#ensureTopics(topics)
      const publishSpan = tracer.startSpan(
        spanNames.publish,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'send',
            'messaging.operation.name': 'publish',
            'messaging.destination.name': topics.length === 1 ? (topics[0] as string) : topics.join(','),
            'messaging.batch.message_count': batch.messages.length,
            'messaging.kafka.destination.partitions': config.kafka.partitions,
            'tailhouse.transactional_id':
              config.kafka.delivery === 'exactly-once' ? transactionalId(this.#engineId) : '',
            ...(span.isRecording()
              ? { 'tailhouse.message_bytes': batch.messages.reduce((n, m) => n + m.value.length, 0) }
              : {}),
          },
        },
        parent,
      )
      const traceparent = traceparentOf(publishSpan)
      if (traceparent) {
        const header = Buffer.from(traceparent)
        for (const message of batch.messages) message.headers.set(headerNames.traceparent, header)
      }
      const publisher = this.#publisher as Publisher
      const { commitMs } = await publisher
        .publish(batch.messages, { cursor: batch.cursor, rowsTotal })
        .catch((error) => {
          failSpan(publishSpan, error)
          throw error
        })
      publishSpan.end()

      // Committed: from here on the batch is published whatever happens to this process.
      const checkpointSpan = tracer.startSpan(spanNames.checkpoint, {}, parent)
      this.#cursor = batch.cursor
      this.#rowsTotal = rowsTotal
      this.#batches += 1
      this.#lastCommitAt = new Date()
      ;(this.#store as OffsetStore).save(this.#engineId, {
        rows: batch.rows,
        bytes: batch.payloadBytes,
        cursor: batch.cursor,
        committedAt: this.#lastCommitAt,
        commitMs,
      })
      checkpointSpan.end()
      span.end()
      if (this.#metricsHandle) {
        const rowsBySource = new Map<string, number>()
        for (let i = 0; i < batch.rows; i++) {
          const source = (rows[i] as ChangelogRow).source
          rowsBySource.set(source, (rowsBySource.get(source) ?? 0) + 1)
        }
        this.#metrics.recordBatch({
          rowsBySource,
          bytes: batch.payloadBytes,
          commitMs,
          committedAt: this.#lastCommitAt,
        })
      }
      this.#log.log('debug', 'published batch', {
        rows: batch.rows,
        bytes: batch.payloadBytes,
        commitMs: Math.round(commitMs),
      })
    } catch (error) {
      failSpan(span, error)
      throw error
    }
  }

  /** Topics known to exist: created at start, or later for a source captured while the engine runs. */
  readonly #knownTopics = new Set<string>()

  async #ensureTopics(topics: string[]): Promise<void> {
    const unknown = topics.filter((t) => !this.#knownTopics.has(t))
    if (unknown.length === 0) return
    const { kafka } = this.#options.config
    const created = await ensureTopics(
      brokersFromEnv(kafka.brokers),
      kafka.clientId,
      unknown.map((name) => ({ name, partitions: kafka.partitions, replicationFactor: kafka.replicationFactor })),
    )
    if (created.length > 0) this.#log.log('info', `created topics ${created.join(', ')}`)
    for (const topic of unknown) this.#knownTopics.add(topic)
  }

  #http: HealthServer | undefined
  #metricsHandle: MetricsHandle | undefined
  #metrics: EngineMetrics = noopMetrics
  #fenced = false

  /** /healthz, /readyz and /metrics, before anything else, so probes answer while the engine starts. */
  async #startHttp(): Promise<void> {
    const { telemetry } = this.#options.config
    if (!telemetry.http) return
    this.#metricsHandle = createEngineMetrics({ engineId: this.#engineId, lag: () => this.#lagSamples() })
    this.#metrics = this.#metricsHandle.metrics
    this.#http = await startHealthServer({
      host: telemetry.httpHost,
      port: telemetry.httpPort,
      liveness: () => {
        const state = this.#state.state
        return { alive: state !== 'failed' && state !== 'stopped', detail: state }
      },
      readiness: readinessChecks({
        engine: () => ({ ok: this.#state.state === 'running', detail: this.#state.state }),
        fenced: () => ({
          ok: !this.#fenced,
          detail: this.#fenced ? 'fenced by another instance' : 'holds its transactional id',
        }),
        clickhouse: async () => {
          if (!this.#client) return { ok: false, detail: 'not connected yet' }
          await this.#client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json())
          return { ok: true, detail: 'answers' }
        },
        kafka: async () => {
          const admin = new Admin({
            clientId: `${this.#options.config.kafka.clientId}-readiness`,
            bootstrapBrokers: brokersFromEnv(this.#options.config.kafka.brokers),
            retries: 0,
            timeout: 1_000,
          })
          try {
            const metadata = await admin.metadata({ topics: [] })
            return { ok: metadata.brokers.size > 0, detail: `${metadata.brokers.size} broker(s)` }
          } finally {
            await admin.close().catch(() => {})
          }
        },
      }),
      metrics: this.#metricsHandle.handle,
    })
    this.#log.log('info', `serving /healthz, /readyz and /metrics at ${this.#http.url}`)
  }

  async #lagSamples(): Promise<Array<{ source: string; rows: number; seconds: number }>> {
    const reader = this.#reader
    if (!reader || !this.#schemas) return []
    const now = Date.now()
    const pending = new Map((await reader.lagBySource(this.#cursor)).map((l) => [l.source, l]))
    return this.#schemas.sources.map((source) => {
      const lag = pending.get(source)
      return { source, rows: lag?.rows ?? 0, seconds: lag ? Math.max(0, (now - lag.oldestMillis) / 1000) : 0 }
    })
  }

  #cursorCheckedAt = 0

  /** At most every 5 s, while idle: a regressed partition stops the engine; retired ones leave the cursor. */
  async #checkCursor(): Promise<void> {
    if (Date.now() - this.#cursorCheckedAt < 5_000) return
    this.#cursorCheckedAt = Date.now()
    const checked = await checkCursor(
      this.#client as ClickHouseClient,
      this.#options.config.capture.database,
      this.#cursor,
    )
    if (checked !== this.#cursor) {
      const gone = [...this.#cursor.keys()].filter((p) => !checked.has(p))
      this.#log.log('info', `forgetting retired changelog partitions ${gone.join(', ')}`)
      this.#cursor = checked
    }
  }

  async #measureLag(reader: ChangelogReader, idle: boolean): Promise<void> {
    if (Date.now() - this.#lagMeasuredAt < 1000) return
    this.#lagMeasuredAt = Date.now()
    this.#lagRows = idle ? 0 : await reader.countAfter(this.#cursor)
  }

  #createPublisher(): Publisher {
    const { config } = this.#options
    return createPublisher({
      logger: this.#log,
      kafka: config.kafka,
      bootstrapBrokers: brokersFromEnv(config.kafka.brokers),
      engineId: this.#engineId,
      changelog: `${config.capture.database}.changelog`,
    })
  }

  async #resetPublisher(): Promise<void> {
    const publisher = this.#publisher
    this.#publisher = undefined
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
      this.#log.log(exit.reason === 'failed' ? 'error' : 'info', `engine ${exit.reason}`, {
        rowsPublished: this.#rowsTotal,
        batches: this.#batches,
      })
      this.#finish(exit)
    })()
  }
}

/** A batch read and encoded, waiting for its transaction; `span` is its batch span, `parent` that span's context. */
interface PreparedBatch {
  rows: ChangelogRow[]
  batch: Batch
  span: Span
  parent: Context
}

/** Which dependency a retriable failure came from, for the retries metric. */
function retryReason(error: unknown): string {
  if (error instanceof CaptureError) return 'schema'
  if (error instanceof TailhouseError)
    return error.code === 'TH_CLICKHOUSE_UNREACHABLE' || error.code === 'TH_CLICKHOUSE_QUERY' ? 'clickhouse' : 'engine'
  return 'kafka'
}
