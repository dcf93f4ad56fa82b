import { describe, expect, it } from 'vitest'
import { fitsAlone, recordBatchOverhead, recordBytes, splitByRecordBatchBytes } from '../../engine/kafka/record-size.js'

const message = (topic: string, partition: number | undefined, valueBytes: number) => ({
  topic,
  partition,
  key: Buffer.from('k'),
  value: Buffer.alloc(valueBytes),
  headers: new Map<Buffer, Buffer>(),
})

describe('record sizes under max.message.bytes', () => {
  it('counts key, value and headers with their length overheads', () => {
    const bare = recordBytes(message('t', 0, 100))
    expect(bare).toBeGreaterThan(101)
    const withHeader = recordBytes({
      ...message('t', 0, 100),
      headers: new Map([[Buffer.from('h'), Buffer.from('vv')]]),
    })
    expect(withHeader - bare).toBeGreaterThanOrEqual(3)
    expect(fitsAlone(1000 - recordBatchOverhead, 1000)).toBe(true)
    expect(fitsAlone(1001 - recordBatchOverhead, 1000)).toBe(false)
  })

  it('keeps a batch whole when every partition fits', () => {
    const messages = [message('t', 0, 300), message('t', 1, 300), message('t', 0, 300)]
    const runs = splitByRecordBatchBytes(messages, 1000)
    expect(runs).toHaveLength(1)
    expect(runs[0]).toBe(messages)
  })

  it('cuts in order where one partition would overflow, never splitting a run of other partitions needlessly', () => {
    const messages = [
      message('t', 0, 400),
      message('t', 1, 400),
      message('t', 0, 400),
      message('t', 0, 400), // partition 0 would pass 1000 here
      message('u', 0, 400),
    ]
    const runs = splitByRecordBatchBytes(messages, 1000)
    expect(runs.map((r) => r.length)).toEqual([3, 2])
    expect(runs.flat()).toEqual(messages)
  })

  it('puts a message too large for any batch in a run of its own', () => {
    const messages = [message('t', 0, 10), message('t', 0, 5000), message('t', 0, 10)]
    expect(splitByRecordBatchBytes(messages, 1000).map((r) => r.length)).toEqual([1, 1, 1])
  })
})
