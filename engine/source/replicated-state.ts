import { TailhouseError } from '../errors.js'
import type { ActivePart, BlockLock, QueueEntry, ReplicatedState } from './watermark.js'

/**
 * Reading a ReplicatedMergeTree changelog's block state from one replica's system tables: the SQL, the row
 * mappers, and {@link readReplicatedState}, which runs the reads in the order the safe watermark depends on
 * (watermark.ts, {@link ReplicatedState}). Queries are `{ query, query_params }` for `@clickhouse/client` with
 * `format: 'JSONEachRow'`; mappers accept 64-bit integers both quoted (the HTTP default,
 * output_format_json_quote_64bit_integers = 1) and unquoted.
 *
 * System tables used, as of ClickHouse 24.8–26.x:
 * - `system.replicas`: zookeeper_name, zookeeper_path, replica_name, is_readonly, is_session_expired,
 *   log_max_index, log_pointer (the last two are read from Keeper on every query);
 * - `system.parts`: partition_id, name, active, and the virtual `_state`. Non-active parts are listed only when
 *   the query names `_state`, hence `active OR _state = 'PreActive'`;
 * - `system.zookeeper`: children of `path` (`path = …` or `path IN (…)` is mandatory; a missing path is an
 *   error): name, path, numChildren; `zookeeperName` selects an auxiliary Keeper (newer servers only, ClickHouse
 *   #75817; tables on the default Keeper never send it);
 * - `system.replication_queue`: this replica's in-memory queue: type, new_part_name, parts_to_merge.
 */

/** A query for `client.query({ ...request, format: 'JSONEachRow' })`. */
export interface SqlRequest {
  query: string
  query_params: Record<string, unknown>
}

/** Runs a SELECT with JSONEachRow output and returns its rows; the engine adapts its ClickHouse client to it. */
export type QueryRunner = (request: SqlRequest) => Promise<readonly unknown[]>

/** The replica of a ReplicatedMergeTree changelog, as `system.replicas` describes it. */
export interface ReplicaStatus {
  /** The Keeper cluster holding the table: 'default', or an auxiliary one named in the table's engine. */
  zookeeperName: string
  /** The table's path in Keeper, macros expanded, e.g. `/clickhouse/tables/01/tailhouse/changelog`. */
  zookeeperPath: string
  replicaName: string
  /** True when the replica cannot write (Keeper session lost or not configured). */
  readonly: boolean
  /** See {@link ReplicatedState.queueCaughtUp}. */
  queueCaughtUp: boolean
}

/** Which changelog to read, and where its Keeper state lives (from {@link replicaStatusFromRows}). */
export interface ReplicatedTarget {
  database: string
  table: string
  zookeeperName: string
  zookeeperPath: string
  /** Restrict the parts and locks read to these partitions; all partitions when absent. */
  partitions?: readonly string[]
}

/** `system.replicas` for one table: its Keeper path, and whether its queue has pulled the whole shared log. */
export function replicaStatusQuery(database: string, table: string): SqlRequest {
  return {
    query: `SELECT zookeeper_name, zookeeper_path, replica_name, is_readonly, is_session_expired,
                   log_max_index, log_pointer
            FROM system.replicas
            WHERE database = {database:String} AND table = {table:String}`,
    query_params: { database, table },
  }
}

/**
 * The replica's status from {@link replicaStatusQuery}'s rows.
 *
 * @throws TailhouseError TH_CAPTURE when there is no row: the table is not a Replicated*MergeTree on this server.
 */
export function replicaStatusFromRows(rows: readonly unknown[], source: string): ReplicaStatus {
  const [row] = rows
  if (row === undefined) {
    throw new TailhouseError(
      'TH_CAPTURE',
      `${source}: not in system.replicas; the changelog is not a ReplicatedMergeTree on this server`,
    )
  }
  const r = record(row, 'system.replicas')
  const expired = flag(r, 'is_session_expired', 'system.replicas')
  // log_pointer is the next log entry to pull (e.g. 207 when log_max_index is 206); both read 0 when the Keeper
  // session is gone, which reads as "behind": the safe answer.
  const caughtUp = !expired && uint(r, 'log_pointer', 'system.replicas') > uint(r, 'log_max_index', 'system.replicas')
  return {
    zookeeperName: text(r, 'zookeeper_name', 'system.replicas') || 'default',
    zookeeperPath: text(r, 'zookeeper_path', 'system.replicas'),
    replicaName: text(r, 'replica_name', 'system.replicas'),
    readonly: flag(r, 'is_readonly', 'system.replicas') || expired,
    queueCaughtUp: caughtUp,
  }
}

