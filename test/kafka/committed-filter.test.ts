import { describe, expect, it } from 'vitest'
import { committedRecords, type FetchedBatch, nextOffset } from '../../engine/kafka/committed-filter.js'

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

const values = (batches: FetchedBatch[], aborted: Array<{ producerId: bigint; firstOffset: bigint }>, from = 0n) =>
  committedRecords(batches, aborted, from).map((r) => r.value?.toString())

describe('read_committed filtering', () => {
  it('keeps committed transactions and drops aborted ones, markers never delivered', () => {
    const batches = [
      data(1n, 0n, ['a', 'b']),
      marker(1n, 2n, 'commit'),
      data(1n, 3n, ['x']),
      marker(1n, 4n, 'abort'),
      data(1n, 5n, ['c']),
    ]
    expect(values(batches, [{ producerId: 1n, firstOffset: 3n }])).toEqual(['a', 'b', 'c'])
  })

  it('drops an aborted transaction whose abort marker is not in this fetch (the client library keeps these)', () => {
    const batches = [data(7n, 10n, ['aborted-1']), data(8n, 11n, ['other'], 0), data(7n, 12n, ['aborted-2'])]
    expect(values(batches, [{ producerId: 7n, firstOffset: 10n }])).toEqual(['other'])
  })

  it('drops the rest of an aborted transaction that began in an earlier fetch', () => {
    const batches = [data(7n, 20n, ['aborted-tail']), marker(7n, 21n, 'abort'), data(7n, 22n, ['next-committed'])]
    expect(values(batches, [{ producerId: 7n, firstOffset: 15n }])).toEqual(['next-committed'])
  })

  it('interleaves producers: only the aborted producer is dropped', () => {
    const batches = [
      data(1n, 0n, ['p1-a']),
      data(2n, 1n, ['p2-a']),
      marker(1n, 2n, 'abort'),
      data(2n, 3n, ['p2-b']),
      marker(2n, 4n, 'commit'),
    ]
    expect(values(batches, [{ producerId: 1n, firstOffset: 0n }])).toEqual(['p2-a', 'p2-b'])
  })

  it('skips records before the requested offset and moves past control batches', () => {
    const batches = [data(1n, 0n, ['a', 'b', 'c']), marker(1n, 3n, 'commit')]
    expect(values(batches, [], 2n)).toEqual(['c'])
    expect(nextOffset(batches, 0n)).toBe(4n)
    expect(nextOffset([], 9n)).toBe(9n)
  })
})
