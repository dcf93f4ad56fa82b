import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { endpointFilePath } from '../../engine/embedded/endpoint-file.js'
import { readTopic, waitFor } from '../helpers/engine.js'
import { uniqueName } from '../helpers/names.js'
import { runTailhouse, spawnTailhouse } from '../helpers/run-cli.js'
import { repoRoot } from '../stack/paths.js'

/** A working directory as a CLI user has it: a config file, embedded ClickHouse in ./.tailhouse/clickhouse. */
function userDirectory() {
  const { kafkaBootstrap } = inject('stack')
  const dir = mkdtempSync(join(tmpdir(), 'tailhouse-cli-'))
  const run = uniqueName('cli')
  writeFileSync(
    join(dir, 'tailhouse.config.yaml'),
    `capture:
  sources:
    - table: shop.orders
kafka:
  brokers: [${kafkaBootstrap}]
  topicTemplate: ${run}.{database}.{table}
  checkpointTopic: ${run}.checkpoints
  partitions: 1
engine:
  id: ${run}
telemetry:
  httpPort: 0
`,
  )
  const cli = (args: string[]) => runTailhouse(args, { TAILHOUSE_CLICKHOUSE_DATA_DIR: '' }, 60_000, dir)
  return { dir, kafkaBootstrap, topic: `${run}.shop.orders`, cli, dataDir: join(dir, '.tailhouse', 'clickhouse') }
}

describe('tailhouse sql with embedded ClickHouse', () => {
  it('creates, inserts and selects without an engine, and through a running engine, which publishes the rows', async () => {
    const u = userDirectory()
    const created = await u.cli([
      'sql',
      `CREATE DATABASE shop;
       CREATE TABLE shop.orders (id UInt64, amount Decimal(12, 2)) ENGINE = MergeTree ORDER BY id`,
    ])
    expect(created).toMatchObject({ code: 0, stdout: '' })
    expect(created.stderr).toBe('Ok.\nOk.\n')
    const migrated = await u.cli(['migrate'])
    expect(migrated.code).toBe(0)
    // A MergeTree row has no identity: no key unless configured, and migrate says so (source/key-choice.ts).
    expect(migrated.stderr).toMatch(/^warning: shop\.orders: no message key .* set capture\.sources\[0\]\.key /m)

    const engine = spawnTailhouse(['start'], u.dir)
    onTestFinished(async () => {
      if (engine.child.exitCode === null) engine.child.kill('SIGKILL')
    })
    await engine.waitForOutput(/running: /)
    expect(existsSync(endpointFilePath(u.dataDir))).toBe(true)

    // While the engine holds the directory, every command goes through it.
    const inserted = await u.cli(['sql', 'INSERT INTO shop.orders VALUES (1, 9.99), (2, 19.99), (3, 0.5)'])
    expect(inserted).toMatchObject({ code: 0, stderr: 'Ok.\n' })
    const selected = await u.cli(['sql', 'SELECT id, amount FROM shop.orders ORDER BY id'])
    expect(selected.stdout).toBe(
      [
        '   ┌─id─┬─amount─┐',
        '1. │  1 │   9.99 │',
        '2. │  2 │  19.99 │',
        '3. │  3 │    0.5 │',
        '   └────┴────────┘',
        '',
      ].join('\n'),
    )
    const messages = await waitForMessages(u.kafkaBootstrap, u.topic, 3)
    expect(messages.map((m) => [m.key, m.partition])).toEqual([
      [undefined, 0],
      [undefined, 0],
      [undefined, 0],
    ])
    const status = await u.cli(['status'])
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/^shop\.orders\s+captured\s+v1\s+view ok\s+3 rows\s+no drift$/m)
    expect((await u.cli(['migrate'])).code).toBe(0)
    expect((await u.cli(['doctor'])).stdout).toMatch(/through tailhouse start \(process \d+\): ClickHouse \d+\./)

    // A second engine cannot open the directory: the error names the first and what to do.
    const second = await u.cli(['start'])
    expect(second.code).toBe(1)
    expect(second.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^tailhouse: embedded ClickHouse at ${u.dataDir} is held by process ${engine.child.pid} \\(tailhouse start, ` +
          'sharing it at http://127\\.0\\.0\\.1:\\d+\\): .* Stop that engine first .* \\[TH_CLICKHOUSE_LOCKED\\]$',
      ),
    )
    expect(second.stderr).not.toContain('Code: 76')

    engine.child.kill('SIGTERM')
    expect(await engine.exited).toBe(0)
    expect(existsSync(endpointFilePath(u.dataDir))).toBe(false)
    // Stopped: the directory is opened directly again.
    const after = await u.cli(['sql', 'SELECT count() FROM shop.orders', '--format', 'TSV'])
    expect(after).toMatchObject({ code: 0, stdout: '3\n' })
  })

  it('names a process that holds the directory without sharing it, instead of a raw lock error', async () => {
    const u = userDirectory()
    expect((await u.cli(['sql', 'CREATE DATABASE shop'])).code).toBe(0)
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test/embedded/fixtures/hold-directory.ts')],
      { env: { ...process.env, TH_DATA_DIR: u.dataDir }, stdio: ['pipe', 'pipe', 'inherit'] },
    )
    onTestFinished(() => {
      holder.kill('SIGKILL')
    })
    await new Promise<void>((resolveHeld, reject) => {
      holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('HOLDING') && resolveHeld())
      holder.once('exit', (code) => reject(new Error(`the holder exited ${code}`)))
    })
    for (const args of [['status'], ['sql', 'SELECT 1'], ['migrate']]) {
      const result = await u.cli(args)
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(
        `tailhouse: embedded ClickHouse at ${u.dataDir} is held by process ${holder.pid} (`,
      )
      expect(result.stderr).toContain('hold-directory.ts): chDB lets one process at a time open a data directory.')
      expect(result.stderr).toMatch(/\[TH_CLICKHOUSE_LOCKED\]\n$/)
      expect(result.stderr).not.toContain('Code: 76')
    }
  })
})

async function waitForMessages(bootstrap: string, topic: string, count: number) {
  let messages: Awaited<ReturnType<typeof readTopic>> = []
  await waitFor(`${count} messages in ${topic}`, async () => {
    messages = await readTopic(bootstrap, topic).catch(() => [])
    return messages.length >= count
  })
  return messages
}
