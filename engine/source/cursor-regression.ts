import { quoteString } from '../clickhouse/sql.js'
import { TailhouseError } from '../errors.js'
import type { Position } from './cursor.js'

/**
 * Block numbers going backwards (ARCHITECTURE.md, "Tailing"). A plain MergeTree restarts its block counter from the highest
 * block left on disk, so once the parts holding the highest numbers are dropped, a restart hands those numbers out
 * again (checked: blocks 5 and 6 dropped with their partition, restart, the next insert got block 5 again). A
 * ReplicatedMergeTree does the same when its Keeper state starts over. New rows can then carry numbers at or below
 * the cursor, and a cursor that only moves forward would skip them silently. So when a partition's highest visible
 * block falls below the cursor, tailhouse stops that changelog and says so; the operator decides.
 *
 * A partition that is gone altogether is not a regression: hourly partitions retire by TTL every hour. Its cursor
 * entry can be forgotten; if the partition id ever comes back, it is read from its first block.
 */

export interface Regression {
  partitionId: string
  /** Where the cursor is. */
  cursorBlock: bigint
  cursorOffset: bigint
  /** The highest block the partition shows now, below `cursorBlock`. */
  visibleMax: bigint
  /** Why this is a regression; one reason today, a union so that callers switch on it. */
  reason: 'visible-max-below-cursor'
}

export interface RegressionReport {
  /** Partitions whose highest visible block fell below the cursor: stop, see {@link regressionError}. */
  regressions: Regression[]
  /** Partitions of the cursor that no longer exist (TTL drop of an old hour): forget their cursor entries. */
  retired: string[]
}

/**
 * Compares the cursor with what the changelog holds now.
 *
 * - A cursor partition with a visible maximum below the cursor's block is a regression (equal is fine: a block's
 *   rows never change).
 * - A cursor partition in neither `visibleMax` nor `knownPartitions` is retired.
 * - A cursor partition in `knownPartitions` but without a visible block is neither: its parts are on their way out
 *   (a drop in progress) or in; the next poll decides.
 *
 * @param visibleMax partition → highest block visible now, from the same snapshot as `knownPartitions`. Plain
 *   MergeTree: `plainWatermark(parts)`. ReplicatedMergeTree: `replicatedKnownMax(state)`, which also counts the
 *   parts queued on this replica (a replica catching up after a fail-over is not a regression); skip the check
 *   when it returns undefined.
 * @param knownPartitions every partition id the table still lists in that snapshot, in any part state.
 * @example
 *   detectRegression(new Map([['1767261600', { blockNumber: 6n, blockOffset: 0n }]]),
 *                    new Map([['1767261600', 5n]]), new Set(['1767261600']))
 *   // { regressions: [{ partitionId: '1767261600', cursorBlock: 6n, cursorOffset: 0n, visibleMax: 5n, … }], retired: [] }
 */
export function detectRegression(
  cursor: ReadonlyMap<string, Position>,
  visibleMax: ReadonlyMap<string, bigint>,
  knownPartitions: ReadonlySet<string>,
): RegressionReport {
  const report: RegressionReport = { regressions: [], retired: [] }
  for (const [partitionId, position] of [...cursor].sort(([a], [b]) => a.localeCompare(b))) {
    const max = visibleMax.get(partitionId)
    if (max === undefined) {
      if (!knownPartitions.has(partitionId)) report.retired.push(partitionId)
    } else if (max < position.blockNumber) {
      report.regressions.push({
        partitionId,
        cursorBlock: position.blockNumber,
        cursorOffset: position.blockOffset,
        visibleMax: max,
        reason: 'visible-max-below-cursor',
      })
    }
  }
  return report
}

/**
 * The operator's message for regressions of `changelog` (`db.table`): what happened, why tailhouse stopped, what
 * to inspect, and the explicit way to resume.
 */
export function describeRegression(changelog: string, regressions: readonly Regression[]): string {
  const dot = changelog.indexOf('.')
  const where =
    dot < 0
      ? `table = ${quoteString(changelog)}`
      : `database = ${quoteString(changelog.slice(0, dot))} AND table = ${quoteString(changelog.slice(dot + 1))}`
  const ids = regressions.map((r) => r.partitionId)
  const partitions =
    ids.length === 1
      ? `partition_id = ${quoteString(ids[0] as string)}`
      : `partition_id IN (${ids.map(quoteString).join(', ')})`
  const lines = [
    `tailhouse stopped tailing the changelog ${changelog}: block numbers went backwards in ` +
      `${regressions.length === 1 ? 'partition' : 'partitions'} ${ids.join(', ')}.`,
    ...regressions.map(
      (r) =>
        `  partition ${r.partitionId}: the cursor is at block ${r.cursorBlock} (offset ${r.cursorOffset}), but the ` +
        `highest block it holds now is ${r.visibleMax}.`,
    ),
    'What happened: the parts holding the higher blocks were dropped (DROP PARTITION or PART, TRUNCATE, a lost ' +
      'part), and ClickHouse can hand those block numbers out again: a MergeTree restarts its counter from the ' +
      'highest block left, a re-created ReplicatedMergeTree from zero. Rows may have been re-numbered: new rows ' +
      'can carry block numbers at or below the cursor. Reading on would skip them without a trace, so tailhouse ' +
      'stopped this changelog instead of skipping.',
    'What you can do:',
    `  1. See what the partition holds now: SELECT name, active, rows, min_block_number, max_block_number, ` +
      `modification_time FROM system.parts WHERE ${where} AND ${partitions} ORDER BY min_block_number`,
    `  2. See what happened to it, if system.part_log is enabled: SELECT event_time, event_type, part_name, rows ` +
      `FROM system.part_log WHERE ${where} AND ${partitions} ORDER BY event_time`,
    `  3. Once you know which rows are new, read the partition again from its first block: tailhouse start ` +
      `${ids.map((id) => `--reset-partition ${id}`).join(' ')}. Rows of it that were already published are ` +
      'published again; consumers that deduplicate by cursor drop them.',
  ]
  return lines.join('\n')
}

/** Thrown by the engine when {@link detectRegression} finds regressions: code TH_CAPTURE, not retryable. */
export class CursorRegressionError extends TailhouseError {
  /** The changelog, `db.table`. */
  readonly changelog: string
  /** The partitions that regressed (strings, so that JSON logs can show them). */
  readonly partitions: string[]

  constructor(changelog: string, regressions: readonly Regression[]) {
    super('TH_CAPTURE', describeRegression(changelog, regressions), { canRetry: false })
    this.changelog = changelog
    this.partitions = regressions.map((r) => r.partitionId)
  }
}

/** The error to throw for `regressions` of `changelog`. */
export function regressionError(changelog: string, regressions: readonly Regression[]): CursorRegressionError {
  return new CursorRegressionError(changelog, regressions)
}
