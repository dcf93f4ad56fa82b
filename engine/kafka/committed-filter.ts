/**
 * read_committed, decided by transaction markers. Fed the batches of one partition in offset order (fetched
 * read_uncommitted, control batches included), it holds each producer's transactional records until that
 * producer's next control marker: COMMIT releases them, ABORT drops them. Non-transactional records pass at once.
 * `finish(lastStableOffset)` returns the released records below the last stable offset, in offset order, which
 * is what a read_committed reader may see.
 *
 * Why not the client's read_committed: @platformatic/kafka 1.x filters aborted records inside consumer.fetch with
 * one range per producer id. One transactional id keeps one producer id across restarts, so its aborted
 * transactions collapse into one range, from the last aborted transaction's start to the last ABORT marker, and
 * every committed record in between is dropped; its stream also delivers aborted records when the marker falls in
 * a later fetch. Both break exactly-once reads of our own checkpoints.
 */
export interface FetchedBatch {
  firstOffset: bigint
  lastOffsetDelta: number
  attributes: number
  producerId: bigint
  producerEpoch?: number
  records: Array<{
    offsetDelta: number
    key: Buffer | null
    value: Buffer | null
    headers: Array<[Buffer | null, Buffer | null]>
  }>
}

export interface CommittedRecord {
  offset: bigint
  /** Who wrote it (diagnostics): producer id and epoch of its batch. */
  producer: string
  key: Buffer | null
  value: Buffer | null
  headers: Array<[Buffer | null, Buffer | null]>
}

const isTransactional = 1 << 4
const isControl = 1 << 5
/** Control record key: version (int16) then type (int16): 0 = ABORT, 1 = COMMIT. */
const commitMarker = 1

export class CommittedByMarkers {
  readonly #fromOffset: bigint
  readonly #pending = new Map<bigint, CommittedRecord[]>()
  readonly #released: CommittedRecord[] = []

  /** Records before `fromOffset` (a batch may start before the offset asked for) are ignored. */
  constructor(fromOffset: bigint) {
    this.#fromOffset = fromOffset
  }

  push(batches: readonly FetchedBatch[]): void {
    for (const batch of batches) {
      if (batch.attributes & isControl) {
        const key = batch.records[0]?.key
        const held = this.#pending.get(batch.producerId) ?? []
        this.#pending.delete(batch.producerId)
        if (key && key.length >= 4 && key.readInt16BE(2) === commitMarker) this.#released.push(...held)
        continue
      }
      const records = this.#records(batch)
      if (batch.attributes & isTransactional) {
        const held = this.#pending.get(batch.producerId)
        if (held) held.push(...records)
        else this.#pending.set(batch.producerId, records)
      } else {
        this.#released.push(...records)
      }
    }
  }

  /** Committed (or non-transactional) records below `lastStableOffset`, in offset order. */
  finish(lastStableOffset: bigint): CommittedRecord[] {
    return this.#released.filter((r) => r.offset < lastStableOffset).sort((a, b) => (a.offset < b.offset ? -1 : 1))
  }

  #records(batch: FetchedBatch): CommittedRecord[] {
    const producer = `${batch.producerId}/${batch.producerEpoch ?? '?'}`
    const out: CommittedRecord[] = []
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta)
      if (offset >= this.#fromOffset)
        out.push({ offset, producer, key: record.key, value: record.value, headers: record.headers })
    }
    return out
  }
}

/** The offset after the last batch of a fetch, control batches included, or `fromOffset` when there was none. */
export function nextOffset(batches: readonly FetchedBatch[], fromOffset: bigint): bigint {
  const last = batches.at(-1)
  return last ? last.firstOffset + BigInt(last.lastOffsetDelta) + 1n : fromOffset
}
