import { describe, expect, it } from 'vitest'
import { CommittedByMarkers, type FetchedBatch, nextOffset } from '../../engine/kafka/committed-filter.js'

const transactional = 1 << 4
const control = 1 << 5

function data(producerId: bigint, firstOffset: bigint, values: string[], attributes = transactional): FetchedBatch {
  return {
    firstOffset,
    lastOffsetDelta: values.length - 1,
    attributes,
    producerId,
    records: values.map((v, i) => ({ offsetDelta: i, key: null, value: Buffer.from(v), headers: [] })),
  }
}

function marker(producerId: bigint, offset: bigint, type: 'abort' | 'commit'): FetchedBatch {
  const key = Buffer.alloc(4)
  key.writeInt16BE(type === 'abort' ? 0 : 1, 2)
  return {
    firstOffset: offset,
    lastOffsetDelta: 0,
    attributes: transactional | control,
    producerId,
    records: [{ offsetDelta: 0, key, value: null, headers: [] }],
  }
}

function committed(fetches: FetchedBatch[][], lastStable: bigint, from = 0n): string[] {
  const filter = new CommittedByMarkers(from)
  for (const batches of fetches) filter.push(batches)
  return filter.finish(lastStable).map((r) => r.value?.toString() ?? '')
}

describe('read_committed by transaction markers', () => {
  it('keeps committed transactions and drops aborted ones; markers are never records', () => {
    const batches = [
      data(1n, 0n, ['a', 'b']),
      marker(1n, 2n, 'commit'),
      data(1n, 3n, ['x']),
      marker(1n, 4n, 'abort'),
      data(1n, 5n, ['c']),
      marker(1n, 6n, 'commit'),
    ]
    expect(committed([batches], 7n)).toEqual(['a', 'b', 'c'])
  })

  it('keeps committed transactions between two aborts of one producer id (the client library drops them)', () => {
    // One transactional id across restarts: aborted at 0, committed 2..5, an epoch-bump ABORT marker at 6.
    const batches = [
      data(5n, 0n, ['killed']),
      marker(5n, 1n, 'abort'),
      data(5n, 2n, ['c1']),
      marker(5n, 3n, 'commit'),
      data(5n, 4n, ['c2']),
      marker(5n, 5n, 'commit'),
      marker(5n, 6n, 'abort'),
      data(5n, 7n, ['c3']),
      marker(5n, 8n, 'commit'),
    ]
    expect(committed([batches], 9n)).toEqual(['c1', 'c2', 'c3'])
  })

  it('decides a transaction whose marker comes in a later fetch', () => {
    expect(
      committed(
        [[data(7n, 10n, ['t1'])], [data(8n, 11n, ['plain'], 0), data(7n, 12n, ['t2'])], [marker(7n, 13n, 'abort')]],
        14n,
        10n,
      ),
    ).toEqual(['plain'])
    expect(
      committed([[data(7n, 10n, ['t1'])], [data(7n, 11n, ['t2'])], [marker(7n, 12n, 'commit')]], 13n, 10n),
    ).toEqual(['t1', 't2'])
  })

  it('interleaves producers and returns offset order', () => {
    const batches = [
      data(1n, 0n, ['p1-a']),
      data(2n, 1n, ['p2-a']),
      marker(2n, 2n, 'commit'),
      data(2n, 3n, ['p2-b']),
      marker(1n, 4n, 'commit'),
      marker(2n, 5n, 'commit'),
    ]
    expect(committed([batches], 6n)).toEqual(['p1-a', 'p2-a', 'p2-b'])
  })

  it('shows nothing at or above the last stable offset, and nothing of an open transaction', () => {
    const batches = [
      data(1n, 0n, ['a']),
      marker(1n, 1n, 'commit'),
      data(2n, 2n, ['open']),
      data(3n, 3n, ['later']),
      marker(3n, 4n, 'commit'),
    ]
    expect(committed([batches], 2n)).toEqual(['a'])
  })

  it('skips records before the requested offset and moves past control batches', () => {
    const batches = [data(1n, 0n, ['a', 'b', 'c']), marker(1n, 3n, 'commit')]
    expect(committed([batches], 4n, 2n)).toEqual(['c'])
    expect(nextOffset(batches, 0n)).toBe(4n)
    expect(nextOffset([], 9n)).toBe(9n)
  })
})
