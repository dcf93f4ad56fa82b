import { Producer, stringSerializers } from '@platformatic/kafka'
import { describe, expect, inject, it } from 'vitest'
import { readCommitted, testTopic } from '../helpers/kafka.js'
import { uniqueName } from '../helpers/names.js'

describe('local Kafka', () => {
  const { kafkaBootstrap } = inject('stack')

  it('delivers committed transactions to a read_committed consumer and hides aborted ones', async () => {
    const topic = await testTopic(kafkaBootstrap, uniqueName('smoke_txn'))
    const producer = new Producer({
      clientId: 'tailhouse-test',
      bootstrapBrokers: [kafkaBootstrap],
      idempotent: true,
      transactionalId: uniqueName('smoke_txn'),
      serializers: stringSerializers,
    })
    try {
      const first = await producer.beginTransaction()
      await first.send({ messages: [1, 2, 3].map((n) => ({ topic, key: 'k', value: `committed-${n}` })) })
      await first.commit()
      const aborted = await producer.beginTransaction()
      await aborted.send({ messages: [{ topic, key: 'k', value: 'aborted' }] })
      await aborted.abort()
      const last = await producer.beginTransaction()
      await last.send({ messages: [{ topic, key: 'k', value: 'committed-4' }] })
      await last.commit()
    } finally {
      await producer.close()
    }

    // Four committed messages exist; asking for a fifth proves the aborted one stays invisible.
    const messages = await readCommitted(kafkaBootstrap, topic, 4)
    expect(messages.map((m) => m.value)).toEqual(['committed-1', 'committed-2', 'committed-3', 'committed-4'])
    await expect(readCommitted(kafkaBootstrap, topic, 5, 3_000)).rejects.toThrow(/read 4 of 5/)
  })
})
