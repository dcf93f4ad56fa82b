import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka'
import { freePort } from './free-port.js'
import { runInstallStep } from './install-step.js'
import { ensureKafkaInstalled, kafkaVersion } from './kafka-install.js'
import { progress, seconds } from './progress.js'
import { ServiceProcess, waitUntilHealthy } from './service-process.js'

export interface KafkaServer {
  /** `127.0.0.1:<port>` */
  bootstrap: string
  stop(): Promise<void>
  /** Stops the broker, keeping its port and data (to test what happens while Kafka is down). */
  pause(): Promise<void>
  /** SIGKILLs the broker (a crash), keeping its port and data; `resume` starts it again. */
  kill(): Promise<void>
  /** Starts it again on the same port and data, and waits until it answers. */
  resume(): Promise<void>
}

/**
 * Starts one Apache Kafka broker (KRaft, combined broker + controller) on 127.0.0.1 with free ports and a fresh
 * data directory under `runDir`, waits until it answers metadata requests, and warms it up (one transaction and
 * one consumer-group commit) so the internal topics exist before the first test.
 */
export async function startKafka(runDir: string): Promise<KafkaServer> {
  const libs = await ensureKafkaInstalled()
  const started = Date.now()
  const [port, controllerPort] = [await freePort(), await freePort()]
  const home = join(runDir, 'kafka')
  const dataDir = join(home, 'data')
  mkdirSync(dataDir, { recursive: true })
  const config = join(home, 'server.properties')
  writeFileSync(config, serverProperties(port, controllerPort, dataDir))
  const log4j = join(home, 'log4j2.properties')
  writeFileSync(log4j, log4jProperties)
  const classpath = `${libs}/*`
  const jvm = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath]

  await runInstallStep({
    service: 'kafka',
    what: 'formatting the KRaft data directory',
    command: 'java',
    args: [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', config, '--ignore-formatted'],
  })
  const bootstrap = `127.0.0.1:${port}`
  const launch = async () => {
    progress('kafka', `starting Kafka ${kafkaVersion} on ${bootstrap}`)
    const broker = ServiceProcess.start({
      name: 'kafka',
      command: 'java',
      args: [...jvm, 'kafka.Kafka', config],
      logFile: join(home, 'kafka.log'),
    })
    try {
      await waitUntilHealthy(broker, () => answersMetadata(bootstrap), 90_000)
    } catch (error) {
      await broker.stop(2_000)
      throw error
    }
    return broker
  }
  let service = await launch()
  try {
    await warmUp(bootstrap)
  } catch (error) {
    await service.stop(2_000)
    throw error
  }
  progress('kafka', `ready at ${bootstrap} in ${seconds(started)}`)
  return {
    bootstrap,
    stop: () => service.stop(),
    pause: () => service.stop(),
    kill: () => service.kill(),
    resume: async () => {
      service = await launch()
    },
  }
}

function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return `# Written by tailhouse's local stack: one combined KRaft node on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
# A single node: every internal topic must have replication factor 1, or transactions hang in InitProducerId.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
`
}

const log4jProperties = `status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
`

/** A KRaft cluster id: 16 random bytes, base64url without padding, as `kafka-storage random-uuid` prints. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id // would be read as an option
  }
}

async function answersMetadata(bootstrap: string): Promise<boolean> {
  const admin = new Admin({
    clientId: 'tailhouse-stack-probe',
    bootstrapBrokers: [bootstrap],
    retries: 0,
    timeout: 2_000,
  })
  try {
    const metadata = await admin.metadata({ topics: [] })
    return metadata.brokers.size > 0
  } finally {
    await admin.close()
  }
}

/** One transaction and one group commit, so __transaction_state and __consumer_offsets exist. */
async function warmUp(bootstrap: string): Promise<void> {
  const bootstrapBrokers = [bootstrap]
  const topic = '__tailhouse_stack_warmup'
  const admin = new Admin({ clientId: 'tailhouse-stack', bootstrapBrokers })
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
  } finally {
    await admin.close()
  }
  const producer = new Producer({
    clientId: 'tailhouse-stack',
    bootstrapBrokers,
    idempotent: true,
    transactionalId: 'tailhouse-stack-warmup',
    serializers: stringSerializers,
  })
  try {
    const transaction = await producer.beginTransaction()
    await transaction.send({ messages: [{ topic, key: 'warmup', value: 'warmup' }] })
    await transaction.commit()
  } finally {
    await producer.close()
  }
  const consumer = new Consumer({
    clientId: 'tailhouse-stack',
    groupId: 'tailhouse-stack-warmup',
    bootstrapBrokers,
    deserializers: stringDeserializers,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    maxWaitTime: 500,
  })
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false })
    for await (const message of stream) {
      await message.commit()
      break
    }
    await stream.close()
  } finally {
    await consumer.close()
  }
}
