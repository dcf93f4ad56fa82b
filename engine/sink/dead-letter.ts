/**
 * Rows that cannot be published as they are (ARCHITECTURE.md, "Poison and oversized rows"): a row that cannot be
 * decoded or encoded, or whose message is larger than Kafka accepts (`kafka.maxMessageBytes`). Per
 * `engine.onPoisonRow`, such a row stops capture with an error naming it ({@link PoisonRowError},
 * {@link OversizedRowError}), or goes to the dead-letter topic ({@link deadLetterMessage}) and capture continues.
 */
import { TailhouseError } from '../errors.js'
import { fitsAlone, recordBytes } from '../kafka/record-size.js'
import type { ChangelogRow } from '../source/changelog-wire.js'
import { positionText } from '../source/cursor.js'
import { headerNames, type OutgoingMessage } from './outgoing-message.js'

/**
 * Headroom for what is added to a message after the converter measured it: the `traceparent` header (~70 bytes)
 * set when the batch is published.
 */
export const publishHeadroomBytes = 128

/** A row that cannot be decoded or encoded, when the policy is to stop. Never retried: the row will not change. */
export class PoisonRowError extends TailhouseError {
  constructor(row: ChangelogRow, cause: unknown) {
    super(
      'TH_CAPTURE',
      `changelog row ${positionText(row.stream, row)} of ${row.source} (schema version ` +
        `${row.schemaVersion}) cannot be published: ${(cause as Error).message}. Nothing after it was published. ` +
        'Set engine.onPoisonRow: dead-letter to route such rows to kafka.deadLetterTopic and continue',
      { cause },
    )
  }
}

/** A row whose message Kafka would refuse for its size, when the policy is to stop. */
export class OversizedRowError extends TailhouseError {
  constructor(row: ChangelogRow, messageBytes: number, maxMessageBytes: number) {
    super(
      'TH_KAFKA',
      `changelog row ${positionText(row.stream, row)} of ${row.source} makes a ${messageBytes}-byte message, over ` +
        `kafka.maxMessageBytes (${maxMessageBytes}). Nothing after it was published. Raise kafka.maxMessageBytes ` +
        "above it together with the broker's message.max.bytes and the topic's max.message.bytes (topics tailhouse " +
        'creates get kafka.maxMessageBytes), or set engine.onPoisonRow: dead-letter to route such rows to ' +
        'kafka.deadLetterTopic and continue',
    )
  }
}

/** Why the row was dead-lettered, for the log and the `tailhouse.error` header. */
export function oversizedReason(messageBytes: number, maxMessageBytes: number): string {
  return `the message is ${messageBytes} bytes, over kafka.maxMessageBytes (${maxMessageBytes})`
}

/** Whether `message` can be sent, with room for what publishing adds. */
export function messageFits(message: OutgoingMessage, maxMessageBytes: number): { fits: boolean; bytes: number } {
  const bytes = recordBytes(message)
  return { fits: fitsAlone(bytes + publishHeadroomBytes, maxMessageBytes), bytes }
}

/**
 * The dead-letter message of a row: keyed by its source, headers `tailhouse.cursor` and `tailhouse.error` (plus the
 * row's own headers), and as value the row's bytes (its RowBinary payload, or the value ClickHouse encoded) — or
 * nothing when those do not fit either, and the cursor header is the reference to read the row from its changelog.
 */
export function deadLetterMessage(
  row: ChangelogRow,
  reason: string,
  topic: string,
  rowHeaders: Map<Buffer, Buffer>,
  maxMessageBytes: number,
): OutgoingMessage {
  const headers = new Map(rowHeaders)
  headers.set(headerNames.cursor, Buffer.from(positionText(row.stream, row)))
  headers.set(headerNames.error, Buffer.from(reason))
  const message: OutgoingMessage = {
    topic,
    key: Buffer.from(row.source),
    value: row.payload ?? row.value ?? Buffer.alloc(0),
    headers,
  }
  if (!messageFits(message, maxMessageBytes).fits) {
    message.value = Buffer.alloc(0)
    headers.set(headerNames.error, Buffer.from(`${reason}; the row is left out (read it at tailhouse.cursor)`))
  }
  return message
}
