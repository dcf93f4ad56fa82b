import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../engine/errors.js'
import { type StackEndpoints, stackEnv } from './endpoints.js'
import { type JaegerServer, startJaeger } from './jaeger-server.js'
import type { SecureKafka } from './kafka-security.js'
import { type KafkaServer, startKafka } from './kafka-server.js'
import { progress } from './progress.js'
import { type RegistryServer, startRegistry } from './registry-server.js'
import { startZipkin, type ZipkinServer } from './zipkin-server.js'

export interface Stack {
  endpoints: StackEndpoints
  /** Which provider runs each service: `external` (from the environment), `local` (our processes), `testcontainers`. */
  providers: { kafka: string; jaeger: string; zipkin: string; clickhouse: string; registry: string }
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
 * Brings up Kafka, Jaeger and Zipkin for tests, the demo and benchmarks.
 *
 * - `KAFKA_BOOTSTRAP`, `OTLP_ENDPOINT` with `JAEGER_QUERY_URL`, and `ZIPKIN_URL` point at services already running:
 *   those are used as they are and never stopped; the others are started.
 * - Otherwise `TAILHOUSE_STACK` picks the provider: `local` (default) starts Kafka from Maven Central jars, Jaeger
 *   built with Go and Zipkin's jar, as child processes that cannot outlive this one; `testcontainers` runs the
 *   published images (Docker required); `auto` uses testcontainers when a Docker engine answers, else local.
 *
 * Jaeger is the trace store the tests query; Zipkin shows the same spans in a UI (Jaeger's UI has no build on any
 * registry reachable here). ClickHouse is embedded in each process unless `CLICKHOUSE_URL` is set (or
 * testcontainers runs a server). The schema registry (Apicurio, from Maven Central) is a local process unless
 * `SCHEMA_REGISTRY_URL` is set.
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
  const everyServiceGiven = external.kafkaBootstrap && external.otlpEndpoint && external.zipkinUrl
  if (provider === 'local' && !everyServiceGiven) return startLocalStack(external, options)
  const stack = await startOtherStack(provider, external, options)
  if (stack.endpoints.schemaRegistryUrl) return stack
  // Providers other than local start no registry: run Apicurio as a local process beside them.
  const runDir = mkdtempSync(join(tmpdir(), 'tailhouse-registry-'))
  let registry: RegistryServer
  try {
    registry = await startRegistry(runDir)
  } catch (error) {
    await stack.stop()
    throw error
  }
  return {
    ...stack,
    endpoints: { ...stack.endpoints, schemaRegistryUrl: registry.url },
    providers: { ...stack.providers, registry: 'local' },
    stop: async () => {
      await Promise.allSettled([registry.stop(), stack.stop()])
      rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
    },
  }
}

async function startOtherStack(
  provider: StackProvider,
  external: Partial<StackEndpoints>,
  options: StackOptions,
): Promise<Stack> {
  if (external.kafkaBootstrap && external.otlpEndpoint && external.zipkinUrl) {
    progress('stack', 'using services from the environment')
    return {
      endpoints: {
        ...external,
        kafkaBootstrap: external.kafkaBootstrap,
        otlpEndpoint: external.otlpEndpoint,
        jaegerQueryUrl: external.jaegerQueryUrl ?? '',
        zipkinUrl: external.zipkinUrl,
        schemaRegistryUrl: external.schemaRegistryUrl ?? '',
      },
      providers: {
        kafka: 'external',
        jaeger: 'external',
        zipkin: 'external',
        clickhouse: external.clickhouseUrl ? 'external' : 'embedded',
        registry: external.schemaRegistryUrl ? 'external' : '',
      },
      stop: async () => {},
    }
  }
  if (provider !== 'local' && !options.secure) {
    const { dockerAnswers, startContainerStack } = await import('./testcontainers-stack.js')
    if (provider === 'testcontainers' || (await dockerAnswers())) {
      const stack = await startContainerStack(external)
      const schemaRegistryUrl = external.schemaRegistryUrl ?? ''
      return {
        ...stack,
        endpoints: { ...stack.endpoints, schemaRegistryUrl },
        providers: { ...stack.providers, registry: schemaRegistryUrl ? 'external' : '' },
      }
    }
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
  const started: Array<KafkaServer | JaegerServer | ZipkinServer | RegistryServer> = []
  const stop = async () => {
    await Promise.allSettled(started.splice(0).map((s) => s.stop()))
    rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
  }
  // The services start in parallel: each spends most of its start waiting. Settle all before deciding, so a
  // service that comes up after another failed is still stopped.
  const [kafkaResult, jaegerResult, zipkinResult, registryResult] = await Promise.allSettled([
    external.kafkaBootstrap ? undefined : startKafka(runDir, { secure: options.secure === true }),
    external.otlpEndpoint ? undefined : startJaeger(runDir),
    external.zipkinUrl ? undefined : startZipkin(runDir),
    external.schemaRegistryUrl ? undefined : startRegistry(runDir),
  ])
  const kafka = kafkaResult.status === 'fulfilled' ? kafkaResult.value : undefined
  const jaeger = jaegerResult.status === 'fulfilled' ? jaegerResult.value : undefined
  const zipkin = zipkinResult.status === 'fulfilled' ? zipkinResult.value : undefined
  const registry = registryResult.status === 'fulfilled' ? registryResult.value : undefined
  for (const service of [kafka, jaeger, zipkin, registry]) if (service) started.push(service)
  const failure = [kafkaResult, jaegerResult, zipkinResult, registryResult].find((r) => r.status === 'rejected')
  if (failure) {
    await stop()
    throw failure.reason
  }
  return {
    endpoints: {
      kafkaBootstrap: external.kafkaBootstrap ?? kafka?.bootstrap ?? '',
      otlpEndpoint: external.otlpEndpoint ?? jaeger?.otlpEndpoint ?? '',
      jaegerQueryUrl: external.jaegerQueryUrl ?? jaeger?.queryUrl ?? '',
      zipkinUrl: external.zipkinUrl ?? zipkin?.url ?? '',
      schemaRegistryUrl: external.schemaRegistryUrl ?? registry?.url ?? '',
      clickhouseUrl: external.clickhouseUrl,
    },
    providers: {
      kafka: kafka ? 'local' : 'external',
      jaeger: jaeger ? 'local' : 'external',
      zipkin: zipkin ? 'local' : 'external',
      clickhouse: external.clickhouseUrl ? 'external' : 'embedded',
      registry: registry ? 'local' : 'external',
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
    zipkinUrl: get(stackEnv.zipkinUrl),
    clickhouseUrl: get(stackEnv.clickhouseUrl),
    schemaRegistryUrl: get(stackEnv.schemaRegistryUrl),
  }
}
