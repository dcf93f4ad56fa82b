import { describe, expect, it } from 'vitest'
import { BatchLoop, type BatchLoopParts } from '../../engine/loop/batch-loop.js'
import type { BatchObservation, Converter, LoopObserver, RowSource, Sink } from '../../engine/loop/loop-parts.js'
import type { BatchRecord, OffsetStore } from '../../engine/offsets/offset-store.js'
import type { Batch } from '../../engine/sink/batch.js'
import type { OutgoingMessage } from '../../engine/sink/outgoing-message.js'
import type { ChangelogRow } from '../../engine/source/changelog-wire.js'
import { type Cursor, cursorAfter, cursorToJson } from '../../engine/source/cursor.js'

/** Rows 1..n of one source, one row per block. */
function rowsOf(n: number): ChangelogRow[] {
  return Array.from({ length: n }, (_, i) => ({
    source: 'shop.orders',
    stream: 'shop.orders/all',
    partitionId: 'all',
    blockNumber: BigInt(i + 1),
    blockOffset: 0n,
    op: 'insert',
    schemaVersion: 1,
    queryId: `q${i + 1}`,
    ingestMicros: BigInt(Date.now()) * 1000n,
    key: Buffer.from(String(i + 1)),
    partition: 0,
    value: Buffer.from([i + 1]),
    payload: undefined,
    fingerprint: undefined,
  }))
}

/** A source over a fixed list of rows: a read returns the rows after the cursor. It logs every read. */
class ListSource implements RowSource {
  readonly reads: string[] = []
  readonly unfinishedSources: string[] = []
  idles = 0
  constructor(public rows: ChangelogRow[]) {}
  async read(cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    const at = cursor.get('shop.orders/all')?.blockNumber ?? 0n
    this.reads.push(`after ${at}`)
    return this.rows.filter((r) => r.blockNumber > at).slice(0, limit)
  }
  unfinished(source: string): void {
    this.unfinishedSources.push(source)
  }
  async idle(cursor: Cursor): Promise<Cursor> {
    this.idles += 1
    return cursor
  }
}

/** A ListSource that logs the limit of every read. */
class LimitRecordingSource extends ListSource {
  readonly limits: number[] = []
  override async read(cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    this.limits.push(limit)
    return super.read(cursor, limit)
  }
}

/** Rows 1..n of one source, all in block 1 (offsets 0..n-1), as one INSERT writes them. */
function oneBlock(n: number): ChangelogRow[] {
  return rowsOf(n).map((row, i) => ({ ...row, blockNumber: 1n, blockOffset: BigInt(i) }))
}

/**
 * A source with ChangelogSource's bookkeeping: a read that returns less than a full batch marks the table drained,
 * `unfinished` marks it as holding more, and a drained table is read only if a block beyond the cursor exists (rows
 * left inside the cursor's own block are not seen: system.parts tells blocks, not rows). The state is checked when
 * a read starts and updated when it returns; a read takes `latencies[n]` ms (n-th read; else 10 ms), as a query
 * does. Counts overlapping reads.
 */
