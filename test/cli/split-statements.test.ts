import { describe, expect, it } from 'vitest'
import { splitStatements } from '../../engine/cli/split-statements.js'

describe('splitStatements', () => {
  it('splits at semicolons and trims, dropping empty statements', () => {
    expect(splitStatements(' CREATE DATABASE d ;\n\nSELECT 1;; ')).toEqual(['CREATE DATABASE d', 'SELECT 1'])
  })

  it('keeps semicolons inside strings, quoted identifiers and comments', () => {
    const sql = `INSERT INTO t VALUES ('a;b', 'it''s;', 'x\\';y'); SELECT "c;d", \`e;f\` -- not; a split
      /* nor; this */ FROM t; SELECT 2 # last; one`
    expect(splitStatements(sql)).toEqual([
      `INSERT INTO t VALUES ('a;b', 'it''s;', 'x\\';y')`,
      `SELECT "c;d", \`e;f\` -- not; a split\n      /* nor; this */ FROM t`,
      'SELECT 2 # last; one',
    ])
  })

  it('drops statements made only of comments', () => {
    expect(splitStatements('-- a comment;\n/* another; */ ;SELECT 1')).toEqual(['SELECT 1'])
    expect(splitStatements('   ')).toEqual([])
  })
})
