import { createRecordsBatch } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { createRecordBatch, type ProduceMessage, type RecordBatchOptions } from '../../engine/kafka/record-batch.js'

/** A deterministic pseudo-random generator, so a failure names a reproducible case. */
function random(seed: number) {
  let s = seed >>> 0
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s % n
  }
}

function bytes(rnd: (n: number) => number, max: number): Buffer {
  const b = Buffer.alloc(rnd(max))
  for (let i = 0; i < b.length; i++) b[i] = rnd(256)
  return b
}

function messages(seed: number, count: number, base: bigint): ProduceMessage[] {
  const rnd = random(seed)
  return Array.from({ length: count }, () => {
    const headers = new Map<Buffer, Buffer | null>()
    const headerCount = rnd(8)
    for (let h = 0; h < headerCount; h++) headers.set(bytes(rnd, 40), rnd(5) === 0 ? null : bytes(rnd, 300))
    return {
      topic: 't',
      partition: 3,
      key: rnd(4) === 0 ? undefined : bytes(rnd, 70),
      // Values across the varint length boundaries (127/128, 16383/16384).
      value: rnd(6) === 0 ? null : bytes(rnd, rnd(3) === 0 ? 20_000 : 200),
      headers: rnd(5) === 0 ? undefined : headers,
      // Mostly equal timestamps (delta 0), some later and some earlier, some far apart (multi-byte varlongs).
      timestamp: base + BigInt([0, 0, 0, 1, -1, 1_000_000_000_000][rnd(6)] as number),
    }
  })
}

/** Copies, because both encoders write the batch's timestamps back onto the messages. */
function copy(list: ProduceMessage[]): ProduceMessage[] {
  return list.map((m) => ({ ...m }))
}

describe('createRecordBatch', () => {
  const sequences = { getWithDefault: (key: string, fallback: number) => (key === 't:3' ? 41 : fallback) }
  const cases: Array<[string, RecordBatchOptions]> = [
    ['plain', {}],
    ['idempotent, transactional', { producerId: 7001n, producerEpoch: 3, sequences, transactionalId: 'tailhouse-x' }],
    ['lz4', { compression: 'lz4', producerId: 5n, producerEpoch: 0, sequences }],
    ['gzip', { compression: 'gzip' }],
    ['snappy', { compression: 'snappy', transactionalId: 'x' }],
  ]
  for (const [name, options] of cases) {
    it(`builds the same bytes as the client's createRecordsBatch: ${name}`, () => {
      for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const list = messages(seed, 1 + (seed % 4) * 50, 1_763_950_000_000n)
        const ours = createRecordBatch(copy(list), options).buffer
        const theirs = (createRecordsBatch(copy(list) as never, options as never) as { buffer: Buffer }).buffer
        expect(ours.equals(theirs), `seed ${seed}`).toBe(true)
      }
    })
  }

  it('hands messages it does not expect (a string value) to the client, which rejects them as it always did', () => {
    const list = [{ topic: 't', partition: 0, value: 'text' as unknown as Buffer, timestamp: 1n }]
    const theirs = (() => {
      try {
        createRecordsBatch(copy(list) as never)
        return 'no error'
      } catch (error) {
        return (error as Error).message
      }
    })()
    expect(() => createRecordBatch(copy(list))).toThrow(theirs)
  })
})
