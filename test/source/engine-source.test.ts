import { describe, expect, it } from 'vitest'
import type { ChangelogRow } from '../../engine/source/changelog-wire.js'
import type { Cursor } from '../../engine/source/cursor.js'
import { type EngineSource, type SourceLag, SourcesByMode } from '../../engine/source/engine-source.js'

/** A reader of our own interface, recording what it was asked (unit test of the routing, no ClickHouse). */
function reader(name: string, batches: ChangelogRow[][], lag: SourceLag[]) {
  const calls: string[] = []
  const source: EngineSource = {
    async read() {
      calls.push('read')
      return batches.shift() ?? []
    },
    unfinished(s) {
      calls.push(`unfinished ${s}`)
    },
    async idle(cursor) {
      calls.push('idle')
      const next: Cursor = new Map(cursor)
      next.delete(`${name}.gone/all`)
      return next
    },
    async lagBySource() {
      return lag
    },
  }
  return { source, calls }
}

const row = (source: string) => ({ source }) as ChangelogRow

describe('SourcesByMode: view-mode and stream-mode readers behind one RowSource', () => {
  it('takes turns, falls through to the other reader when one has nothing, and routes by mode', async () => {
    const view = reader('view', [[row('a.v')], [], []], [{ source: 'a.v', rows: 3, oldestMillis: 1 }])
    const stream = reader('stream', [[row('a.s')], []], [{ source: 'a.s', rows: 4, oldestMillis: 2 }])
    const both = new SourcesByMode(view.source, stream.source, (s) => (s === 'a.s' ? 'stream' : 'view'))
    expect((await both.read(new Map(), 10)).map((r) => r.source)).toEqual(['a.v'])
    expect((await both.read(new Map(), 10)).map((r) => r.source)).toEqual(['a.s'])
    // View's turn: it has nothing, stream is asked.
    expect(await both.read(new Map(), 10)).toEqual([])
    expect(view.calls.filter((c) => c === 'read')).toHaveLength(2)
    expect(stream.calls.filter((c) => c === 'read')).toHaveLength(2)

    both.unfinished('a.s')
    both.unfinished('a.v')
    expect(stream.calls).toContain('unfinished a.s')
    expect(view.calls).toContain('unfinished a.v')
    expect(stream.calls).not.toContain('unfinished a.v')

    expect(await both.lagBySource(new Map())).toEqual([
      { source: 'a.v', rows: 3, oldestMillis: 1 },
      { source: 'a.s', rows: 4, oldestMillis: 2 },
    ])
    expect(await both.pendingRows(new Map())).toBe(7)
    // Both readers check the cursor when idle, one after the other.
    const checked = await both.idle(
      new Map([
        ['view.gone/all', { blockNumber: 1n, blockOffset: 0n }],
        ['stream.gone/all', { blockNumber: 1n, blockOffset: 0n }],
        ['kept/all', { blockNumber: 1n, blockOffset: 0n }],
      ]),
    )
    expect([...checked.keys()]).toEqual(['kept/all'])
  })
})
