/**
 * Splits SQL text into statements at the semicolons between them, as clickhouse-client does for a script: a `;`
 * inside a string ('…'), a quoted identifier ("…", `…`) or a comment (-- …, # …, /* … *\/) does not split.
 * Statements are trimmed, without their `;`; those holding only comments are dropped.
 *
 * @example splitStatements("CREATE DATABASE d; INSERT INTO d.t VALUES ('a;b')") // two statements
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = []
  let start = 0
  let hasCode = false
  let i = 0
  const flush = (end: number) => {
    const text = sql.slice(start, end).trim()
    if (hasCode && text) statements.push(text)
    hasCode = false
  }
  while (i < sql.length) {
    const c = sql[i] as string
    const next = sql[i + 1]
    if (c === '-' && next === '-') i = lineEnd(sql, i)
    else if (c === '#') i = lineEnd(sql, i)
    else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2)
      i = close === -1 ? sql.length : close + 2
    } else if (c === "'" || c === '"' || c === '`') {
      hasCode = true
      i = quotedEnd(sql, i, c)
    } else if (c === ';') {
      flush(i)
      start = i + 1
      i += 1
    } else {
      if (!/\s/.test(c)) hasCode = true
      i += 1
    }
  }
  flush(sql.length)
  return statements
}

function lineEnd(sql: string, from: number): number {
  const newline = sql.indexOf('\n', from)
  return newline === -1 ? sql.length : newline + 1
}

/** The index after the quote closing the one at `from`; a backslash escapes, and so does a doubled quote. */
function quotedEnd(sql: string, from: number, quote: string): number {
  let i = from + 1
  while (i < sql.length) {
    const c = sql[i]
    if (c === '\\') i += 2
    else if (c === quote && sql[i + 1] === quote) i += 2
    else if (c === quote) return i + 1
    else i += 1
  }
  return sql.length
}
