import { type IntendedInsert, idOf, keyOf, maxRowsPerInsert, posOf, seqOf } from './insert-journal.js'

/** One message as the read_committed consumer decoded it. */
export interface KafkaRow {
  partition: number
  offset: number
  key: string
  id: number
  k: number
  seq: number
  pos: number
}

export interface ChaosComparison {
  sourceRows: number
  kafkaRows: number
  /** Source rows without a message (counted per copy: a row twice in the source needs two messages). */
  missing: number
  /** Messages beyond a row's copies in the source, including messages of rows the source does not have. */
  duplicated: number
  /**
   * Messages out of order for their key: after a row of an INSERT that began only once this row's INSERT was
   * acknowledged, or before an earlier row of its own INSERT.
   */
  outOfOrder: number
  /** Messages whose key or decoded columns do not match the row their id names. */
  wrongContent: number
  /** The source's own side of the contract: rows it holds twice (a retry it did not deduplicate)… */
  sourceDuplicates: number
  /** …rows of acknowledged INSERTs it does not hold… */
  acknowledgedNotInSource: number
  /** …and rows no intended INSERT wrote. */
  unknownInSource: number
  examples: { missing: number[]; duplicated: number[]; outOfOrder: string[]; wrongContent: string[] }
}

/**
 * Compares what a read_committed consumer read from Kafka with the source table, row by row, using the
 * application's journal for row identities and for the order a key's rows must keep. Feed the source's ids and
 * the messages (each partition in offset order), then call {@link result}. Counts are kept in byte arrays indexed
 * by (INSERT, position): millions of rows in a few megabytes.
 */
export class ChaosCheck {
  readonly #inserts: Map<number, IntendedInsert>
  readonly #acknowledged: ReadonlySet<number>
  readonly #inSource: Uint8Array
  readonly #inKafka: Uint8Array
  /** Rows outside every intended INSERT: [in source, in Kafka]. */
  readonly #foreign = new Map<number, [number, number]>()
  readonly #keys = new Map<string, { maxAfter: number; lastPos: Map<number, number> }>()
  #sourceRows = 0
  #kafkaRows = 0
  #outOfOrder = 0
  #wrongContent = 0
  readonly #examples: ChaosComparison['examples'] = { missing: [], duplicated: [], outOfOrder: [], wrongContent: [] }

  constructor(inserts: Iterable<IntendedInsert>, acknowledged: ReadonlySet<number>) {
    this.#inserts = new Map([...inserts].map((i) => [i.seq, i]))
    this.#acknowledged = acknowledged
    const slots = (Math.max(0, ...this.#inserts.keys()) + 1) * maxRowsPerInsert
    this.#inSource = new Uint8Array(slots)
    this.#inKafka = new Uint8Array(slots)
  }

  /** The counter slot of a row of an intended INSERT, or undefined for any other id. */
  #slot(id: number): number | undefined {
    const insert = this.#inserts.get(seqOf(id))
    if (!insert || posOf(id) >= insert.rows) return undefined
    return insert.seq * maxRowsPerInsert + posOf(id)
  }

  addSource(id: number): void {
    this.#sourceRows += 1
    const slot = this.#slot(id)
    if (slot === undefined) {
      const counts = this.#foreign.get(id) ?? [0, 0]
      counts[0] += 1
      this.#foreign.set(id, counts)
    } else this.#inSource[slot] = Math.min(255, (this.#inSource[slot] ?? 0) + 1)
  }

  addKafka(row: KafkaRow): void {
    this.#kafkaRows += 1
    const slot = this.#slot(row.id)
    if (slot === undefined) {
      const counts = this.#foreign.get(row.id) ?? [0, 0]
      counts[1] += 1
      this.#foreign.set(row.id, counts)
      return
    }
    const copies = this.#inKafka[slot] ?? 0
    this.#inKafka[slot] = Math.min(255, copies + 1)
    const k = keyOf(row.id)
    if (row.k !== k || row.key !== String(k) || row.seq !== seqOf(row.id) || row.pos !== posOf(row.id)) {
      this.#wrongContent += 1
      if (this.#examples.wrongContent.length < 5) this.#examples.wrongContent.push(JSON.stringify(row))
    }
    if (copies > 0) return // a copy: counted as duplicated, its order is not a question
    const state = this.#keys.get(row.key) ?? { maxAfter: 0, lastPos: new Map<number, number>() }
    this.#keys.set(row.key, state)
    const before = state.lastPos.get(row.seq)
    if (row.seq <= state.maxAfter || (before !== undefined && before >= row.pos)) {
      this.#outOfOrder += 1
      if (this.#examples.outOfOrder.length < 5)
        this.#examples.outOfOrder.push(
          `key ${row.key}: id ${row.id} (INSERT ${row.seq}) at ${row.partition}@${row.offset} after ` +
            (before !== undefined && before >= row.pos
              ? `position ${before} of its own INSERT`
              : `a row of an INSERT begun after INSERT ${state.maxAfter} was acknowledged`),
        )
    }
    state.maxAfter = Math.max(state.maxAfter, this.#inserts.get(row.seq)?.after ?? 0)
    state.lastPos.set(row.seq, Math.max(row.pos, before ?? -1))
  }

  result(): ChaosComparison {
    let missing = 0
    let duplicated = 0
    let sourceDuplicates = 0
    let acknowledgedNotInSource = 0
    const tally = (id: number, source: number, kafka: number) => {
      if (source > kafka) {
        missing += source - kafka
        if (this.#examples.missing.length < 5) this.#examples.missing.push(id)
      }
      if (kafka > source) {
        duplicated += kafka - source
        if (this.#examples.duplicated.length < 5) this.#examples.duplicated.push(id)
      }
      if (source > 1) sourceDuplicates += source - 1
    }
    for (const insert of this.#inserts.values()) {
      for (let pos = 0; pos < insert.rows; pos++) {
        const slot = insert.seq * maxRowsPerInsert + pos
        const source = this.#inSource[slot] ?? 0
        tally(idOf(insert.seq, pos), source, this.#inKafka[slot] ?? 0)
        if (source === 0 && this.#acknowledged.has(insert.seq)) acknowledgedNotInSource += 1
      }
    }
    let unknownInSource = 0
    for (const [id, [source, kafka]] of this.#foreign) {
      tally(id, source, kafka)
      unknownInSource += source
    }
    return {
      sourceRows: this.#sourceRows,
      kafkaRows: this.#kafkaRows,
      missing,
      duplicated,
      outOfOrder: this.#outOfOrder,
      wrongContent: this.#wrongContent,
      sourceDuplicates,
      acknowledgedNotInSource,
      unknownInSource,
      examples: this.#examples,
    }
  }
}
