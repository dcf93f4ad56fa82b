import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { migrate } from '../migrate.js'
import type { Command } from './command.js'
import { usageErrors } from './parse-flags.js'
import { configFlags, configHelp, withConfig } from './with-config.js'

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'install or evolve capture: engine migrations, capture views, .proto schemas',
  help: `Usage: tailhouse migrate [--dry-run] [--cluster <name>] [--set-dedup-window <blocks>] [--config <file>]

Applies the engine's migrations (the source registry), then for every source in capture.sources: creates its
changelog table and capture view, or after an ALTER of the source swaps the view to a new schema version without a
window in which inserts go uncaptured, and writes the source's .proto file. Re-running is safe.
Warns about each source that does not deduplicate retried INSERTs (README, "The capture boundary").

Options:
${configHelp}
  --dry-run            print the SQL it would run; change nothing
  --cluster <name>     ON CLUSTER DDL and replicated changelogs (overrides capture.cluster)
  --set-dedup-window <blocks>
                       give MergeTree sources that do not deduplicate INSERTs a window of this many blocks`,
  async run(args) {
    const { values } = usageErrors('migrate', () =>
      parseArgs({
        args,
        options: {
          ...configFlags,
          'dry-run': { type: 'boolean' },
          cluster: { type: 'string' },
          'set-dedup-window': { type: 'string' },
        },
        strict: true,
      }),
    )
    const dryRun = values['dry-run'] ?? false
    const window = values['set-dedup-window']
    if (window !== undefined && !/^[1-9]\d{0,6}$/.test(window))
      throw new UsageError(`--set-dedup-window takes a number of blocks from 1 to 9999999, got "${window}"`)
    return withConfig(values, async ({ client, config, configDir, target, loaded }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`)
      log(`config ${loaded.path}; ${target}`)
      const result = await migrate({
        client,
        config,
        configDir,
        dryRun,
        log,
        setDedupWindow: window === undefined ? undefined : Number(window),
        onStatement: dryRun ? (sql) => process.stdout.write(`${sql};\n\n`) : undefined,
      })
      for (const failed of result.sources.filter((s) => s.error)) log(`error: ${failed.error?.message}`)
      const live = result.sources.filter((s) => s.action !== 'failed').length
      log(
        dryRun
          ? 'dry run: nothing was changed'
          : `${live} of ${result.sources.length} source(s) captured${result.ok ? '' : '; failed sources were rolled back, re-run after fixing'}`,
      )
      return result.ok ? 0 : 1
    })
  },
}
