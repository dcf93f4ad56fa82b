import { describe, expect, it } from 'vitest'
import { TailhouseError } from '../../engine/errors.js'
import {
  lockedPartitionsFromRows,
  locksFromRows,
  partsFromRows,
  queueFromRows,
  replicaStatusFromRows,
} from '../../engine/source/replicated-state.js'
import {
  type ActivePart,
  blocksRead,
  nothingRead,
  plainWatermark,
  type QueueEntry,
  type ReplicatedState,
  replicatedKnownMax,
  replicatedWatermark,
} from '../../engine/source/watermark.js'
import {
  hour10,
  hour11,
  hour12,
  plainPartsAfterMergeRecorded,
  plainPartsRecorded,
  replicaBehind,
  replicaCaughtUp,
  replicatedLockPartitions,
  replicatedLocks,
  replicatedParts,
  replicatedQueue,
  zookeeperPath,
} from './fixtures/system-rows.js'

const p = 'all'

/** Active parts of partition `all` from `[min, max]` ranges. */
function active(...ranges: Array<[number, number]>): ActivePart[] {
  return ranges.map(([min, max]) => ({
    partitionId: p,
    name: `${p}_${min}_${max}_${min === max ? 0 : 1}`,
    active: true,
  }))
}

function state(parts: ActivePart[], extra: Partial<ReplicatedState> = {}): ReplicatedState {
  return { parts, locks: [], queueCaughtUp: true, queue: [], ...extra }
}

function lock(blockNumber: number, partitionId = p) {
  return { partitionId, blockNumber: BigInt(blockNumber) }
}

function getPart(name: string): QueueEntry {
  return { type: 'GET_PART', newPartName: name, partsToMerge: [] }
}

const fromStart = new Map<string, bigint>()

describe('plainWatermark', () => {
  it('is the highest visible block of each partition (recorded system.parts rows)', () => {
    // hour10 holds 1, 2, 4: 3 went to hour11 (block numbers are table-wide), nothing is missing
    expect(plainWatermark(partsFromRows(plainPartsRecorded))).toEqual(
      new Map([
        [hour10, 4n],
        [hour11, 3n],
      ]),
    )
    expect(plainWatermark(partsFromRows(plainPartsAfterMergeRecorded))).toEqual(
      new Map([
        [hour10, 4n],
        [hour11, 3n],
      ]),
    )
  })

  it('passes gaps: a plain MergeTree snapshot is prefix-closed', () => {
    expect(plainWatermark(active([1, 1], [4, 4], [9, 9]))).toEqual(new Map([[p, 9n]]))
  })

  it('ignores rows that are not active and patch partitions', () => {
    const parts: ActivePart[] = [
      ...active([1, 3]),
      { partitionId: p, name: 'all_4_4_0', active: false },
      { partitionId: 'patch-00ff-all', name: 'patch-00ff-all_9_9_0', active: true },
    ]
    expect(plainWatermark(parts)).toEqual(new Map([[p, 3n]]))
  })

  it('refuses a part name that does not belong to its partition', () => {
    expect(() => plainWatermark([{ partitionId: 'all', name: 'other_1_1_0', active: true }])).toThrow(
      expect.objectContaining({ code: 'TH_CAPTURE' }),
    )
  })
})

