import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import protobuf from 'protobufjs'
import { inject } from 'vitest'
import type { SourceConfig, TailhouseConfig } from '../../engine/config/config.js'
import { readToEnd } from '../../engine/kafka/read-to-end.js'
import { type Logger, silentLogger, stderrLogger } from '../../engine/log.js'
import { captureFixture } from './capture.js'
import { uniqueName } from './names.js'

/** A capture fixture plus engine settings that isolate the test: its own topics, checkpoint topic and engine id. */
export async function engineFixture(
  sources: (sourceDb: string) => SourceConfig[],
  engine: Partial<TailhouseConfig['engine']> = {},
  kafka: Partial<TailhouseConfig['kafka']> = {},
) {
  const f = await captureFixture(sources)
  const { kafkaBootstrap } = inject('stack')
  const run = uniqueName('t')
  f.config.kafka = {
    ...f.config.kafka,
    brokers: [kafkaBootstrap],
    topicTemplate: `${run}.{database}.{table}`,
    partitions: 3,
    checkpointTopic: `${run}.checkpoints`,
    deadLetterTopic: `${run}.dead-letter`,
    ...kafka,
  }
  f.config.engine = {
    ...f.config.engine,
    id: run,
    offsetsPath: join(mkdtempSync(join(tmpdir(), 'tailhouse-offsets-')), 'offsets.sqlite'),
    pollIntervalMs: 20,
    ...engine,
  }
  return { ...f, kafkaBootstrap, topic: (table: string) => `${run}.${f.sourceDb}.${table}` }
}

export interface ConsumedMessage {
  partition: number
  offset: bigint
  /** producer id / epoch of the batch that holds it */
  producer: string
  key: string | undefined
  headers: Record<string, string>
  value: Buffer
}

/** Reads a topic from the beginning to its current end (all partitions), read_committed unless asked otherwise. */
export async function readTopic(
  bootstrap: string,
  topic: string,
  isolation: 'committed' | 'uncommitted' = 'committed',
): Promise<ConsumedMessage[]> {
  const records = await readToEnd({
    connection: { bootstrapBrokers: [bootstrap], clientId: 'tailhouse-test' },
    topic,
    isolation,
  })
  return records.map((r) => ({
    partition: r.partition,
    offset: r.offset,
    producer: r.producer,
    key: r.key?.toString(),
    headers: Object.fromEntries(r.headers.map(([k, v]) => [k?.toString() ?? '', v?.toString() ?? ''])),
    value: r.value ?? Buffer.alloc(0),
  }))
}

/** Loads the envelope and a source version's Row type from the .proto files on disk, as a consumer would. */
export function protoTypes(schemasDir: string, rowProtoFile: string) {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(schemasDir, target))
  root.loadSync(['tailhouse/v1/envelope.proto', rowProtoFile], { keepCase: true })
  const packageName = readFileSync(join(schemasDir, rowProtoFile), 'utf8').match(/^package ([\w.]+);/m)?.[1]
  return { envelope: root.lookupType('tailhouse.v1.Envelope'), row: root.lookupType(`${packageName}.Row`) }
}

/** Polls `check` every 50 ms until it returns true, or fails after `timeoutMs` with `what`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The engine's log in tests: silent, or on stderr with TH_TEST_LOG=debug|info. */
export function testLogger(): Logger {
  const level = process.env.TH_TEST_LOG
  return level === 'debug' || level === 'info' ? stderrLogger(level) : silentLogger
}
