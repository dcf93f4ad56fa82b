import { type Context, type Span, SpanKind } from '@opentelemetry/api'
import type { Logger } from '../log.js'
import type { BatchObservation, LoopObserver } from '../loop/loop-parts.js'
import { DeadLetterLog } from './dead-letter-log.js'
import type { EngineMetrics } from './engine-metrics.js'
import { spanNames } from './span-names.js'
import { failSpan, type Tracing, traceparentOf, withSpan } from './tracing.js'

export interface LoopTelemetryOptions {
  tracing: Tracing
  /** Live metrics (they may be swapped for no-ops): read on every batch. */
  metrics: () => EngineMetrics
  logger: Logger
  engineId: string
  /** The capture database, for `db.namespace`. */
  database: string
  /** Topic partitions, for `messaging.kafka.destination.partitions`. */
  partitions: number
  /** The transactional id, or '' at least once. */
  transactionalId: string
}

/**
 * How the loop's batches show up (ARCHITECTURE.md, "Following your data"): one trace per batch — `tailhouse.batch`
 * with children poll, encode, publish (PRODUCER, its traceparent on every message) and checkpoint — the batch
 * metrics, and a debug log line per committed batch. Attributes that cost a pass over the batch are computed only for
 * a recorded (enabled, sampled) trace.
 */
export function loopTelemetry(options: LoopTelemetryOptions): LoopObserver & { readonly deadLettered: bigint } {
  const { tracer } = options.tracing
  const deadLetters = new DeadLetterLog(options.logger)
  let deadLettered = 0n
  return {
    /** Rows dead-lettered by this observer's loop (committed). */
    get deadLettered() {
      return deadLettered
    },
    idle() {},
    start(readStartedAt, rows): BatchObservation {
      const span = tracer.startSpan(spanNames.batch, {
        startTime: readStartedAt,
        attributes: { 'tailhouse.engine_id': options.engineId },
      })
      const parent: Context = withSpan(span)
      const traced = span.isRecording()
      tracer
        .startSpan(
          spanNames.poll,
          {
            kind: SpanKind.CLIENT,
            startTime: readStartedAt,
            attributes: {
              'db.system.name': 'clickhouse',
              'db.namespace': options.database,
              'db.collection.name': traced ? [...new Set(rows.map((r) => r.source))].join(',') : '',
              'db.operation.name': 'SELECT',
              'db.response.returned_rows': rows.length,
            },
          },
          parent,
        )
        .end()
      const encodeSpan = tracer.startSpan(spanNames.encode, {}, parent)
      let publishSpan: Span | undefined
      return {
        encoded(batch) {
          encodeSpan.setAttributes({
            'tailhouse.rows': batch.rows,
            'messaging.batch.message_count': batch.messages.length,
          })
          encodeSpan.end()
          if (traced) {
            span.setAttributes({
              'tailhouse.rows': batch.rows,
              'tailhouse.payload_bytes': batch.payloadBytes,
              // From a message back to its INSERT: system.query_log WHERE query_id IN (…)
              'tailhouse.query_ids': [...batch.queryIds].slice(0, 1000),
              'tailhouse.sources': [...batch.rowsBySource.keys()],
            })
          }
        },
        publishing(batch) {
          const topics = [...new Set(batch.messages.map((m) => m.topic))]
          publishSpan = tracer.startSpan(
            spanNames.publish,
            {
              kind: SpanKind.PRODUCER,
              attributes: {
                'messaging.system': 'kafka',
                'messaging.operation.type': 'send',
                'messaging.operation.name': 'publish',
                'messaging.destination.name': topics.join(','),
                'messaging.batch.message_count': batch.messages.length,
                'messaging.kafka.destination.partitions': options.partitions,
                'tailhouse.transactional_id': options.transactionalId,
                ...(traced ? { 'tailhouse.message_bytes': batch.payloadBytes } : {}),
              },
            },
            parent,
          )
          return traceparentOf(publishSpan)
        },
        committed(batch, committed, committedAt) {
          publishSpan?.end()
          tracer.startSpan(spanNames.checkpoint, {}, parent).end()
          span.end()
          options.metrics().recordBatch({
            rowsBySource: batch.rowsBySource,
            deadLetteredBySource: batch.deadLettered.bySource,
            bytes: batch.payloadBytes,
            commitMs: committed.commitMs,
            committedAt,
          })
          if (batch.deadLettered.bySource.size > 0) {
            let total = 0
            for (const n of batch.deadLettered.bySource.values()) total += n
            deadLetters.report(batch.deadLettered.rows, total)
            deadLettered += BigInt(total)
          }
          options.logger.log('debug', 'published batch', {
            rows: batch.rows,
            bytes: batch.payloadBytes,
            commitMs: Math.round(committed.commitMs),
          })
        },
        failed(error) {
          if (encodeSpan.isRecording() && publishSpan === undefined) failSpan(encodeSpan, error)
          if (publishSpan) failSpan(publishSpan, error)
          failSpan(span, error)
        },
        dropped() {
          encodeSpan.end()
          span.setAttribute('tailhouse.dropped', true).end()
        },
      }
    },
  }
}
