import { parseArgs } from 'node:util'
import type { ClickHouseSettings } from '@clickhouse/client'
import { clickHouseEnv } from '../clickhouse/options.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import { connectClickHouse } from '../embedded/running-engine.js'
import { UsageError } from '../errors.js'
import type { Command } from './command.js'
import { clickHouseOptionsOf, optionalConfig } from './optional-config.js'
import { usageErrors } from './parse-flags.js'
import { splitStatements } from './split-statements.js'
import { configFlags } from './with-config.js'

export const defaultSqlFormat = 'PrettyCompact'

export const sqlCommand: Command = {
  name: 'sql',
  summary: 'run SQL on the ClickHouse tailhouse uses (embedded too, also while the engine runs)',
  help: `Usage: tailhouse sql "<statements>" [--format <f>] [--config <file>]
       tailhouse sql - < script.sql

Runs SQL statements, one after the other, on the ClickHouse that tailhouse uses, and prints their results
(${defaultSqlFormat} unless a statement says FORMAT …; "Ok." on stderr for a statement without output).
Statements are separated by ";". With "-", or no statements and stdin not a terminal, reads them from stdin.

With embedded ClickHouse (no ${clickHouseEnv.url}), the data directory is ${clickHouseEnv.dataDir} or the
config's clickhouse.dataDir (default ./.tailhouse/clickhouse). Only one process can open it: while
\`tailhouse start\` runs on it, statements go through the engine (a loopback endpoint only your user can use).

Examples:
  tailhouse sql "CREATE DATABASE shop"
  tailhouse sql "CREATE TABLE shop.orders (id UInt64, amount Decimal(12,2)) ENGINE = MergeTree ORDER BY id"
  tailhouse sql "INSERT INTO shop.orders VALUES (1, 9.99), (2, 19.99)"
  tailhouse sql "SELECT * FROM shop.orders" --format Vertical

Options:
  -c, --config <file>  config file (optional: without one, the environment says where ClickHouse is)
  -f, --format <f>     output format: ${defaultSqlFormat} (default), Pretty, Vertical, TSV, CSV, JSONEachRow, …`,
  async run(args) {
    const { values, positionals } = usageErrors('sql', () =>
      parseArgs({
        args,
        options: { ...configFlags, format: { type: 'string', short: 'f' } },
        strict: true,
        allowPositionals: true,
      }),
    )
    const format = values.format ?? defaultSqlFormat
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(format))
      throw new UsageError(`sql: --format takes a format name, got "${format}"`)
    const fromStdin =
      positionals.length === 0 ? !process.stdin.isTTY : positionals.length === 1 && positionals[0] === '-'
    const text = fromStdin ? await readStdin() : positionals.join(' ')
    const statements = splitStatements(text)
    if (statements.length === 0)
      throw new UsageError('sql: no statement given; e.g. tailhouse sql "SELECT version()"; see tailhouse sql --help')
    const loaded = optionalConfig(values.config)
    // Any output format ClickHouse knows; the client's type lists only those it can parse itself.
    const settings = { default_format: format } as unknown as ClickHouseSettings
    const { client, target } = await connectClickHouse(clickHouseOptionsOf(loaded?.config))
    try {
      for (const [index, statement] of statements.entries()) {
        let result: Awaited<ReturnType<typeof client.exec>>
        try {
          result = await client.exec({ query: statement, clickhouse_settings: settings })
        } catch (error) {
          const translated = translateClickHouseError(error, target)
          if (statements.length > 1)
            translated.message = `statement ${index + 1} of ${statements.length}: ${translated.message}`
          throw translated
        }
        let bytes = 0
        for await (const chunk of result.stream) {
          bytes += (chunk as Buffer).length
          if (!process.stdout.write(chunk as Buffer)) await new Promise((r) => process.stdout.once('drain', r))
        }
        if (bytes === 0) process.stderr.write('Ok.\n')
      }
    } finally {
      await client.close()
    }
    return 0
  },
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
