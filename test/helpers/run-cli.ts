import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { repoRoot } from '../stack/paths.js'

/** tsx's loader by path, so the CLI runs from source in any working directory (`--import tsx` resolves from the cwd). */
const tsx = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `tailhouse <args>` from source (engine/main.ts through tsx) in a child process, in `cwd` (default the repo). */
export function runTailhouse(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
  cwd = repoRoot,
): Promise<CliResult> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      ['--import', tsx, join(repoRoot, 'engine/main.ts'), ...args],
      { cwd, env: { ...process.env, TAILHOUSE_DEBUG: '', ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolveRun({ code, stdout, stderr })
      },
    )
  })
}

/** Starts `tailhouse <args>` (e.g. start) in the background; the caller stops it with `child.kill()`. */
export function spawnTailhouse(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', tsx, join(repoRoot, 'engine/main.ts'), ...args], {
    cwd,
    env: { ...process.env, TAILHOUSE_DEBUG: '', TAILHOUSE_LOG_FORMAT: 'pretty', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  return {
    child,
    exited,
    /** Everything it printed so far, stdout and stderr. */
    output: () => output,
    /** Resolves once its output matches `pattern`; fails when it exits first or after `timeoutMs`. */
    async waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs
      while (!pattern.test(output)) {
        if (child.exitCode !== null) throw new Error(`tailhouse ${args.join(' ')} exited ${child.exitCode}:\n${output}`)
        if (Date.now() > deadline)
          throw new Error(`no ${pattern} from tailhouse ${args.join(' ')} in ${timeoutMs} ms:\n${output}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
  }
}
