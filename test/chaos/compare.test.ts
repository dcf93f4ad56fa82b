import { describe, expect, it } from 'vitest'
import { ChaosCheck, type KafkaRow } from './compare.js'
import { type IntendedInsert, idOf, keyOf, rowsOf } from './insert-journal.js'

// INSERT 1 and 2 were sent together; 3 began after both were acknowledged.
const inserts: IntendedInsert[] = [
  { seq: 1, rows: 120, after: 0 },
  { seq: 2, rows: 30, after: 0 },
  { seq: 3, rows: 50, after: 2 },
]
const acknowledged = new Set([1, 2, 3])

/** The messages a correct pipeline publishes: per key in INSERT order (one partition per key, here key % 2). */
function published(order: IntendedInsert[]): KafkaRow[] {
  const offsets = new Map<number, number>()
  return order.flatMap((insert) =>
    rowsOf(insert).map((r) => {
      const partition = r.k % 2
      const offset = offsets.get(partition) ?? 0
      offsets.set(partition, offset + 1)
      return {
        partition,
        offset,
        key: String(r.k),
        id: r.id,
        k: r.k,
        seq: r.seq,
        pos: r.pos,
      }
    }),
  )
}

function check(kafka: KafkaRow[], source = inserts.flatMap((i) => rowsOf(i).map((r) => r.id))) {
  const c = new ChaosCheck(inserts, acknowledged)
  for (const id of source) c.addSource(id)
  for (const row of kafka) c.addKafka(row)
  return c.result()
}

describe('the chaos check', () => {
  it('finds nothing wrong when every source row arrived once, in order', () => {
    const result = check(published(inserts))
    expect(result).toMatchObject({ sourceRows: 200, kafkaRows: 200, missing: 0, duplicated: 0, outOfOrder: 0 })
    expect(result).toMatchObject({ wrongContent: 0, sourceDuplicates: 0, acknowledgedNotInSource: 0 })
  })

  it('accepts either order for INSERTs that ran at the same time', () => {
    expect(check(published([inserts[1], inserts[0], inserts[2]] as IntendedInsert[])).outOfOrder).toBe(0)
  })

  it('counts a row the source has and Kafka does not as missing', () => {
    const kafka = published(inserts).filter((m) => m.id !== idOf(3, 7))
    expect(check(kafka)).toMatchObject({ missing: 1, duplicated: 0, examples: { missing: [idOf(3, 7)] } })
  })

  it('counts a second copy as duplicated, and a message of a row the source lacks too', () => {
    const kafka = published(inserts)
    const copy = { ...(kafka[5] as KafkaRow), offset: 999 }
    const source = inserts.flatMap((i) => rowsOf(i).map((r) => r.id)).filter((id) => id !== idOf(2, 3))
    expect(check([...kafka, copy], source)).toMatchObject({ missing: 0, duplicated: 2, acknowledgedNotInSource: 1 })
  })

  it('finds a row published after a row of an INSERT that began once its own was acknowledged', () => {
    expect(check(published([inserts[0], inserts[2], inserts[1]] as IntendedInsert[])).outOfOrder).toBeGreaterThan(0)
  })

  it('finds rows of one INSERT out of their order within a key', () => {
    const kafka = published(inserts)
    const sameKey = kafka.filter((m) => m.seq === 1 && m.k === keyOf(idOf(1, 0)))
    expect(sameKey.length).toBeGreaterThan(1)
    const [a, b] = [kafka.indexOf(sameKey[0] as KafkaRow), kafka.indexOf(sameKey[1] as KafkaRow)]
    ;[kafka[a], kafka[b]] = [kafka[b] as KafkaRow, kafka[a] as KafkaRow]
    expect(check(kafka).outOfOrder).toBe(1)
  })

  it('reports a source row twice (a retry the source did not deduplicate) and rows of no INSERT', () => {
    const source = [...inserts.flatMap((i) => rowsOf(i).map((r) => r.id)), idOf(1, 4), idOf(9, 0)]
    expect(check(published(inserts), source)).toMatchObject({ sourceDuplicates: 1, unknownInSource: 1, missing: 2 })
  })

  it('finds a message whose key is not its row key', () => {
    const kafka = published(inserts)
    kafka[3] = { ...(kafka[3] as KafkaRow), key: 'x' }
    expect(check(kafka).wrongContent).toBe(1)
  })
})