/** Read 1: the changelog's active parts, and the ones being committed right now (PreActive). */
export function partsQuery(database: string, table: string, partitions?: readonly string[]): SqlRequest {
  const query_params: Record<string, unknown> = { database, table }
  let filter = ''
  if (partitions !== undefined) {
    query_params.partitions = [...partitions]
    filter = ' AND partition_id IN {partitions:Array(String)}'
  }
  return {
    query: `SELECT partition_id, name, active
            FROM system.parts
            WHERE database = {database:String} AND table = {table:String}
              AND (active OR _state = 'PreActive')${filter}`,
    query_params,
  }
}

export function partsFromRows(rows: readonly unknown[]): ActivePart[] {
  return rows.map((row) => {
    const r = record(row, 'system.parts')
    return {
      partitionId: text(r, 'partition_id', 'system.parts'),
      name: text(r, 'name', 'system.parts'),
      active: flag(r, 'active', 'system.parts'),
    }
  })
}

/** `<zookeeper_path>/block_numbers`: one child per partition that ever had a block number allocated. */
export function blockNumbersPath(zookeeperPath: string): string {
  return `${zookeeperPath.replace(/\/+$/, '')}/block_numbers`
}

/**
 * Read 2a: the partitions under `block_numbers` and how many locks each holds right now (numChildren), so that
 * read 2b only lists partitions with a lock in flight, and never names a partition node that does not exist
 * (system.zookeeper throws for a missing path).
 */
export function lockPartitionsQuery(target: Pick<ReplicatedTarget, 'zookeeperName' | 'zookeeperPath'>): SqlRequest {
  return zookeeperChildrenQuery(target.zookeeperName, [blockNumbersPath(target.zookeeperPath)], 'name, numChildren')
}

/** Partition ids whose block_numbers node has children, from {@link lockPartitionsQuery}'s rows. */
export function lockedPartitionsFromRows(rows: readonly unknown[]): string[] {
  const locked: string[] = []
  for (const row of rows) {
    const r = record(row, 'system.zookeeper')
    if (uint(r, 'numChildren', 'system.zookeeper') > 0n) locked.push(text(r, 'name', 'system.zookeeper'))
  }
  return locked
}

/** Read 2b: the lock nodes `block-<n>` of the given partitions. */
export function blockLocksQuery(
  target: Pick<ReplicatedTarget, 'zookeeperName' | 'zookeeperPath'>,
  partitions: readonly string[],
): SqlRequest {
  if (partitions.length === 0) throw new RangeError('blockLocksQuery needs at least one partition')
  const base = blockNumbersPath(target.zookeeperPath)
  return zookeeperChildrenQuery(
    target.zookeeperName,
    partitions.map((partition) => `${base}/${partition}`),
    'path, name',
  )
}

/**
 * The locks from {@link blockLocksQuery}'s rows.
 *
 * @throws TailhouseError TH_CAPTURE for a child that is not a block lock: ClickHouse changed its Keeper layout,
 *   and guessing would risk skipping rows.
 */
export function locksFromRows(rows: readonly unknown[], zookeeperPath: string): BlockLock[] {
  const prefix = `${blockNumbersPath(zookeeperPath)}/`
  return rows.map((row) => {
    const r = record(row, 'system.zookeeper')
    const path = text(r, 'path', 'system.zookeeper')
    const name = text(r, 'name', 'system.zookeeper')
    const blockNumber = parseBlockLockName(name)
    if (!path.startsWith(prefix) || blockNumber === undefined) {
      throw new TailhouseError(
        'TH_CAPTURE',
        `unexpected Keeper node "${path}/${name}": expected block-<number> under ${prefix}<partition_id>`,
      )
    }
    return { partitionId: path.slice(prefix.length), blockNumber }
  })
}

/**
 * The block number of a lock node: `block-0000000042` → 42n. Keeper and ZooKeeper append the parent's sequence
 * counter to the `block-` prefix, zero-padded to at least 10 digits (`%010d`; Keeper `std::setw(10)`), and
 * ClickHouse reads the number back from the same suffix. Undefined for any other name.
 */
export function parseBlockLockName(name: string): bigint | undefined {
  const match = /^block-(\d+)$/.exec(name)
  return match ? BigInt(match[1] as string) : undefined
}

/** Read 4: this replica's replication queue for the changelog. */
export function replicationQueueQuery(database: string, table: string): SqlRequest {
  return {
    query: `SELECT type, new_part_name, parts_to_merge
            FROM system.replication_queue
            WHERE database = {database:String} AND table = {table:String}`,
    query_params: { database, table },
  }
}

