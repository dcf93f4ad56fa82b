import { Producer } from '@platformatic/kafka'

export interface OutgoingValue {
  key: string
  value: Buffer
}

/**
 * Publishes `messages` in one committed transaction, after a transaction of `aborted` messages that is aborted:
 * a read_committed consumer must see the first and never the second. Tests publish the aborted transaction ahead
 * of the engine's messages (with no committed messages of their own) to show consumers skip it.
 */
export async function publishCommitted(
  bootstrap: string,
  topic: string,
  messages: readonly OutgoingValue[],
  aborted: readonly OutgoingValue[] = [],
): Promise<void> {
  const producer = new Producer({
    clientId: 'tailhouse-test',
    bootstrapBrokers: [bootstrap],
    idempotent: true,
    transactionalId: `tailhouse-test-${topic}`,
  })
  try {
    if (aborted.length > 0) {
      const doomed = await producer.beginTransaction()
      await doomed.send({ messages: aborted.map((m) => ({ topic, key: Buffer.from(m.key), value: m.value })) })
      await doomed.abort()
    }
    if (messages.length > 0) {
      const transaction = await producer.beginTransaction()
      await transaction.send({ messages: messages.map((m) => ({ topic, key: Buffer.from(m.key), value: m.value })) })
      await transaction.commit()
    }
  } finally {
    await producer.close()
  }
}
