import { describe, expect, it } from 'vitest'
import { freePort, portAllocator } from './free-port.js'

describe('freePort', () => {
  it('skips a port the OS offers again after it was handed out (the stack starts its services at once)', async () => {
    const offers = [41000, 41000, 41001, 41000, 41002]
    const allocate = portAllocator(async () => offers.shift() as number)
    expect([await allocate(), await allocate(), await allocate()]).toEqual([41000, 41001, 41002])
  })

  it('gives up naming why when the OS keeps offering ports already handed out', async () => {
    const allocate = portAllocator(async () => 41000)
    await allocate()
    await expect(allocate()).rejects.toThrow(/no free port found that was not handed out already/)
  })

  it('hands out distinct ports on this machine', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()))
    expect(new Set(ports).size).toBe(ports.length)
  })
})