export function queueFromRows(rows: readonly unknown[]): QueueEntry[] {
  return rows.map((row) => {
    const r = record(row, 'system.replication_queue')
    const parts = r.parts_to_merge
    if (!Array.isArray(parts) || !parts.every((part) => typeof part === 'string')) {
      throw unexpectedRow('system.replication_queue', 'parts_to_merge', parts)
    }
    return {
      type: text(r, 'type', 'system.replication_queue'),
      newPartName: text(r, 'new_part_name', 'system.replication_queue'),
      partsToMerge: parts as string[],
    }
  })
}

/**
 * Reads the state the replicated watermark needs, in the order it needs (see {@link ReplicatedState}): parts,
 * then locks, then the log pointer, then the queue. Run the data query with the same runner (same replica) after
 * this returns.
 *
 * @throws TailhouseError TH_CAPTURE when the replica's Keeper path is no longer `target.zookeeperPath` (the table
 *   was re-created: its block numbers started again) or a row has an unexpected shape; errors of `run` propagate.
 * @example
 *   const run: QueryRunner = async (request) =>
 *     (await client.query({ ...request, format: 'JSONEachRow' })).json()
 *   const replica = replicaStatusFromRows(await run(replicaStatusQuery(db, table)), `${db}.${table}`) // once
 *   const state = await readReplicatedState(run, { database: db, table, ...replica })               // every poll
 *   const safe = replicatedWatermark(state, cursorBlocks)
 */
export async function readReplicatedState(run: QueryRunner, target: ReplicatedTarget): Promise<ReplicatedState> {
  const source = `${target.database}.${target.table}`
  const parts = partsFromRows(await run(partsQuery(target.database, target.table, target.partitions)))

  let lockedPartitions = lockedPartitionsFromRows(await run(lockPartitionsQuery(target)))
  if (target.partitions !== undefined) {
    const wanted = new Set(target.partitions)
    lockedPartitions = lockedPartitions.filter((partition) => wanted.has(partition))
  }
  const locks =
    lockedPartitions.length === 0
      ? []
      : locksFromRows(await run(blockLocksQuery(target, lockedPartitions)), target.zookeeperPath)

  const replica = replicaStatusFromRows(await run(replicaStatusQuery(target.database, target.table)), source)
  if (replica.zookeeperPath !== target.zookeeperPath || replica.zookeeperName !== target.zookeeperName) {
    throw new TailhouseError(
      'TH_CAPTURE',
      `${source}: its Keeper path is now ${replica.zookeeperName}:${replica.zookeeperPath}, was ` +
        `${target.zookeeperName}:${target.zookeeperPath}; the table was re-created and its block numbers restarted`,
    )
  }

  const queue = queueFromRows(await run(replicationQueueQuery(target.database, target.table)))
  return { parts, locks, queueCaughtUp: replica.queueCaughtUp, queue }
}

function zookeeperChildrenQuery(zookeeperName: string, paths: readonly string[], columns: string): SqlRequest {
  const query_params: Record<string, unknown> = {}
  // `path = x` for one path and `path IN (x, y)` for several: the two forms system.zookeeper documents.
  const names = paths.map((path, i) => {
    query_params[`path${i}`] = path
    return `{path${i}:String}`
  })
  const pathCondition = names.length === 1 ? `path = ${names[0]}` : `path IN (${names.join(', ')})`
  let keeperCondition = ''
  if (zookeeperName !== 'default') {
    query_params.zookeeperName = zookeeperName
    keeperCondition = ' AND zookeeperName = {zookeeperName:String}'
  }
  return {
    query: `SELECT ${columns} FROM system.zookeeper WHERE ${pathCondition}${keeperCondition}`,
    query_params,
  }
}

function record(row: unknown, table: string): Record<string, unknown> {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw unexpectedRow(table, 'row', row)
  return row as Record<string, unknown>
}

function text(row: Record<string, unknown>, column: string, table: string): string {
  const value = row[column]
  if (typeof value !== 'string') throw unexpectedRow(table, column, value)
  return value
}

/** UInt8 and Bool columns: 0/1, true/false, or their text forms. */
function flag(row: Record<string, unknown>, column: string, table: string): boolean {
  const value = row[column]
  if (value === 1 || value === true || value === '1' || value === 'true') return true
  if (value === 0 || value === false || value === '0' || value === 'false') return false
  throw unexpectedRow(table, column, value)
}

/** Unsigned integer columns, quoted (64-bit, by default) or not. */
function uint(row: Record<string, unknown>, column: string, table: string): bigint {
  const value = row[column]
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value)
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value)
  throw unexpectedRow(table, column, value)
}

function unexpectedRow(table: string, column: string, value: unknown): TailhouseError {
  return new TailhouseError(
    'TH_CAPTURE',
    `${table}: unexpected ${column} ${JSON.stringify(value)}; is this ClickHouse version supported (24.8 or later)?`,
  )
}
