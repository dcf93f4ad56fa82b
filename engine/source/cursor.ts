/**
 * Where the engine is in the changelog: per partition, the last row read, as (block number, block offset).
 * Block numbers are per partition in ReplicatedMergeTree and table-wide in plain MergeTree; this shape covers
 * both. It is an open record so that stores persist it without knowing its meaning.
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

export function sameCursor(a: Cursor, b: Cursor): boolean {
  return JSON.stringify(cursorToJson(a)) === JSON.stringify(cursorToJson(b))
}

export function describeCursor(cursor: Cursor): string {
  if (cursor.size === 0) return 'the beginning'
  return [...cursor]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, { blockNumber, blockOffset }]) => `${p}:${blockNumber}/${blockOffset}`)
    .join(', ')
}
