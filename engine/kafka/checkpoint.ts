import { type Cursor, type CursorJson, cursorFromJson, cursorToJson } from '../source/cursor.js'
import type { KafkaClientOptions } from './connection.js'
import { readToEnd } from './read-to-end.js'

/**
 * The committed position of an engine, as written to the compacted checkpoint topic in the same transaction as
 * the batch's rows: a read_committed reader sees a checkpoint exactly when it sees the rows before it.
 */
export interface Checkpoint {
  /** Format of this record. */
  version: 1
  engineId: string
  /** The changelog table, db.changelog. */
  changelog: string
  cursor: CursorJson
  /** Rows published by this engine id since it first started. */
  rowsTotal: string
  committedAt: string
}

export function checkpointMessage(
  topic: string,
  checkpoint: Omit<Checkpoint, 'version' | 'cursor'> & { cursor: Cursor },
) {
  const value: Checkpoint = { version: 1, ...checkpoint, cursor: cursorToJson(checkpoint.cursor) }
  return { topic, key: Buffer.from(checkpoint.engineId), value: Buffer.from(JSON.stringify(value)), partition: 0 }
}

/**
 * Reads the checkpoint topic to its last stable offset and returns the newest committed checkpoint of
 * `engineId`, or undefined when there is none. Only committed transactions are read (read_committed).
 */
export async function readCheckpoint(
  connection: KafkaClientOptions,
  topic: string,
  engineId: string,
): Promise<{ checkpoint: Checkpoint; cursor: Cursor } | undefined> {
  let latest: Checkpoint | undefined
  for (const record of await readToEnd({ connection, topic, isolation: 'committed' })) {
    if (record.key?.toString() === engineId && record.value) latest = JSON.parse(record.value.toString()) as Checkpoint
  }
  return latest ? { checkpoint: latest, cursor: cursorFromJson(latest.cursor) } : undefined
}
