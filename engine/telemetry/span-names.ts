/**
 * Every span tailhouse emits, in one place. A batch span is the root; the others are its children.
 *
 * | span | kind | what it covers |
 * | --- | --- | --- |
 * | tailhouse.batch | INTERNAL | one batch: poll → encode → publish → checkpoint; carries the INSERTs' query ids |
 * | tailhouse.poll | CLIENT | the ClickHouse query reading the changelog after the cursor |
 * | tailhouse.encode | INTERNAL | decoding RowBinary payloads and encoding Kafka messages |
 * | publish | PRODUCER | the Kafka transaction: the rows and the checkpoint, sent and committed |
 * | tailhouse.checkpoint | INTERNAL | recording the committed cursor in SQLite |
 */
export const spanNames = {
  batch: 'tailhouse.batch',
  poll: 'tailhouse.poll',
  encode: 'tailhouse.encode',
  /** OpenTelemetry messaging conventions name a producer span after its operation. */
  publish: 'publish',
  checkpoint: 'tailhouse.checkpoint',
} as const
