import type { ClickHouseClient } from '@clickhouse/client'
import { CaptureError } from '../errors.js'

/** The oldest server with persistent _block_offset (24.5) and MV deduplication semantics (24.7). */
export const minimumVersion = [24, 8] as const

interface SettingCheck {
  name: string
  safe: string
  why: string
}

/**
 * Settings every INSERT into a captured table depends on. They are session settings, so they must hold for the
 * users that insert: set them in those users' settings profile (users.xml or CREATE SETTINGS PROFILE), or per
 * query. This check reads them for the user tailhouse connects as, which catches the server-wide defaults.
 */
const settingChecks: SettingCheck[] = [
  {
    name: 'materialized_views_ignore_errors',
    safe: '0',
    why: 'with 1, an INSERT succeeds even when the capture view fails, and those rows are silently never captured',
  },
  {
    name: 'deduplicate_blocks_in_dependent_materialized_views',
    safe: '1',
    why: 'with 0, a retried INSERT that the source deduplicates still writes its rows to the changelog again',
  },
]

/** Refuses servers older than 24.8; returns the version. */
export async function checkServerVersion(client: ClickHouseClient): Promise<string> {
  const result = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
  const [row] = await result.json<{ v: string }>()
  const version = row?.v ?? '0.0'
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const [wantMajor, wantMinor] = minimumVersion
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    throw new CaptureError(
      '',
      `ClickHouse ${version} is too old: capture needs ${wantMajor}.${wantMinor} or newer (persistent _block_offset, ` +
        'deduplication in dependent views); upgrade the server',
    )
  }
  return version
}

/** Every unsafe setting, each as a message saying which setting, where to set it and why. */
export async function unsafeSettings(client: ClickHouseClient): Promise<string[]> {
  const select = settingChecks.map((c) => `toString(getSetting('${c.name}')) AS ${c.name}`).join(', ')
  const result = await client.query({ query: `SELECT currentUser() AS user, ${select}`, format: 'JSONEachRow' })
  const [row] = await result.json<Record<string, string>>()
  const problems: string[] = []
  for (const check of settingChecks) {
    const value = normalize(row?.[check.name])
    if (value !== check.safe) {
      problems.push(
        `${check.name} = ${value} for user ${row?.user ?? '?'}, must be ${check.safe}: ${check.why}. Set ` +
          `${check.name} = ${check.safe} in the settings profile of every user that inserts into captured tables ` +
          `(users.xml <profiles>, or ALTER SETTINGS PROFILE), or per INSERT with SETTINGS ${check.name} = ${check.safe}`,
      )
    }
  }
  return problems
}

function normalize(value: string | undefined): string {
  if (value === 'true') return '1'
  if (value === 'false') return '0'
  return value ?? 'unknown'
}
