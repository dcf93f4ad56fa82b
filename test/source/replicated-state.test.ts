import { describe, expect, it } from 'vitest'
import {
  blockLocksQuery,
  blockNumbersPath,
  lockedPartitionsFromRows,
  lockPartitionsQuery,
  locksFromRows,
  parseBlockLockName,
  partsFromRows,
  partsQuery,
  type QueryRunner,
  queueFromRows,
  readReplicatedState,
  replicaStatusFromRows,
  replicaStatusQuery,
  replicationQueueQuery,
  type SqlRequest,
} from '../../engine/source/replicated-state.js'
import { replicatedWatermark } from '../../engine/source/watermark.js'
import {
  hour10,
  hour11,
  hour12,
  plainPartsRecorded,
  replicaBehind,
  replicaCaughtUp,
  replicatedLockPartitions,
  replicatedLocks,
  replicatedParts,
  replicatedQueue,
  zookeeperPath,
} from './fixtures/system-rows.js'

const target = { database: 'tailhouse', table: 'changelog', zookeeperName: 'default', zookeeperPath }

/** A runner that answers by system table and records the order of the reads. */
function fakeRunner(answers: Record<string, readonly unknown[]>) {
  const reads: string[] = []
  const requests: SqlRequest[] = []
  const run: QueryRunner = async (request) => {
    requests.push(request)
    const table = /FROM (system\.\w+)/.exec(request.query)?.[1] ?? '?'
    const key =
      table === 'system.zookeeper'
        ? Object.values(request.query_params).includes(blockNumbersPath(zookeeperPath))
          ? 'block_numbers'
          : 'locks'
        : table
    reads.push(key)
    return answers[key] ?? []
  }
  return { run, reads, requests }
}

describe('replicated state: SQL', () => {
  it('reads replicas, parts and the queue of one table, by parameters', () => {
    for (const request of [
      replicaStatusQuery('tailhouse', 'changelog'),
      partsQuery('tailhouse', 'changelog'),
      replicationQueueQuery('tailhouse', 'changelog'),
    ]) {
      expect(request.query).toContain('database = {database:String} AND table = {table:String}')
      expect(request.query_params).toMatchObject({ database: 'tailhouse', table: 'changelog' })
    }
    expect(replicaStatusQuery('d', 't').query).toMatch(
      /zookeeper_path.*log_max_index, log_pointer\s+FROM system\.replicas/s,
    )
    expect(replicationQueueQuery('d', 't').query).toMatch(
      /type, new_part_name, parts_to_merge\s+FROM system\.replication_queue/,
    )
  })

  it('lists PreActive parts too, through the _state virtual column', () => {
    const request = partsQuery('d', 't')
    expect(request.query).toContain("(active OR _state = 'PreActive')")
    expect(request.query).not.toContain('partition_id IN')
    const some = partsQuery('d', 't', [hour10, hour11])
    expect(some.query).toContain('partition_id IN {partitions:Array(String)}')
    expect(some.query_params.partitions).toEqual([hour10, hour11])
  })

  it('reads Keeper children with path = for one path and path IN for several', () => {
    expect(lockPartitionsQuery(target)).toEqual({
      query: 'SELECT name, numChildren FROM system.zookeeper WHERE path = {path0:String}',
      query_params: { path0: `${zookeeperPath}/block_numbers` },
    })
    expect(blockLocksQuery(target, [hour10, hour11])).toEqual({
      query: 'SELECT path, name FROM system.zookeeper WHERE path IN ({path0:String}, {path1:String})',
      query_params: {
        path0: `${zookeeperPath}/block_numbers/${hour10}`,
        path1: `${zookeeperPath}/block_numbers/${hour11}`,
      },
    })
    expect(() => blockLocksQuery(target, [])).toThrow(RangeError)
  })

  it('names an auxiliary Keeper, and tolerates a trailing slash in the path', () => {
    const aux = lockPartitionsQuery({ zookeeperName: 'aux', zookeeperPath: `${zookeeperPath}/` })
    expect(aux.query).toContain('AND zookeeperName = {zookeeperName:String}')
    expect(aux.query_params).toEqual({ path0: `${zookeeperPath}/block_numbers`, zookeeperName: 'aux' })
  })
})

