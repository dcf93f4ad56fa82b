/**
 * Where the engine is: per stream — a partition of one source's changelog table, keyed `<db.table>/<partition id>`
 * (see {@link cursorKey}) — the last row read, as (block number, block offset). Block numbers are per partition in
 * ReplicatedMergeTree and table-wide in plain MergeTree; this shape covers both. It is an open record so that
 * stores persist it without knowing its meaning.
 */
export type Cursor = Map<string, Position>

export interface Position {
  blockNumber: bigint
  blockOffset: bigint
}

/** `{ "<partition>": ["<block>", "<offset>"] }`, decimal strings: JSON has no 64-bit integers. */
export type CursorJson = Record<string, [string, string]>

export function cursorToJson(cursor: Cursor): CursorJson {
  const out: CursorJson = {}
  for (const [partition, p] of [...cursor].sort(([a], [b]) => a.localeCompare(b))) {
    out[partition] = [p.blockNumber.toString(), p.blockOffset.toString()]
  }
  return out
}

export function cursorFromJson(json: CursorJson): Cursor {
  return new Map(
    Object.entries(json).map(([partition, [b, o]]) => [partition, { blockNumber: BigInt(b), blockOffset: BigInt(o) }]),
  )
}

/** The cursor key of a source's changelog partition: `shop.orders/all`. */
export function cursorKey(source: string, partitionId: string): string {
  return `${source}/${partitionId}`
}

/** The source and partition of a cursor key (source names never contain `/`: config validates them). */
export function splitCursorKey(key: string): { source: string; partitionId: string } {
  const slash = key.indexOf('/')
  return { source: key.slice(0, slash), partitionId: key.slice(slash + 1) }
}

/** A position in the one notation of logs, headers and metrics: `shop.orders/all:12:3` (block 12, offset 3). */
export function positionText(stream: string, position: Position): string {
  return `${stream}:${position.blockNumber}:${position.blockOffset}`
}

/** `start` moved past the first `count` rows (in cursor order): per stream, the last of them. */
export function cursorAfter(
  start: Cursor,
  rows: ReadonlyArray<Position & { stream: string }>,
  count = rows.length,
): Cursor {
  const last = new Map<string, Position>()
  for (let i = 0; i < count; i++) {
    const row = rows[i] as Position & { stream: string }
    last.set(row.stream, row)
  }
  const cursor: Cursor = new Map(start)
  for (const [partition, row] of last)
    cursor.set(partition, { blockNumber: row.blockNumber, blockOffset: row.blockOffset })
  return cursor
}

export function sameCursor(a: Cursor, b: Cursor): boolean {
  return JSON.stringify(cursorToJson(a)) === JSON.stringify(cursorToJson(b))
}

export function describeCursor(cursor: Cursor): string {
  if (cursor.size === 0) return 'the beginning'
  return [...cursor]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stream, position]) => positionText(stream, position))
    .join(', ')
}

/**
 * How cursor `a` stands to `b`: both come from one sequence of batches, so one normally contains the other.
 * ahead: `a` is at or past `b` in every partition of `b` and differs; diverged: neither contains the other.
 */
export function compareCursors(a: Cursor, b: Cursor): 'same' | 'ahead' | 'behind' | 'diverged' {
  if (sameCursor(a, b)) return 'same'
  const atOrPast = (x: Cursor, y: Cursor) =>
    [...y].every(([partition, p]) => {
      const q = x.get(partition)
      return (
        q !== undefined &&
        (q.blockNumber > p.blockNumber || (q.blockNumber === p.blockNumber && q.blockOffset >= p.blockOffset))
      )
    })
  if (atOrPast(a, b)) return 'ahead'
  if (atOrPast(b, a)) return 'behind'
  return 'diverged'
}
