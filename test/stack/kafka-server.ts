import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
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
import {
  planSecureKafka,
  prepareSecureKafka,
  type SecureKafka,
  scramFormatArgs,
  secureServerProperties,
} from './kafka-security.js'
import { progress, seconds } from './progress.js'
import { ServiceProcess, waitUntilHealthy } from './service-process.js'

export interface KafkaServer {
  /** `127.0.0.1:<port>` */
  bootstrap: string
  /** Set for the secured variant: listeners, certificates and users. `bootstrap` is then its SASL_SSL listener. */
  secure?: SecureKafka
  stop(): Promise<void>
  /** Stops the broker, keeping its port and data (to test what happens while Kafka is down). */
  pause(): Promise<void>
  /** SIGKILLs the broker (a crash), keeping its port and data; `resume` starts it again. */
  kill(): Promise<void>
  /** Starts it again on the same port and data, and waits until it answers. */
  resume(): Promise<void>
}

export interface KafkaServerOptions {
  /**
   * The secured variant: SASL_SSL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER), a mutual-TLS listener, a listener with
   * a certificate for the wrong host, SCRAM users created at format time, certificates generated for this run,
   * and the standard authorizer (kafka-security.ts). Its data directory is `<runDir>/kafka-secure`.
   */
  secure?: boolean
}

/**
 * Starts one Apache Kafka broker (KRaft, combined broker + controller) on 127.0.0.1 with free ports and a fresh
 * data directory under `runDir`, waits until it answers metadata requests, and warms it up (one transaction and
 * one consumer-group commit) so the internal topics exist before the first test.
 */
export async function startKafka(runDir: string, options: KafkaServerOptions = {}): Promise<KafkaServer> {
  const libs = await ensureKafkaInstalled()
  const started = Date.now()
  const [port, controllerPort] = [await freePort(), await freePort()]
  const home = join(runDir, options.secure ? 'kafka-secure' : 'kafka')
  const dataDir = join(home, 'data')
  mkdirSync(dataDir, { recursive: true })
  const secure = options.secure
    ? await prepareSecureKafka(
        home,
        planSecureKafka({ sasl: port, mtls: await freePort(), wrongHost: await freePort() }),
      )
    : undefined
  const config = join(home, 'server.properties')
  writeFileSync(config, serverProperties(port, controllerPort, dataDir, secure))
  const log4j = join(home, 'log4j2.properties')
  writeFileSync(log4j, log4jProperties)
  const name = options.secure ? 'kafka-secure' : 'kafka'
  const classpath = `${libs}/*`
  const jvm = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath]

  await runInstallStep({
    service: name,
    what: 'formatting the KRaft data directory',
    command: 'java',
    args: [
      ...jvm,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId(),
      '-c',
      config,
      '--ignore-formatted',
      ...(secure ? scramFormatArgs(secure) : []),
    ],
  })
  const bootstrap = `127.0.0.1:${port}`
  const client = adminClientOptions(bootstrap, secure)
  const launch = async () => {
    progress(name, `starting Kafka ${kafkaVersion}${secure ? ' (SASL_SSL, mutual TLS, ACLs)' : ''} on ${bootstrap}`)
    const broker = ServiceProcess.start({
      name,
      command: 'java',
      args: [...jvm, 'kafka.Kafka', config],
      logFile: join(home, 'kafka.log'),
    })
    try {
      await waitUntilHealthy(broker, () => answersMetadata(client), 90_000)
    } catch (error) {
      await broker.stop(2_000)
      throw error
    }
    return broker
  }
  let service = await launch()
  try {
    await warmUp(client)
  } catch (error) {
    await service.stop(2_000)
    throw error
  }
  progress(name, `ready at ${bootstrap} in ${seconds(started)}`)
  return {
    bootstrap,
    ...(secure ? { secure } : {}),
    stop: () => service.stop(),
    pause: () => service.stop(),
    kill: () => service.kill(),
    resume: async () => {
      service = await launch()
    },
  }
}

function serverProperties(port: number, controllerPort: number, dataDir: string, secure?: SecureKafka): string {
  const listeners = secure
    ? secureServerProperties(secure, controllerPort)
    : `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
`
  return `# Written by tailhouse's local stack: one combined KRaft node on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
controller.listener.names=CONTROLLER
${listeners}
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

/** What the stack's own clients connect with: the plain listener, or the secured one as the super user. */
interface StackClientOptions {
  bootstrapBrokers: string[]
  sasl?: { mechanism: 'SCRAM-SHA-512'; username: string; password: string }
  tls?: { ca: Buffer }
}

function adminClientOptions(bootstrap: string, secure: SecureKafka | undefined): StackClientOptions {
  if (!secure) return { bootstrapBrokers: [bootstrap] }
  return {
    bootstrapBrokers: [bootstrap],
    sasl: { mechanism: 'SCRAM-SHA-512', ...secure.admin },
    tls: { ca: readFileSync(secure.certificates.ca) },
  }
}

async function answersMetadata(client: StackClientOptions): Promise<boolean> {
  const admin = new Admin({
    ...client,
    clientId: 'tailhouse-stack-probe',
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
async function warmUp(client: StackClientOptions): Promise<void> {
  const topic = '__tailhouse_stack_warmup'
  const admin = new Admin({ ...client, clientId: 'tailhouse-stack' })
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
  } finally {
    await admin.close()
  }
  const producer = new Producer({
    ...client,
    clientId: 'tailhouse-stack',
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
    ...client,
    clientId: 'tailhouse-stack',
    groupId: 'tailhouse-stack-warmup',
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
