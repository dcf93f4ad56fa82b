import { TailhouseError } from '../errors.js'
import type { Position } from './cursor.js'
import { isPatchPartition, type PartName, tryParsePartName } from './part-name.js'

/**
 * The safe watermark of a changelog partition: the highest block number N such that every block ≤ N is already
 * read, visible, or provably never coming (ARCHITECTURE.md, "Tailing"). The tail query reads `_block_number <= N` and nothing
 * beyond, so a block that becomes visible late is never skipped. Everything here is pure: the caller reads the
 * system tables (replicated-state.ts) and calls these functions every poll.
 */

/** Partition id → block number. */
export type BlockMap = Map<string, bigint>

/** The cursor value meaning "nothing read in this partition yet": block numbers start at 0 (Keeper) or 1. */
export const nothingRead = -1n

/** The cursor's block per partition, as {@link replicatedWatermark} takes it. */
export function blocksRead(cursor: ReadonlyMap<string, Position>): BlockMap {
  return new Map([...cursor].map(([partitionId, position]) => [partitionId, position.blockNumber]))
}

/** One row of `system.parts` for the changelog, read with `active OR _state = 'PreActive'`. */
export interface ActivePart {
  partitionId: string
  /** The part name, `<partition_id>_<min_block>_<max_block>_<level>[_<mutation>]`. */
  name: string
  /**
   * `system.parts.active`. An inactive row is a part being committed right now (state PreActive: an insert
   * between its Keeper commit and its local commit, or a fetch or merge finishing): its blocks count as in flight,
   * never as visible.
   */
  active: boolean
}

/**
 * A block number held by an unfinished INSERT (or ALTER): the ephemeral sequential node `block-<n>` under
 * `<zookeeper_path>/block_numbers/<partition_id>` (ClickHouse `EphemeralLockInZooKeeper`). The node is removed in
 * the same Keeper transaction that publishes the part; if the insert fails or its session expires, the node just
 * disappears and `n` is abandoned for good.
 */
export interface BlockLock {
  partitionId: string
  blockNumber: bigint
}

/** One row of `system.replication_queue` of the replica being tailed. */
export interface QueueEntry {
  /** GET_PART, ATTACH_PART, MERGE_PARTS, MUTATE_PART, DROP_RANGE, REPLACE_RANGE, ALTER_METADATA, … */
  type: string
  newPartName: string
  partsToMerge: string[]
}

/**
 * What one replica of a ReplicatedMergeTree changelog says about its blocks, read **in this order**, all on the
 * replica that the data query then reads from, and **before** that data query:
 *
 * 1. `parts`: `system.parts`;
 * 2. `locks`: `system.zookeeper` under `<zookeeper_path>/block_numbers/<partition_id>`;
 * 3. `queueCaughtUp`: `system.replicas` (`log_pointer > log_max_index`);
 * 4. `queue`: `system.replication_queue`.
 *
 * `readReplicatedState` in replicated-state.ts does exactly this; build a state by hand only in tests.
 *
 * Why the order makes a gap safe to pass. A block number N moves one way only: locked in Keeper → published
 * (one Keeper transaction removes the lock and appends a GET_PART to the shared log) → pulled into this replica's
 * queue → fetched and active here. Merges keep rows, so a block active at step 1 is still readable by the later
 * data query. Take a block that is not active at step 1. If it is still locked at step 2, it blocks. If not, it
 * was published (or abandoned) before step 2, so at step 3 its log entry is either not yet pulled — the queue is
 * behind the log, and then every gap blocks — or pulled, and then at step 4 it is either still queued (it blocks)
 * or already active, in which case the data query, which runs after step 4, sees it. So a gap with no lock and no
 * queued part covering it is either abandoned or already visible to the data query: passing it loses nothing.
 *
 * Windows this cannot see, both microseconds wide: a replica writes a pulled entry to Keeper just before it
 * inserts it into its in-memory queue (which is what `system.replication_queue` shows); the inserting replica
 * commits in Keeper just before its part turns Active (it is PreActive meanwhile, and counted as in flight when
 * seen).
 */
export interface ReplicatedState {
  parts: ActivePart[]
  locks: BlockLock[]
  /**
   * True when this replica had pulled every entry of the shared replication log into its queue (system.replicas
   * `log_pointer > log_max_index`, with a live Keeper session). When false, a published block may be in neither
   * the locks nor the queue yet, so no gap can be proven abandoned: the watermark stops at the first gap.
   */
  queueCaughtUp: boolean
  queue: QueueEntry[]
}

