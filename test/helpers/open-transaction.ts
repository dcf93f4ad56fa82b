import { Consumer, FetchIsolationLevels } from '@platformatic/kafka'
import { uniqueName } from './names.js'

/** True when some partition of `topic` has an undecided transaction: its last stable offset is below its end. */
export async function transactionOpen(bootstrap: string, topic: string): Promise<boolean> {
  const consumer = new Consumer({
    clientId: 'tailhouse-test',
    groupId: uniqueName('lso'),
    bootstrapBrokers: [bootstrap],
  })
  try {
    const stable =
      (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })).get(
        topic,
      ) ?? []
    const end =
      (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED })).get(
        topic,
      ) ?? []
    return end.some((e, p) => (stable[p] ?? 0n) < e)
  } finally {
    await consumer.close()
  }
}
