import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  type Base,
  type Callback,
  createAPI,
  groupByProperty,
  kGetApi,
  ProduceAcks,
  produceV9,
  produceV10,
  produceV11,
  Writer,
} from '@platformatic/kafka'
import { createRecordBatch, type ProduceMessage, type RecordBatchOptions } from './record-batch.js'

/**
 * The @platformatic/kafka versions whose internals this file relies on (the `kGetApi` hook, the Produce v9–v11
 * request layout, the response parsers) and whose bytes the tests compare with ours. package.json pins the same
 * range; a client outside it (a hand-installed upgrade) gets its own code path.
 */
export const testedClientVersions = { from: [1, 35, 0], below: [1, 36, 0] } as const

/** The installed @platformatic/kafka version, from its package.json (its exports hide the file). */
export function clientVersion(): string {
  const entry = fileURLToPath(import.meta.resolve('@platformatic/kafka'))
  const manifest = entry.replace(/dist[/\\]index\.js$/, 'package.json')
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
}

export function fastPathSupported(version: string): boolean {
  const parts = version.split(/[.-]/).slice(0, 3).map(Number)
  const compare = (other: readonly number[]) => {
    for (let i = 0; i < 3; i++) if ((parts[i] ?? 0) !== other[i]) return (parts[i] ?? 0) - (other[i] as number)
    return 0
  }
  return compare(testedClientVersions.from) >= 0 && compare(testedClientVersions.below) < 0
}

/** The Produce versions whose request layout {@link createProduceRequest} writes (KIP-482 flexible versions). */
const responseParsers = new Map([
  [9, produceV9.parseResponse],
  [10, produceV10.parseResponse],
  [11, produceV11.parseResponse],
])

/**
 * Makes a client build its Produce requests with {@link createRecordBatch} (one buffer per record batch) instead
 * of its own per-record writers: the same bytes, about five times faster. Only this client instance changes, and
 * only for the request versions above; with any other version the broker negotiates, the client's own code runs.
 * Returns false, changing nothing, when the installed client is outside {@link testedClientVersions}.
 */
export function useFastRecordBatches(client: Base, version = clientVersion()): boolean {
  if (!fastPathSupported(version)) return false
  const getApi = client[kGetApi].bind(client) as (name: string, callback: Callback<unknown>) => void
  const fast = new Map<number, unknown>()
  const override = (name: string, callback: Callback<unknown>) => {
    if (name !== 'Produce') return getApi(name, callback)
    getApi(name, (error, api) => {
      const version = (api as { version?: number } | undefined)?.version ?? -1
      const parse = responseParsers.get(version)
      if (error || !parse) return callback(error, api)
      if (!fast.has(version)) fast.set(version, createAPI(0, version, createProduceRequest, parse))
      callback(null, fast.get(version))
    })
  }
  Object.defineProperty(client, kGetApi, { value: override, configurable: true, writable: true })
  return true
}

/**
 * Produce request v9–v11, laid out as @platformatic/kafka 1.35's produce-v11.js `createRequest` lays it out:
 * transactional_id, acks, timeout_ms, then per topic and partition a record batch.
 */
export function createProduceRequest(
  acks = 1,
  timeout = 0,
  topicData: ProduceMessage[] = [],
  options: RecordBatchOptions = {},
): Writer {
  const now = BigInt(Date.now())
  for (const message of topicData) {
    if (message.partition === undefined) message.partition = 0
    if (message.timestamp === undefined) message.timestamp = now
  }
  const writer = Writer.create()
    .appendString(options.transactionalId ?? null)
    .appendInt16(acks)
    .appendInt32(timeout)
    .appendArray(groupByProperty<string, ProduceMessage>(topicData, 'topic'), (w, [topic, messages]) => {
      w.appendString(topic).appendArray(
        groupByProperty<number, ProduceMessage>(messages, 'partition'),
        (w, [partition, messages]) => {
          const records = createRecordBatch(messages, options)
          w.appendInt32(partition)
            .appendUnsignedVarInt(records.length + 1)
            .appendFrom(records)
        },
      )
    })
    .appendTaggedFields()
  if (acks === ProduceAcks.NO_RESPONSE) writer.context.noResponse = true
  return writer
}
