import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClickHouseError } from '@clickhouse/client'
import { afterEach, describe, expect, it } from 'vitest'
import { translateClickHouseError } from '../../engine/clickhouse/translate-error.js'
import { writeEndpointFile } from '../../engine/embedded/endpoint-file.js'
import { lockHolder } from '../../engine/embedded/lock-holder.js'
import { dataDirectoryLocked } from '../../engine/embedded/locked-error.js'

// A real flock on <dataDir>/status, taken by util-linux's flock(1), as chDB takes it when it opens a directory.
const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

async function holdLock(file: string): Promise<ChildProcess> {
  const child = spawn('flock', ['--exclusive', '--no-fork', file, 'sleep', '30'], { stdio: 'ignore' })
  children.push(child)
  const deadline = Date.now() + 5_000
  while (lockHolder(join(file, '..')) === undefined) {
    if (Date.now() > deadline) throw new Error('flock did not take the lock within 5 s')
    await new Promise((r) => setTimeout(r, 20))
  }
  return child
}

describe('lockHolder', () => {
  it('names the process holding the status file lock, whatever PID the file says', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tailhouse-lock-'))
    writeFileSync(join(dataDir, 'status'), 'PID: 1\nStarted at: 2026-01-01 00:00:00\n')
    const child = await holdLock(join(dataDir, 'status'))
    const holder = lockHolder(dataDir)
    expect(holder?.pid).toBe(child.pid)
    expect(holder?.command).toContain('sleep 30')
  })

  it('reports nothing for a status file left by a process that ended, or no status file', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tailhouse-lock-'))
    expect(lockHolder(dataDir)).toBeUndefined()
    writeFileSync(join(dataDir, 'status'), `PID: ${process.pid}\n`)
    expect(lockHolder(dataDir)).toBeUndefined()
  })

  it('says what to do: stop an engine that shares the directory, or the foreign process', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tailhouse-lock-'))
    writeFileSync(join(dataDir, 'status'), 'PID: 1\n')
    const child = await holdLock(join(dataDir, 'status'))
    const holder = lockHolder(dataDir)
    if (!holder) throw new Error('no holder')
    const foreign = dataDirectoryLocked(dataDir, holder)
    expect(foreign.code).toBe('TH_CLICKHOUSE_LOCKED')
    expect(foreign.message).toBe(
      `embedded ClickHouse at ${dataDir} is held by process ${child.pid} (${holder.command}): chDB lets one process ` +
        'at a time open a data directory. Stop that process and retry; an application that embeds ClickHouse and ' +
        'tailhouse can share its directory with serveEmbeddedClickHouse (see README)',
    )
    writeEndpointFile(dataDir, {
      pid: child.pid as number,
      url: 'http://127.0.0.1:1',
      token: 't',
      serving: 'tailhouse start',
      startedAt: '',
    })
    expect(dataDirectoryLocked(dataDir, holder).message).toMatch(
      new RegExp(
        `held by process ${child.pid} \\(tailhouse start, sharing it at http://127.0.0.1:1\\): .* Stop that engine ` +
          `first \\(kill ${child.pid}, or Ctrl-C where it runs\\); tailhouse sql, status and migrate meanwhile go through it$`,
      ),
    )
  })

  it("turns ClickHouse's error 76 on a held status file into the error naming the holder", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tailhouse-lock-'))
    writeFileSync(join(dataDir, 'status'), 'PID: 1\n')
    const child = await holdLock(join(dataDir, 'status'))
    const raw = new ClickHouseError({
      message: `Cannot lock file ${dataDir}/status. Another server instance in same directory is already running.`,
      code: '76',
      type: 'CANNOT_OPEN_FILE',
    })
    const translated = translateClickHouseError(raw, 'embedded')
    expect(translated).toMatchObject({ code: 'TH_CLICKHOUSE_LOCKED', dataDir, holderPid: child.pid })
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    expect(translateClickHouseError(raw, 'embedded').code).toBe('TH_CLICKHOUSE_QUERY') // nobody holds it any more
  })
})
