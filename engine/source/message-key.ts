/**
 * The Kafka message key of a row: the text of its key columns, so that all changes of one source row go to one
 * partition (murmur2, Java-compatible) in changelog order. One column: its value's text; several: a JSON array of
 * their texts. Text forms: integers in decimal, strings and byte strings as UTF-8, everything else as
 * JSON.stringify would print it; NULL as null.
 */
export function messageKey(row: Record<string, unknown>, keyColumns: readonly string[]): Buffer | undefined {
  if (keyColumns.length === 0) return undefined
  if (keyColumns.length === 1) return Buffer.from(keyText(row[keyColumns[0] as string]))
  return Buffer.from(JSON.stringify(keyColumns.map((c) => keyText(row[c]))))
}

function keyText(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value)
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  return JSON.stringify(value, (_, v) =>
    typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('utf8') : v,
  )
}

/** The plain column names of a sorting key expression such as `tenant, id` or `(tenant, toDate(ts), id)`. */
export function plainKeyColumns(sortingKey: string, columns: readonly string[]): string[] {
  const parts = sortingKey
    .replace(/^\((.*)\)$/s, '$1')
    .split(',')
    .map((p) => p.trim().replace(/^`(.*)`$/, '$1'))
  return parts.filter((p) => columns.includes(p))
}
