import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../engine/errors.js'
import { type StackEndpoints, stackEnv } from './endpoints.js'
import { type JaegerServer, startJaeger } from './jaeger-server.js'
import type { SecureKafka } from './kafka-security.js'
import { type KafkaServer, startKafka } from './kafka-server.js'
import { progress } from './progress.js'

export interface Stack {
  endpoints: StackEndpoints
  /** Which provider runs each service: `external` (from the environment), `local` (our processes), `testcontainers`. */
  providers: { kafka: string; jaeger: string; clickhouse: string }
  /** With `secure`: the secured broker's listeners, certificates and users; `endpoints.kafkaBootstrap` is its SASL_SSL one. */
  secureKafka?: SecureKafka
  /** Stops whatever this stack started. Safe to call twice. */
  stop(): Promise<void>
}

export type StackProvider = 'local' | 'testcontainers' | 'auto'

export interface StackOptions {
  /**
   * Run the secured Kafka (SASL_SSL, mutual TLS, ACLs: kafka-security.ts) instead of the plaintext one, always as
   * a local process (a KAFKA_BOOTSTRAP from the environment is not used). The test suite's other tests need the
   * plaintext broker; the secured tests start their own with {@link startSecuredKafka}.
   */
  secure?: boolean
}

/**
 * Brings up Kafka and Jaeger for tests, the demo and benchmarks.
 *
 * - `KAFKA_BOOTSTRAP`, or `OTLP_ENDPOINT` with `JAEGER_QUERY_URL`, point at services already running: those are
 *   used as they are and never stopped.
 * - Otherwise `TAILHOUSE_STACK` picks the provider: `local` (default) starts Kafka from Maven Central jars and
 *   Jaeger built with Go, as child processes that cannot outlive this one; `testcontainers` runs the published
 *   images (Docker required); `auto` uses testcontainers when a Docker engine answers, else local.
 *
 * ClickHouse is embedded in each process unless `CLICKHOUSE_URL` is set (or testcontainers runs a server).
 */
export async function startStack(
  provider: StackProvider = providerFromEnv(),
  options: StackOptions = {},
): Promise<Stack> {
  const fromEnv = externalEndpoints()
  const external = options.secure ? { ...fromEnv, kafkaBootstrap: undefined } : fromEnv
  if (options.secure && provider === 'testcontainers') {
    throw new ConfigError(stackEnv.provider, 'the secured Kafka runs as a local process only; unset it or set local')
  }
  if (external.kafkaBootstrap && external.otlpEndpoint) {
    progress('stack', 'using services from the environment')
    return {
      endpoints: {
        ...external,
        kafkaBootstrap: external.kafkaBootstrap,
        otlpEndpoint: external.otlpEndpoint,
        jaegerQueryUrl: external.jaegerQueryUrl ?? '',
      },
      providers: {
        kafka: 'external',
        jaeger: 'external',
        clickhouse: external.clickhouseUrl ? 'external' : 'embedded',
      },
      stop: async () => {},
    }
  }
  if (provider !== 'local' && !options.secure) {
    const { dockerAnswers, startContainerStack } = await import('./testcontainers-stack.js')
    if (provider === 'testcontainers' || (await dockerAnswers())) return startContainerStack(external)
    progress('stack', 'no Docker engine answers; starting local processes')
  }
  return startLocalStack(external, options)
}

/**
 * A secured broker of its own (SASL_SSL, mutual TLS, a wrong-host listener, SCRAM users, ACLs), for the tests
 * that need one; about 10 s to start. `stop()` also removes its data and certificates.
 */
export async function startSecuredKafka(): Promise<KafkaServer & { secure: SecureKafka }> {
  const runDir = mkdtempSync(join(tmpdir(), 'tailhouse-secure-'))
  try {
    const server = await startKafka(runDir, { secure: true })
    const secure = server.secure as SecureKafka
    return {
      ...server,
      secure,
      stop: async () => {
        await server.stop()
        rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
      },
    }
  } catch (error) {
    rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
    throw error
  }
}

async function startLocalStack(external: Partial<StackEndpoints>, options: StackOptions): Promise<Stack> {
  const runDir = mkdtempSync(join(tmpdir(), 'tailhouse-stack-'))
  const started: Array<KafkaServer | JaegerServer> = []
  const stop = async () => {
    await Promise.allSettled(started.splice(0).map((s) => s.stop()))
    rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
  }
  // Kafka and Jaeger start in parallel: both spend most of their start waiting. Settle both before deciding,
  // so a service that comes up after the other failed is still stopped.
  const [kafkaResult, jaegerResult] = await Promise.allSettled([
    external.kafkaBootstrap ? undefined : startKafka(runDir, { secure: options.secure === true }),
    external.otlpEndpoint ? undefined : startJaeger(runDir),
  ])
  const kafka = kafkaResult.status === 'fulfilled' ? kafkaResult.value : undefined
  const jaeger = jaegerResult.status === 'fulfilled' ? jaegerResult.value : undefined
  for (const service of [kafka, jaeger]) if (service) started.push(service)
  const failure = [kafkaResult, jaegerResult].find((r) => r.status === 'rejected')
  if (failure) {
    await stop()
    throw failure.reason
  }
  return {
    endpoints: {
      kafkaBootstrap: external.kafkaBootstrap ?? kafka?.bootstrap ?? '',
      otlpEndpoint: external.otlpEndpoint ?? jaeger?.otlpEndpoint ?? '',
      jaegerQueryUrl: external.jaegerQueryUrl ?? jaeger?.queryUrl ?? '',
      clickhouseUrl: external.clickhouseUrl,
    },
    providers: {
      kafka: kafka ? 'local' : 'external',
      jaeger: jaeger ? 'local' : 'external',
      clickhouse: external.clickhouseUrl ? 'external' : 'embedded',
    },
    ...(kafka?.secure ? { secureKafka: kafka.secure } : {}),
    stop,
  }
}

function providerFromEnv(): StackProvider {
  const value = process.env[stackEnv.provider] ?? 'local'
  if (value === 'local' || value === 'testcontainers' || value === 'auto') return value
  throw new ConfigError(stackEnv.provider, `must be local, testcontainers or auto, got "${value}"`)
}

/** Reads the endpoint variables; Jaeger's two must come together. */
function externalEndpoints(): Partial<StackEndpoints> {
  const get = (name: string) => process.env[name] || undefined
  const otlpEndpoint = get(stackEnv.otlpEndpoint)
  const jaegerQueryUrl = get(stackEnv.jaegerQueryUrl)
  if (Boolean(otlpEndpoint) !== Boolean(jaegerQueryUrl)) {
    const missing = otlpEndpoint ? stackEnv.jaegerQueryUrl : stackEnv.otlpEndpoint
    throw new ConfigError(
      missing,
      `must be set together with ${otlpEndpoint ? stackEnv.otlpEndpoint : stackEnv.jaegerQueryUrl} (the tests read back what they export)`,
    )
  }
  return {
    kafkaBootstrap: get(stackEnv.kafkaBootstrap),
    otlpEndpoint,
    jaegerQueryUrl,
    clickhouseUrl: get(stackEnv.clickhouseUrl),
  }
}
