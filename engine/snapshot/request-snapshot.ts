import type { ClickHouseClient } from '@clickhouse/client'
import type { TailhouseConfig } from '../config/config.js'
import { CaptureError, ConfigError } from '../errors.js'
import { checkWhere } from './build-snapshot.js'
import { describeProgress, RateMeter } from './snapshot-progress.js'
import {
  nextSnapshotId,
  readSnapshots,
  type SnapshotRecord,
  snapshotsTableExists,
  writeSnapshot,
} from './snapshot-registry.js'

export interface SnapshotRequest {
  /** `db.table`, one of capture.sources. */
  source: string
  /** A condition on the source's columns; every row when unset. */
  where?: string | undefined
  /** Publishing throttle; 0 or unset: none. */
  rowsPerSecond?: number | undefined
}

/**
 * Asks the engine of `config` (engine.id) to publish a source's rows again, with op `read`, while live capture goes
 * on (snapshot/snapshots.ts does it). The condition is checked by ClickHouse before it is stored.
 */
export async function requestSnapshot(
  client: ClickHouseClient,
  config: TailhouseConfig,
  request: SnapshotRequest,
): Promise<SnapshotRecord> {
  const { database } = config.capture
  if (!config.capture.sources.some((s) => s.table === request.source)) {
    throw new ConfigError(
      'capture.sources',
      `${request.source} is not one of the captured sources (${config.capture.sources.map((s) => s.table).join(', ')})`,
    )
  }
  if (config.capture.sources.find((s) => s.table === request.source)?.mode === 'stream') {
    throw new CaptureError(
      request.source,
      'is captured in stream mode: tailhouse snapshot re-publishes view-mode sources only (the stream itself began ' +
        'with every row the table held); to rebuild a topic, capture it again under another engine.id',
    )
  }
  if (!(await snapshotsTableExists(client, database))) {
    throw new CaptureError(request.source, `${database}.snapshots does not exist: run tailhouse migrate first`)
  }
  const where = request.where?.trim() ?? ''
  if (where !== '') await checkWhere(client, request.source, where)
  const existing = await readSnapshots(client, database, config.engine.id, request.source)
  const record: SnapshotRecord = {
    engineId: config.engine.id,
    source: request.source,
    id: nextSnapshotId(existing),
    kind: 'on-demand',
    where,
    rowsPerSecond: request.rowsPerSecond ?? 0,
    status: 'requested',
    holdBlock: -1n,
    rows: 0,
    last: undefined,
    published: 0,
    detail: '',
    requestedAt: '',
  }
  await writeSnapshot(client, database, record)
  return record
}

/**
 * Follows a snapshot until it is done or failed, calling `onLine` on each change and with its progress (rows,
 * rows/s, time left) as the engine records it. Resolves with its last state; stops early when `signal` aborts.
 */
export async function followSnapshot(
  client: ClickHouseClient,
  database: string,
  record: SnapshotRecord,
  onLine: (line: string) => void,
  options: { signal?: AbortSignal; pollMs?: number; waitingNoticeMs?: number } = {},
): Promise<SnapshotRecord> {
  const meter = new RateMeter()
  const started = Date.now()
  let last = record
  let noticed = false
  for (;;) {
    const now = (await readSnapshots(client, database, record.engineId, record.source)).find((r) => r.id === record.id)
    if (!now) throw new CaptureError(record.source, `snapshot ${record.id} is no longer in ${database}.snapshots`)
    if (now.status !== last.status) {
      if (now.status === 'building')
        onLine(`building: copying the rows; changelog rows up to block ${now.holdBlock} go first`)
      if (now.status === 'publishing') onLine(`publishing ${now.rows} row(s)${now.detail ? ` (${now.detail})` : ''}`)
    } else if (now.status === 'publishing' && now.published !== last.published) {
      onLine(describeProgress(now.published, now.rows, meter.sample(now.published)))
    }
    if (now.status === 'requested' && !noticed && Date.now() - started > (options.waitingNoticeMs ?? 10_000)) {
      noticed = true
      onLine(`waiting for the engine (engine.id ${record.engineId}) to pick it up: is tailhouse start running?`)
    }
    if (now.status === 'done' || now.status === 'failed') return now
    last = now
    if (options.signal?.aborted) return now
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000))
  }
}
