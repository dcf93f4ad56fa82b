import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../stack/paths.js'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `tailhouse <args>` from source (engine/main.ts through tsx) in a child process. */
export function runTailhouse(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'engine/main.ts'), ...args],
      { cwd: repoRoot, env: { ...process.env, TAILHOUSE_DEBUG: '', ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolveRun({ code, stdout, stderr })
      },
    )
  })
}
