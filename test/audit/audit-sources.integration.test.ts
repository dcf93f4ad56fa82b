import { describe, expect, it } from 'vitest'
import { audit } from '../../engine/audit/audit.js'
import { CaptureError } from '../../engine/errors.js'
import { captureFixture } from '../helpers/capture.js'

/**
 * Sources `tailhouse audit` cannot judge row by row: a stream-mode source has no changelog (skipped with a note, or
 * refused when named), and a SummingMergeTree source's merges make its captured rows look missing (--repair refused).
 */
describe('tailhouse audit, sources it cannot judge', () => {
  it('skips a stream-mode source with a note and refuses it by name', async () => {
    const f = await captureFixture((db) => [
      { table: `${db}.streamed`, exclude: [], mode: 'stream' },
      { table: `${db}.viewed`, exclude: [], snapshot: 'never' },
    ])
    for (const name of ['streamed', 'viewed'])
      await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.${name} (id UInt64) ENGINE = MergeTree ORDER BY id` })
    expect((await f.migrate()).ok).toBe(true)
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.streamed SELECT number FROM numbers(10)` })
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.viewed SELECT number FROM numbers(10)` })

    const notes: string[] = []
    const results = await audit({ client: f.client, config: f.config, note: (line) => notes.push(line) })
    expect(results.map((r) => [r.source, r.sourceRows, r.missing])).toEqual([[`${f.sourceDb}.viewed`, 10, 0]])
    expect(notes).toContain(
      `${f.sourceDb}.streamed: stream mode, nothing to audit (no changelog; the engine reads the table itself)`,
    )
    const named = audit({ client: f.client, config: f.config, source: `${f.sourceDb}.streamed` })
    await expect(named).rejects.toBeInstanceOf(CaptureError)
    await expect(named).rejects.toThrow(/stream mode: it has no changelog to audit/)
  })

  it('refuses --repair of a SummingMergeTree source, whose merged sums look missing', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.totals`, exclude: [], snapshot: 'never' }])
    const t = `${f.sourceDb}.totals`
    await f.client.command({ query: `CREATE TABLE ${t} (k UInt8, n UInt64) ENGINE = SummingMergeTree ORDER BY k` })
    expect((await f.migrate()).ok).toBe(true)
    for (let i = 0; i < 3; i++) await f.client.command({ query: `INSERT INTO ${t} VALUES (1, 5)` })
    await f.client.command({ query: `OPTIMIZE TABLE ${t} FINAL` })

    const [result] = await audit({ client: f.client, config: f.config })
    expect(result?.missing).toBe(1) // the merged sum (1, 15), which no INSERT wrote
    expect(result?.limits.join('\n')).toMatch(/SummingMergeTree: rows its merges added into sums look missing/)
    const repair = audit({ client: f.client, config: f.config, repair: true })
    await expect(repair).rejects.toThrow(/SummingMergeTree: .* --repair is refused/)
  })
})
