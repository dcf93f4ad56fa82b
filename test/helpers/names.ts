import { randomBytes } from 'node:crypto'

/** A name unique to this test run, safe as a ClickHouse identifier and a Kafka topic: `<prefix>_<hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}
