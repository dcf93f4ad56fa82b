import { spawn } from 'node:child_process'
import { packageRoot } from '../../engine/package-root.js'

export interface AppRun {
  /** Its stdout, line by line. */
  lines: string[]
  /** Its stderr (the engine's log), line by line. */
  logLines: string[]
  /** True when it was SIGKILLed here, false when it exited by itself (with code 0). */
  killed: boolean
  /** The end of its stderr, for failure messages. */
  stderr: string
}

/**
 * Runs a test application (a .ts file under test/, through tsx) in a process of its own and returns its output. With
 * `killWhen`, it is SIGKILLed — a crash, no cleanup — as soon as (or `killDelayMs` after) a line of its stdout or
 * stderr satisfies it; a run that ends by itself before then, or with a non-zero code, fails.
 */
export function runApp(
  script: string,
  env: NodeJS.ProcessEnv,
  options: { killWhen?: (line: string) => boolean; killDelayMs?: number; timeoutMs?: number } = {},
): Promise<AppRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: packageRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const lines: string[] = []
    const logLines: string[] = []
    let stderr = ''
    let killed = false
    const reader = (into: string[]) => {
      let pending = ''
      return (d: Buffer) => {
        pending += d.toString('utf8')
        const parts = pending.split('\n')
        pending = parts.pop() ?? ''
        for (const line of parts) {
          into.push(line)
          if (!killed && options.killWhen?.(line)) {
            killed = true
            setTimeout(() => child.kill('SIGKILL'), options.killDelayMs ?? 0)
          }
        }
      }
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not finish within ${options.timeoutMs ?? 120_000} ms: ${stderr}`))
    }, options.timeoutMs ?? 120_000)
    const onLog = reader(logLines)
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d).slice(-6000)
      onLog(d)
    })
    child.stdout?.on('data', reader(lines))
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (killed && signal === 'SIGKILL') resolveRun({ lines, logLines, killed, stderr })
      else if (code === 0 && !options.killWhen) resolveRun({ lines, logLines, killed: false, stderr })
      else
        reject(new Error(`${script} ended (${code ?? signal}) ${options.killWhen ? 'before the kill' : ''}: ${stderr}`))
    })
  })
}
