import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The installed package's root directory (holding package.json, migrations/), found from this module whether it
 * runs from source (engine/) or compiled (dist/engine/).
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    dir = dirname(dir)
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }
      if (pkg.name === 'tailhouse') return dir
    } catch {
      // not here; go up
    }
  }
  throw new Error('tailhouse: cannot find the package root (package.json named tailhouse)')
})()

export const packageVersion: string = (
  JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
).version
