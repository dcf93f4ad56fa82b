import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { OffsetsError } from '../errors.js'
import { type Cursor, cursorFromJson, cursorToJson } from '../source/cursor.js'
import type { BatchRecord, OffsetStore } from './offset-store.js'

/** How many batches of history to keep per engine. */
const historyLimit = 10_000

/**
 * The offset store in a SQLite file (WAL). Cursors are UPSERTed per (engine, partition) inside one transaction
 * with the batch's history row, never deleted and re-inserted.
 */
export class SqliteOffsetStore implements OffsetStore {
  readonly #db: Database.Database
  readonly #path: string
  #closed = false

  constructor(path: string) {
    this.#path = path
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
      this.#db = new Database(path, { timeout: 2_000 })
    } catch (error) {
      throw offsetsError(path, error)
    }
    this.#guard(() => this.#open())
  }

  #open(): void {
    this.#db.pragma('journal_mode = WAL')
    // NORMAL: in WAL mode a commit survives a crash of this process, only not an OS crash or power loss, which
    // can lose the last batches recorded. That is safe: SQLite then lags the checkpoint topic, which wins in
    // exactly-once mode, and at-least-once publishes those batches again. FULL would fsync once per batch, on
    // the engine's only thread.
    this.#db.pragma('synchronous = NORMAL')
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS cursors (
        engine_id TEXT NOT NULL,
        partition_id TEXT NOT NULL,
        block_number TEXT NOT NULL,
        block_offset TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (engine_id, partition_id)
      );
      CREATE TABLE IF NOT EXISTS batches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        engine_id TEXT NOT NULL,
        rows INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        cursor TEXT NOT NULL,
        committed_at TEXT NOT NULL,
        commit_ms REAL NOT NULL
      );
      CREATE INDEX IF NOT EXISTS batches_by_engine ON batches (engine_id, id);
      CREATE TABLE IF NOT EXISTS bindings (
        engine_id TEXT PRIMARY KEY,
        changelog_id TEXT NOT NULL,
        changelogs TEXT NOT NULL,
        bound_at TEXT NOT NULL
      );
    `)
  }

  /** Runs `work`, turning SQLite's failures into errors that name the file and what to do. */
  #guard<T>(work: () => T): T {
    try {
      return work()
    } catch (error) {
      if (error instanceof OffsetsError) throw error
      throw offsetsError(this.#path, error)
    }
  }

  bind(engineId: string, changelogId: string, changelogs: string): void {
    this.#guard(() => {
      const bound = this.#db
        .prepare('SELECT changelog_id, changelogs, bound_at FROM bindings WHERE engine_id = ?')
        .get(engineId) as { changelog_id: string; changelogs: string; bound_at: string } | undefined
      if (!bound) {
        this.#db
          .prepare('INSERT INTO bindings (engine_id, changelog_id, changelogs, bound_at) VALUES (?, ?, ?, ?)')
          .run(engineId, changelogId, changelogs, new Date().toISOString())
        return
      }
      if (bound.changelog_id === changelogId) return
      throw new OffsetsError(
        this.#path,
        `holds the position of engine ${engineId} in the changelogs of ${bound.changelogs} (identity ` +
          `${bound.changelog_id}, since ${bound.bound_at}), not in these of ${changelogs} (identity ${changelogId}): ` +
          'another project, or a capture database that was re-created. Reading on would skip or repeat rows. Give ' +
          'this engine its own engine.offsetsPath or another engine.id; delete the file only if those changelogs are gone',
      )
    })
  }

  load(engineId: string): Cursor {
    return this.#guard(() => this.#load(engineId))
  }

  #load(engineId: string): Cursor {
    const rows = this.#db
      .prepare('SELECT partition_id, block_number, block_offset FROM cursors WHERE engine_id = ?')
      .all(engineId) as Array<{ partition_id: string; block_number: string; block_offset: string }>
    return new Map(
      rows.map((r) => [r.partition_id, { blockNumber: BigInt(r.block_number), blockOffset: BigInt(r.block_offset) }]),
    )
  }

  #statements: ReturnType<SqliteOffsetStore['prepareSave']> | undefined

  private prepareSave() {
    const upsert = this.#db.prepare(`
      INSERT INTO cursors (engine_id, partition_id, block_number, block_offset, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (engine_id, partition_id) DO UPDATE SET
        block_number = excluded.block_number, block_offset = excluded.block_offset, updated_at = excluded.updated_at`)
    const forget = this.#db.prepare('DELETE FROM cursors WHERE engine_id = ? AND partition_id = ?')
    const insertBatch = this.#db.prepare(
      'INSERT INTO batches (engine_id, rows, bytes, cursor, committed_at, commit_ms) VALUES (?, ?, ?, ?, ?, ?)',
    )
    const trim = this.#db.prepare(
      'DELETE FROM batches WHERE engine_id = ? AND id <= (SELECT max(id) FROM batches WHERE engine_id = ?) - ?',
    )
    return { upsert, forget, insertBatch, trim }
  }

  save(engineId: string, batch: BatchRecord): void {
    this.#guard(() => this.#save(engineId, batch))
  }

  #save(engineId: string, batch: BatchRecord): void {
    this.#statements ??= this.prepareSave()
    const { upsert, forget, insertBatch, trim } = this.#statements
    const at = batch.committedAt.toISOString()
    this.#db.transaction(() => {
      for (const [partition, p] of batch.cursor) {
        upsert.run(engineId, partition, p.blockNumber.toString(), p.blockOffset.toString(), at)
      }
      // Partitions retired from the cursor (TTL dropped them) leave the store too.
      for (const partition of this.#load(engineId).keys())
        if (!batch.cursor.has(partition)) forget.run(engineId, partition)
      insertBatch.run(engineId, batch.rows, batch.bytes, JSON.stringify(cursorToJson(batch.cursor)), at, batch.commitMs)
      trim.run(engineId, engineId, historyLimit)
    })()
  }

  history(engineId: string, limit: number): BatchRecord[] {
    return this.#guard(() => this.#history(engineId, limit))
  }

  #history(engineId: string, limit: number): BatchRecord[] {
    const rows = this.#db
      .prepare(
        'SELECT rows, bytes, cursor, committed_at, commit_ms FROM batches WHERE engine_id = ? ORDER BY id DESC LIMIT ?',
      )
      .all(engineId, limit) as Array<{
      rows: number
      bytes: number
      cursor: string
      committed_at: string
      commit_ms: number
    }>
    return rows.map((r) => ({
      rows: r.rows,
      bytes: r.bytes,
      cursor: cursorFromJson(JSON.parse(r.cursor)),
      committedAt: new Date(r.committed_at),
      commitMs: r.commit_ms,
    }))
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#db.close()
  }
}

/** SQLite's failure as what it means for an operator: the file, what is wrong, what to do. */
function offsetsError(path: string, error: unknown): OffsetsError {
  const code = (error as { code?: string }).code ?? ''
  const message = (error as Error).message
  const say = (text: string) => new OffsetsError(path, text, { cause: error })
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
    return say(
      'is locked by another process (another tailhouse engine using the same engine.offsetsPath?): give each ' +
        'engine its own file, or stop the other one',
    )
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB')
    return say(
      `is not a readable SQLite database (${message}): move it away and start again — exactly-once resumes from ` +
        "the Kafka checkpoint topic; at-least-once publishes again what the file's last batches had recorded",
    )
  if (
    ['SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'EACCES', 'EPERM', 'ENOTDIR', 'EEXIST', 'EROFS'].includes(
      code,
    )
  )
    return say(`cannot be written (${message}): check that the directory exists and this user may write it`)
  if (code === 'SQLITE_FULL') return say('cannot be written: the disk is full')
  return say(message)
}
