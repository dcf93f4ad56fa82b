import { parseArgs } from 'node:util'
import { kafkaDefaults, telemetryDefaults } from '../config/config.js'
import { TraceLookupError, UsageError } from '../errors.js'
import { kafkaClientOptions } from '../kafka/connection.js'
import { readMessage } from '../kafka/read-message.js'
import { spanNames } from '../telemetry/span-names.js'
import { defaultJaeger, traceStore } from '../trace/choose-store.js'
import { batchQueryIds, messageQueryId, queryIdsAttribute } from '../trace/query-ids.js'
import { renderTrace } from '../trace/render-trace.js'
import type { TraceSpan } from '../trace/trace-store.js'
import type { Command } from './command.js'
import { optionalConfig } from './optional-config.js'
import { usageErrors } from './parse-flags.js'
import { describeQueryLog } from './trace-query-log.js'
import { configFlags } from './with-config.js'

export const traceCommand: Command = {
  name: 'trace',
  summary: "show a message's batch trace: span tree, durations, the INSERTs' query ids and query_log",
  help: `Usage: tailhouse trace --topic <t> --partition <p> --offset <o> [options]
       tailhouse trace --query-id <id> [options]

Finds the trace of the batch that published a Kafka message, or that published the rows of an INSERT, fetches
it from the trace store's query API and draws its span tree with start times, durations and attributes. Then
lists the batch's INSERT query ids (span attribute ${queryIdsAttribute}) and, where ClickHouse has
system.query_log, those INSERTs' entries; embedded ClickHouse (chDB) has no query log, which is said.

From a message: reads it from Kafka; its traceparent header names the batch's publish span. A message without
one was published with tracing off (telemetry.tracing) or in a batch not sampled (telemetry.samplingRatio).
From a query id: searches the batch traces of the last --lookback for one whose ${queryIdsAttribute} has it
(an INSERT larger than a batch has several).

Options:
  --topic <t> --partition <p> --offset <o>
                       the message
  --query-id <id>      an INSERT's query_id (the message envelope's query_id)
  --jaeger <url>       Jaeger's query API (default: JAEGER_QUERY_URL, else ${defaultJaeger})
  --zipkin <url>       Zipkin instead (default: ZIPKIN_URL when JAEGER_QUERY_URL is unset)
  --brokers <list>     Kafka bootstrap host:port,… (default: KAFKA_BOOTSTRAP, else the config's kafka.brokers;
                       SASL and TLS as the engine's: the config's kafka.sasl/tls, KAFKA_SASL_*, KAFKA_TLS_*)
  --service <name>     service.name of the engine's spans (default: the config's telemetry.serviceName, tailhouse)
  --lookback <d>       how far back --query-id searches: 30m, 2h, 1d, … (default 1h)
  --no-query-log       do not look the INSERTs up in ClickHouse
${configFlagsHelp()}`,
  async run(args) {
    const { values } = usageErrors('trace', () =>
      parseArgs({
        args,
        options: {
          ...configFlags,
          topic: { type: 'string' },
          partition: { type: 'string' },
          offset: { type: 'string' },
          'query-id': { type: 'string' },
          jaeger: { type: 'string' },
          zipkin: { type: 'string' },
          brokers: { type: 'string' },
          service: { type: 'string' },
          lookback: { type: 'string' },
          'no-query-log': { type: 'boolean' },
        },
        strict: true,
      }),
    )
    const byMessage = values.topic !== undefined || values.partition !== undefined || values.offset !== undefined
    if (byMessage === (values['query-id'] !== undefined))
      throw new UsageError(
        'trace: give either --topic, --partition and --offset, or --query-id; see tailhouse trace --help',
      )
    const loaded = optionalConfig(values.config)
    const store = traceStore(values.jaeger, values.zipkin)
    const out = (text = '') => process.stdout.write(`${text}\n`)

    let traces: TraceSpan[][]
    let queryIdOfInterest: string | undefined
    let mark: { spanId: string; note: string } | undefined
    if (byMessage) {
      const topic = values.topic
      if (!topic || values.partition === undefined || values.offset === undefined)
        throw new UsageError('trace: a message needs --topic, --partition and --offset')
      const partition = wholeNumber('--partition', values.partition)
      const offset = BigInt(wholeNumber('--offset', values.offset))
      // Brokers, SASL and TLS as the engine connects (config, then KAFKA_* variables); --brokers on top.
      const connection = kafkaClientOptions(loaded?.config.kafka ?? kafkaDefaults)
      if (values.brokers) {
        connection.bootstrapBrokers = values.brokers.split(',').map((b) => b.trim())
        const bad = connection.bootstrapBrokers.find((b) => !/^[^\s:]+:\d+$/.test(b))
        if (bad !== undefined) throw new UsageError(`trace: --brokers takes host:port,…; "${bad}" is not host:port`)
      }
      const message = await readMessage({ topic, partition, offset }, { connection })
      queryIdOfInterest = messageQueryId(message.value, message.headers)
      const traceparent = message.headers.find(([name]) => name === 'traceparent')?.[1]?.toString('utf8')
      const where = `${topic}/${partition}@${offset}`
      out(
        `message ${where}${message.key ? ` key ${message.key.toString('utf8')}` : ''}` +
          `${queryIdOfInterest ? `, INSERT query_id ${queryIdOfInterest}` : ''}`,
      )
      const parsed = traceparent ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent) : null
      if (!parsed) {
        throw new TraceLookupError(
          `${where} has ${traceparent ? `a malformed traceparent "${traceparent}"` : 'no traceparent header'}: ` +
            'the engine published it with tracing off (telemetry.tracing) or in a batch not sampled ' +
            `(telemetry.samplingRatio)${queryIdOfInterest ? `; its INSERT's query_id is ${queryIdOfInterest}` : ''}`,
        )
      }
      const [, traceId, spanId] = parsed as unknown as [string, string, string]
      mark = { spanId, note: "this message's traceparent" }
      const spans = await store.trace(traceId)
      if (!spans) {
        throw new TraceLookupError(
          `${store.describe} has no trace ${traceId} (yet: spans are exported every few seconds; or the engine ` +
            'exports to another store, or the store has dropped it)',
        )
      }
      traces = [spans]
    } else {
      queryIdOfInterest = values['query-id'] as string
      const service = values.service ?? loaded?.config.telemetry.serviceName ?? telemetryDefaults.serviceName
      const lookbackMs = duration(values.lookback ?? '1h')
      const found = await store.search({ service, spanName: spanNames.batch, lookbackMs, limit: 1000 })
      traces = found.filter((spans) =>
        spans.some(
          (s) => s.name === spanNames.batch && batchQueryIds(s.attributes).includes(queryIdOfInterest as string),
        ),
      )
      if (traces.length === 0) {
        throw new TraceLookupError(
          `no ${spanNames.batch} trace of service ${service} in the last ${values.lookback ?? '1h'} in ` +
            `${store.describe} lists query id ${queryIdOfInterest} in ${queryIdsAttribute} (of ${found.length} searched)`,
        )
      }
      traces.sort((a, b) => Math.min(...a.map((s) => s.startMicros)) - Math.min(...b.map((s) => s.startMicros)))
      out(`INSERT ${queryIdOfInterest}: ${traces.length} batch trace(s)`)
    }

    const allQueryIds = new Set<string>()
    for (const spans of traces) {
      const root = spans.find((s) => s.name === spanNames.batch)
      const total =
        Math.max(...spans.map((s) => s.startMicros + s.durationMicros)) - Math.min(...spans.map((s) => s.startMicros))
      out()
      out(
        `trace ${spans[0]?.traceId} in ${store.describe}: ${spans.length} spans, ${(total / 1000).toFixed(1)} ms` +
          `${root ? `, service ${root.service}` : ''}`,
      )
      out()
      out(renderTrace(spans, { mark }))
      const ids = root ? batchQueryIds(root.attributes) : []
      for (const id of ids) allQueryIds.add(id)
      out()
      out(
        ids.length === 0
          ? `no INSERT query ids on the batch span (${queryIdsAttribute})`
          : `INSERT query ids of this batch (${queryIdsAttribute}; system.query_log's query_id):\n${ids
              .map(
                (id) =>
                  `  ${id}${id === queryIdOfInterest ? `  <- ${byMessage ? "this message's" : 'the one asked for'}` : ''}`,
              )
              .join('\n')}`,
      )
    }
    if (!values['no-query-log'] && allQueryIds.size > 0) {
      out()
      out(await describeQueryLog(loaded?.config, [...allQueryIds]))
    }
    return 0
  },
}

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`trace: ${flag} takes a whole number, got "${value}"`)
  return Number(value)
}

/** "30m", "2h", "1d", "90s" → ms. */
function duration(value: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(value)
  if (!match) throw new UsageError(`trace: --lookback takes a duration such as 30m, 2h or 1d, got "${value}"`)
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd']
  return Number(match[1]) * unit
}

function configFlagsHelp(): string {
  return '  -c, --config <file>  config file (optional: for kafka, telemetry.serviceName and ClickHouse)'
}
