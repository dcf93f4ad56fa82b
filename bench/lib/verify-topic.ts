import { readToEnd } from '../../engine/kafka/read-to-end.js'

/** Reads the topic read_committed (marker-based) and checks each changelog position arrived exactly once. */
export async function verifyTopic(bootstrap: string, topic: string, rows: number) {
  const records = await readToEnd({
    connection: { bootstrapBrokers: [bootstrap], clientId: 'tailhouse-bench' },
    topic,
    isolation: 'committed',
    timeoutMs: 300_000,
  })
  const positions = new Set<string>()
  let bytes = 0
  let valueBytes = 0
  for (const record of records) {
    valueBytes += record.value?.length ?? 0
    bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0)
    for (const [name, value] of record.headers) {
      bytes += (name?.length ?? 0) + (value?.length ?? 0)
      if (name?.toString() === 'tailhouse.cursor') positions.add(value?.toString() ?? '')
    }
  }
  return {
    records: records.length,
    missing: rows - positions.size,
    duplicated: records.length - positions.size,
    bytes,
    valueBytes,
  }
}
