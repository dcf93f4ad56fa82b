import type { WorkerMessage } from './child.js'

/**
 * The worker side of runWorker(): waits for its input, runs `body`, reports the result or a one-line error, and
 * exits when the parent goes away (so a killed benchmark leaves no embedded ClickHouse behind).
 */
export function workerMain<I, R>(body: (input: I, report: WorkerReport) => Promise<R>): void {
  const send = (message: WorkerMessage<R>) => process.send?.(message)
  process.on('disconnect', () => process.exit(1))
  process.once('message', (input: I) => {
    const report: WorkerReport = {
      progress: (line) => send({ type: 'progress', line }),
      event: (name, data) => send({ type: 'event', name, data }),
    }
    body(input, report).then(
      (result) => {
        send({ type: 'result', result })
        // Give the message time to leave before exiting (embedded ClickHouse threads may keep us alive).
        setTimeout(() => process.exit(0), 200)
      },
      (error) => {
        send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
        setTimeout(() => process.exit(1), 200)
      },
    )
  })
}

export interface WorkerReport {
  progress(line: string): void
  event(name: string, data?: unknown): void
}