/**
 * Queue entries that produce no part. Every other type — GET_PART, ATTACH_PART, MERGE_PARTS, MUTATE_PART,
 * REPLACE_RANGE, CLONE_PART_FROM_SHARD and any type a later ClickHouse adds — counts as bringing the blocks of its
 * `new_part_name` and `parts_to_merge`.
 */
const noPartProduced = new Set([
  'DROP_RANGE', // removes parts; its new_part_name is the range being dropped
  'DROP_PART',
  'CLEAR_COLUMN',
  'CLEAR_INDEX',
  'ALTER_METADATA',
  'SYNC_PINNED_PART_UUIDS',
  'EMPTY',
])

/**
 * The safe watermark of a plain MergeTree changelog: the highest visible block of each partition.
 *
 * A plain MergeTree allocates a part's block number and adds the part to the active set atomically, under the
 * table's parts lock (`MergeTreeData::renameTempPartAndReplace`: "obtaining new block number and adding that
 * block to parts set is done atomically"), and `system.parts` lists parts under the same lock. So a snapshot is
 * prefix-closed: any number below the visible maximum that is not visible never will be (a deduplicated retry or
 * an ALTER consumed it). Gaps are therefore normal and never waited for.
 *
 * Only active parts count; patch partitions (lightweight UPDATE, which the changelog never gets) are skipped.
 * Partitions without an active part are absent from the result.
 *
 * @example
 *   plainWatermark([{ partitionId: '1767261600', name: '1767261600_1_4_1', active: true },
 *                   { partitionId: '1767261600', name: '1767261600_7_7_0', active: true }])
 *   // Map { '1767261600' => 7n }: 5 and 6 were consumed by something that left no part
 */
export function plainWatermark(parts: readonly ActivePart[]): BlockMap {
  const watermark: BlockMap = new Map()
  for (const part of parts) {
    if (!part.active) continue
    const info = partInfo(part)
    if (isPatchPartition(info.partitionId)) continue
    const max = watermark.get(info.partitionId)
    if (max === undefined || info.maxBlock > max) watermark.set(info.partitionId, info.maxBlock)
  }
  return watermark
}

/**
 * The safe watermark of a ReplicatedMergeTree changelog, per partition that has an active part: the highest N
 * such that every block in `(cursor, N]` is covered by an active part or is an abandoned number, N at most the
 * highest visible block. The scan stops before the first uncovered block that a lock, a queued part or a
 * PreActive part still holds (or, when the queue is behind the log, before the first uncovered block at all).
 *
 * The result never goes below the cursor: a partition with nothing safe to read gets its cursor back, which is
 * {@link nothingRead} (-1n) when the cursor has no entry for it. A reader that binds the watermark as UInt64 must
 * treat a negative value as "nothing to read in this partition yet".
 *
 * @param state read as {@link ReplicatedState} prescribes.
 * @param cursor partition id → the cursor's block number. Blocks up to it are read and never block; the block it
 *   points into may be only partly read, but it is visible, so it is covered either way.
 * @example
 *   // parts 0, 1, 3 and 4 active; 2 has no lock and no queue entry: abandoned (a failed insert)
 *   replicatedWatermark({ parts, locks: [], queueCaughtUp: true, queue: [] }, new Map()) // Map { 'all' => 4n }
 *   // the same with a lock on 2: an insert still running
 *   replicatedWatermark({ parts, locks: [{ partitionId: 'all', blockNumber: 2n }], queueCaughtUp: true, queue: [] },
 *     new Map()) // Map { 'all' => 1n }
 */
export function replicatedWatermark(state: ReplicatedState, cursor: ReadonlyMap<string, bigint>): BlockMap {
  const visible = new Map<string, BlockRange[]>()
  const inFlight = new Map<string, BlockRange[]>()
  for (const part of state.parts) {
    const info = partInfo(part)
    if (!isPatchPartition(info.partitionId)) append(part.active ? visible : inFlight, info.partitionId, info)
  }
  for (const lock of state.locks) {
    append(inFlight, lock.partitionId, { minBlock: lock.blockNumber, maxBlock: lock.blockNumber })
  }
  for (const info of queuedParts(state.queue)) append(inFlight, info.partitionId, info)

  const watermark: BlockMap = new Map()
  for (const [partitionId, ranges] of visible) {
    const covered = sortRanges(ranges)
    const read = cursor.get(partitionId) ?? nothingRead
    // Nothing above the highest visible block can be read yet; nothing at or below the cursor needs reading.
    const ceiling = ranges.reduce(larger, read)
    const blockedAt = state.queueCaughtUp
      ? firstHeldGap(covered, inFlight.get(partitionId) ?? [], read)
      : firstGap(covered, read + 1n)
    watermark.set(partitionId, blockedAt !== undefined && blockedAt <= ceiling ? blockedAt - 1n : ceiling)
  }
  return watermark
}

