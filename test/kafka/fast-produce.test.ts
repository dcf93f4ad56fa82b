import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { kGetApi, Producer, produceV9, produceV11 } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import {
  clientVersion,
  createProduceRequest,
  fastPathSupported,
  useFastRecordBatches,
} from '../../engine/kafka/fast-produce.js'
import type { ProduceMessage } from '../../engine/kafka/record-batch.js'
import { packageRoot } from '../../engine/package-root.js'

function topicData(): ProduceMessage[] {
  const header = (i: number) => new Map([[Buffer.from('tailhouse.cursor'), Buffer.from(`p:1:${i}`)]])
  return [
    ...Array.from({ length: 30 }, (_, i) => ({
      topic: 'orders',
      partition: i % 3,
      key: Buffer.from(`k${i % 7}`),
      value: Buffer.alloc(50 + i, i),
      headers: header(i),
      timestamp: 1_763_950_000_000n + BigInt(i % 2),
    })),
    { topic: 'checkpoints', partition: 0, key: Buffer.from('engine'), value: Buffer.from('{}'), timestamp: 5n },
  ]
}

const copy = (list: ProduceMessage[]) => list.map((m) => ({ ...m }))

describe('createProduceRequest', () => {
  it("writes the client's own Produce v9–v11 request, byte for byte", () => {
    const options = { compression: 'lz4', producerId: 12n, producerEpoch: 1, transactionalId: 'tailhouse-e1' }
    const ours = createProduceRequest(-1, 30_000, copy(topicData()), options).buffer
    for (const version of [produceV9, produceV11]) {
      const theirs = version.createRequest(-1, 30_000, copy(topicData()) as never, options as never).buffer
      expect(ours.equals(theirs)).toBe(true)
    }
    const plain = createProduceRequest(1, 0, copy(topicData())).buffer
    expect(plain.equals(produceV11.createRequest(1, 0, copy(topicData()) as never).buffer)).toBe(true)
  })

  it('replaces only the Produce API, only on the client it is given', async () => {
    const producer = new Producer({ clientId: 'x', bootstrapBrokers: ['127.0.0.1:1'] })
    const other = new Producer({ clientId: 'y', bootstrapBrokers: ['127.0.0.1:1'] })
    useFastRecordBatches(producer)
    // Pretend the broker answered ApiVersions (the client keeps them under a private symbol): no connection needed.
    const apis = [
      { name: 'Produce', minVersion: 3, maxVersion: 12 },
      { name: 'Metadata', minVersion: 0, maxVersion: 12 },
    ]
    type Internals = Record<symbol, unknown>
    for (const client of [producer, other]) {
      const kApis = Object.getOwnPropertySymbols(client).find((s) => s.description === 'plt.kafka.base.apis')
      ;(client as unknown as Internals)[kApis as symbol] = apis
    }
    const get = (client: Producer, name: string) =>
      new Promise<{ version: number }>((resolve, reject) => {
        const getApi = (client as unknown as Internals)[kGetApi] as (
          n: string,
          cb: (e: unknown, a: unknown) => void,
        ) => void
        getApi.call(client, name, (error, api) => (error ? reject(error) : resolve(api as { version: number })))
      })
    const fast = await get(producer, 'Produce')
    const theirs = await get(other, 'Produce')
    expect(fast.version).toBe(11)
    expect(fast).not.toBe(theirs)
    expect(theirs).toBe(produceV11.api)
    expect(await get(producer, 'Metadata')).toBe(await get(other, 'Metadata'))
    await Promise.all([producer.close(), other.close()])
  })

  it('is used only with the client versions it was tested with, which package.json pins', async () => {
    expect(fastPathSupported(clientVersion())).toBe(true)
    for (const version of ['1.35.0', '1.35.9']) expect(fastPathSupported(version)).toBe(true)
    for (const version of ['1.34.9', '1.36.0', '2.0.0', '0.35.0']) expect(fastPathSupported(version)).toBe(false)
    // Read, not imported: an import of package.json makes tsc copy it into dist/, where it would pass for the
    // package root and hide migrations/.
    const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
    expect(manifest.dependencies['@platformatic/kafka']).toBe('~1.35.0')

    // Outside the range, the client keeps its own Produce path.
    const producer = new Producer({ clientId: 'x', bootstrapBrokers: ['127.0.0.1:1'] })
    const before = (producer as unknown as Record<symbol, unknown>)[kGetApi]
    expect(useFastRecordBatches(producer, '1.36.0')).toBe(false)
    expect((producer as unknown as Record<symbol, unknown>)[kGetApi]).toBe(before)
    await producer.close()
  })
})
