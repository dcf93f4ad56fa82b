import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from '../errors.js'
import { parseConfig, type TailhouseConfig } from './config.js'
import { interpolate } from './interpolate.js'

/** Looked for in the working directory, in this order, when no --config is given. */
export const configFileNames = ['tailhouse.config.yaml', 'tailhouse.config.yml', 'tailhouse.config.json'] as const

export interface LoadedConfig {
  config: TailhouseConfig
  /** Absolute path of the file read. */
  path: string
}

/**
 * Finds, reads and validates the config file; every problem is a ConfigError naming the file and the key.
 * `${env:NAME}` and `${file:/path}` in string values are replaced first (interpolate.ts).
 */
export function loadConfig(explicitPath?: string, cwd = process.cwd(), env = process.env): LoadedConfig {
  const path = explicitPath ? resolve(cwd, explicitPath) : configFileNames.map((n) => resolve(cwd, n)).find(existsSync)
  if (!path) {
    throw new ConfigError(
      'config',
      `no ${configFileNames.join(' / ')} in ${cwd}; pass --config <file> or create one (see README)`,
    )
  }
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError('config', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
  let raw: unknown
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new ConfigError(
      'config',
      `${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    )
  }
  try {
    return { config: parseConfig(interpolate(raw, { env, baseDir: dirname(path) }), ''), path }
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ConfigError(error.key, `${error.message.slice(error.key.length + 2)} (in ${path})`)
    throw error
  }
}
