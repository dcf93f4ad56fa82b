import { existsSync } from 'node:fs'
import { StackError } from '../../engine/errors.js'
import type { StackEndpoints } from './endpoints.js'
import { freePort } from './free-port.js'
import type { Stack } from './local-stack.js'
import { progress } from './progress.js'

/**
 * The optional Docker provider (testcontainers 11.x): the published images of Kafka, Jaeger, Zipkin and a ClickHouse
 * server, for machines with a Docker engine. Never required; the local provider needs no Docker. Ryuk, the
 * testcontainers reaper, removes the containers if this process dies.
 */
const images = {
  kafka: 'apache/kafka:4.1.1',
  jaeger: 'jaegertracing/jaeger:2.13.0',
  zipkin: 'openzipkin/zipkin:3.6.1',
  clickhouse: 'clickhouse/clickhouse-server:25.8',
} as const

/** True when a Docker engine answers (checked without pulling anything). */
export async function dockerAnswers(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}

export async function startContainerStack(external: Partial<StackEndpoints>): Promise<Stack> {
  if (!(await dockerAnswers())) {
    throw new StackError('testcontainers', 'no Docker engine answers; unset TAILHOUSE_STACK to use the local provider')
  }
  const { GenericContainer, Wait } = await import('testcontainers')
  const started: Array<{ stop(): Promise<unknown> }> = []
  const stop = async () => {
    await Promise.allSettled(started.splice(0).map((c) => c.stop()))
  }
  try {
    let kafkaBootstrap = external.kafkaBootstrap
    if (!kafkaBootstrap) {
      // The advertised listener must carry the host port, so it is chosen before the container starts.
      const port = await freePort()
      progress('kafka', `starting ${images.kafka}`)
      const kafka = await new GenericContainer(images.kafka)
        .withExposedPorts({ container: 9094, host: port })
        .withEnvironment({
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
          KAFKA_LISTENERS: 'INTERNAL://:9092,CONTROLLER://:9093,EXTERNAL://:9094',
          KAFKA_ADVERTISED_LISTENERS: `INTERNAL://localhost:9092,EXTERNAL://127.0.0.1:${port}`,
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT',
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        })
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .withStartupTimeout(120_000)
        .start()
      started.push(kafka)
      kafkaBootstrap = `127.0.0.1:${port}`
    }
    let { otlpEndpoint, jaegerQueryUrl } = external
    if (!otlpEndpoint) {
      progress('jaeger', `starting ${images.jaeger}`)
      const jaeger = await new GenericContainer(images.jaeger)
        .withExposedPorts(4318, 16686)
        .withWaitStrategy(Wait.forHttp('/api/services', 16686))
        .start()
      started.push(jaeger)
      otlpEndpoint = `http://${jaeger.getHost()}:${jaeger.getMappedPort(4318)}`
      jaegerQueryUrl = `http://${jaeger.getHost()}:${jaeger.getMappedPort(16686)}`
    }
    let zipkinUrl = external.zipkinUrl
    if (!zipkinUrl) {
      progress('zipkin', `starting ${images.zipkin}`)
      const zipkin = await new GenericContainer(images.zipkin)
        .withExposedPorts(9411)
        .withWaitStrategy(Wait.forHttp('/health', 9411))
        .start()
      started.push(zipkin)
      zipkinUrl = `http://${zipkin.getHost()}:${zipkin.getMappedPort(9411)}`
    }
    let clickhouseUrl = external.clickhouseUrl
    if (!clickhouseUrl) {
      progress('clickhouse', `starting ${images.clickhouse}`)
      const clickhouse = await new GenericContainer(images.clickhouse)
        .withExposedPorts(8123)
        .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
        .withWaitStrategy(Wait.forHttp('/ping', 8123))
        .start()
      started.push(clickhouse)
      clickhouseUrl = `http://${clickhouse.getHost()}:${clickhouse.getMappedPort(8123)}`
    }
    return {
      // No registry container: local-stack.ts runs Apicurio beside the containers (or uses SCHEMA_REGISTRY_URL).
      endpoints: {
        kafkaBootstrap,
        otlpEndpoint,
        jaegerQueryUrl: jaegerQueryUrl ?? '',
        zipkinUrl,
        clickhouseUrl,
        schemaRegistryUrl: '',
      },
      providers: {
        kafka: external.kafkaBootstrap ? 'external' : 'testcontainers',
        jaeger: external.otlpEndpoint ? 'external' : 'testcontainers',
        zipkin: external.zipkinUrl ? 'external' : 'testcontainers',
        clickhouse: external.clickhouseUrl ? 'external' : 'testcontainers',
        registry: '',
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error instanceof StackError ? error : new StackError('testcontainers', String(error), { cause: error })
  }
}
