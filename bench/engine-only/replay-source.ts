import { readFileSync } from 'node:fs'
import type { RowSource } from '../../engine/loop/loop-parts.js'
import { parseChangelog } from '../../engine/source/changelog-source.js'
import type { ChangelogRow } from '../../engine/source/changelog-wire.js'
import type { Cursor } from '../../engine/source/cursor.js'

/**
 * The changelog as the engine received it once, replayed: each read parses the next captured response (one file per
 * read, as the engine gets one response per poll, so memory stays a batch or two) and returns the rows after the
 * cursor. The engine-only benchmark's stand-in for ClickHouse; everything after it is the engine's own code.
 */
export class ReplaySource implements RowSource {
  readonly #files: string[]
  readonly #query: { schema: string; keyed: boolean }
  readonly #source: string
  #next = 0
  #pending: ChangelogRow[] = []

  constructor(files: string[], query: { schema: string; keyed: boolean }, source: string) {
    this.#files = files
    this.#query = query
    this.#source = source
  }

  async read(cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    const at = cursor.get(`${this.#source}/all`)
    if (at) {
      let skip = 0
      while (skip < this.#pending.length && !after(this.#pending[skip] as ChangelogRow, at)) skip++
      this.#pending = this.#pending.slice(skip)
    }
    while (this.#pending.length < limit && this.#next < this.#files.length) {
      const rows = parseChangelog(this.#query, readFileSync(this.#files[this.#next++] as string), this.#source)
      this.#pending = this.#pending.length === 0 ? rows : this.#pending.concat(rows)
    }
    return this.#pending.slice(0, limit)
  }
}

function after(row: ChangelogRow, at: { blockNumber: bigint; blockOffset: bigint }): boolean {
  return row.blockNumber > at.blockNumber || (row.blockNumber === at.blockNumber && row.blockOffset > at.blockOffset)
}
