/**
 * The identity of a row for comparing a source with its changelog: a 128-bit hash (sipHash128) of the row in
 * RowBinary of the captured columns, in the types the changelog stores them (wire types: JSON as its text). Rows
 * carry no other identity a source and its changelog share, so the comparison is of multisets: how many rows with
 * each hash each side holds. 128 bits make two different rows with one hash a non-event (about 10^-20 for 10^9 rows).
 *
 * The same expression serves a source row (read through the view's own SELECT, capture/capture-view.ts), a row of a
 * snapshot or audit table (the view's columns), and a changelog row of the latest schema version. Rows of earlier
 * versions are read in the latest version's types; a version whose values cannot be compared is left out and
 * counted ({@link ChangelogRowHash}).
 */
import { metaColumns, wireType } from '../capture/changelog-table.js'
import type { RegisteredVersion } from '../capture/registry.js'
import { quoteIdentifier, quoteString } from '../clickhouse/sql.js'
import { toCapturedColumn } from '../schema/parse-clickhouse-type.js'

/** The hash of a row given as SQL expressions of its captured columns, in capture order, in their wire types. */
export function rowHashSql(values: readonly string[]): string {
  return `sipHash128(formatRow('RowBinary', ${values.join(', ')}))`
}

/** The hash over the changelog columns of `version` (a snapshot or audit table, or the output of the view's SELECT). */
export function versionRowHashSql(version: RegisteredVersion): string {
  return rowHashSql(version.columns.map((c) => quoteIdentifier(c.column)))
}

export interface ChangelogRowHash {
  /** The hash of a changelog row, comparable with {@link versionRowHashSql} of `latest`; NULL when not comparable. */
  hash: string
  /** Per captured column of `latest`, its value for a changelog row (for conditions on source columns). */
  values: Array<{ name: string; sql: string }>
  /** Versions whose rows cannot be compared, and why. */
  notComparable: Array<{ version: number; reason: string }>
}

/**
 * The hash of a changelog row of any registered version, in the types of `latest`. A version is comparable when
 * each of latest's columns is in it with the same type, or is missing from it and the source fills it with its
 * type's default (an `ALTER ADD COLUMN` without DEFAULT); otherwise (a type changed, a DEFAULT expression) the
 * source's rows no longer hold what was captured, and the version's rows are left out. A drifted row (captured while
 * the source's types differed from its registered version) compares by its RowBinary payload when that is in
 * latest's types.
 *
 * @param withDefault source columns that have a DEFAULT or MATERIALIZED expression
 */
export function changelogRowHash(
  versions: readonly RegisteredVersion[],
  latest: RegisteredVersion,
  withDefault: ReadonlySet<string>,
): ChangelogRowHash {
  const wire = latest.columns.map((c) => ({ ...c, wire: wireType(toCapturedColumn(latest.source, c.name, c.type)) }))
  const notComparable: ChangelogRowHash['notComparable'] = []
  const comparable: Array<{ version: number; values: string[] }> = []
  for (const v of versions) {
    const values: string[] = []
    let reason: string | undefined
    for (const c of wire) {
      const mine = v.columns.find((m) => m.name === c.name)
      if (mine && mine.type === c.type) values.push(quoteIdentifier(mine.column))
      else if (mine) reason = `column ${c.name} was ${mine.type}, now ${c.type}`
      else if (withDefault.has(c.name)) reason = `column ${c.name} was added later with a DEFAULT expression`
      else values.push(`defaultValueOfTypeName(${quoteString(c.wire)})`)
    }
    if (reason) notComparable.push({ version: v.version, reason })
    else comparable.push({ version: v.version, values })
  }
  const branches = comparable.map((v) => `${metaColumns.schemaVersion} = ${v.version}, ${rowHashSql(v.values)}`)
  const drift = `if(reinterpretAsUInt64(substring(${metaColumns.drift}, 1, 8)) = ${latest.fingerprint}, sipHash128(substring(${metaColumns.drift}, 9)), NULL)`
  const hash = `multiIf(${metaColumns.drift} != '', ${drift}, ${[...branches, 'NULL'].join(', ')})`
  const values = wire.map((c, i) => ({
    name: c.name,
    sql: `multiIf(${[
      ...comparable.map((v) => `${metaColumns.schemaVersion} = ${v.version}, ${v.values[i]}`),
      `defaultValueOfTypeName(${quoteString(c.wire)})`,
    ].join(', ')})`,
  }))
  return { hash, values, notComparable }
}
