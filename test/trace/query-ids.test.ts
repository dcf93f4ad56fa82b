import { describe, expect, it } from 'vitest'
import { envelopeProto } from '../../engine/schema/envelope-proto.js'
import { batchQueryIds, messageQueryId } from '../../engine/trace/query-ids.js'
import { loadProto } from '../schema/load-proto.js'

describe('query ids', () => {
  it("reads a batch span's query ids as Jaeger (JSON text) and Zipkin (a,b) store the array", () => {
    expect(batchQueryIds({ 'tailhouse.query_ids': '["q-1","q-2"]' })).toEqual(['q-1', 'q-2'])
    expect(batchQueryIds({ 'tailhouse.query_ids': 'q-1,q-2' })).toEqual(['q-1', 'q-2'])
    expect(batchQueryIds({ 'tailhouse.query_ids': 'q-1' })).toEqual(['q-1'])
    expect(batchQueryIds({})).toEqual([])
  })

  it("takes a message's query id from its header, else from its JSON or Protobuf envelope", () => {
    const { root } = loadProto(envelopeProto().text)
    const Envelope = root.lookupType('tailhouse.v1.Envelope')
    const protobufValue = Buffer.from(
      Envelope.encode(
        Envelope.fromObject({
          source: 'shop.orders',
          op: 1,
          schema_version: 3,
          cursor: { partition_id: '202601', block_number: 300, block_offset: 7 },
          query_id: 'from-the-envelope',
          ingest_time: { seconds: 1_700_000_000, nanos: 5 },
          row: Buffer.from([0x08, 0x96, 0x01]),
        }),
      ).finish(),
    )
    expect(messageQueryId(protobufValue, [])).toBe('from-the-envelope')
    expect(messageQueryId(Buffer.from('{"source":"shop.orders","query_id":"from-json","row":{}}'), [])).toBe(
      'from-json',
    )
    expect(messageQueryId(protobufValue, [['tailhouse.query_id', Buffer.from('from-the-header')]])).toBe(
      'from-the-header',
    )
    expect(messageQueryId(Buffer.from([0xff, 0xff]), [])).toBeUndefined()
    expect(messageQueryId(null, [])).toBeUndefined()
  })
})
