import type { SecureKafka } from './kafka-security.js'
import type { Stack } from './local-stack.js'
import { progress } from './progress.js'

/** The endpoints as lines a user can paste into a shell to reuse this stack. */
export function describeStack(stack: Stack): string {
  if (stack.secureKafka) return describeSecuredStack(stack, stack.secureKafka)
  const e = stack.endpoints
  const p = stack.providers
  return [
    `Kafka        ${e.kafkaBootstrap}  (${p.kafka})`,
    `OTLP/HTTP    ${e.otlpEndpoint}  (${p.jaeger})`,
    `Jaeger query ${e.jaegerQueryUrl}  (${p.jaeger})`,
    `Zipkin       ${e.zipkinUrl}  (${p.zipkin}; trace UI at ${e.zipkinUrl}/zipkin/, spans to ${e.zipkinUrl}/api/v2/spans)`,
    `Registry     ${e.schemaRegistryUrl}  (${p.registry})`,
    `ClickHouse   ${e.clickhouseUrl ?? 'embedded (chDB) in each process'}  (${p.clickhouse})`,
    '',
    'To reuse these from another shell (tests, demo):',
    `  export KAFKA_BOOTSTRAP=${e.kafkaBootstrap} OTLP_ENDPOINT=${e.otlpEndpoint} JAEGER_QUERY_URL=${e.jaegerQueryUrl} ZIPKIN_URL=${e.zipkinUrl} SCHEMA_REGISTRY_URL=${e.schemaRegistryUrl}${e.clickhouseUrl ? ` CLICKHOUSE_URL=${e.clickhouseUrl}` : ''}`,
  ].join('\n')
}

/**
 * The secured broker's listeners and users, and the variables that point tailhouse at it (as the super user;
 * the least-privilege user has no ACLs until they are granted, README "Security").
 */
function describeSecuredStack(stack: Stack, secure: SecureKafka): string {
  const e = stack.endpoints
  const { admin, scramUser, plainUser, certificates } = secure
  return [
    `Kafka        ${secure.bootstrap}  (local, secured: SASL_SSL with PLAIN, SCRAM-SHA-256/512, OAUTHBEARER; ACLs)`,
    `             ${secure.mtlsBootstrap}  mutual TLS (client certificate ${certificates.client.cert}, key ${certificates.client.key}; principal User:${secure.mtlsUser})`,
    `             ${secure.wrongHostBootstrap}  presents a certificate for wrong.example (to see hostname verification refuse it)`,
    `CA bundle    ${certificates.ca}`,
    `Users        ${admin.username} / ${admin.password}  super user, SCRAM-SHA-512`,
    `             ${scramUser.username} / ${scramUser.password}  SCRAM-SHA-256 and -512, no ACLs yet`,
    `             ${plainUser.username} / ${plainUser.password}  PLAIN, no ACLs yet`,
    `OTLP/HTTP    ${e.otlpEndpoint}  (${stack.providers.jaeger})`,
    `Jaeger query ${e.jaegerQueryUrl}  (${stack.providers.jaeger})`,
    '',
    'To run tailhouse (migrate, start) against it from another shell:',
    `  export KAFKA_BOOTSTRAP=${secure.bootstrap} KAFKA_SASL_MECHANISM=SCRAM-SHA-512 KAFKA_SASL_USERNAME=${admin.username} KAFKA_SASL_PASSWORD=${admin.password} KAFKA_TLS_CA_FILE=${certificates.ca} OTLP_ENDPOINT=${e.otlpEndpoint} JAEGER_QUERY_URL=${e.jaegerQueryUrl}`,
    '(npm test needs the plaintext stack: do not export these there; the secured tests start their own broker.)',
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
