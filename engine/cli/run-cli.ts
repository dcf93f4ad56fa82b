import { inspect } from 'node:util'
import { TailhouseError, UsageError } from '../errors.js'
import { redact } from '../redact.js'
import { version } from '../version.js'
import { auditCommand } from './audit-command.js'
import type { Command } from './command.js'
import { doctorCommand } from './doctor.js'
import { migrateCommand } from './migrate-command.js'
import { snapshotCommand } from './snapshot-command.js'
import { sqlCommand } from './sql-command.js'
import { startCommand } from './start-command.js'
import { statusCommand } from './status-command.js'
import { traceCommand } from './trace-command.js'
import { uncaptureCommand } from './uncapture-command.js'

const commands: Command[] = [
  migrateCommand,
  startCommand,
  statusCommand,
  sqlCommand,
  traceCommand,
  uncaptureCommand,
  snapshotCommand,
  auditCommand,
  doctorCommand,
]

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return `tailhouse ${version}: change-data-capture from ClickHouse to Kafka, exactly once and in order.

Usage: tailhouse <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help     show help (also: tailhouse <command> --help)
  -v, --version  print the version
  --debug        print stack traces with errors (or set TAILHOUSE_DEBUG=1)

Docs: README.md`
}

/**
 * Runs the CLI on `argv` (without node and the script) and returns the exit code: 0 ok, 1 failure, 2 bad usage.
 * Errors print one line naming what went wrong; stacks only with --debug.
 */
export async function runCli(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug') || process.env.TAILHOUSE_DEBUG === '1'
  const args = argv.filter((a) => a !== '--debug')
  const [first, ...rest] = args
  try {
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' ? commands.find((c) => c.name === rest[0]) : undefined
      process.stdout.write(`${topic ? topic.help : usage()}\n`)
      return 0
    }
    if (first === '-v' || first === '--version' || first === 'version') {
      process.stdout.write(`${version}\n`)
      return 0
    }
    const command = commands.find((c) => c.name === first)
    if (!command) throw new UsageError(`unknown command "${first}"; run tailhouse --help for the list`)
    if (rest.includes('-h') || rest.includes('--help')) {
      process.stdout.write(`${command.help}\n`)
      return 0
    }
    return await command.run(rest)
  } catch (error) {
    // Secrets never reach the terminal, not even inside a foreign error's message or a --debug dump.
    process.stderr.write(`${redact(describeFailure(error, debug))}\n`)
    return error instanceof UsageError ? 2 : 1
  }
}

function describeFailure(error: unknown, debug: boolean): string {
  if (debug) return `tailhouse: ${inspect(error, { depth: 6 })}`
  if (error instanceof TailhouseError) {
    // Our messages already name the thing and the reason; the cause chain is for --debug.
    const retry = error.canRetry ? ' (retrying may help)' : ''
    return `tailhouse: ${error.message}${retry} [${error.code}]`
  }
  return `tailhouse: ${error instanceof Error ? error.message : String(error)} (run with --debug for details)`
}
