import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { engineDefaults, kafkaDefaults, type TailhouseConfig, telemetryDefaults } from '../../engine/config/config.js'
import { packageRoot } from '../../engine/package-root.js'
import { readPublished } from '../consumers/librdkafka.js'
import { runApp } from '../helpers/app-process.js'
import { uniqueName } from '../helpers/names.js'
import { expectEveryRowOnce } from './checks.js'

const app = join(packageRoot, 'test/snapshot/fixtures/snapshot-app.ts')

/**
 * An initial snapshot of 60,000 rows in an application that embeds ClickHouse and the engine, SIGKILLed twice: while
 * the snapshot is being built (the build starts again from scratch), and while it is published, throttled to 30,000
 * rows/s so the kill lands mid-way (the engine goes on from its last committed batch). Read back read_committed by
 * librdkafka: every row of the table exactly once.
 */
describe('initial snapshot under SIGKILL', () => {
  it('resumes from the last committed chunk after SIGKILL, every row exactly once', async () => {
    const { kafkaBootstrap } = inject('stack')
    const run = uniqueName('snapkill')
    const table = `${run}_src.t`
    const rows = 60_000
    const schemasDir = mkdtempSync(join(tmpdir(), 'tailhouse-snapkill-schemas-'))
    const config: TailhouseConfig = {
      clickhouse: { url: undefined, username: undefined, password: undefined, database: undefined, dataDir: undefined },
      capture: {
        database: `${run}_th`,
        cluster: undefined,
        retentionDays: 7,
        dedupWindow: 1000,
        checkSettings: true,
        sources: [{ table, exclude: [], key: ['k'] }],
      },
      protobuf: { schemasDir, timestamps: 'timestamp', enums: 'enum' },
      kafka: {
        ...kafkaDefaults,
        brokers: [kafkaBootstrap],
        topicTemplate: `${run}.{table}`,
        partitions: 3,
        checkpointTopic: `${run}.checkpoints`,
      },
      telemetry: { ...telemetryDefaults, httpPort: 0 },
      engine: {
        ...engineDefaults,
        id: run,
        pollIntervalMs: 10,
        snapshotRowsPerSecond: 30_000,
        offsetsPath: join(mkdtempSync(join(tmpdir(), 'tailhouse-snapkill-')), 'offsets.sqlite'),
      },
    }
    const env = {
      TH_CONFIG: JSON.stringify(config),
      TH_TABLE: table,
      TH_ROWS: String(rows),
      TH_DATA_DIR: mkdtempSync(join(tmpdir(), 'tailhouse-snapkill-ch-')),
    }
    await runApp(app, { ...env, TH_MODE: 'setup' })

    // 1. Killed while the snapshot is built: as soon as the engine says it copies the rows.
    const building = await runApp(app, { ...env, TH_MODE: 'run' }, { killWhen: (l) => l.includes('copying the rows') })
    expect(building.killed).toBe(true)
    expect(building.logLines.some((l) => l.includes('built:'))).toBe(false)
    // 2. Killed while it is published: a third of the rows committed.
    const publishing = await runApp(
      app,
      { ...env, TH_MODE: 'run' },
      { killWhen: (l) => l.startsWith('PUBLISHED') && Number(l.split(' ')[1]) >= rows / 3 },
    )
    expect(publishing.killed).toBe(true)
    expect(publishing.logLines.some((l) => l.includes(`snapshot of ${table} built: ${rows} row(s)`))).toBe(true)
    // 3. To the end: it starts from the snapshot's last committed row.
    const finish = await runApp(app, { ...env, TH_MODE: 'run' })
    expect(finish.lines.at(-1)).toBe('DONE')
    const start = JSON.parse((finish.lines.find((l) => l.startsWith('START')) ?? 'START {}').slice(6)) as Record<
      string,
      [string, string]
    >
    const resumed = Object.entries(start).find(([stream]) => stream.startsWith(`${table}/snapshot-`))
    expect(resumed, `start cursor ${JSON.stringify(start)}`).toBeDefined()
    const position = Number(resumed?.[1][1])
    expect(position).toBeGreaterThanOrEqual(rows / 3 - 1)
    expect(position).toBeLessThan(rows - 1)

    const published = await readPublished(kafkaBootstrap, `${run}.t`, rows, schemasDir)
    expect(published.every((m) => m.op === 'OP_READ')).toBe(true)
    expectEveryRowOnce(
      published.map((m) => String(m.row.id)),
      Array.from({ length: rows }, (_, i) => String(i)),
    )
  }, 240_000)
})
