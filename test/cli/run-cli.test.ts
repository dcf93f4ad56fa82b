import { describe, expect, it } from 'vitest'
import { runTailhouse } from '../helpers/run-cli.js'

// These run the real CLI entry (engine/main.ts) as a child process, as a user would.
describe('tailhouse CLI', () => {
  it('prints usage with every command for --help and exits 0', async () => {
    const { code, stdout } = await runTailhouse(['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^tailhouse \d+\.\d+\.\d+: change-data-capture/)
    expect(stdout).toMatch(/doctor\s+check that ClickHouse is reachable/)
  })

  it('prints a command help for <command> --help', async () => {
    const { code, stdout } = await runTailhouse(['doctor', '--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('Usage: tailhouse doctor')
    expect(stdout).toContain('CLICKHOUSE_URL')
  })

  it('rejects an unknown command with exit 2 and no stack trace', async () => {
    const { code, stderr } = await runTailhouse(['frobnicate'])
    expect(code).toBe(2)
    expect(stderr.trim()).toBe('tailhouse: unknown command "frobnicate"; run tailhouse --help for the list [TH_USAGE]')
  })

  it('names an unreachable server, says a retry may help, and exits 1', async () => {
    const { code, stderr } = await runTailhouse(['doctor'], { CLICKHOUSE_URL: 'http://127.0.0.1:9' })
    expect(code).toBe(1)
    expect(stderr).toMatch(/^tailhouse: cannot reach ClickHouse server http:\/\/127\.0\.0\.1:9: ECONNREFUSED/)
    expect(stderr).toContain('[TH_CLICKHOUSE_UNREACHABLE]')
    expect(stderr).not.toMatch(/\n\s+at /) // no stack noise by default
  })

  it('names the bad setting for an invalid URL', async () => {
    const { code, stderr } = await runTailhouse(['doctor'], { CLICKHOUSE_URL: 'ftp://example' })
    expect(code).toBe(1)
    expect(stderr.trim()).toBe('tailhouse: clickhouse.url: must use http:// or https://, got ftp:// [TH_CONFIG]')
  })

  it('shows the stack trace with --debug', async () => {
    const { stderr } = await runTailhouse(['doctor', '--debug'], { CLICKHOUSE_URL: 'ftp://example' })
    expect(stderr).toMatch(/\n\s+at /)
  })

  it('lists sql and trace', async () => {
    const { stdout } = await runTailhouse(['--help'])
    expect(stdout).toMatch(/^ {2}sql\s+run SQL on the ClickHouse tailhouse uses/m)
    expect(stdout).toMatch(/^ {2}trace\s+show a message's batch trace/m)
  })

  it('explains what trace needs', async () => {
    const trace = await runTailhouse(['trace', '--offset', '3'])
    expect(trace.code).toBe(2)
    expect(trace.stderr.trim()).toBe('tailhouse: trace: a message needs --topic, --partition and --offset [TH_USAGE]')
    const both = await runTailhouse(['trace'])
    expect(both.stderr.trim()).toBe(
      'tailhouse: trace: give either --topic, --partition and --offset, or --query-id; see tailhouse trace --help [TH_USAGE]',
    )
  })

  it('explains what sql needs', async () => {
    const sql = await runTailhouse(['sql', ' ; '])
    expect(sql.code).toBe(2)
    expect(sql.stderr.trim()).toBe(
      'tailhouse: sql: no statement given; e.g. tailhouse sql "SELECT version()"; see tailhouse sql --help [TH_USAGE]',
    )
  })
})