/**
 * The highest block number each partition of this replica holds or is about to hold: active and PreActive parts
 * and the parts its queue will produce. This is the "visible max" to check for regressions on a replicated
 * changelog (cursor-regression.ts): a replica that lags — after a fail-over, say — shows a lower active maximum
 * while the missing parts sit in its queue, and that is not a regression.
 *
 * Undefined when the queue is behind the shared log (`queueCaughtUp` false): parts the replica has not even heard
 * of yet would make a regression look real, so skip the check for this poll.
 */
export function replicatedKnownMax(state: ReplicatedState): BlockMap | undefined {
  if (!state.queueCaughtUp) return undefined
  const known: BlockMap = new Map()
  const note = (info: PartName): void => {
    if (isPatchPartition(info.partitionId)) return
    const max = known.get(info.partitionId)
    if (max === undefined || info.maxBlock > max) known.set(info.partitionId, info.maxBlock)
  }
  for (const part of state.parts) note(partInfo(part))
  for (const info of queuedParts(state.queue)) note(info)
  return known
}

interface BlockRange {
  minBlock: bigint
  maxBlock: bigint
}

/** The larger of a block number and a range's top (Math.max does not take bigint). */
function larger(max: bigint, range: BlockRange): bigint {
  if (range.maxBlock > max) return range.maxBlock
  return max
}

function append(ranges: Map<string, BlockRange[]>, partitionId: string, range: BlockRange): void {
  const list = ranges.get(partitionId)
  if (list) list.push(range)
  else ranges.set(partitionId, [range])
}

function sortRanges(ranges: readonly BlockRange[]): BlockRange[] {
  return [...ranges].sort((a, b) => (a.minBlock < b.minBlock ? -1 : a.minBlock > b.minBlock ? 1 : 0))
}

/** The first block ≥ `from` that no range covers. `covered` is sorted by minBlock. */
function firstGap(covered: readonly BlockRange[], from: bigint): bigint {
  let next = from
  for (const range of covered) {
    if (range.minBlock > next) break
    if (range.maxBlock >= next) next = range.maxBlock + 1n
  }
  return next
}

/** The first block above `read` that is held in flight and not covered by an active part, if any. */
function firstHeldGap(covered: readonly BlockRange[], held: readonly BlockRange[], read: bigint): bigint | undefined {
  let first: bigint | undefined
  for (const range of held) {
    const from = range.minBlock > read ? range.minBlock : read + 1n
    if (from > range.maxBlock) continue
    const gap = firstGap(covered, from)
    if (gap <= range.maxBlock && (first === undefined || gap < first)) first = gap
  }
  return first
}

/** The parts the queue entries will produce or need, parsed. */
function queuedParts(queue: readonly QueueEntry[]): PartName[] {
  const parts: PartName[] = []
  for (const entry of queue) {
    if (noPartProduced.has(entry.type)) continue
    for (const name of [entry.newPartName, ...entry.partsToMerge]) {
      if (name === '') continue
      const info = tryParsePartName(name)
      if (!info) {
        throw new TailhouseError(
          'TH_CAPTURE',
          `system.replication_queue has a ${entry.type} entry with part name "${name}", which tailhouse cannot ` +
            'parse; it cannot tell which blocks are in flight, so it does not guess',
        )
      }
      parts.push(info)
    }
  }
  return parts
}

function partInfo(part: ActivePart): PartName {
  const info = tryParsePartName(part.name)
  if (!info || info.partitionId !== part.partitionId) {
    throw new TailhouseError(
      'TH_CAPTURE',
      `system.parts lists part "${part.name}" in partition "${part.partitionId}", which is not a part name of ` +
        'that partition; tailhouse cannot tell which blocks it holds',
    )
  }
  return info
}
