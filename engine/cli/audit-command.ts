import { parseArgs } from 'node:util'
import { audit } from '../audit/audit.js'
import { UsageError } from '../errors.js'
import type { Command } from './command.js'
import { usageErrors } from './parse-flags.js'
import { configFlags, configHelp, withConfig } from './with-config.js'

export const auditCommand: Command = {
  name: 'audit',
  summary: 'name the rows that reached a source but not its changelog (--repair captures them)',
  help: `Usage: tailhouse audit [<db.table>] [--repair] [--where <condition>] [--show <n>] [--json] [--config <file>]

Compares each captured source (or the one given) with its changelog and names the rows that reached the source but
never the changelog: INSERTs cut off between the table's write and its view's (a crash, a failed view write), when
the application did not retry them with their insert_deduplication_token (README, "The capture boundary"). Exact
for insert-only MergeTree sources while INSERTs go on. With --repair the missing rows are written into the
changelog, and the engine publishes them like any captured row, once.

Limits: ReplacingMergeTree and (Versioned)CollapsingMergeTree sources are read with FINAL, so only the rows their
merges keep are checked. Rows the source lost to TTL, mutations or DELETE count as changelog-only; rows changed by
UPDATE, and SummingMergeTree rows merged into sums, look missing (do not --repair those; --repair is refused for
SummingMergeTree). Stream-mode sources have no changelog: skipped, or refused when named. When capture is older
than capture.retentionDays the changelog has dropped rows, and --where must keep the audit to the retained time.
Exits 3 when rows are missing and were not repaired; 0 when none are (or all were repaired).

Options:
${configHelp}
  --repair             write the missing rows into the changelog (run it after the application has retried
                       its unacknowledged INSERTs, or those rows are captured twice)
  --where <condition>  only rows this SQL condition on the source's columns holds for
  --show <n>           missing rows to print per source (default 20); --json prints them all
  --json               one JSON object per source, then one per missing row`,
  async run(args) {
    const { values, positionals } = usageErrors('audit', () =>
      parseArgs({
        args,
        options: {
          ...configFlags,
          repair: { type: 'boolean' },
          where: { type: 'string' },
          show: { type: 'string' },
          json: { type: 'boolean' },
        },
        strict: true,
        allowPositionals: true,
      }),
    )
    if (positionals.length > 1)
      throw new UsageError('audit takes at most one source, db.table; see tailhouse audit --help')
    const show = values.show
    if (show !== undefined && !/^\d{1,9}$/.test(show))
      throw new UsageError(`--show takes a number of rows, got "${show}"`)
    return withConfig(values, async ({ client, config }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`)
      const results = await audit({
        client,
        config,
        source: positionals[0],
        where: values.where,
        repair: values.repair ?? false,
        rowsShown: values.json ? Number.POSITIVE_INFINITY : show === undefined ? 20 : Number(show),
        note: log,
      })
      for (const r of results) {
        if (values.json) {
          const { rows, ...summary } = r
          process.stdout.write(`${JSON.stringify(summary)}\n`)
          for (const row of rows) process.stdout.write(`${JSON.stringify({ source: r.source, missing: row })}\n`)
          continue
        }
        process.stdout.write(
          `${r.source}: ${r.sourceRows} row(s) compared; ${r.missing} missing (in the source, not in the changelog), ` +
            `${r.changelogOnly} only in the changelog\n`,
        )
        for (const row of r.rows) process.stdout.write(`  ${JSON.stringify(row)}\n`)
        if (r.missing > r.rows.length)
          process.stdout.write(`  … ${r.missing - r.rows.length} more (--json prints all)\n`)
        if (r.repaired > 0)
          process.stdout.write(`  repaired: ${r.repaired} row(s) written to the changelog; the engine publishes them\n`)
        for (const limit of r.limits) process.stdout.write(`  note: ${limit}\n`)
      }
      return results.some((r) => r.missing > r.repaired) ? 3 : 0
    })
  },
}
