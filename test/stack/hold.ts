import type { Stack } from './local-stack.js'
import { progress } from './progress.js'

/** The endpoints as lines a user can paste into a shell to reuse this stack. */
export function describeStack(stack: Stack): string {
  const e = stack.endpoints
  const p = stack.providers
  return [
    `Kafka        ${e.kafkaBootstrap}  (${p.kafka})`,
    `OTLP/HTTP    ${e.otlpEndpoint}  (${p.jaeger})`,
    `Jaeger query ${e.jaegerQueryUrl}  (${p.jaeger})`,
    `Registry     ${e.schemaRegistryUrl}  (${p.registry})`,
    `ClickHouse   ${e.clickhouseUrl ?? 'embedded (chDB) in each process'}  (${p.clickhouse})`,
    '',
    'To reuse these from another shell (tests, demo):',
    `  export KAFKA_BOOTSTRAP=${e.kafkaBootstrap} OTLP_ENDPOINT=${e.otlpEndpoint} JAEGER_QUERY_URL=${e.jaegerQueryUrl} SCHEMA_REGISTRY_URL=${e.schemaRegistryUrl}${e.clickhouseUrl ? ` CLICKHOUSE_URL=${e.clickhouseUrl}` : ''}`,
  ].join('\n')
}

/**
 * Keeps the process alive until SIGINT/SIGTERM (or `maxMs`), then stops the stack. A second Ctrl-C exits at once;
 * the services still die with us (see service-process.ts).
 */
export function holdUntilSignal(stack: Stack, maxMs?: number): Promise<void> {
  return new Promise((resolveHold) => {
    let stopping = false
    const timer = maxMs === undefined ? setInterval(() => {}, 1 << 30) : setTimeout(() => finish('time is up'), maxMs)
    const finish = async (why: string) => {
      if (stopping) {
        process.exit(130)
      }
      stopping = true
      progress('stack', `${why}; stopping`)
      clearTimeout(timer)
      await stack.stop()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolveHold()
    }
    const onSignal = (signal: NodeJS.Signals) => void finish(`got ${signal}`)
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    if (maxMs === undefined) progress('stack', 'up; press Ctrl-C to stop')
  })
}
