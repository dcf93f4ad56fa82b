import { join } from 'node:path'
import protobuf from 'protobufjs'

/** The demo reads its messages as any consumer would: Envelope and Row types loaded from the .proto files. */
export function loadRowType(schemasDir: string, rowProtoFile: string) {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(schemasDir, target))
  root.loadSync(['tailhouse/v1/envelope.proto', rowProtoFile], { keepCase: true })
  const envelope = root.lookupType('tailhouse.v1.Envelope')
  const row = root.lookupType('tailhouse.shop.orders.v1.Row')
  return {
    decodeOrder(value: Buffer): { orderId: number; customerId: number } {
      const env = envelope.decode(value) as unknown as { row: Uint8Array }
      const r = row.toObject(row.decode(env.row), { longs: Number, defaults: true }) as {
        order_id: number
        customer_id: number
      }
      return { orderId: r.order_id, customerId: r.customer_id }
    },
  }
}
