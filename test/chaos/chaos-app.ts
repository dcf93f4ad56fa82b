/**
 * The chaos test's application: what a user embedding tailhouse runs — embedded ClickHouse (chDB), `migrate` and
 * the engine in one Node process — inserting continuously under the capture contract (README, "The capture
 * boundary"): every INSERT carries its own insert_deduplication_token, the source deduplicates, and an INSERT
 * that was not acknowledged is retried with the same token and rows, also after a restart (insert-journal.ts).
 *
 * Modes (CHAOS_MODE):
 * - setup: create the source table (no deduplication window), `migrate` with setDedupWindow (what
 *   `tailhouse migrate --set-dedup-window` does), check every source now deduplicates;
 * - run:   retry the unacknowledged INSERTs, start the engine, print READY, insert until SIGKILLed;
 * - drain: retry the unacknowledged INSERTs, run the engine until it has published every changelog row, stop it,
 *          write the source table's ids to CHAOS_SOURCE_DUMP and print DRAINED with counts.
 *
 * Lines on stdout, for the harness: `UNACKED <seq> <rows> <in source> <in changelog>` per INSERT found
 * unacknowledged at start, `READY`, `I <seq>` as each INSERT is sent, `DRAINED <json>`.
 */
import { writeFileSync } from 'node:fs'
import type { ClickHouseClient } from '@clickhouse/client'
import { changelogTableName } from '../../engine/capture/changelog-table.js'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import { loadConfig } from '../../engine/config/load-config.js'
import { stderrLogger } from '../../engine/log.js'
import { migrate } from '../../engine/migrate.js'
import { startEngine } from '../../engine/start-engine.js'
import { InsertJournal, type IntendedInsert, idOf, maxRowsPerInsert, rowsOf, tokenOf } from './insert-journal.js'

const env = process.env
const mode = env.CHAOS_MODE
const table = env.CHAOS_TABLE as string
const [database, name] = table.split('.') as [string, string]
const { config } = loadConfig(env.CHAOS_CONFIG)
const changelog = `${config.capture.database}.${changelogTableName({ database, table: name })}`
const client = await createClickHouse({ dataDir: env.CHAOS_DATA_DIR })
const say = (line: string) => process.stdout.write(`${line}\n`)

async function count(sql: string): Promise<number> {
  const [row] = await (await client.query({ query: sql, format: 'JSONEachRow' })).json<{ n: string }>()
  return Number(row?.n ?? 0)
}

/**
 * Sends one INSERT with its token; the contract's in-process half: an INSERT that failed is sent again, with the
 * same token and rows, until it is acknowledged.
 */
async function send(ch: ClickHouseClient, journal: InsertJournal, insert: IntendedInsert): Promise<void> {
  say(`I ${insert.seq}`)
  for (let attempt = 1; ; attempt++) {
    try {
      await ch.insert({
        table,
        values: rowsOf(insert),
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: tokenOf(insert.seq) },
      })
      break
    } catch (error) {
      if (attempt >= 5) throw error
      process.stderr.write(`INSERT ${insert.seq} failed (attempt ${attempt}), retrying: ${(error as Error).message}\n`)
      await new Promise((r) => setTimeout(r, 200 * attempt))
    }
  }
  journal.acknowledge(insert.seq)
}

/** The contract's restart half: every INSERT begun and not acknowledged before the last stop is sent again. */
async function retryUnacknowledged(journal: InsertJournal): Promise<void> {
  for (const line of journal.tornLines) process.stderr.write(`journal: ignoring a torn line: ${line}\n`)
  for (const insert of journal.unacknowledged()) {
    const [from, to] = [idOf(insert.seq, 0), idOf(insert.seq, insert.rows - 1)]
    const inSource = await count(`SELECT count() AS n FROM ${table} WHERE id BETWEEN ${from} AND ${to}`)
    const inChangelog = await count(`SELECT count() AS n FROM ${changelog} WHERE id BETWEEN ${from} AND ${to}`)
    say(`UNACKED ${insert.seq} ${insert.rows} ${inSource} ${inChangelog}`)
    await send(client, journal, insert)
  }
}

