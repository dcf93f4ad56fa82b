import { UsageError } from '../errors.js'

/**
 * Runs a node:util parseArgs call, turning its complaints (unknown flag, missing value) into a usage error that
 * names the command.
 *
 * @example usageErrors('status', () => parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true }))
 */
export function usageErrors<T>(command: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    throw new UsageError(
      `${command}: ${(error as Error).message.replace(/\. To specify.*$/s, '')}; see tailhouse ${command} --help`,
    )
  }
}
