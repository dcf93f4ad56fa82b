import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runTailhouse } from '../helpers/run-cli.js'

/** A working directory with a config capturing shop.orders and embedded ClickHouse in ./.tailhouse/clickhouse. */
function userDirectory() {
  const dir = mkdtempSync(join(tmpdir(), 'tailhouse-status-'))
  writeFileSync(join(dir, 'tailhouse.config.yaml'), 'capture:\n  sources:\n    - table: shop.orders\n')
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runTailhouse(args, { TAILHOUSE_CLICKHOUSE_DATA_DIR: '', CLICKHOUSE_URL: '', ...env }, 60_000, dir)
  return { dir, cli }
}

describe('tailhouse status', () => {
  it('names an unreachable server with a code, and exits 1', async () => {
    const u = userDirectory()
    const { code, stderr } = await u.cli(['status'], { CLICKHOUSE_URL: 'http://127.0.0.1:9' })
    expect(code).toBe(1)
    expect(stderr.trim()).toMatch(
      /^tailhouse: cannot reach ClickHouse server http:\/\/127\.0\.0\.1:9: ECONNREFUSED .*\(retrying may help\) \[TH_CLICKHOUSE_UNREACHABLE\]$/,
    )
  })

  it("names ClickHouse's error with a code when the capture database holds a foreign sources table", async () => {
    const u = userDirectory()
    await u.cli(['sql', 'CREATE DATABASE tailhouse; CREATE TABLE tailhouse.sources (x UInt8) ENGINE = Memory'])
    const { code, stderr } = await u.cli(['status'])
    expect(code).toBe(1)
    expect(stderr.trim()).toBe(
      "tailhouse: ClickHouse error 181 ILLEGAL_FINAL: Storage Memory doesn't support FINAL. [TH_CLICKHOUSE_QUERY]",
    )
  })

  it('warns about a source that does not deduplicate retried INSERTs until migrate --set-dedup-window', async () => {
    const u = userDirectory()
    await u.cli([
      'sql',
      'CREATE DATABASE shop; CREATE TABLE shop.orders (id UInt64, amount Decimal(12, 2)) ENGINE = MergeTree ORDER BY id',
    ])
    expect((await u.cli(['migrate'])).code).toBe(0)
    const warning =
      'warning: shop.orders does not deduplicate retried INSERTs (MergeTree with non_replicated_deduplication_window' +
      ' = 0): ALTER TABLE `shop`.`orders` MODIFY SETTING non_replicated_deduplication_window = 10000 (or tailhouse ' +
      'migrate --set-dedup-window), so that a retried INSERT with the same insert_deduplication_token is written to ' +
      'the table once, as capture records it once\n'
    const before = await u.cli(['status'])
    expect(before).toMatchObject({ code: 0, stderr: warning })
    expect(before.stdout).toMatch(/^shop\.orders {2}captured {2}v1 {2}view ok {2}0 rows {2}no drift$/m)
    const doctor = await u.cli(['doctor'])
    expect(doctor.code).toBe(3)
    expect(doctor.stdout).toContain('shop.orders: does not deduplicate retried INSERTs (MergeTree with')

    expect((await u.cli(['migrate', '--set-dedup-window', '1000'])).code).toBe(0)
    expect(await u.cli(['status'])).toMatchObject({ code: 0, stderr: '' })
    const fixed = await u.cli(['doctor'])
    expect(fixed.code).toBe(0)
    expect(fixed.stdout).toContain(
      'shop.orders: deduplicates retried INSERTs (MergeTree with non_replicated_deduplication_window = 1000)',
    )
  })
})
