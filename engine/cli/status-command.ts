import { parseArgs } from 'node:util'
import { sourceDeduplication } from '../capture/deduplication.js'
import { captureStatus } from '../capture/status.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import type { Command } from './command.js'
import { usageErrors } from './parse-flags.js'
import { configFlags, configHelp, withConfig } from './with-config.js'

export const statusCommand: Command = {
  name: 'status',
  summary: 'show each source: captured, schema version, view, changelog rows, drift',
  help: `Usage: tailhouse status [--json] [--config <file>]

For every configured or previously captured source: whether it is captured, its schema version, whether its
view exists, how many of its rows the changelog holds, and drift (source changes not migrated yet). Warns about
each source that does not deduplicate retried INSERTs, and says how to fix it.
Exits 3 when any source has drift or is not captured, so scripts can check it.

Options:
${configHelp}
  --json               one JSON object per source`,
  async run(args) {
    const { values } = usageErrors('status', () =>
      parseArgs({ args, options: { ...configFlags, json: { type: 'boolean' } }, strict: true }),
    )
    return withConfig(values, async ({ client, config, target }) => {
      // Failures carry a code like every verb's: ClickHouse's error named, or the server unreachable (retry may help).
      const read = async () => {
        const statuses = await captureStatus(client, config.capture)
        const sources = config.capture.sources.map((s) => s.table)
        return { statuses, deduplication: await sourceDeduplication(client, sources, config.capture.dedupWindow) }
      }
      const { statuses, deduplication } = await read().catch((error: unknown) => {
        throw translateClickHouseError(error, target)
      })
      for (const d of deduplication.filter((d) => !d.deduplicates))
        process.stderr.write(
          `warning: ${d.source} does not deduplicate retried INSERTs (${d.detail}): ${d.fix ?? ''}\n`,
        )
      if (values.json) {
        for (const s of statuses) process.stdout.write(`${JSON.stringify(s)}\n`)
      } else {
        const rows = statuses.map((s) => [
          s.source,
          s.captured ? 'captured' : 'not captured',
          s.schemaVersion === null ? '-' : `v${s.schemaVersion}`,
          s.mode === 'stream' ? 'stream' : s.viewPresent ? 'view ok' : 'no view',
          `${s.changelogRows} rows`,
          s.drift ?? 'no drift',
        ])
        const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? []
        for (const r of rows)
          process.stdout.write(
            `${r
              .map((c, i) => c.padEnd(widths[i] ?? 0))
              .join('  ')
              .trimEnd()}\n`,
          )
      }
      return statuses.every((s) => s.captured && s.drift === null) ? 0 : 3
    })
  },
}
