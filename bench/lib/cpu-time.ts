import { readFileSync } from 'node:fs'

/** CPU time used so far, seconds (user + system). */
export interface CpuTime {
  /**
   * The main thread alone: where the engine's JavaScript runs. Embedded ClickHouse runs its queries on its own
   * threads, so in a process holding both this is the engine's share. Linux only (undefined elsewhere): Node 20
   * has no per-thread CPU clock, so it is read from /proc/self/task/<pid>/stat (the main thread's id is the pid).
   */
  mainThreadSeconds: number | undefined
  /** The whole process, every thread (ClickHouse's, libuv's, the GC's). */
  processSeconds: number
}

const clockTicks = 100 // USER_HZ on Linux

export function cpuTime(): CpuTime {
  const usage = process.cpuUsage()
  return { mainThreadSeconds: mainThreadSeconds(), processSeconds: (usage.user + usage.system) / 1e6 }
}

/** CPU time used between `before` and now. */
export function cpuTimeSince(before: CpuTime): CpuTime {
  const now = cpuTime()
  return {
    mainThreadSeconds:
      now.mainThreadSeconds === undefined || before.mainThreadSeconds === undefined
        ? undefined
        : now.mainThreadSeconds - before.mainThreadSeconds,
    processSeconds: now.processSeconds - before.processSeconds,
  }
}

/** CPU µs per row: `cpuMicrosPerRow` of the main thread, `processCpuMicrosPerRow` of the whole process. */
export function cpuPerRow(cpu: CpuTime, rows: number) {
  const perRow = (seconds: number) => Math.round((seconds * 1e7) / rows) / 10
  return {
    cpuMicrosPerRow: cpu.mainThreadSeconds === undefined ? undefined : perRow(cpu.mainThreadSeconds),
    processCpuMicrosPerRow: perRow(cpu.processSeconds),
  }
}

function mainThreadSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / clockTicks
  } catch {
    return undefined
  }
}
