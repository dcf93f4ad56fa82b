import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, readFileSync } from 'node:fs'
import { StackError } from '../../engine/errors.js'
import { progress } from './progress.js'

/**
 * A long-running service (Kafka, Jaeger) started for the local stack, guaranteed not to outlive us:
 *
 * - it runs under a small bash supervisor that holds a pipe from this process; when this process dies for any
 *   reason (Ctrl-C, a failed test, SIGKILL of the runner) the pipe closes and the supervisor stops the service
 *   (SIGTERM, then SIGKILL after 10 s);
 * - the supervisor leads its own process group, so {@link ServiceProcess.stop} signals the whole tree;
 * - on a normal exit of this process, every service still running is killed synchronously.
 */
const supervisor = `
exec 3<&0
"$@" <&- 3<&- &
child=$!
# The watcher reads the pipe with a builtin, so killing the watcher leaves no process behind.
( while read -r -u 3 _; do :; done; kill -TERM "$child" 2>/dev/null; sleep 10; kill -KILL "$child" 2>/dev/null ) &
watcher=$!
exec 3<&-
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
# A trapped signal interrupts wait while the service is still shutting down: wait until it has really exited.
wait "$child"
status=$?
while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
kill "$watcher" 2>/dev/null
exit $status
`

const running = new Set<ServiceProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const service of running) service.killNow()
  })
}

export interface ServiceSpec {
  /** Short name for messages: kafka, jaeger. */
  name: string
  command: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** The service's stdout and stderr go here; its tail is shown when it fails. */
  logFile: string
}

export class ServiceProcess {
  readonly name: string
  readonly logFile: string
  readonly #child: ChildProcess
  #exited: Promise<number | null>
  #exitCode: number | null | undefined

  private constructor(spec: ServiceSpec, child: ChildProcess) {
    this.name = spec.name
    this.logFile = spec.logFile
    this.#child = child
    this.#exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.#exitCode = code ?? (signal ? 128 : null)
        running.delete(this)
        resolveExit(this.#exitCode)
      })
    })
  }

  static start(spec: ServiceSpec): ServiceProcess {
    installExitHook()
    const log = createWriteStream(spec.logFile, { flags: 'a' })
    const child = spawn('bash', ['-c', supervisor, spec.name, spec.command, ...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true, // own process group, so stop() reaches the service and its children
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    child.stdout?.pipe(log)
    child.stderr?.pipe(log)
    // The pipe must not keep this process alive, and nothing is ever written to it.
    child.stdin?.on('error', () => {})
    ;(child.stdin as unknown as { unref?: () => void })?.unref?.()
    child.unref()
    const service = new ServiceProcess(spec, child)
    running.add(service)
    return service
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  /** True while the service process has not exited. */
  get alive(): boolean {
    return this.#exitCode === undefined
  }

  /** Fails with the service's log tail if it has exited. Health checks call it between probes. */
  assertAlive(): void {
    if (!this.alive) {
      throw new StackError(
        this.name,
        `exited with code ${this.#exitCode} during start; log ${this.logFile}:\n${this.logTail()}`,
      )
    }
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }

  /** Stops the service: SIGTERM to its process group, SIGKILL after `graceMs`. Safe to call twice. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return
    this.#signal('SIGTERM')
    const timer = setTimeout(() => this.#signal('SIGKILL'), graceMs)
    try {
      await this.#exited
    } finally {
      clearTimeout(timer)
    }
    progress(this.name, 'stopped')
  }

  /** SIGKILL, as a crash would: no shutdown of any kind. Resolves once it exited. */
  async kill(): Promise<void> {
    if (!this.alive) return
    this.#signal('SIGKILL')
    await this.#exited
    progress(this.name, 'killed (SIGKILL)')
  }

  /** Synchronous kill for process exit hooks. */
  killNow(): void {
    if (this.alive) this.#signal('SIGKILL')
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid
    if (pid === undefined) return
    try {
      process.kill(-pid, signal)
    } catch {
      // already gone
    }
  }
}

/** Polls `probe` until it resolves true, failing early if the service died and after `timeoutMs`. */
export async function waitUntilHealthy(
  service: ServiceProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    service.assertAlive()
    try {
      if (await probe()) return
    } catch (error) {
      lastError = error
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  const reason = lastError instanceof Error ? ` (last probe: ${lastError.message})` : ''
  throw new StackError(
    service.name,
    `not healthy after ${timeoutMs} ms${reason}; log ${service.logFile}:\n${service.logTail()}`,
  )
}
