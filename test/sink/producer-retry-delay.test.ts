import { NetworkError, ResponseError } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { producerRetryDelay } from '../../engine/sink/publisher.js'

describe('producerRetryDelay', () => {
  it('retries CONCURRENT_TRANSACTIONS (the previous commit still writing its markers) after 10 ms', () => {
    // AddPartitionsToTxn (api 24) answering error 51 for one partition, as the broker does right after a commit.
    const concurrent = new ResponseError(24, 5, { '/results/0/partitions/0': [51, null] }, {})
    expect(producerRetryDelay(undefined, 'addPartitionsToTxn', 1, 10, concurrent)).toBe(10)
    expect(producerRetryDelay(undefined, 'addPartitionsToTxn', 5, 10, concurrent)).toBe(10)
  })

  it('backs off from 100 ms, doubling, up to 1 s for anything else', () => {
    const down = new NetworkError('connection refused')
    expect([1, 2, 3, 4, 5, 9].map((attempt) => producerRetryDelay(undefined, 'produce', attempt, 10, down))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ])
  })
})
