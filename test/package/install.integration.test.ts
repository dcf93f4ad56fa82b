import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { packageVersion } from '../../engine/package-root.js'
import { repoRoot } from '../stack/paths.js'

const run = promisify(execFile)

/** Runs a command, resolving with its exit code and output instead of rejecting on failure. */
async function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd,
      env: { ...process.env, TAILHOUSE_CLICKHOUSE_DATA_DIR: '', CLICKHOUSE_URL: '', TAILHOUSE_DEBUG: '', ...env },
      maxBuffer: 64 << 20,
      timeout: 600_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

// Getting the CLI as the README says, outside the clone: `npm pack` of the clone, then `npm install -g` of the
// tarball into a prefix of its own (the registry serves the dependencies; npm's cache usually has them).
describe('the packed package, installed globally', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tailhouse-package-'))
  const prefix = join(scratch, 'prefix')
  const bin = join(prefix, 'bin', 'tailhouse')
  let files: string[] = []

  beforeAll(async () => {
    const packed = await sh('npm', ['pack', '--pack-destination', scratch, '--json'], repoRoot)
    expect(packed.code, packed.stderr).toBe(0)
    const [tarball] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    files = tarball?.files.map((f) => f.path) ?? []
    const installed = await sh(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(scratch, tarball?.filename ?? ''),
      ],
      scratch,
    )
    expect(installed.code, installed.stderr).toBe(0)
  }, 900_000)
  // The prefix holds a full copy of the dependencies, chDB's 550 MB included.
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('holds the engine, its migrations and schemas, and no tests or benchmarks', () => {
    expect(files).toContain('dist/engine/main.js')
    expect(files).toContain('dist/engine/index.js')
    expect(files).toEqual(
      expect.arrayContaining(readdirSync(join(repoRoot, 'migrations')).map((f) => `migrations/${f}`)),
    )
    expect(files.filter((f) => /^dist\/(test|bench)\//.test(f))).toEqual([])
  })

  it('runs tailhouse --help and --version from the prefix', async () => {
    const help = await sh(bin, ['--help'], scratch)
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^tailhouse \d+\.\d+\.\d+: change-data-capture/)
    expect(help.stdout).toMatch(/^ {2}sql\s/m)
    expect((await sh(bin, ['--version'], scratch)).stdout.trim()).toBe(packageVersion)
  })

  it('captures a table with embedded ClickHouse, from a directory of its own', async () => {
    const work = mkdtempSync(join(scratch, 'user-'))
    const created = await sh(
      bin,
      ['sql', 'CREATE DATABASE shop; CREATE TABLE shop.orders (id UInt64) ENGINE = MergeTree ORDER BY id'],
      work,
    )
    expect(created.code, created.stderr).toBe(0)
    writeFileSync(join(work, 'tailhouse.config.yaml'), 'capture:\n  sources:\n    - table: shop.orders\n')
    const migrated = await sh(bin, ['migrate'], work)
    expect(migrated.code, migrated.stderr).toBe(0)
    expect(migrated.stderr).toContain('1 of 1 source(s) captured')
    expect((await sh(bin, ['status'], work)).stdout).toMatch(/^shop\.orders\s+captured\s+v1\s+view ok\s+0 rows/m)
  })

  it('still answers --help when the native engine cannot load, and says so when it is needed', async () => {
    // As on a platform without chDB's library, or where better-sqlite3 failed to compile: the JavaScript
    // packages are there, their native parts are not.
    const modules = join(prefix, 'lib', 'node_modules', 'tailhouse', 'node_modules')
    renameSync(join(modules, '@chdb'), join(modules, '@chdb.removed'))
    renameSync(join(modules, 'better-sqlite3', 'build'), join(modules, 'better-sqlite3', 'build.removed'))
    const help = await sh(bin, ['--help'], scratch)
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain('Usage: tailhouse <command>')
    const sql = await sh(bin, ['sql', 'SELECT 1'], mkdtempSync(join(scratch, 'user-')))
    expect(sql.code).toBe(1)
    expect(sql.stderr).toMatch(
      /^tailhouse: cannot reach embedded ClickHouse \(chDB\) at \S+: the embedded engine cannot load \(.+\); reinstall tailhouse with npm, or set CLICKHOUSE_URL to use a ClickHouse server \[TH_CLICKHOUSE_UNREACHABLE\]\n$/,
    )
  })
})
