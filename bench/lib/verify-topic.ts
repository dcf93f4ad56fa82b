import protobuf from 'protobufjs'
import { readToEnd } from '../../engine/kafka/read-to-end.js'
import { envelopeProto } from '../../engine/schema/envelope-proto.js'

const root = new protobuf.Root()
root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')?.nested ?? {})
protobuf.parse(envelopeProto().text, root, { keepCase: true })
const Envelope = root.lookupType('tailhouse.v1.Envelope')

/**
 * Reads the topic read_committed (marker-based) and checks each changelog position — the cursor in the message's
 * envelope — arrived exactly once.
 */
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
    for (const [name, value] of record.headers) bytes += (name?.length ?? 0) + (value?.length ?? 0)
    const envelope = Envelope.decode(record.value ?? Buffer.alloc(0)) as unknown as {
      cursor?: { partition_id?: string; block_number?: { toString(): string }; block_offset?: { toString(): string } }
    }
    const c = envelope.cursor
    positions.add(`${c?.partition_id}:${c?.block_number ?? 0}:${c?.block_offset ?? 0}`)
  }
  return {
    records: records.length,
    missing: rows - positions.size,
    duplicated: records.length - positions.size,
    bytes,
    valueBytes,
  }
}
