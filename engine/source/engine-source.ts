import type { RowSource } from '../loop/loop-parts.js'
import type { Snapshots } from '../snapshot/snapshots.js'
import { ChangelogSource, type ChangelogSourceOptions } from './changelog-source.js'
import type { ChangelogRow } from './changelog-wire.js'
import type { Cursor } from './cursor.js'
import { StreamSource } from './stream-source.js'

/** Rows after the cursor per source and the age of the oldest, for the lag metrics. */
export type SourceLag = { source: string; rows: number; oldestMillis: number }

/** What the engine reads from: a {@link RowSource} that also reports lag per source. */
export interface EngineSource extends RowSource {
  lagBySource(cursor: Cursor): Promise<SourceLag[]>
  /** Snapshots of view-mode sources (snapshot/snapshots.ts), when the changelog reader runs them. */
  readonly snapshots?: Snapshots | undefined
}

/** The changelog reader's options (snapshots included: view mode only) and a sink for warnings of the stream reader. */
export type EngineSourceOptions = Omit<ChangelogSourceOptions, 'owns'> & { warn?: (message: string) => void }

/**
 * Picks the reader of each source by its capture mode (the registry's, capture/registry.ts): view-mode sources from
 * their changelog tables (changelog-source.ts), stream-mode sources from the tables themselves (stream-source.ts).
 * One cursor holds both: a cursor key names its source, and a source keeps its mode.
 */
export function createEngineSource(options: EngineSourceOptions): EngineSource {
  const { schemas } = options
  return new SourcesByMode(
    new ChangelogSource({ ...options, owns: (source) => schemas.modeOf(source) === 'view' }),
    new StreamSource(options),
    (source) => schemas.modeOf(source),
  )
}

/** Two readers taking turns, each over its own sources; reads, checks and lag pass to the reader of the source. */
export class SourcesByMode implements EngineSource {
  readonly #view: EngineSource
  readonly #stream: EngineSource
  readonly #modeOf: (source: string) => 'view' | 'stream'
  #streamFirst = false

  constructor(view: EngineSource, stream: EngineSource, modeOf: (source: string) => 'view' | 'stream') {
    this.#view = view
    this.#stream = stream
    this.#modeOf = modeOf
  }

  get snapshots(): Snapshots | undefined {
    return this.#view.snapshots
  }

  async read(cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    const order = this.#streamFirst ? [this.#stream, this.#view] : [this.#view, this.#stream]
    this.#streamFirst = !this.#streamFirst
    for (const reader of order) {
      const rows = await reader.read(cursor, limit)
      if (rows.length > 0) return rows
    }
    return []
  }

  unfinished(source: string): void {
    ;(this.#modeOf(source) === 'stream' ? this.#stream : this.#view).unfinished?.(source)
  }

  async idle(cursor: Cursor): Promise<Cursor> {
    const checked = (await this.#view.idle?.(cursor)) ?? cursor
    return (await this.#stream.idle?.(checked)) ?? checked
  }

  async pendingRows(cursor: Cursor): Promise<number> {
    let total = 0
    for (const lag of await this.lagBySource(cursor)) total += lag.rows
    return total
  }

  async lagBySource(cursor: Cursor): Promise<SourceLag[]> {
    const [view, stream] = await Promise.all([this.#view.lagBySource(cursor), this.#stream.lagBySource(cursor)])
    return [...view, ...stream]
  }
}
