import { parseArgs } from 'node:util'
import { migrate } from '../migrate.js'
import type { Command } from './command.js'
import { usageErrors } from './parse-flags.js'
import { configFlags, configHelp, withConfig } from './with-config.js'

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'install or evolve capture: engine migrations, capture views, .proto schemas',
  help: `Usage: tailhouse migrate [--dry-run] [--cluster <name>] [--config <file>]

Applies the engine's migrations (changelog, source registry), then for every source in capture.sources:
installs its capture view, or after an ALTER of the source swaps the view to a new schema version without a
window in which inserts go uncaptured, and writes the source's .proto file. Re-running is safe.

Options:
${configHelp}
  --dry-run            print the SQL it would run; change nothing
  --cluster <name>     ON CLUSTER DDL and replicated changelog (overrides capture.cluster)`,
  async run(args) {
    const { values } = usageErrors('migrate', () =>
      parseArgs({
        args,
        options: {
          ...configFlags,
          'dry-run': { type: 'boolean' },
          cluster: { type: 'string' },
        },
        strict: true,
      }),
    )
    const dryRun = values['dry-run'] ?? false
    return withConfig(values, async ({ client, config, configDir, target, loaded }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`)
      log(`config ${loaded.path}; ${target}`)
      const result = await migrate({
        client,
        config,
        configDir,
        dryRun,
        log,
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
