import { describe, expect, it } from 'vitest'
import { type Cursor, compareCursors, cursorAfter, cursorFromJson, cursorToJson } from '../../engine/source/cursor.js'

const c = (entries: Record<string, [number, number]>): Cursor =>
  new Map(Object.entries(entries).map(([p, [b, o]]) => [p, { blockNumber: BigInt(b), blockOffset: BigInt(o) }]))

describe('cursor', () => {
  it('round-trips through JSON with 64-bit values', () => {
    const cursor = c({ '1795482000': [302, 7] })
    cursor.set('x', { blockNumber: 18446744073709551615n, blockOffset: 0n })
    expect(cursorFromJson(cursorToJson(cursor))).toEqual(cursor)
  })

  const cases: Array<[Record<string, [number, number]>, Record<string, [number, number]>, string]> = [
    [{ a: [3, 1] }, { a: [3, 1] }, 'same'],
    [{ a: [3, 2] }, { a: [3, 1] }, 'ahead'],
    [{ a: [4, 0] }, { a: [3, 9] }, 'ahead'],
    [{ a: [3, 1], b: [1, 0] }, { a: [3, 1] }, 'ahead'],
    [{ a: [3, 1] }, { a: [3, 2] }, 'behind'],
    [{}, { a: [1, 0] }, 'behind'],
    [{ a: [5, 0], b: [1, 0] }, { a: [4, 0], b: [2, 0] }, 'diverged'],
  ]
  it.each(cases)('%j against %j is %s', (a, b, expected) => {
    expect(compareCursors(c(a), c(b))).toBe(expected)
  })
})

describe('cursorAfter', () => {
  const row = (stream: string, blockNumber: bigint, blockOffset: bigint) => ({
    stream,
    blockNumber,
    blockOffset,
  })
  it('moves each stream to the last of the first `count` rows, keeping the others', () => {
    const start = new Map([
      ['a', { blockNumber: 1n, blockOffset: 9n }],
      ['z', { blockNumber: 4n, blockOffset: 0n }],
    ])
    const rows = [row('a', 2n, 0n), row('b', 3n, 0n), row('a', 2n, 1n), row('b', 5n, 7n)]
    expect(cursorToJson(cursorAfter(start, rows))).toEqual({ a: ['2', '1'], b: ['5', '7'], z: ['4', '0'] })
    expect(cursorToJson(cursorAfter(start, rows, 2))).toEqual({ a: ['2', '0'], b: ['3', '0'], z: ['4', '0'] })
    expect(cursorToJson(start)).toEqual({ a: ['1', '9'], z: ['4', '0'] }) // start is not changed
  })
})
