/**
 * read_committed filtering of one partition's fetched record batches, as Kafka's Java consumer does it
 * (Fetcher: abortedProducerIds and the aborted-transactions queue). The broker sends records up to the last
 * stable offset *including* those of aborted transactions, plus a list of (producerId, firstOffset) of the aborted
 * transactions in range; the client drops a transactional batch while its producer is marked aborted, and the
 * producer's ABORT control marker ends the mark.
 *
 * Why our own: @platformatic/kafka 1.x drops aborted records only when the abort marker is in the same fetch
 * response, and otherwise delivers them, which breaks read_committed exactly where exactly-once needs it.
 * The list is per fetch and the broker repeats still-open aborted transactions, so this needs no state across
 * fetches beyond what one response carries.
 */
export interface FetchedBatch {
  firstOffset: bigint
  lastOffsetDelta: number
  attributes: number
  producerId: bigint
  records: Array<{
    offsetDelta: number
    key: Buffer | null
    value: Buffer | null
    headers: Array<[Buffer | null, Buffer | null]>
  }>
}

export interface AbortedTransaction {
  producerId: bigint
  firstOffset: bigint
}

export interface CommittedRecord {
  offset: bigint
  key: Buffer | null
  value: Buffer | null
  headers: Array<[Buffer | null, Buffer | null]>
}

const isTransactional = 1 << 4
const isControl = 1 << 5
/** Control record key: version (int16) then type (int16): 0 = ABORT, 1 = COMMIT. */
const abortMarker = 0

export function committedRecords(
  batches: readonly FetchedBatch[],
  aborted: readonly AbortedTransaction[],
  fromOffset: bigint,
): CommittedRecord[] {
  const pending = [...aborted].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  )
  const abortedProducers = new Set<bigint>()
  const out: CommittedRecord[] = []
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    while (pending.length > 0 && (pending[0] as AbortedTransaction).firstOffset <= lastOffset) {
      abortedProducers.add((pending.shift() as AbortedTransaction).producerId)
    }
    if (batch.attributes & isControl) {
      const key = batch.records[0]?.key
      if (key && key.length >= 4 && key.readInt16BE(2) === abortMarker) abortedProducers.delete(batch.producerId)
      continue
    }
    if (batch.attributes & isTransactional && abortedProducers.has(batch.producerId)) continue
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta)
      if (offset < fromOffset) continue // a batch can start before the offset asked for
      out.push({ offset, key: record.key, value: record.value, headers: record.headers })
    }
  }
  return out
}

/** The offset after the last batch of a fetch, control batches included, or `fromOffset` when there was none. */
export function nextOffset(batches: readonly FetchedBatch[], fromOffset: bigint): bigint {
  const last = batches.at(-1)
  return last ? last.firstOffset + BigInt(last.lastOffsetDelta) + 1n : fromOffset
}
