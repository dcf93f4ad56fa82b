/** A Kafka message ready to send. Headers are strings, encoded UTF-8 on the wire. */
export interface OutgoingMessage {
  topic: string
  key: Buffer | undefined
  value: Buffer
  headers: Record<string, Buffer>
}
