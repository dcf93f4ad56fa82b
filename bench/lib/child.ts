import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type ProcessSample, ProcessSampler } from './process-sampler.js'

/** The path of a worker module next to `moduleUrl`, compiled (.js) when the caller is, else the .ts source. */
export function siblingScript(moduleUrl: string, name: string): string {
  const extension = moduleUrl.endsWith('.ts') ? '.ts' : '.js'
  return fileURLToPath(new URL(`./${name}${extension}`, moduleUrl))
}

/** Messages a benchmark worker sends its parent over IPC. */
export type WorkerMessage<R> =
  | { type: 'progress'; line: string }
  | { type: 'event'; name: string; data?: unknown }
  | { type: 'result'; result: R }
  | { type: 'error'; message: string }

export interface WorkerRun<R> {
  result: R
  /** Peak RSS and CPU of the worker process, sampled from /proc. */
  usage: ProcessSample
}

export interface WorkerOptions {
  /** Absolute path of the worker's .ts file; it receives `input` as its first message. */
  script: string
  input: unknown
  progress: (line: string) => void
  /** Called for `event` messages (e.g. "inserting started"). */
  onEvent?: (name: string, data: unknown, child: ChildProcess) => void
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[]
  timeoutMs?: number
}

/**
 * Runs a benchmark worker in its own process (one embedded ClickHouse per process; a clean RSS/CPU measure of
 * what runs there). The worker dies with its parent: it exits when the IPC channel closes (see worker-main.ts).
 */
export function runWorker<R>(options: WorkerOptions): Promise<WorkerRun<R>> {
  // Compiled workers (npm run bench runs dist/) start as plain Node; sources run through tsx.
  const loader = options.script.endsWith('.ts') ? ['--import', 'tsx'] : []
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...loader, options.script], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const sampler = new ProcessSampler(child.pid as number)
  return new Promise((resolve, reject) => {
    let settled = false
    const timer = setTimeout(
      () => finish(new Error(`worker ${options.script} timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs ?? 15 * 60_000,
    )
    const finish = (error: Error | undefined, result?: R) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const usage = sampler.stop()
      // A worker that reported exits by itself (writing a --cpu-prof profile on the way); one that failed is killed.
      const exited = new Promise<void>((r) => (child.exitCode === null ? child.once('exit', () => r()) : r()))
      const grace = setTimeout(() => child.kill('SIGKILL'), error ? 0 : 10_000)
      void exited.then(() => {
        clearTimeout(grace)
        if (error) reject(error)
        else resolve({ result: result as R, usage })
      })
    }
    child.on('message', (message: WorkerMessage<R>) => {
      if (message.type === 'progress') options.progress(message.line)
      else if (message.type === 'event') options.onEvent?.(message.name, message.data, child)
      else if (message.type === 'result') {
        sampler.sample()
        finish(undefined, message.result)
      } else if (message.type === 'error') finish(new Error(message.message))
    })
    child.on('error', (error) => finish(error))
    child.on('exit', (code, signal) =>
      finish(new Error(`worker ${options.script} exited (${signal ?? `code ${code}`}) before reporting a result`)),
    )
    child.send(options.input as object)
  })
}
