import { describe, expect, it } from 'vitest'
import { FenceCheck } from '../../engine/kafka/fence-check.js'

const refused = { producerId: 7n, producerEpoch: 3 }

describe('FenceCheck', () => {
  it('checks a first refusal by claiming as the refused producer', () => {
    const check = new FenceCheck()
    expect(check.claimAs).toBeUndefined()
    expect(check.onFenced(refused)).toBe('verify')
    expect(check.claimAs).toEqual(refused)
  })

  it('stops when the claim made to check is refused too: another instance took over', () => {
    const check = new FenceCheck()
    check.onFenced(refused)
    expect(check.onFenced(undefined)).toBe('fenced')
    expect(check.onFenced({ producerId: 7n, producerEpoch: 4 })).toBe('fenced')
  })

  it('checks again after a claim succeeded, with the newer producer', () => {
    const check = new FenceCheck()
    check.onFenced(refused)
    check.claimed()
    expect(check.claimAs).toBeUndefined()
    expect(check.onFenced({ producerId: 7n, producerEpoch: 4 })).toBe('verify')
    expect(check.claimAs).toEqual({ producerId: 7n, producerEpoch: 4 })
  })

  it('stops at once when the refused producer never claimed the id (nothing to claim as)', () => {
    expect(new FenceCheck().onFenced(undefined)).toBe('fenced')
  })
})
