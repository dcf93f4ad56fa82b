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
  /** The capture database whose changelogs the cursor is in. */
  changelog: string
  /** Their identity (capture/identity.ts): the record's key is `<engineId>@<changelogId>`. */
  changelogId: string
  cursor: CursorJson
  /** Rows published by this engine id since it first started. */
  rowsTotal: string
  committedAt: string
}

/**
 * An engine's checkpoint key: its id and the identity of the changelogs it reads, so that two projects on one Kafka
 * (or a re-created capture database) never read each other's position, whatever their engine ids.
 */
export function checkpointKey(engineId: string, changelogId: string): string {
  return `${engineId}@${changelogId}`
}

export function checkpointMessage(
  topic: string,
  checkpoint: Omit<Checkpoint, 'version' | 'cursor'> & { cursor: Cursor },
) {
  const value: Checkpoint = { version: 1, ...checkpoint, cursor: cursorToJson(checkpoint.cursor) }
  const key = checkpointKey(checkpoint.engineId, checkpoint.changelogId)
  return { topic, key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)), partition: 0 }
}

/**
 * Reads the checkpoint topic to its last stable offset and returns the newest committed checkpoint under `key`
 * ({@link checkpointKey}), or undefined when there is none. Only committed transactions are read (read_committed).
 */
export async function readCheckpoint(
  connection: KafkaClientOptions,
  topic: string,
  key: string,
): Promise<{ checkpoint: Checkpoint; cursor: Cursor } | undefined> {
  let latest: Checkpoint | undefined
  for (const record of await readToEnd({ connection, topic, isolation: 'committed' })) {
    if (record.key?.toString() === key && record.value) latest = JSON.parse(record.value.toString()) as Checkpoint
  }
  return latest ? { checkpoint: latest, cursor: cursorFromJson(latest.cursor) } : undefined
}
