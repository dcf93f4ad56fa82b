import { describe, expect, it } from 'vitest'
import {
  confluentPrefix,
  frameConfluent,
  messageIndexBytes,
  readConfluentFrame,
} from '../../engine/encoding/confluent-framing.js'

describe('Confluent wire format', () => {
  it('writes magic 0 and the big-endian schema id before the value', () => {
    const framed = frameConfluent(0x01020304, Buffer.from('abc'))
    expect([...framed]).toEqual([0, 1, 2, 3, 4, 0x61, 0x62, 0x63])
    expect(readConfluentFrame(framed)).toEqual({ schemaId: 0x01020304, payload: Buffer.from('abc') })
  })

  it('writes the Protobuf message index [0] as the single byte 0', () => {
    expect([...frameConfluent(7, Buffer.from([0x0a]), [0])]).toEqual([0, 0, 0, 0, 7, 0, 0x0a])
  })

  it('writes other message-index paths as a zigzag count and zigzag indexes', () => {
    expect([...messageIndexBytes([1])]).toEqual([2, 2])
    expect([...messageIndexBytes([0, 2])]).toEqual([4, 0, 4])
    expect([...messageIndexBytes([64])]).toEqual([2, 0x80, 0x01])
    const framed = frameConfluent(9, Buffer.from([0xff]), [3, 1])
    expect(readConfluentFrame(framed, { protobuf: true })).toEqual({
      schemaId: 9,
      messageIndexes: [3, 1],
      payload: Buffer.from([0xff]),
    })
    expect(readConfluentFrame(frameConfluent(9, Buffer.from([1]), [0]), { protobuf: true }).messageIndexes).toEqual([0])
  })

  it('refuses ids and indexes outside their ranges, and unframed values', () => {
    expect(() => confluentPrefix(-1)).toThrow(/schema id -1/)
    expect(() => confluentPrefix(2 ** 32)).toThrow(/schema id/)
    expect(() => messageIndexBytes([])).toThrow(/at least one/)
    expect(() => messageIndexBytes([-1])).toThrow(/message index -1/)
    expect(() => readConfluentFrame(Buffer.from([1, 0, 0, 0, 1]))).toThrow(/not a Confluent-framed value/)
  })
})
