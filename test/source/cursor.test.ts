import { describe, expect, it } from 'vitest'
import { type Cursor, compareCursors, cursorFromJson, cursorToJson } from '../../engine/source/cursor.js'

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
