/**
 * Upper bounds of what a message costs in a Kafka record batch, uncompressed, for the broker's size limit
 * (`max.message.bytes` of the topic, `message.max.bytes` of the broker): it applies to a whole record batch — one per
 * partition in a Produce request — after compression. tailhouse checks the uncompressed size, which never
 * underestimates, so what it sends is never refused for its size whatever the compression does.
 */

/** A record batch's header (v2): base offset through record count. */
export const recordBatchOverhead = 61

/** Per record beyond its key, value and header bytes: length, attributes, timestamp and offset deltas, lengths. */
const recordOverhead = 5 + 1 + 10 + 5 + 5 + 5 + 5
/** Per header beyond its name and value: their two lengths. */
const headerOverhead = 10

/** The bytes one message takes in a record batch, at most (uncompressed). */
export function recordBytes(message: {
  key: Uint8Array | undefined
  value: Uint8Array
  headers: Map<Uint8Array, Uint8Array>
}): number {
  let bytes = recordOverhead + (message.key?.length ?? 0) + message.value.length
  for (const [name, value] of message.headers) bytes += headerOverhead + name.length + value.length
  return bytes
}

/** Whether a message can be sent at all under `maxMessageBytes`: alone in its record batch. */
export function fitsAlone(messageBytes: number, maxMessageBytes: number): boolean {
  return recordBatchOverhead + messageBytes <= maxMessageBytes
}

/**
 * `messages` cut into consecutive runs whose record batch per (topic, partition) stays within `maxMessageBytes`, in
 * order: each run goes in one Produce request, so no record batch is refused as too large. One run (the array
 * itself) in the common case. A message that does not fit alone gets a run of its own (the converter keeps those
 * out: see sink/oversized-row.ts).
 */
export function splitByRecordBatchBytes<
  M extends { topic: string; partition?: number | undefined } & Parameters<typeof recordBytes>[0],
>(messages: M[], maxMessageBytes: number): M[][] {
  // Most batches fit whole even in one partition: one pass of sums, no per-partition bookkeeping. Messages of a
  // batch mostly share one headers map (lean headers), measured once.
  const sizes = new Float64Array(messages.length)
  let total = recordBatchOverhead
  let lastHeaders: Map<Uint8Array, Uint8Array> | undefined
  let headerBytes = 0
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as M
    if (message.headers !== lastHeaders) {
      lastHeaders = message.headers
      headerBytes = 0
      for (const [name, value] of message.headers) headerBytes += headerOverhead + name.length + value.length
    }
    const size = recordOverhead + (message.key?.length ?? 0) + message.value.length + headerBytes
    sizes[i] = size
    total += size
  }
  if (total <= maxMessageBytes) return [messages]

  const runs: M[][] = []
  let start = 0
  // Bytes per (topic, partition) of the current run; index partition + 1 (no explicit partition: index 0).
  let used = new Map<string, number[]>()
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as M
    const size = sizes[i] as number
    const slot = (message.partition ?? -1) + 1
    let topic = used.get(message.topic)
    const before = topic?.[slot] ?? recordBatchOverhead
    if (before > recordBatchOverhead && before + size > maxMessageBytes) {
      runs.push(messages.slice(start, i))
      start = i
      used = new Map()
      topic = undefined
    }
    if (topic === undefined) {
      topic = []
      used.set(message.topic, topic)
    }
    topic[slot] = (topic[slot] ?? recordBatchOverhead) + size
  }
  if (start === 0) return [messages]
  runs.push(messages.slice(start))
  return runs
}
