import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { kafkaVersion } from '../stack/kafka-install.js'
import { cacheDir, repoRoot } from '../stack/paths.js'

export interface Lookout {
  /** True while the stack and the engine still run (--keep). */
  live: boolean
  zipkinUrl: string
  jaegerQueryUrl: string
  /** The engine's HTTP endpoints, e.g. http://127.0.0.1:40123; undefined when it served none. */
  engineHttpUrl: string | undefined
  kafkaBootstrap: string
  topic: string
  serviceName: string
  /** A message this run published, and its batch's trace id when it carries a traceparent. */
  message: { partition: number; offset: bigint; traceId: string | undefined } | undefined
  /** The run's directory: config file, embedded ClickHouse, schemas. */
  runDir: string
}

/**
 * The demo's last words: where to see what it did — the batch traces, the metrics, the topic with a command that
 * reads it read_committed, and `tailhouse trace` / `tailhouse sql` commands ready to paste.
 */
export function whereToLook(l: Lookout): string {
  if (!l.live) {
    return [
      'Where to look: `npm run demo -- --keep` keeps the stack, ClickHouse and the engine up and lists their',
      "addresses here: the batch traces in a trace UI (Zipkin here; Jaeger's with docker/), the engine's /metrics,",
      'the topic with a read_committed console consumer command, `tailhouse trace` for one of its messages, and',
      '`tailhouse sql` to insert more rows through the running engine.',
    ].join('\n')
  }
  const libs = join(cacheDir, `kafka-${kafkaVersion}`, 'libs')
  const dir = relative(process.cwd(), l.runDir) || '.'
  const consumer = existsSync(libs)
    ? `java -cp '${libs}/*' org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server ${l.kafkaBootstrap} ` +
      `--topic ${l.topic} --from-beginning --isolation-level read_committed --max-messages 5 ` +
      '--property print.partition=true --property print.offset=true --property print.key=true ' +
      '--property print.headers=true --property print.value=false'
    : '(the Kafka jars are not in the cache; npm run stack -- install fetches them)'
  const cli = existsSync(join(repoRoot, 'dist', 'engine', 'main.js'))
    ? 'npx tailhouse'
    : 'npx tailhouse  # after npm run build'
  const traceLink = l.message?.traceId ? `${l.zipkinUrl}/zipkin/traces/${l.message.traceId}` : undefined
  const lines = [
    'Where to look (the stack, ClickHouse and the engine keep running until Ctrl-C):',
    `  trace UI (Zipkin)  ${traceLink ?? `${l.zipkinUrl}/zipkin/`}${traceLink ? '  (one batch of this run)' : ''}`,
    `                     every batch: ${l.zipkinUrl}/zipkin/?serviceName=${l.serviceName}`,
    `  Jaeger (API)       ${l.jaegerQueryUrl}/api/traces?service=${l.serviceName}&limit=5  (its UI comes with docker/)`,
    `  metrics            ${l.engineHttpUrl ? `${l.engineHttpUrl}/metrics  (also /healthz, /readyz)` : 'not served'}`,
    `  topic              ${l.topic} on Kafka ${l.kafkaBootstrap}; its first messages, read_committed:`,
    `    ${consumer}`,
  ]
  if (l.message) {
    lines.push(
      `  one message's batch trace, drawn in the terminal:`,
      `    cd ${dir} && ${cli} trace --topic ${l.topic} --partition ${l.message.partition} --offset ${l.message.offset} --jaeger ${l.jaegerQueryUrl}`,
    )
  }
  lines.push(
    '  more rows, through the running engine (embedded ClickHouse is shared with the CLI):',
    `    cd ${dir} && ${cli} sql "INSERT INTO shop.orders SETTINGS insert_deduplication_token = 'more-1' VALUES (1000000001, 7, 12.5, 'new', '2026-01-01 12:00:00', ['sku-1'])" && ${cli} status`,
  )
  return lines.join('\n')
}
