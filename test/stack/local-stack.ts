import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../engine/errors.js'
import { type StackEndpoints, stackEnv } from './endpoints.js'
import { type JaegerServer, startJaeger } from './jaeger-server.js'
import { type KafkaServer, startKafka } from './kafka-server.js'
import { progress } from './progress.js'
import { type RegistryServer, startRegistry } from './registry-server.js'

export interface Stack {
  endpoints: StackEndpoints
  /** Which provider runs each service: `external` (from the environment), `local` (our processes), `testcontainers`. */
  providers: { kafka: string; jaeger: string; clickhouse: string; registry: string }
  /** Stops whatever this stack started. Safe to call twice. */
  stop(): Promise<void>
}

export type StackProvider = 'local' | 'testcontainers' | 'auto'

/**
 * Brings up Kafka and Jaeger for tests, the demo and benchmarks.
 *
 * - `KAFKA_BOOTSTRAP`, or `OTLP_ENDPOINT` with `JAEGER_QUERY_URL`, point at services already running: those are
 *   used as they are and never stopped.
 * - Otherwise `TAILHOUSE_STACK` picks the provider: `local` (default) starts Kafka from Maven Central jars and
 *   Jaeger built with Go, as child processes that cannot outlive this one; `testcontainers` runs the published
 *   images (Docker required); `auto` uses testcontainers when a Docker engine answers, else local.
 *
 * ClickHouse is embedded in each process unless `CLICKHOUSE_URL` is set (or testcontainers runs a server). The
 * schema registry (Apicurio, from Maven Central) is a local process unless `SCHEMA_REGISTRY_URL` is set.
 */
export async function startStack(provider: StackProvider = providerFromEnv()): Promise<Stack> {
  const external = externalEndpoints()
  if (provider === 'local' && !(external.kafkaBootstrap && external.otlpEndpoint)) return startLocalStack(external)
  const stack = await startOtherStack(provider, external)
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
    endpoints: { ...stack.endpoints, schemaRegistryUrl: registry.url },
    providers: { ...stack.providers, registry: 'local' },
    stop: async () => {
      await Promise.allSettled([registry.stop(), stack.stop()])
      rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
    },
  }
}

async function startOtherStack(provider: StackProvider, external: Partial<StackEndpoints>): Promise<Stack> {
  if (external.kafkaBootstrap && external.otlpEndpoint) {
    progress('stack', 'using services from the environment')
    return {
      endpoints: {
        ...external,
        kafkaBootstrap: external.kafkaBootstrap,
        otlpEndpoint: external.otlpEndpoint,
        jaegerQueryUrl: external.jaegerQueryUrl ?? '',
        schemaRegistryUrl: external.schemaRegistryUrl ?? '',
      },
      providers: {
        kafka: 'external',
        jaeger: 'external',
        clickhouse: external.clickhouseUrl ? 'external' : 'embedded',
        registry: 'external',
      },
      stop: async () => {},
    }
  }
  if (provider !== 'local') {
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
  return startLocalStack(external)
}

async function startLocalStack(external: Partial<StackEndpoints>): Promise<Stack> {
  const runDir = mkdtempSync(join(tmpdir(), 'tailhouse-stack-'))
  const started: Array<KafkaServer | JaegerServer | RegistryServer> = []
  const stop = async () => {
    await Promise.allSettled(started.splice(0).map((s) => s.stop()))
    rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
  }
  // Kafka, Jaeger and the registry start in parallel: each spends most of its start waiting. Settle all before
  // deciding, so a service that comes up after another failed is still stopped.
  const [kafkaResult, jaegerResult, registryResult] = await Promise.allSettled([
    external.kafkaBootstrap ? undefined : startKafka(runDir),
    external.otlpEndpoint ? undefined : startJaeger(runDir),
    external.schemaRegistryUrl ? undefined : startRegistry(runDir),
  ])
  const kafka = kafkaResult.status === 'fulfilled' ? kafkaResult.value : undefined
  const jaeger = jaegerResult.status === 'fulfilled' ? jaegerResult.value : undefined
  const registry = registryResult.status === 'fulfilled' ? registryResult.value : undefined
  for (const service of [kafka, jaeger, registry]) if (service) started.push(service)
  const failure = [kafkaResult, jaegerResult, registryResult].find((r) => r.status === 'rejected')
  if (failure) {
    await stop()
    throw failure.reason
  }
  return {
    endpoints: {
      kafkaBootstrap: external.kafkaBootstrap ?? kafka?.bootstrap ?? '',
      otlpEndpoint: external.otlpEndpoint ?? jaeger?.otlpEndpoint ?? '',
      jaegerQueryUrl: external.jaegerQueryUrl ?? jaeger?.queryUrl ?? '',
      schemaRegistryUrl: external.schemaRegistryUrl ?? registry?.url ?? '',
      clickhouseUrl: external.clickhouseUrl,
    },
    providers: {
      kafka: kafka ? 'local' : 'external',
      jaeger: jaeger ? 'local' : 'external',
      clickhouse: external.clickhouseUrl ? 'external' : 'embedded',
      registry: registry ? 'local' : 'external',
    },
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
    schemaRegistryUrl: get(stackEnv.schemaRegistryUrl),
  }
}
