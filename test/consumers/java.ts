import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { ensureDebeziumReaderInstalled } from '../stack/debezium-install.js'
import { repoRoot } from '../stack/paths.js'

/** Runs test/consumers/debezium/DebeziumEventReader.java (Java's source launcher) and parses its JSON lines. */
export async function runDebeziumReader(args: string[], timeoutMs = 120_000): Promise<unknown[]> {
  const libs = await ensureDebeziumReaderInstalled()
  const source = join(repoRoot, 'test/consumers/debezium/DebeziumEventReader.java')
  const stdout = await new Promise<string>((resolveRun, reject) => {
    execFile(
      'java',
      ['-Xmx256m', '-cp', `${libs}/*`, source, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, out, err) => {
        if (error) reject(new Error(`DebeziumEventReader failed: ${error.message}\n${err}`))
        else resolveRun(out)
      },
    )
  })
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as unknown)
}