describe('replicatedWatermark', () => {
  const withHole = active([0, 1], [3, 4])

  it('passes an abandoned hole: no lock, nothing queued', () => {
    expect(replicatedWatermark(state(withHole), fromStart)).toEqual(new Map([[p, 4n]]))
  })

  it('stops before a hole that holds a block-number lock', () => {
    expect(replicatedWatermark(state(withHole, { locks: [lock(2)] }), fromStart)).toEqual(new Map([[p, 1n]]))
  })

  it('stops before a hole that this replica has queued (GET_PART)', () => {
    expect(replicatedWatermark(state(withHole, { queue: [getPart('all_2_2_0')] }), fromStart)).toEqual(
      new Map([[p, 1n]]),
    )
  })

  it('stops before a hole covered by an ATTACH_PART or by a part of an unknown entry type', () => {
    for (const type of ['ATTACH_PART', 'CLONE_PART_FROM_SHARD', 'SOME_FUTURE_TYPE']) {
      const queue = [{ type, newPartName: 'all_2_2_0', partsToMerge: [] }]
      expect(replicatedWatermark(state(withHole, { queue }), fromStart).get(p)).toBe(1n)
    }
  })

  it('is not held back by entries that produce no part (DROP_RANGE, ALTER_METADATA)', () => {
    const queue = [
      { type: 'DROP_RANGE', newPartName: 'all_0_999999999_999999999', partsToMerge: [] },
      { type: 'ALTER_METADATA', newPartName: '', partsToMerge: [] },
    ]
    expect(replicatedWatermark(state(withHole, { queue }), fromStart)).toEqual(new Map([[p, 4n]]))
  })

  it('stops before a hole covered by a part that is being committed (PreActive)', () => {
    const parts = [...withHole, { partitionId: p, name: 'all_2_2_0', active: false }]
    expect(replicatedWatermark(state(parts), fromStart)).toEqual(new Map([[p, 1n]]))
  })

  it('stops before the first hole at all while the queue is behind the replication log', () => {
    expect(replicatedWatermark(state(withHole, { queueCaughtUp: false }), fromStart)).toEqual(new Map([[p, 1n]]))
    // no hole: nothing to wait for even then
    expect(replicatedWatermark(state(active([0, 4]), { queueCaughtUp: false }), fromStart)).toEqual(new Map([[p, 4n]]))
  })

  it('handles holes across several partitions independently (rows mapped from system tables)', () => {
    const recorded: ReplicatedState = {
      parts: partsFromRows(replicatedParts),
      locks: locksFromRows(replicatedLocks, zookeeperPath),
      queueCaughtUp: replicaStatusFromRows([replicaCaughtUp], 'tailhouse.changelog').queueCaughtUp,
      queue: queueFromRows(replicatedQueue),
    }
    expect(lockedPartitionsFromRows(replicatedLockPartitions)).toEqual([hour10])
    expect(replicatedWatermark(recorded, fromStart)).toEqual(
      new Map([
        [hour10, 4n], // 5 is locked
        [hour11, 1n], // 2 is queued
        [hour12, 2n], // 1 is abandoned
      ]),
    )
    // the same replica behind the log: every hole waits, including the abandoned one
    const behind = { ...recorded, queueCaughtUp: replicaStatusFromRows([replicaBehind], 'x').queueCaughtUp }
    expect(replicatedWatermark(behind, fromStart).get(hour12)).toBe(0n)
  })

  it('ignores holes, locks and queued parts at or below the cursor', () => {
    // read up to 3 already: the lock on 2 (or a queued re-fetch of 0–2) cannot hold anything back
    const queue = [getPart('all_0_2_1')]
    expect(replicatedWatermark(state(withHole, { locks: [lock(2)], queue }), new Map([[p, 3n]]))).toEqual(
      new Map([[p, 4n]]),
    )
    // and a later hole still does
    const later = active([0, 1], [3, 4], [6, 7])
    expect(replicatedWatermark(state(later, { locks: [lock(5)] }), new Map([[p, 3n]]))).toEqual(new Map([[p, 4n]]))
  })

  it('treats a merged part as covering its whole range', () => {
    // 0–5 merged on this replica, 6 abandoned, 7 active
    const merged = active([0, 5], [7, 7])
    expect(replicatedWatermark(state(merged), fromStart)).toEqual(new Map([[p, 7n]]))
    // a lock inside the merged range changes nothing: those blocks are visible
    expect(replicatedWatermark(state(merged, { locks: [lock(3)] }), fromStart)).toEqual(new Map([[p, 7n]]))
  })

  it('waits for a queued merge whose source parts this replica does not have', () => {
    // 0–2 and 5 here; the merge 3–4 is queued and its sources were never fetched
    const parts = active([0, 2], [5, 5])
    const queue = [{ type: 'MERGE_PARTS', newPartName: 'all_3_4_1', partsToMerge: ['all_3_3_0', 'all_4_4_0'] }]
    expect(replicatedWatermark(state(parts, { queue }), fromStart)).toEqual(new Map([[p, 2n]]))
    // a merge of parts it has holds nothing back
    const covered = [{ type: 'MERGE_PARTS', newPartName: 'all_0_2_1', partsToMerge: ['all_0_1_1', 'all_2_2_0'] }]
    expect(replicatedWatermark(state(parts, { queue: covered }), fromStart)).toEqual(new Map([[p, 5n]]))
  })

  it('follows parts arriving out of order (N+1 visible before N) until N arrives', () => {
    const cursor = new Map([[p, 4n]])
    // poll 1: 6 is visible, 5's insert still holds its lock
    const poll1 = state(active([0, 4], [6, 6]), { locks: [lock(5)] })
    expect(replicatedWatermark(poll1, cursor)).toEqual(new Map([[p, 4n]]))
    // poll 2: 5 is published (lock gone) but this replica has only queued it
    const poll2 = state(active([0, 4], [6, 6]), { queue: [getPart('all_5_5_0')] })
    expect(replicatedWatermark(poll2, cursor)).toEqual(new Map([[p, 4n]]))
    // poll 3: 5 is here
    const poll3 = state(active([0, 4], [5, 5], [6, 6]))
    expect(replicatedWatermark(poll3, cursor)).toEqual(new Map([[p, 6n]]))
  })

  it('never goes below the cursor', () => {
    // only block 0 is missing and it is locked: nothing is safe yet
    expect(replicatedWatermark(state(active([1, 2]), { locks: [lock(0)] }), fromStart)).toEqual(
      new Map([[p, nothingRead]]),
    )
    // a replica that shows less than was read (lagging after a fail-over): the cursor, not the lower max
    expect(replicatedWatermark(state(active([0, 3])), new Map([[p, 8n]]))).toEqual(new Map([[p, 8n]]))
  })

  it('leaves out partitions without an active part and patch partitions', () => {
    const parts = [
      ...active([0, 0]),
      { partitionId: 'new', name: 'new_0_0_0', active: false },
      { partitionId: 'patch-00ff-all', name: 'patch-00ff-all_5_5_0', active: true },
    ]
    expect(replicatedWatermark(state(parts, { locks: [lock(0, 'other')] }), fromStart)).toEqual(new Map([[p, 0n]]))
  })

  it('refuses a queued part name it cannot parse instead of guessing', () => {
    const queue = [getPart('not a part')]
    expect(() => replicatedWatermark(state(withHole, { queue }), fromStart)).toThrow(TailhouseError)
  })
})

describe('replicatedKnownMax', () => {
  it('counts active, PreActive and queued parts', () => {
    const parts = [...active([0, 3]), { partitionId: p, name: 'all_4_4_0', active: false }]
    expect(replicatedKnownMax(state(parts))).toEqual(new Map([[p, 4n]]))
    expect(replicatedKnownMax(state(parts, { queue: [getPart('all_9_9_0'), getPart('late_2_2_0')] }))).toEqual(
      new Map([
        [p, 9n],
        ['late', 2n],
      ]),
    )
  })

  it('is undefined while the queue is behind the log', () => {
    expect(replicatedKnownMax(state(active([0, 3]), { queueCaughtUp: false }))).toBeUndefined()
  })
})

describe('blocksRead', () => {
  it('takes the block of each cursor position', () => {
    const cursor = new Map([
      [hour10, { blockNumber: 7n, blockOffset: 3n }],
      [hour11, { blockNumber: 0n, blockOffset: 0n }],
    ])
    expect(blocksRead(cursor)).toEqual(
      new Map([
        [hour10, 7n],
        [hour11, 0n],
      ]),
    )
  })
})
