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
  #previous: Position | undefined

  constructor(files: string[], query: { schema: string; keyed: boolean }, source: string) {
    this.#files = files
    this.#query = query
    this.#source = source
  }

  async read(cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    const at = cursor.get(`${this.#source}/all`)
    // The loop reads ahead from where the current batch would end, and reads again from an earlier cursor when the
    // batch was cut short (batchMaxBytes): rows are dropped only before the earlier of this read and the previous.
    const previous = this.#previous
    const keepFrom = at === undefined || previous === undefined ? undefined : after(previous, at) ? at : previous
    this.#previous = at
    if (keepFrom) this.#pending = this.#pending.slice(skipThrough(this.#pending, keepFrom))
    const start = at ? skipThrough(this.#pending, at) : 0
    while (this.#pending.length - start < limit && this.#next < this.#files.length) {
      const rows = parseChangelog(this.#query, readFileSync(this.#files[this.#next++] as string), this.#source)
      this.#pending = this.#pending.length === 0 ? rows : this.#pending.concat(rows)
    }
    return this.#pending.slice(start, start + limit)
  }
}

/** The index of the first row after `at`. */
function skipThrough(rows: ChangelogRow[], at: Position): number {
  let skip = 0
  while (skip < rows.length && !after(rows[skip] as ChangelogRow, at)) skip++
  return skip
}

type Position = { blockNumber: bigint; blockOffset: bigint }

function after(row: Position, at: Position): boolean {
  return row.blockNumber > at.blockNumber || (row.blockNumber === at.blockNumber && row.blockOffset > at.blockOffset)
}
