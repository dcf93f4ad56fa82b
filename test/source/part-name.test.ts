import { describe, expect, it } from 'vitest'
import { formatPartName, isPatchPartition, parsePartName, tryParsePartName } from '../../engine/source/part-name.js'

describe('part names', () => {
  it.each([
    // recorded from ClickHouse 26.7: toStartOfHour(DateTime64) partitions are Unix seconds
    ['1767261600_1_1_0', { partitionId: '1767261600', minBlock: 1n, maxBlock: 1n, level: 0, mutation: 0n }],
    ['1767261600_1_4_1_5', { partitionId: '1767261600', minBlock: 1n, maxBlock: 4n, level: 1, mutation: 5n }],
    ['all_0_0_0', { partitionId: 'all', minBlock: 0n, maxBlock: 0n, level: 0, mutation: 0n }],
    // a tuple of integers joins with '-', a negative Int64 starts with '-'
    ['20260101-3_7_9_2', { partitionId: '20260101-3', minBlock: 7n, maxBlock: 9n, level: 2, mutation: 0n }],
    ['-5_1_1_0', { partitionId: '-5', minBlock: 1n, maxBlock: 1n, level: 0, mutation: 0n }],
    // a hashed partition id
    [
      '6a1b8a2c0e3d4f5a6b7c8d9e0f1a2b3c_12_40_3',
      { partitionId: '6a1b8a2c0e3d4f5a6b7c8d9e0f1a2b3c', minBlock: 12n, maxBlock: 40n, level: 3, mutation: 0n },
    ],
    // a DROP_RANGE fake part: legacy max level, a block number beyond 2^53
    [
      'all_0_9223372036854775807_999999999',
      { partitionId: 'all', minBlock: 0n, maxBlock: 9223372036854775807n, level: 999999999, mutation: 0n },
    ],
  ])('parses %s', (name, expected) => {
    expect(parsePartName(name)).toEqual(expected)
    expect(formatPartName(parsePartName(name))).toBe(name)
  })

  it.each([
    ['a_b_1_2_3', 'underscore in the partition id: ClickHouse never writes one'],
    ['all_5_4_0', 'min above max'],
    ['all_1_1', 'no level'],
    ['all_1_1_0_2_3', 'too many fields'],
    ['_1_1_0', 'empty partition id'],
    ['all_x_1_0', 'non-numeric block'],
    ['all_1_1_-1', 'negative level'],
    ['all_1_1_4294967296', 'level above UInt32'],
    ['20170601_20170630_0_2_0', 'the legacy YYYYMMDD_YYYYMMDD format'],
    ['tmp_insert_all_1_1_0', 'a temporary directory'],
  ])('rejects %s (%s)', (name) => {
    expect(tryParsePartName(name)).toBeUndefined()
    expect(() => parsePartName(name)).toThrow(TypeError)
  })

  it('keeps block numbers exact beyond Number.MAX_SAFE_INTEGER', () => {
    expect(parsePartName('p_9007199254740993_9007199254740995_0').minBlock).toBe(9007199254740993n)
  })

  it('recognises the partitions of lightweight-UPDATE patch parts', () => {
    const patch = parsePartName('patch-0123456789abcdef-1767261600_3_3_0')
    expect(patch.partitionId).toBe('patch-0123456789abcdef-1767261600')
    expect(isPatchPartition(patch.partitionId)).toBe(true)
    expect(isPatchPartition('1767261600')).toBe(false)
  })
})