class ForgetfulSource implements RowSource {
  #more = true
  #inFlight = 0
  maxInFlight = 0
  idles = 0
  #reads = 0
  constructor(
    readonly rows: ChangelogRow[],
    readonly latencies: number[] = [],
  ) {}
  async read(cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    const at = cursor.get('shop.orders/all') ?? { blockNumber: 0n, blockOffset: -1n }
    if (!this.#more) this.#more = this.rows.some((r) => r.blockNumber > at.blockNumber)
    if (!this.#more) return []
    this.#inFlight += 1
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight)
    await new Promise((r) => setTimeout(r, this.latencies[this.#reads++] ?? 10))
    this.#inFlight -= 1
    const after = this.rows.filter(
      (r) => r.blockNumber > at.blockNumber || (r.blockNumber === at.blockNumber && r.blockOffset > at.blockOffset),
    )
    const rows = after.slice(0, limit)
    if (rows.length < limit) this.#more = false
    return rows
  }
  unfinished(): void {
    this.#more = true
  }
  async idle(cursor: Cursor): Promise<Cursor> {
    this.idles += 1
    return cursor
  }
}

/**
 * Converts each row to one message, at most `maxRows` per batch (as a byte limit would cut it). Its batches report
 * `bytesPerRow` value bytes per row: 0 (the default) keeps the loop's reads at batchMaxRows after a cut (it adapts
 * its reads to the bytes a cut batch held, when there are any).
 */
function converter(maxRows = Number.POSITIVE_INFINITY, bytesPerRow = 0): Converter {
  return {
    async convert(rows, from): Promise<Batch> {
      const taken = rows.slice(0, maxRows)
      return {
        messages: taken.map((r) => ({ topic: 't', key: r.key, value: r.value as Buffer, headers: new Map() })),
        rows: taken.length,
        payloadBytes: taken.length * bytesPerRow,
        cursor: cursorAfter(from, rows, taken.length),
        queryIds: new Set(taken.map((r) => r.queryId)),
        firstIngestMicros: taken[0]?.ingestMicros,
        rowsBySource: new Map([['shop.orders', taken.length]]),
        deadLettered: { bySource: new Map(), rows: [] },
      }
    },
  }
}

/** A sink whose commits the test releases one by one; it logs what it was given. */
class GatedSink implements Sink {
  readonly published: Array<{ values: number[]; rowsTotal: bigint }> = []
  readonly #waiting: Array<() => void> = []
  fail: Error | undefined
  gated = true
  /** Ungated: each commit takes this long, as a broker's does. */
  commitMs = 0

  async publish(messages: OutgoingMessage[], checkpoint: { cursor: Cursor; rowsTotal: bigint }) {
    if (this.gated) await new Promise<void>((release) => this.#waiting.push(release))
    else if (this.commitMs > 0) await new Promise((r) => setTimeout(r, this.commitMs))
    if (this.fail) throw this.fail
    this.published.push({ values: messages.map((m) => m.value[0] as number), rowsTotal: checkpoint.rowsTotal })
    return { commitMs: 1 }
  }

  get pending(): number {
    return this.#waiting.length
  }

  release(): void {
    this.#waiting.shift()?.()
  }
}

class MemoryStore implements OffsetStore {
  readonly saved: BatchRecord[] = []
  bind(): void {}
  load(): Cursor {
    return new Map()
  }
  save(_: string, batch: BatchRecord): void {
    this.saved.push(batch)
  }
  history(): BatchRecord[] {
    return [...this.saved].reverse()
  }
  close(): void {}
}

/** Records what the observer hears, in order. */
function recordingObserver(events: string[]): LoopObserver {
  return {
    idle: () => events.push('idle'),
    start(_, rows): BatchObservation {
      const first = rows[0]?.blockNumber
      return {
        encoded: () => events.push(`encoded ${first}`),
        publishing: () => {
          events.push(`publishing ${first}`)
          return '00-trace-span-01'
        },
        committed: () => events.push(`committed ${first}`),
        failed: () => events.push(`failed ${first}`),
        dropped: () => events.push(`dropped ${first}`),
      }
    },
  }
}

function loopOf(parts: Partial<BatchLoopParts> & { source: RowSource; sink: Sink }) {
  const offsets = parts.offsets ?? new MemoryStore()
  return new BatchLoop(
    {
      converter: converter(),
      offsets,
      observer: recordingObserver([]),
      engineId: 'e1',
      batchMaxRows: 3,
      pollIntervalMs: 5,
      ...parts,
    },
    { cursor: new Map(), rowsTotal: 0n },
  )
}

const tick = () => new Promise((r) => setTimeout(r, 5))

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await tick()
  expect(check()).toBe(true)
}

describe('BatchLoop', () => {
  it('publishes batches in cursor order, one transaction at a time, and records each after its commit', async () => {
    const source = new ListSource(rowsOf(7))
    const sink = new GatedSink()
    const offsets = new MemoryStore()
    const events: string[] = []
    const loop = loopOf({ source, sink, offsets, observer: recordingObserver(events) })
    const running = loop.run()

    await until(() => sink.pending === 1)
    // While batch 1 commits, batch 2 was read and converted already (and, batch 1 being full, read ahead).
    await until(() => events.includes('encoded 4'))
    expect(offsets.saved).toHaveLength(0)
    expect(sink.pending).toBe(1) // never two transactions at once
    sink.release()
    await until(() => offsets.saved.length === 1)
    expect(cursorToJson(offsets.saved[0]?.cursor as Cursor)).toEqual({ 'shop.orders/all': ['3', '0'] })
    sink.gated = false
    sink.release()
    await until(() => loop.position.rowsTotal === 7n)
    loop.stop()
    await running

    expect(sink.published).toEqual([
      { values: [1, 2, 3], rowsTotal: 3n },
      { values: [4, 5, 6], rowsTotal: 6n },
      { values: [7], rowsTotal: 7n },
    ])
    expect(offsets.saved.map((b) => b.rows)).toEqual([3, 3, 1])
    expect(loop.position).toMatchObject({ rowsTotal: 7n, batches: 3 })
    expect(events.slice(0, 5)).toEqual(['encoded 1', 'publishing 1', 'encoded 4', 'committed 1', 'publishing 4'])
  })

  it('puts the traceparent on every message of the batch', async () => {
    const source = new ListSource(rowsOf(2))
    const sent: OutgoingMessage[] = []
    const sink: Sink = {
      async publish(messages) {
        sent.push(...messages)
        return { commitMs: 1 }
      },
    }
    const loop = loopOf({ source, sink, observer: recordingObserver([]) })
    const running = loop.run()
    await until(() => sent.length === 2)
    loop.stop()
    await running
    for (const message of sent) expect([...message.headers.values()].map(String)).toEqual(['00-trace-span-01'])
  })

  it('throws the failure of a commit, drops the batch prepared ahead, and records nothing of either', async () => {
    const source = new ListSource(rowsOf(6))
    const sink = new GatedSink()
    const offsets = new MemoryStore()
    const events: string[] = []
    const loop = loopOf({ source, sink, offsets, observer: recordingObserver(events) })
    const running = loop.run()
    await until(() => events.includes('encoded 4'))
    sink.fail = new Error('broker gone')
    sink.release()
    await expect(running).rejects.toThrow('broker gone')
    expect(events).toContain('failed 1')
    expect(events).toContain('dropped 4')
    expect(offsets.saved).toHaveLength(0)
    expect(loop.position.rowsTotal).toBe(0n)

    // The engine resumes it from the committed checkpoint with a new sink.
    loop.resume({ cursor: new Map(), rowsTotal: 0n })
    const retry = new GatedSink()
    retry.gated = false
    loop.sink = retry
    const again = loop.run()
    await until(() => loop.position.rowsTotal === 6n)
    loop.stop()
    await again
    expect(retry.published.map((p) => p.values)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ])
  })

  it('re-reads after a batch cut short (by bytes), and says so to the source', async () => {
    const source = new ListSource(rowsOf(5))
    const sink = new GatedSink()
    sink.gated = false
    const loop = loopOf({ source, sink, converter: converter(2) })
    const running = loop.run()
    await until(() => loop.position.rowsTotal === 5n)
    loop.stop()
    await running
    expect(sink.published.map((p) => p.values)).toEqual([[1, 2], [3, 4], [5]])
    expect(source.unfinishedSources.length).toBeGreaterThan(0)
  })

  it('reads as many rows as fit in the bytes a batch was cut at, after the first cut', async () => {
    // 100 B per row, cut at 4 rows (400 B): then reads of floor(0.95 × 400 / 100) = 3 rows, none cut again.
    const source = new LimitRecordingSource(rowsOf(20))
    const sink = new GatedSink()
    sink.gated = false
    const loop = loopOf({ source, sink, converter: converter(4, 100), batchMaxRows: 10 })
    const running = loop.run()
    await until(() => loop.position.rowsTotal === 20n)
    loop.stop()
    await running
    expect(sink.published.flatMap((p) => p.values)).toEqual(rowsOf(20).map((r) => Number(r.blockNumber)))
    // The first read and its read ahead (started before the cut was known, then dropped), then 3 at a time.
    expect(source.limits.slice(0, 2)).toEqual([10, 10])
    expect(new Set(source.limits.slice(2))).toEqual(new Set([3]))
    expect(sink.published.slice(1).every((p) => p.values.length <= 3)).toBe(true)
  })

  it('loses no row of a block cut by bytes when the read ahead returns after the cut was reported', async () => {
    // Five rows in ONE block, three per read, two per batch: every batch is cut short and every read ahead is from
    // a cursor the loop never asks for. The source (as ChangelogSource) forgets that a table holds more once a read
    // of it returns less than a full batch, and finds blocks beyond the cursor but not rows left inside its block.
    // The second read (the first read ahead, from a cursor the cut batch does not reach) is slow.
    const source = new ForgetfulSource(oneBlock(5), [10, 50])
    const sink = new GatedSink()
    sink.gated = false
    sink.commitMs = 30
    const loop = loopOf({ source, sink, converter: converter(2) })
    const running = loop.run()
    await until(() => loop.position.rowsTotal === 5n || source.idles >= 3)
    loop.stop()
    await running
    expect(sink.published.map((p) => p.values)).toEqual([[1, 2], [3, 4], [5]])
    expect(source.maxInFlight).toBe(1)
  })

  it('goes idle when there is nothing to read, asks the source to check, and picks up new rows', async () => {
    const source = new ListSource([])
    const sink = new GatedSink()
    sink.gated = false
    const events: string[] = []
    const loop = loopOf({ source, sink, observer: recordingObserver(events) })
    const running = loop.run()
    await until(() => source.idles >= 2)
    expect(events.filter((e) => e === 'idle').length).toBeGreaterThanOrEqual(2)
    expect(loop.position.lagMs).toBe(0)
    source.rows = rowsOf(2)
    await until(() => loop.position.rowsTotal === 2n)
    loop.stop()
    await running
  })

  it('stop() wakes a sleeping loop and returns after the batch in flight', async () => {
    const source = new ListSource(rowsOf(1))
    const sink = new GatedSink()
    const loop = loopOf({ source, sink, pollIntervalMs: 60_000 })
    const running = loop.run()
    await until(() => sink.pending === 1)
    loop.stop()
    sink.release()
    await running // the batch in flight was committed, not abandoned
    expect(sink.published).toHaveLength(1)

    const idle = loopOf({ source: new ListSource([]), sink, pollIntervalMs: 60_000 })
    const sleeping = idle.run()
    await tick()
    const started = Date.now()
    idle.stop()
    await sleeping
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})