describe('replicated state: rows', () => {
  it('parses block lock names', () => {
    expect(parseBlockLockName('block-0000000042')).toBe(42n)
    expect(parseBlockLockName('block-0000000000')).toBe(0n)
    expect(parseBlockLockName('block-12345678901')).toBe(12345678901n) // the padding is a minimum width
    for (const name of ['abandonable_lock-0000000001', 'block-', 'block-12a', 'block--1', 'lock-0000000001']) {
      expect(parseBlockLockName(name)).toBeUndefined()
    }
  })

  it('maps system.parts rows (recorded), UInt8 or Bool', () => {
    expect(partsFromRows(plainPartsRecorded)[0]).toEqual({
      partitionId: hour10,
      name: `${hour10}_1_1_0`,
      active: true,
    })
    expect(partsFromRows([{ partition_id: 'all', name: 'all_1_1_0', active: false }])[0]?.active).toBe(false)
    expect(() => partsFromRows([{ partition_id: 'all', name: 'all_1_1_0', active: 2 }])).toThrow(
      expect.objectContaining({ code: 'TH_CAPTURE' }),
    )
  })

  it('maps lock rows to partitions and block numbers', () => {
    expect(locksFromRows(replicatedLocks, zookeeperPath)).toEqual([{ partitionId: hour10, blockNumber: 5n }])
    expect(lockedPartitionsFromRows(replicatedLockPartitions)).toEqual([hour10])
    expect(lockedPartitionsFromRows([{ name: hour12, numChildren: '3' }])).toEqual([hour12])
  })

  it('refuses a Keeper child that is not a block lock', () => {
    const rows = [{ path: `${zookeeperPath}/block_numbers/${hour10}`, name: 'something-else' }]
    expect(() => locksFromRows(rows, zookeeperPath)).toThrow(expect.objectContaining({ code: 'TH_CAPTURE' }))
    const elsewhere = [{ path: '/other/block_numbers/x', name: 'block-0000000001' }]
    expect(() => locksFromRows(elsewhere, zookeeperPath)).toThrow(expect.objectContaining({ code: 'TH_CAPTURE' }))
  })

  it('maps queue rows', () => {
    expect(queueFromRows(replicatedQueue)).toEqual([
      { type: 'GET_PART', newPartName: `${hour11}_2_2_0`, partsToMerge: [] },
      { type: 'MERGE_PARTS', newPartName: `${hour11}_0_1_1`, partsToMerge: [`${hour11}_0_0_0`, `${hour11}_1_1_0`] },
    ])
    expect(() => queueFromRows([{ type: 'GET_PART', new_part_name: 'all_1_1_0', parts_to_merge: 'x' }])).toThrow(
      expect.objectContaining({ code: 'TH_CAPTURE' }),
    )
  })

  it('says whether the queue has pulled the whole replication log', () => {
    expect(replicaStatusFromRows([replicaCaughtUp], 's')).toEqual({
      zookeeperName: 'default',
      zookeeperPath,
      replicaName: 'r1',
      readonly: false,
      queueCaughtUp: true,
    })
    expect(replicaStatusFromRows([replicaBehind], 's').queueCaughtUp).toBe(false)
    // pointer = max index: entry 207 not pulled yet
    expect(replicaStatusFromRows([{ ...replicaCaughtUp, log_pointer: '206' }], 's').queueCaughtUp).toBe(false)
    // unquoted 64-bit integers (output_format_json_quote_64bit_integers = 0)
    expect(replicaStatusFromRows([{ ...replicaCaughtUp, log_max_index: 5, log_pointer: 6 }], 's').queueCaughtUp).toBe(
      true,
    )
    // an expired Keeper session: behind, whatever the counters say
    const expired = replicaStatusFromRows([{ ...replicaCaughtUp, is_session_expired: 1 }], 's')
    expect(expired).toMatchObject({ queueCaughtUp: false, readonly: true })
  })

  it('refuses a table that is not replicated', () => {
    expect(() => replicaStatusFromRows([], 'tailhouse.changelog')).toThrow(/not a ReplicatedMergeTree/)
  })
})

describe('readReplicatedState', () => {
  const answers = {
    'system.parts': replicatedParts,
    block_numbers: replicatedLockPartitions,
    locks: replicatedLocks,
    'system.replicas': [replicaCaughtUp],
    'system.replication_queue': replicatedQueue,
  }

  it('reads parts, then locks, then the log pointer, then the queue', async () => {
    const { run, reads, requests } = fakeRunner(answers)
    const state = await readReplicatedState(run, target)
    expect(reads).toEqual(['system.parts', 'block_numbers', 'locks', 'system.replicas', 'system.replication_queue'])
    // only the partition holding a lock is listed
    expect(requests[2]?.query_params).toEqual({ path0: `${zookeeperPath}/block_numbers/${hour10}` })
    expect(state.locks).toEqual([{ partitionId: hour10, blockNumber: 5n }])
    expect(state.queueCaughtUp).toBe(true)
    expect(replicatedWatermark(state, new Map())).toEqual(
      new Map([
        [hour10, 4n],
        [hour11, 1n],
        [hour12, 2n],
      ]),
    )
  })

  it('skips listing locks when no partition holds one', async () => {
    const { run, reads } = fakeRunner({ ...answers, block_numbers: [{ name: hour10, numChildren: 0 }] })
    const state = await readReplicatedState(run, target)
    expect(reads).toEqual(['system.parts', 'block_numbers', 'system.replicas', 'system.replication_queue'])
    expect(state.locks).toEqual([])
  })

  it('restricts parts and locks to the partitions asked for', async () => {
    const { run, reads, requests } = fakeRunner(answers)
    await readReplicatedState(run, { ...target, partitions: [hour11] })
    expect(requests[0]?.query_params.partitions).toEqual([hour11])
    expect(reads).not.toContain('locks') // hour10 holds the only lock
  })

  it('stops when the table was re-created under another Keeper path', async () => {
    const { run } = fakeRunner({ ...answers, 'system.replicas': [{ ...replicaCaughtUp, zookeeper_path: '/new' }] })
    await expect(readReplicatedState(run, target)).rejects.toMatchObject({
      code: 'TH_CAPTURE',
      message: expect.stringContaining('re-created'),
    })
  })
})
