/**
 * ClickHouse data part names, as `system.parts.name`, `system.replication_queue.new_part_name` and
 * `parts_to_merge` print them:
 *
 *     <partition_id>_<min_block>_<max_block>_<level>[_<mutation>]
 *
 * e.g. `1767261600_1_4_1_5`: partition `1767261600` (`toStartOfHour(ingest_ts)` as Unix seconds), blocks 1 to 4,
 * merged once (level 1), rewritten by the mutation that took block number 5.
 *
 * Facts this relies on (ClickHouse `MergeTreePartInfo::tryParsePartName`, `validatePartitionID`,
 * `MergeTreePartition::getID`):
 * - A partition id never contains `_`: it is `all` (no partition key), the key's integer values joined by `-`
 *   (Date as YYYYMMDD, DateTime as Unix seconds; a negative Int64 starts with `-`), or a 32-digit hex hash; only
 *   `[A-Za-z0-9-]` is accepted. ClickHouse itself reads the id up to the first `_`, which is what we do: reading
 *   "from the right" would be ambiguous between `<id>_<min>_<max>_<level>_<mutation>` and an id containing `_`.
 * - Block numbers are Int64 (bigint here: they come from a 64-bit counter and Keeper sequence numbers); level and
 *   mutation are UInt32 in the parser. The mutation suffix is omitted when it is 0.
 * - Patch parts of lightweight UPDATE (ClickHouse 25.x+) live in a partition whose id starts with `patch-`. The
 *   changelog is never updated (ARCHITECTURE.md, "Capture"), so such partitions are reported by {@link isPatchPartition} and
 *   left out of every watermark.
 * - Only the custom-partitioning name format (format_version 1, every table created with `PARTITION BY`
 *   syntax) is handled; the legacy `YYYYMMDD_YYYYMMDD_min_max_level` names of pre-2017 tables are not.
 */
export interface PartName {
  partitionId: string
  minBlock: bigint
  maxBlock: bigint
  level: number
  /** The mutation version, 0n when the name has no mutation suffix. */
  mutation: bigint
}

const partitionIdPattern = /^[A-Za-z0-9-]+$/
const blockPattern = /^-?\d+$/
const unsignedPattern = /^\d+$/
const maxUInt32 = 4_294_967_295

/** Parses a part name, or returns undefined when it is not one (see {@link parsePartName}). */
export function tryParsePartName(name: string): PartName | undefined {
  const fields = name.split('_')
  if (fields.length !== 4 && fields.length !== 5) return undefined
  const [partitionId, min, max, level, mutation = '0'] = fields as [string, string, string, string, string?]
  if (!partitionIdPattern.test(partitionId)) return undefined
  if (!blockPattern.test(min) || !blockPattern.test(max)) return undefined
  if (!unsignedPattern.test(level) || !unsignedPattern.test(mutation)) return undefined
  const minBlock = BigInt(min)
  const maxBlock = BigInt(max)
  const levelNumber = Number(level)
  // ClickHouse's own sanity checks: a range never runs backwards; level is a UInt32.
  if (minBlock > maxBlock || levelNumber > maxUInt32) return undefined
  return { partitionId, minBlock, maxBlock, level: levelNumber, mutation: BigInt(mutation) }
}

/**
 * Parses `<partition_id>_<min_block>_<max_block>_<level>[_<mutation>]`.
 *
 * @throws TypeError when `name` is not a part name; callers that read names from ClickHouse wrap it in their own
 *   error with the context (which system table, which row).
 * @example
 *   parsePartName('1767261600_1_4_1_5') // { partitionId: '1767261600', minBlock: 1n, maxBlock: 4n, level: 1, mutation: 5n }
 *   parsePartName('all_0_0_0')          // partition of a table without PARTITION BY
 */
export function parsePartName(name: string): PartName {
  const parsed = tryParsePartName(name)
  if (!parsed) throw new TypeError(`not a ClickHouse part name: "${name}"`)
  return parsed
}

/** The name ClickHouse gives the part (`MergeTreePartInfo::getPartName`): the inverse of {@link parsePartName}. */
export function formatPartName(part: PartName): string {
  const base = `${part.partitionId}_${part.minBlock}_${part.maxBlock}_${part.level}`
  return part.mutation === 0n ? base : `${base}_${part.mutation}`
}

/** True for the partitions that hold lightweight-UPDATE patch parts (`patch-<hash>-<partition_id>`). */
export function isPatchPartition(partitionId: string): boolean {
  return partitionId.startsWith('patch-')
}
