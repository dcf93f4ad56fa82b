import { describe, expect, it } from 'vitest'
import { TailhouseError } from '../../engine/errors.js'
import type { Position } from '../../engine/source/cursor.js'
import {
  CursorRegressionError,
  describeRegression,
  detectRegression,
  type Regression,
  regressionError,
} from '../../engine/source/cursor-regression.js'
import { partsFromRows } from '../../engine/source/replicated-state.js'
import { plainWatermark, replicatedKnownMax } from '../../engine/source/watermark.js'
import { hour10, hour11, hour12, plainPartsRecorded } from './fixtures/system-rows.js'

function at(blockNumber: number, blockOffset = 0): Position {
  return { blockNumber: BigInt(blockNumber), blockOffset: BigInt(blockOffset) }
}

describe('detectRegression', () => {
  it('reports a partition whose highest visible block fell below the cursor', () => {
    // ARCHITECTURE.md, "Tailing": blocks 5 and 6 dropped, restart, the next insert got block 5 again
    const cursor = new Map([[hour10, at(6, 2)]])
    const report = detectRegression(cursor, new Map([[hour10, 5n]]), new Set([hour10]))
    expect(report).toEqual({
      regressions: [
        { partitionId: hour10, cursorBlock: 6n, cursorOffset: 2n, visibleMax: 5n, reason: 'visible-max-below-cursor' },
      ],
      retired: [],
    })
  })

  it('accepts a visible max at or above the cursor, and ignores partitions the cursor has not met', () => {
    const cursor = new Map([
      [hour10, at(4, 1)],
      [hour11, at(3)],
    ])
    const parts = partsFromRows(plainPartsRecorded) // hour10 up to 4, hour11 up to 3
    const visible = plainWatermark(parts)
    visible.set(hour12, 0n)
    expect(detectRegression(cursor, visible, new Set(visible.keys()))).toEqual({ regressions: [], retired: [] })
  })

  it('retires a partition that is gone (TTL drop of an old hour), without calling it a regression', () => {
    const cursor = new Map([
      [hour10, at(4)],
      [hour11, at(9)],
    ])
    const report = detectRegression(cursor, new Map([[hour11, 12n]]), new Set([hour11]))
    expect(report).toEqual({ regressions: [], retired: [hour10] })
  })

  it('waits on a partition that is still listed but shows no visible block (a drop in progress)', () => {
    const report = detectRegression(new Map([[hour10, at(4)]]), new Map(), new Set([hour10]))
    expect(report).toEqual({ regressions: [], retired: [] })
  })

  it('reports regressions and retirements together, in partition order', () => {
    const cursor = new Map([
      [hour12, at(8)],
      [hour10, at(4)],
      [hour11, at(9)],
    ])
    const report = detectRegression(
      cursor,
      new Map([
        [hour11, 2n],
        [hour12, 1n],
      ]),
      new Set([hour11, hour12]),
    )
    expect(report.regressions.map((r) => r.partitionId)).toEqual([hour11, hour12])
    expect(report.retired).toEqual([hour10])
  })

  it('does not mistake a replica that is catching up for a regression (known max counts its queue)', () => {
    // after a fail-over the new replica has blocks up to 3 and has queued 4–6; the cursor is at 6
    const state = {
      parts: [{ partitionId: 'all', name: 'all_0_3_1', active: true }],
      locks: [],
      queueCaughtUp: true,
      queue: [{ type: 'GET_PART', newPartName: 'all_4_6_1', partsToMerge: [] }],
    }
    const known = replicatedKnownMax(state)
    expect(known).toEqual(new Map([['all', 6n]]))
    expect(detectRegression(new Map([['all', at(6)]]), known ?? new Map(), new Set(['all'])).regressions).toEqual([])
    // without the queued part it would be one
    const activeOnly = plainWatermark(state.parts)
    expect(detectRegression(new Map([['all', at(6)]]), activeOnly, new Set(['all'])).regressions).toHaveLength(1)
  })
})

describe('describeRegression', () => {
  const regressions: Regression[] = [
    { partitionId: hour10, cursorBlock: 6n, cursorOffset: 2n, visibleMax: 5n, reason: 'visible-max-below-cursor' },
  ]

  it('says what happened, that rows may be re-numbered, that it stopped, and what to do', () => {
    const message = describeRegression('tailhouse.changelog', regressions)
    expect(message).toContain('stopped tailing the changelog tailhouse.changelog')
    expect(message).toContain(`partition ${hour10}: the cursor is at block 6 (offset 2)`)
    expect(message).toContain('highest block it holds now is 5')
    expect(message).toContain('Rows may have been re-numbered')
    expect(message).toContain('stopped this changelog instead of skipping')
    expect(message).toContain(
      `FROM system.parts WHERE database = 'tailhouse' AND table = 'changelog' AND partition_id = '${hour10}'`,
    )
    expect(message).toContain('FROM system.part_log')
    expect(message).toContain(`tailhouse start --reset-partition ${hour10}.`)
  })

  it('lists every partition, with one flag each', () => {
    const two = [...regressions, { ...(regressions[0] as Regression), partitionId: hour11 }]
    const message = describeRegression('tailhouse.changelog', two)
    expect(message).toContain(`partitions ${hour10}, ${hour11}`)
    expect(message).toContain(`partition_id IN ('${hour10}', '${hour11}')`)
    expect(message).toContain(`--reset-partition ${hour10} --reset-partition ${hour11}`)
  })

  it('quotes names in the SQL it suggests', () => {
    expect(describeRegression("we'ird.t", regressions)).toContain("database = 'we\\'ird'")
  })
})

describe('regressionError', () => {
  it('is a TH_CAPTURE TailhouseError that retrying cannot fix, and logs as JSON', () => {
    const error = regressionError('tailhouse.changelog', [
      { partitionId: hour10, cursorBlock: 6n, cursorOffset: 0n, visibleMax: 5n, reason: 'visible-max-below-cursor' },
    ])
    expect(error).toBeInstanceOf(TailhouseError)
    expect(error).toBeInstanceOf(CursorRegressionError)
    expect(error).toMatchObject({ code: 'TH_CAPTURE', canRetry: false, name: 'CursorRegressionError' })
    expect(error.message).toContain('--reset-partition')
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({
      code: 'TH_CAPTURE',
      changelog: 'tailhouse.changelog',
      partitions: [hour10],
    })
  })
})
