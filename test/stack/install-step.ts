import { spawn } from 'node:child_process'
import { StackError } from '../../engine/errors.js'
import { progress, seconds } from './progress.js'

export interface InstallStep {
  service: string
  /** What is happening, e.g. "resolving Kafka jars from Maven Central". */
  what: string
  command: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** True for downloads and builds that only the first run pays for; the progress line says so. */
  firstRunOnly?: boolean
  /** Lines matching this count as one fetched artifact in the progress line. */
  fetchedLine?: RegExp
}

/**
 * Runs a slow install command (mvn, go build) with a progress line every 10 s, and on failure an error that
 * carries the command's last output lines. Never prompts (stdin is closed).
 */
export function runInstallStep(step: InstallStep): Promise<void> {
  const started = Date.now()
  progress(step.service, `${step.what}${step.firstRunOnly ? ' (first run only; takes minutes)' : ''}…`)
  return new Promise((resolveStep, reject) => {
    const child = spawn(step.command, step.args, {
      cwd: step.cwd,
      env: step.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const tail: string[] = []
    let fetched = 0
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue
        if (step.fetchedLine?.test(line)) fetched += 1
        tail.push(line)
        if (tail.length > 40) tail.shift()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const ticker = setInterval(() => {
      const count = step.fetchedLine ? `, ${fetched} fetched` : ''
      progress(step.service, `${step.what}: ${seconds(started)}${count}`)
    }, 10_000)
    child.once('error', (error) => {
      clearInterval(ticker)
      reject(new StackError(step.service, `cannot run ${step.command}: ${error.message}; is it installed and on PATH?`))
    })
    child.once('close', (code) => {
      clearInterval(ticker)
      if (code === 0) {
        progress(step.service, `${step.what}: done in ${seconds(started)}`)
        resolveStep()
      } else {
        const cmd = [step.command, ...step.args].join(' ')
        reject(new StackError(step.service, `${step.what} failed (exit ${code}): ${cmd}\n${tail.join('\n')}`))
      }
    })
  })
}
