import type { Checkpoint } from '../kafka/checkpoint.js'
import type { Logger } from '../log.js'
import { type Cursor, compareCursors, describeCursor, positionText } from '../source/cursor.js'
import type { BatchRecord } from './offset-store.js'

export interface Reconciled {
  cursor: Cursor
  rowsTotal: bigint
  /** What was decided, for the log; undefined when SQLite and the checkpoint agree. */
  note?: { level: 'info' | 'warn'; message: string }
  /** SQLite must record `cursor` (the checkpoint won). */
  mirror: boolean
}

/**
 * Where an exactly-once engine resumes (ARCHITECTURE.md, "Exactly once"): the committed checkpoint wins over SQLite,
 * except when SQLite is ahead of it. SQLite records a batch only after its commit returned, and a returned commit is
 * final in Kafka: a checkpoint read behind SQLite missed committed checkpoints, and publishing from it would repeat
 * rows.
 *
 * @param history SQLite's recent batches, newest first (to count the rows the checkpoint read missed).
 */
export function reconcile(
  local: Cursor,
  committed: { checkpoint: Checkpoint; cursor: Cursor } | undefined,
  history: () => BatchRecord[],
  where: { engineId: string; checkpointTopic: string },
): Reconciled {
  if (!committed) {
    return {
      cursor: local,
      rowsTotal: 0n,
      mirror: false,
      note:
        local.size > 0
          ? {
              level: 'warn',
              message: `no checkpoint for engine ${where.engineId} in ${where.checkpointTopic}; resuming from the SQLite cursor ${describeCursor(local)}`,
            }
          : undefined,
    }
  }
  const relation = compareCursors(local, committed.cursor)
  if (relation === 'ahead') {
    const later = history().filter((b) => compareCursors(b.cursor, committed.cursor) === 'ahead')
    return {
      cursor: local,
      rowsTotal: BigInt(committed.checkpoint.rowsTotal) + BigInt(later.reduce((n, b) => n + b.rows, 0)),
      mirror: false,
      note: {
        level: 'warn',
        message:
          `reconciled: the checkpoint read (${describeCursor(committed.cursor)}) is behind SQLite (${describeCursor(local)}), ` +
          'which records only committed batches: resuming from SQLite',
      },
    }
  }
  return {
    cursor: committed.cursor,
    rowsTotal: BigInt(committed.checkpoint.rowsTotal),
    mirror: relation !== 'same',
    note:
      relation === 'same'
        ? undefined
        : {
            level: relation === 'diverged' ? 'warn' : 'info',
            message: `reconciled: the committed checkpoint (${describeCursor(committed.cursor)}) wins over SQLite (${describeCursor(local)})`,
          },
  }
}

/**
 * The cursor without the streams the operator asked to read again (`--reset-partition <db.table>[/<partition>]`),
 * after a reported cursor regression: their rows may be published a second time, since the cursor cannot tell old
 * rows from re-numbered ones.
 */
export function resetStreams(cursor: Cursor, resets: readonly string[], log: Logger): Cursor {
  if (resets.length === 0) return cursor
  const kept = new Map(cursor)
  for (const [stream, position] of cursor) {
    if (!resets.some((r) => r === stream || stream.startsWith(`${r}/`))) continue
    kept.delete(stream)
    log.log('warn', `reset: ${stream} is read again from its start`, { was: positionText(stream, position) })
  }
  return kept
}
