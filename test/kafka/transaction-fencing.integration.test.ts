// What the transaction coordinator does to a transaction left open, and how the engine tells that from another
// instance taking over (engine/kafka/transaction-timeout.ts, engine/kafka/fence-check.ts), against the real broker.
import { randomUUID } from 'node:crypto'
import { Producer } from '@platformatic/kafka'
import { describe, expect, inject, it } from 'vitest'
import { kafkaDefaults } from '../../engine/config/config.js'
import { kafkaClientOptions } from '../../engine/kafka/connection.js'
import type { ProducerIdentity } from '../../engine/kafka/fence-check.js'
import { isFenced } from '../../engine/kafka/kafka-errors.js'
import { ensureTopics } from '../../engine/kafka/topics.js'
import { transactionTimeoutMs, useTransactionTimeout } from '../../engine/kafka/transaction-timeout.js'
import { silentLogger } from '../../engine/log.js'
import { createPublisher, transactionalId } from '../../engine/sink/publisher.js'
import { uniqueName } from '../helpers/names.js'

/** The coordinator looks for timed-out transactions this often (transaction.abort.timed.out.transaction.cleanup.interval.ms). */
const abortScanMs = 10_000

async function setUp() {
  const { kafkaBootstrap } = inject('stack')
  const topic = uniqueName('txn')
  const kafka = {
    ...kafkaDefaults,
    brokers: [kafkaBootstrap],
    checkpointTopic: `${topic}.checkpoints`,
    compression: 'none' as const,
  }
  const connection = kafkaClientOptions(kafka, {})
  await ensureTopics(connection, [
    { name: topic, partitions: 1, replicationFactor: 1 },
    { name: kafka.checkpointTopic, partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
  ])
  const engineId = uniqueName('e')
  const changelogId = randomUUID()
  const id = transactionalId(engineId, changelogId)
  /** A transactional producer of the engine's id, as a raw client: its transaction can be held open. */
  const rawProducer = () =>
    new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...connection,
      idempotent: true,
      transactionalId: id,
      producerId: -1n,
      producerEpoch: -1,
    })
  const publisher = (claimAs?: ProducerIdentity) =>
    createPublisher({ logger: silentLogger, kafka, connection, engineId, changelog: 'db', changelogId, claimAs })
  const message = (value: string) => ({ messages: [{ topic, key: Buffer.from('k'), value: Buffer.from(value) }] })
  return { rawProducer, publisher, message }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('Kafka transactions held open, and fencing', () => {
  it('a transaction open longer than the client request timeout (5 s) commits: the claim asks for 90 s', async () => {
    expect(transactionTimeoutMs).toBe(90_000)
    // Without the claim's own timeout the client sends its request timeout, 5 s, and the coordinator aborts the
    // transaction on its own: the next request is refused as if fenced. This is the client behaviour the engine
    // works around; if a client version changes it, this control says so.
    const holdMs = 5_000 + abortScanMs + 2_000
    const [withClientTimeout, withOurs] = await Promise.all(
      [false, true].map(async (ours) => {
        const { rawProducer, message } = await setUp()
        const producer = rawProducer()
        if (ours) useTransactionTimeout(producer)
        try {
          const transaction = await producer.beginTransaction()
          await transaction.send(message('before'))
          await sleep(holdMs)
          await transaction.send(message('after'))
          await transaction.commit()
          return 'committed'
        } catch (error) {
          return isFenced(error) ? 'refused as fenced' : `failed: ${error}`
        } finally {
          await producer.close().catch(() => {})
        }
      }),
    )
    expect(withClientTimeout).toBe('refused as fenced')
    expect(withOurs).toBe('committed')
  }, 60_000)

  it('a producer whose transaction the coordinator aborted claims its id back as itself; one taken over cannot', async () => {
    const [aborted, takenOver] = await Promise.all([
      (async () => {
        // The coordinator's own abort: a transaction left open past a 1 s timeout.
        const { rawProducer, publisher, message } = await setUp()
        const producer = rawProducer()
        useTransactionTimeout(producer, 1_000)
        const transaction = await producer.beginTransaction()
        await transaction.send(message('left open'))
        const identity = { producerId: producer.producerId as bigint, producerEpoch: producer.producerEpoch as number }
        await sleep(1_000 + abortScanMs + 2_000)
        const refused = await transaction.send(message('late')).then(
          () => 'accepted',
          (error) => (isFenced(error) ? 'refused as fenced' : `failed: ${error}`),
        )
        await producer.close().catch(() => {})
        return { refused, claim: await claimAs(publisher(identity)) }
      })(),
      (async () => {
        // Another instance's claim (epoch -1), the engine's way of starting.
        const { publisher } = await setUp()
        const first = publisher()
        await first.init()
        const identity = first.identity()
        expect(identity).toBeDefined()
        const second = publisher()
        await second.init()
        const refused = await first.publish([], { cursor: new Map(), rowsTotal: 0n }).then(
          () => 'accepted',
          (error) => (isFenced(error) ? 'refused as fenced' : `failed: ${error}`),
        )
        await first.close()
        const claim = await claimAs(publisher(identity))
        await second.close()
        return { refused, claim }
      })(),
    ])
    expect(aborted).toEqual({ refused: 'refused as fenced', claim: 'claimed' })
    expect(takenOver).toEqual({ refused: 'refused as fenced', claim: 'refused as fenced' })
  }, 60_000)
})

/** Claims the id with a publisher made to claim as an earlier producer, then publishes through it. */
async function claimAs(publisher: ReturnType<typeof createPublisher>): Promise<string> {
  try {
    await publisher.init()
    await publisher.publish([], { cursor: new Map(), rowsTotal: 1n })
    return 'claimed'
  } catch (error) {
    return isFenced(error) ? 'refused as fenced' : `failed: ${error}`
  } finally {
    await publisher.close().catch(() => {})
  }
}
