import { CaptureError } from '../errors.js'
import type { SourceTable } from './source-table.js'

/**
 * The changelog `op` of a captured row, as a SQL expression over the source row, by source engine (design §1):
 * MergeTree → insert; ReplacingMergeTree(ver, is_deleted) → upsert, or delete when is_deleted = 1;
 * CollapsingMergeTree(sign) and VersionedCollapsingMergeTree(sign, ver) → upsert for +1, retract for −1.
 * Engines whose inserts cannot be captured are refused with the reason and what to do instead.
 */
export function opExpression(source: SourceTable): string {
  const engine = source.engine.replace(/^Replicated(?=\w*MergeTree$)/, '')
  // Replicated* engines may start with the Keeper path and replica name (string literals); those are not ours.
  const args = source.engine.startsWith('Replicated')
    ? source.engineArgs.filter((a) => !a.startsWith("'"))
    : source.engineArgs
  switch (engine) {
    case 'MergeTree':
    case 'SummingMergeTree':
    case 'Null':
    case 'Memory':
    case 'Log':
    case 'TinyLog':
    case 'StripeLog':
      return "'insert'"
    case 'ReplacingMergeTree': {
      const isDeleted = args[1]
      return isDeleted ? `if(${isDeleted} = 1, 'delete', 'upsert')` : "'upsert'"
    }
    case 'CollapsingMergeTree':
    case 'VersionedCollapsingMergeTree': {
      const sign = args[0]
      if (!sign) throw new CaptureError(source.source, `${source.engine} without a sign column cannot be captured`)
      return `if(${sign} = 1, 'upsert', 'retract')`
    }
    case 'Distributed':
      throw new CaptureError(
        source.source,
        'is a Distributed table: a view on it fires on the node that received the INSERT, not on the shards, so ' +
          `rows would be missed or split. Capture the shard-local table it reads (${args[1] ?? 'db'}.${args[2] ?? 'table'}) with --cluster`,
      )
    case 'View':
    case 'MaterializedView':
    case 'LiveView':
    case 'WindowView':
      throw new CaptureError(
        source.source,
        `is a ${source.engine}, not a table: capture the table its rows are inserted into`,
      )
    case 'AggregatingMergeTree':
      throw new CaptureError(
        source.source,
        'is an AggregatingMergeTree: its rows are partial aggregation states, not changes; capture the table the ' +
          'aggregating view reads from',
      )
    default:
      throw new CaptureError(
        source.source,
        `has engine ${source.engine}, which tailhouse cannot capture: only rows written by INSERT into a MergeTree-family, ` +
          'Null, Memory or Log table reach a materialized view',
      )
  }
}
