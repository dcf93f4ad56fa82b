import { expect } from 'vitest'
import type { PublishedRow } from '../consumers/librdkafka.js'

/** Kafka holds each of the source's rows (by id) exactly once: names the first missing and duplicated ones. */
export function expectEveryRowOnce(publishedIds: readonly string[], sourceIds: readonly string[]): void {
  const counts = new Map<string, number>()
  for (const id of publishedIds) counts.set(id, (counts.get(id) ?? 0) + 1)
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
  const missing = sourceIds.filter((id) => !counts.has(id))
  const source = new Set(sourceIds)
  const foreign = [...counts.keys()].filter((id) => !source.has(id))
  expect(
    { missing: missing.length, duplicated: twice.length, notInSource: foreign.length },
    `missing e.g. ${missing.slice(0, 5).join(',')}; twice e.g. ${twice.slice(0, 5).join(',')}; not in the source e.g. ${foreign.slice(0, 5).join(',')}`,
  ).toEqual({ missing: 0, duplicated: 0, notInSource: 0 })
  expect(publishedIds.length).toBe(sourceIds.length)
}

/** Per key (in partition order), every op read message comes before every other message of the key. */
export function expectReadBeforeInsertPerKey(published: readonly PublishedRow[]): void {
  const seenOther = new Map<string, string>()
  const late: string[] = []
  for (const m of published) {
    const key = m.key ?? ''
    if (m.op !== 'OP_READ') {
      if (!seenOther.has(key)) seenOther.set(key, m.cursor)
    } else if (seenOther.has(key)) {
      late.push(`${m.cursor} after ${seenOther.get(key)}`)
    }
  }
  expect(late, `snapshot rows after a later change of their key, e.g. ${late.slice(0, 3).join('; ')}`).toEqual([])
}