if (mode === 'setup') {
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` })
  await client.command({
    query: `CREATE TABLE ${table} (id UInt64, k UInt16, seq UInt32, pos UInt16, v String) ENGINE = MergeTree ORDER BY id`,
  })
  const result = await migrate({
    client,
    config,
    setDedupWindow: Number(env.CHAOS_DEDUP_WINDOW ?? 1000),
    log: (line) => process.stderr.write(`${line}\n`),
  })
  const notDeduplicating = result.deduplication.filter((d) => !d.deduplicates)
  if (!result.ok || notDeduplicating.length > 0)
    throw new Error(`setup: migrate ok=${result.ok}, not deduplicating: ${JSON.stringify(notDeduplicating)}`)
  await client.close()
} else if (mode === 'run') {
  const journal = new InsertJournal(env.CHAOS_JOURNAL as string)
  await retryUnacknowledged(journal)
  const engine = await startEngine({ config, client, logger: stderrLogger('info') })
  say('READY')
  const rate = Number(env.CHAOS_RATE ?? 15_000)
  const started = Date.now()
  let sent = 0
  for (;;) {
    const state = engine.status().state
    if (state === 'failed' || state === 'stopped') {
      const exit = await engine.done
      throw new Error(`the engine ended (${exit.reason}): ${exit.error?.message ?? ''}`)
    }
    // Mostly one INSERT at a time, sometimes two at once: both begin before either is acknowledged.
    const after = journal.acknowledgedThrough()
    const inserts = Array.from({ length: Math.random() < 0.2 ? 2 : 1 }, () => {
      const insert = { seq: journal.nextSeq(), rows: 1 + Math.floor(Math.random() * maxRowsPerInsert), after }
      journal.intend(insert)
      return insert
    })
    await Promise.all(inserts.map((insert) => send(client, journal, insert)))
    sent += inserts.reduce((n, i) => n + i.rows, 0)
    const due = started + (sent / rate) * 1000
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
  }
} else if (mode === 'drain') {
  const journal = new InsertJournal(env.CHAOS_JOURNAL as string)
  await retryUnacknowledged(journal)
  const engine = await startEngine({ config, client, logger: stderrLogger('info') })
  // Caught up: two readings of zero lag (measured at most once a second) with nothing inserted meanwhile.
  const deadline = Date.now() + Number(env.CHAOS_DRAIN_TIMEOUT_MS ?? 1_800_000)
  let zeros = 0
  for (let polls = 0; zeros < 2; polls++) {
    const status = engine.status()
    if (polls % 10 === 0) process.stderr.write(`drain: lag ${status.lagRows} rows, ${status.rowsPublished} published\n`)
    if (status.state === 'failed') throw new Error(`drain: the engine failed: ${(await engine.done).error?.message}`)
    if (Date.now() > deadline) throw new Error(`drain did not catch up: lag ${status.lagRows} rows`)
    zeros = status.state === 'running' && status.lagRows === 0 ? zeros + 1 : 0
    await new Promise((r) => setTimeout(r, 1_100))
  }
  const exit = await engine.stop()
  if (exit.reason !== 'stopped') throw new Error(`drain: the engine ended ${exit.reason}: ${exit.error?.message}`)
  const ids = await (
    await client.query({ query: `SELECT id FROM ${table} ORDER BY id`, format: 'TabSeparated' })
  ).text()
  writeFileSync(env.CHAOS_SOURCE_DUMP as string, ids)
  say(
    `DRAINED ${JSON.stringify({
      source: await count(`SELECT count() AS n FROM ${table}`),
      changelog: await count(`SELECT count() AS n FROM ${changelog}`),
      inserts: journal.intents.size,
    })}`,
  )
  await client.close()
} else {
  throw new Error(`CHAOS_MODE must be setup, run or drain; got ${mode}`)
}
