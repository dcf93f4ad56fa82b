import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { OffsetsError } from '../../engine/errors.js'
import { SqliteOffsetStore } from '../../engine/offsets/sqlite-offset-store.js'
import { cursorToJson } from '../../engine/source/cursor.js'

const file = () => join(mkdtempSync(join(tmpdir(), 'tailhouse-offsets-test-')), 'offsets.sqlite')
const batch = (block: bigint) => ({
  rows: 10,
  bytes: 100,
  cursor: new Map([['shop.orders/all', { blockNumber: block, blockOffset: 3n }]]),
  committedAt: new Date('2026-12-01T00:00:00Z'),
  commitMs: 5,
})

describe('SqliteOffsetStore', () => {
  it('keeps the last cursor and the history of batches, across reopening', () => {
    const path = file()
    const store = new SqliteOffsetStore(path)
    store.save('e1', batch(5n))
    store.save('e1', batch(7n))
    store.close()
    const again = new SqliteOffsetStore(path)
    expect(cursorToJson(again.load('e1'))).toEqual({ 'shop.orders/all': ['7', '3'] })
    expect(again.history('e1', 10).map((b) => b.cursor.get('shop.orders/all')?.blockNumber)).toEqual([7n, 5n])
    expect(again.load('other').size).toBe(0)
    again.close()
  })

  it('binds an engine to the changelogs it describes, and refuses other ones naming both', () => {
    const store = new SqliteOffsetStore(file())
    store.bind('e1', 'id-a', 'capture database a on server x')
    store.bind('e1', 'id-a', 'capture database a on server x')
    store.bind('e2', 'id-b', 'capture database b on server x')
    expect(() => store.bind('e1', 'id-b', 'capture database b on server x')).toThrow(OffsetsError)
    expect(() => store.bind('e1', 'id-b', 'capture database b on server x')).toThrow(
      /holds the position of engine e1 in the changelogs of capture database a on server x \(identity id-a, since .*\), not in these of capture database b on server x \(identity id-b\)/,
    )
    store.close()
  })

  it('names the file and what to do when it is not a database', () => {
    const path = file()
    writeFileSync(path, 'this is not a SQLite file, it is plain text that is long enough to be read as a header')
    expect(() => new SqliteOffsetStore(path)).toThrow(
      new RegExp(`offsets file ${path}: is not a readable SQLite database .*resumes from the Kafka checkpoint topic`),
    )
  })

  it('names the file and what to do when it cannot be written', () => {
    const parent = file()
    writeFileSync(parent, '') // a file where the directory should be
    expect(() => new SqliteOffsetStore(join(parent, 'offsets.sqlite'))).toThrow(/cannot be written .*may write it/)
  })

  it('names the file and the likely other process when it is locked', () => {
    const path = file()
    const store = new SqliteOffsetStore(path)
    const other = new Database(path)
    other.exec('BEGIN EXCLUSIVE')
    try {
      expect(() => store.save('e1', batch(1n))).toThrow(
        new RegExp(`offsets file ${path}: is locked by another process .*its own file`),
      )
    } finally {
      other.exec('ROLLBACK')
      other.close()
      store.close()
    }
  })
})
