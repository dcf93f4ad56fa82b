import { parseArgs } from 'node:util'
import { uncapture } from '../capture/uncapture.js'
import { UsageError } from '../errors.js'
import type { Command } from './command.js'
import { usageErrors } from './parse-flags.js'
import { configFlags, configHelp, withConfig } from './with-config.js'

export const uncaptureCommand: Command = {
  name: 'uncapture',
  summary: 'stop capturing a source (drops its view; its changelog rows stay decodable)',
  help: `Usage: tailhouse uncapture <db.table> [--cluster <name>] [--config <file>]

Drops the source's capture view and marks its schema removed in the registry. Rows already in the changelog
stay and can still be published. Remove the source from capture.sources too, or the next migrate captures it
again.

Options:
${configHelp}
  --cluster <name>     ON CLUSTER DDL (overrides capture.cluster)`,
  async run(args) {
    const { values, positionals } = usageErrors('uncapture', () =>
      parseArgs({
        args,
        options: { ...configFlags, cluster: { type: 'string' } },
        strict: true,
        allowPositionals: true,
      }),
    )
    if (positionals.length !== 1)
      throw new UsageError('uncapture takes one source, db.table; see tailhouse uncapture --help')
    const source = positionals[0] as string
    return withConfig(values, async ({ client, config }) => {
      const { version } = await uncapture(client, {
        database: config.capture.database,
        cluster: config.capture.cluster,
        source,
      })
      process.stderr.write(`${source}: capture removed (was schema version ${version})\n`)
      if (config.capture.sources.some((s) => s.table === source)) {
        process.stderr.write(`note: ${source} is still in capture.sources; the next migrate will capture it again\n`)
      }
      return 0
    })
  },
}
