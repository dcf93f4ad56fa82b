import { execFileSync, spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { StackError } from '../../engine/errors.js'
import { repoRoot } from './paths.js'
import { ServiceProcess, waitUntilHealthy } from './service-process.js'

/** PIDs of processes whose full command line is exactly `sleep <seconds>`. */
function sleepers(seconds: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `^sleep ${seconds}$`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number)
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 200))
  }
  return check()
}

describe('ServiceProcess', () => {
  it('does not outlive a parent that is killed with SIGKILL', async () => {
    const seconds = `3000.${randomInt(1e9)}` // a unique command line to find the service by
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test/stack/fixtures/hold-service.ts'), seconds],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    await new Promise<void>((resolveReady) =>
      parent.stdout?.on('data', (d: Buffer) => d.includes('READY') && resolveReady()),
    )
    expect(await eventually(() => sleepers(seconds).length === 1, 5_000)).toBe(true)

    parent.kill('SIGKILL')
    // The supervisor sees its pipe close and stops the service with SIGTERM.
    expect(await eventually(() => sleepers(seconds).length === 0, 15_000)).toBe(true)
  }, 30_000)

  it('stops the whole process tree and reports it gone', async () => {
    const seconds = `3000.${randomInt(1e9)}`
    const service = ServiceProcess.start({
      name: 'sleeper',
      command: 'sleep',
      args: [seconds],
      logFile: join(tmpdir(), 'sleeper.log'),
    })
    expect(await eventually(() => sleepers(seconds).length === 1, 5_000)).toBe(true)
    expect(service.alive).toBe(true)
    await service.stop()
    expect(service.alive).toBe(false)
    expect(sleepers(seconds)).toEqual([])
    await service.stop() // idempotent
  })

  it('fails a health wait with the log tail when the service exits during start', async () => {
    const service = ServiceProcess.start({
      name: 'broken',
      command: 'bash',
      args: ['-c', 'echo "listener bind failed: port in use"; exit 3'],
      logFile: join(tmpdir(), `broken-${process.pid}.log`),
    })
    const waiting = waitUntilHealthy(service, async () => false, 10_000)
    await expect(waiting).rejects.toBeInstanceOf(StackError)
    await expect(waiting).rejects.toThrow(/broken: exited with code 3 during start[\s\S]*port in use/)
  })
})
