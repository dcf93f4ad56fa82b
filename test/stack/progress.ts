/** Progress lines for the stack's slow steps, on stderr so they never mix with a command's output. */
export function progress(service: string, message: string): void {
  if (process.env.TAILHOUSE_STACK_QUIET === '1') return
  process.stderr.write(`[stack] ${service}: ${message}\n`)
}

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)}s`
}
