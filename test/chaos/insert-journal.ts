import { appendFileSync, existsSync, readFileSync } from 'node:fs'

/**
 * The chaos application's journal of the INSERTs it means to make — what an application following the capture
 * contract (README, "The capture boundary") keeps so that it can retry an unacknowledged INSERT after its own
 * restart with the same insert_deduplication_token and the same rows.
 *
 * One JSON line per event, appended with a synchronous write(2) (complete or absent after a SIGKILL):
 * `{"intent":seq,"rows":n,"after":w}` before the INSERT is sent, `{"ack":seq}` once it returned. A row's content
 * follows from (seq, position) alone ({@link rowsOf}), so the journal holds no row data.
 */
export interface IntendedInsert {
  seq: number
  rows: number
  /**
   * Every INSERT with seq ≤ after was acknowledged when this one began: their rows must reach Kafka before this
   * one's, per key (the harness's order check).
   */
  after: number
}

/** The token of an INSERT: stable across retries, unique per INSERT. */
export function tokenOf(seq: number): string {
  return `chaos-insert-${seq}`
}

/** Most rows one INSERT carries; row identities are seq * idStride + position. */
export const maxRowsPerInsert = 5_000
const idStride = 10_000
export const keyCount = 50

export interface ChaosRow {
  id: number
  k: number
  seq: number
  pos: number
  v: string
}

export function keyOf(id: number): number {
  return (id * 7 + Math.floor(id / idStride)) % keyCount
}

export function idOf(seq: number, pos: number): number {
  return seq * idStride + pos
}

export function seqOf(id: number): number {
  return Math.floor(id / idStride)
}

export function posOf(id: number): number {
  return id % idStride
}

/** The rows of an INSERT: the same on every attempt. */
export function rowsOf(insert: Pick<IntendedInsert, 'seq' | 'rows'>): ChaosRow[] {
  return Array.from({ length: insert.rows }, (_, pos) => {
    const id = idOf(insert.seq, pos)
    return { id, k: keyOf(id), seq: insert.seq, pos, v: `row ${id}` }
  })
}

export class InsertJournal {
  readonly #path: string
  #through = 0
  readonly intents = new Map<number, IntendedInsert>()
  readonly acknowledged = new Set<number>()
  /** A last line that did not parse (none expected: see the class comment), reported by the app. */
  readonly tornLines: string[] = []

  constructor(path: string) {
    this.#path = path
    if (!existsSync(path)) return
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '') continue
      let event: { intent?: number; rows?: number; after?: number; ack?: number }
      try {
        event = JSON.parse(line)
      } catch {
        this.tornLines.push(line)
        continue
      }
      if (event.intent !== undefined)
        this.intents.set(event.intent, { seq: event.intent, rows: event.rows ?? 0, after: event.after ?? 0 })
      if (event.ack !== undefined) this.acknowledged.add(event.ack)
    }
  }

  /** The next INSERT's seq (from 1). */
  nextSeq(): number {
    return Math.max(0, ...this.intents.keys()) + 1
  }

  /** The highest seq such that every INSERT up to it was acknowledged. */
  acknowledgedThrough(): number {
    // Only grows: acknowledgements are never taken back.
    while (this.intents.has(this.#through + 1) && this.acknowledged.has(this.#through + 1)) this.#through += 1
    return this.#through
  }

  unacknowledged(): IntendedInsert[] {
    return [...this.intents.values()].filter((i) => !this.acknowledged.has(i.seq)).sort((a, b) => a.seq - b.seq)
  }

  intend(insert: IntendedInsert): void {
    appendFileSync(this.#path, `${JSON.stringify({ intent: insert.seq, rows: insert.rows, after: insert.after })}\n`)
    this.intents.set(insert.seq, insert)
  }

  acknowledge(seq: number): void {
    appendFileSync(this.#path, `${JSON.stringify({ ack: seq })}\n`)
    this.acknowledged.add(seq)
  }
}
