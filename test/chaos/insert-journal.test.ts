import { appendFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InsertJournal, rowsOf } from './insert-journal.js'

describe("the chaos application's insert journal", () => {
  it('finds, after a restart, the INSERTs begun and not acknowledged, with the same token and rows', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tailhouse-journal-')), 'journal.jsonl')
    const before = new InsertJournal(path)
    expect(before.nextSeq()).toBe(1)
    before.intend({ seq: 1, rows: 3, after: 0 })
    before.acknowledge(1)
    before.intend({ seq: 2, rows: 5, after: 1 })
    before.intend({ seq: 3, rows: 2, after: 1 })
    before.acknowledge(3)
    appendFileSync(path, '{"intent":4,"ro') // what a torn write would leave

    const after = new InsertJournal(path)
    expect(after.unacknowledged()).toEqual([{ seq: 2, rows: 5, after: 1 }])
    expect(after.acknowledgedThrough()).toBe(1)
    expect(after.nextSeq()).toBe(4)
    expect(after.tornLines).toEqual(['{"intent":4,"ro'])
    expect(rowsOf({ seq: 2, rows: 5 })).toEqual(rowsOf({ seq: 2, rows: 5 }))
    after.acknowledge(2)
    expect(after.acknowledgedThrough()).toBe(3)
  })
})
