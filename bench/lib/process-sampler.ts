import { readFileSync } from 'node:fs'

export interface ProcessSample {
  /** Highest resident set size seen, MiB (the kernel's VmHWM when readable). */
  peakRssMb: number
  /** User + system CPU time of the process, seconds. */
  cpuSeconds: number
  /** CPU seconds per wall second over the sampled time (1.0 = one core busy). */
  cpuCores: number
  wallSeconds: number
}

const clockTicks = 100 // USER_HZ on Linux

/** Samples a process's RSS and CPU from /proc every `intervalMs` until stopped. Linux only. */
export class ProcessSampler {
  readonly #pid: number
  readonly #started = Date.now()
  readonly #timer: NodeJS.Timeout
  #peakRssKb = 0
  #cpuTicks = 0

  constructor(pid: number, intervalMs = 200) {
    this.#pid = pid
    this.#timer = setInterval(() => this.sample(), intervalMs)
    this.#timer.unref()
  }

  sample(): void {
    try {
      const status = readFileSync(`/proc/${this.#pid}/status`, 'utf8')
      const hwm = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0)
      const rss = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0)
      this.#peakRssKb = Math.max(this.#peakRssKb, hwm, rss)
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${this.#pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      this.#cpuTicks = Number(fields[11]) + Number(fields[12])
    } catch {
      // The process has exited: keep the last sample.
    }
  }

  stop(): ProcessSample {
    clearInterval(this.#timer)
    const wallSeconds = (Date.now() - this.#started) / 1000
    const cpuSeconds = this.#cpuTicks / clockTicks
    return {
      peakRssMb: Math.round(this.#peakRssKb / 1024),
      cpuSeconds: round(cpuSeconds, 1),
      cpuCores: round(cpuSeconds / wallSeconds, 2),
      wallSeconds: round(wallSeconds, 1),
    }
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
