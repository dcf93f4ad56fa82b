import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MigrationError } from '../errors.js'

export interface MigrationFile {
  /** The file name, e.g. `0001_changelog.sql`; also its key in the ledger. */
  name: string
  /** The template text as committed. */
  template: string
  /** sha256 of the template: an applied migration whose file changed is refused. */
  checksum: string
}

const fileName = /^(\d{4})_[a-z0-9_]+\.sql$/

/** The engine's migrations, in order. Every .sql file in `dir` must be named `NNNN_name.sql`. */
export function readMigrationFiles(dir: string): MigrationFile[] {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sql'))
  } catch (error) {
    throw new MigrationError(dir, `cannot read the migrations directory: ${(error as NodeJS.ErrnoException).code}`)
  }
  const files = names.sort().map((name) => {
    if (!fileName.test(name)) throw new MigrationError(name, 'migration files are named NNNN_lower_snake.sql')
    const template = readFileSync(join(dir, name), 'utf8')
    return { name, template, checksum: createHash('sha256').update(template).digest('hex') }
  })
  const numbers = files.map((f) => f.name.slice(0, 4))
  const duplicate = numbers.find((n, i) => numbers.indexOf(n) !== i)
  if (duplicate) throw new MigrationError(`${duplicate}_*.sql`, 'two migrations share a number')
  return files
}
