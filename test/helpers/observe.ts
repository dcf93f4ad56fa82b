import type { Logger } from '../../engine/log.js'

/** A logger keeping every line with the time it was written, for tests that check what the engine said. */
export function capturingLogger(): Logger & { lines: Array<{ at: number; level: string; message: string }> } {
  const lines: Array<{ at: number; level: string; message: string }> = []
  return { lines, log: (level, message) => lines.push({ at: Date.now(), level, message }) }
}

/** The value of the series `name` with `labels` in a Prometheus exposition (GET /metrics); 0 when absent. */
export function sample(exposition: string, name: string, labels: Record<string, string>): number {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return 0
}
