import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** The process holding an embedded ClickHouse data directory. */
export interface LockHolder {
  pid: number
  /** Its command line, when the system shows it (Linux /proc), shortened for messages. */
  command: string | undefined
}

/**
 * Which other process holds embedded ClickHouse's data directory, if any. chDB, like a ClickHouse server, takes an
 * exclusive flock on `<dataDir>/status` for as long as a process has the directory open, and writes `PID: <n>` into
 * that file; a second process cannot open the directory (ClickHouse error 76, "Cannot lock file ... status").
 *
 * On Linux the lock itself is looked up in /proc/locks (by the file's device and inode), so a status file left by
 * a process that ended is not mistaken for a lock. Elsewhere the PID written in the file is trusted while a process
 * with that PID lives. This process is never reported: chDB lets one process open its directory many times.
 */
export function lockHolder(dataDir: string): LockHolder | undefined {
  const statusFile = join(dataDir, 'status')
  let written: number | undefined
  let inode: { dev: number; ino: number }
  try {
    written = Number(/^PID:\s*(\d+)/m.exec(readFileSync(statusFile, 'utf8'))?.[1]) || undefined
    const stat = statSync(statusFile)
    inode = { dev: stat.dev, ino: stat.ino }
  } catch {
    return undefined // never opened, or not readable: nothing to name
  }
  const locks = readProcLocks()
  const pid = locks === undefined ? (written !== undefined && alive(written) ? written : undefined) : locks(inode)
  if (pid === undefined || pid === process.pid) return undefined
  return { pid, command: commandLine(pid) }
}

/** A lookup of the pid holding a lock on a file, from /proc/locks; undefined where the system has no /proc/locks. */
function readProcLocks(): ((file: { dev: number; ino: number }) => number | undefined) | undefined {
  let text: string
  try {
    text = readFileSync('/proc/locks', 'utf8')
  } catch {
    return undefined
  }
  // "1: FLOCK  ADVISORY  WRITE 20959 fe:00:9980416 0 EOF": pid, then major:minor:inode (device numbers in hex).
  const entries = text.split('\n').flatMap((line) => {
    const match = /^\d+:\s+\S+\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/i.exec(line)
    if (!match) return []
    const [, pid, major, minor, ino] = match
    return [
      {
        pid: Number(pid),
        major: Number.parseInt(major as string, 16),
        minor: Number.parseInt(minor as string, 16),
        ino: Number(ino),
      },
    ]
  })
  return ({ dev, ino }) => {
    // Linux encodes st_dev as (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12).
    const major = (dev >> 8) & 0xfff
    const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00)
    return entries.find((e) => e.ino === ino && e.major === major && e.minor === minor)?.pid
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}

function commandLine(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
    return text.length > 160 ? `${text.slice(0, 157)}...` : text || undefined
  } catch {
    return undefined
  }
}
