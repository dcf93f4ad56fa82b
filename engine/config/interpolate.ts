import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../errors.js'

/** Where interpolated values come from: the environment and the file system, replaceable in tests. */
export interface InterpolationSources {
  env: NodeJS.ProcessEnv
  /** Relative `${file:…}` paths resolve against this directory (the config file's). */
  baseDir: string
  readFile?: (path: string) => string
}

const reference = /\$(\$?)\{([a-z]+):([^}]*)\}/g

/**
 * Replaces `${env:NAME}` with the environment variable NAME and `${file:/path}` with the file's text (without
 * one trailing newline, as secret files usually end) in every string of a parsed config file, so that passwords
 * and tokens can live outside it. `$${…}` stands for a literal `${…}`. The values are never echoed: an error
 * names the key and the variable or file only.
 *
 * @example
 *   kafka:
 *     sasl: { mechanism: SCRAM-SHA-512, username: tailhouse, password: '${file:/run/secrets/kafka}' }
 */
export function interpolate(value: unknown, sources: InterpolationSources, key = ''): unknown {
  if (typeof value === 'string') return interpolateString(value, sources, key)
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, sources, `${key}[${i}]`))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [name, item] of Object.entries(value))
      out[name] = interpolate(item, sources, key ? `${key}.${name}` : name)
    return out
  }
  return value
}

function interpolateString(text: string, sources: InterpolationSources, key: string): string {
  if (!text.includes('${')) return text
  return text.replace(reference, (whole, escaped: string, provider: string, argument: string) => {
    if (escaped) return whole.slice(1)
    if (provider === 'env') return fromEnv(argument, sources, key)
    if (provider === 'file') return fromFile(argument, sources, key)
    throw new ConfigError(key, `\${${provider}:…} is not a known reference; use \${env:NAME} or \${file:/path}`)
  })
}

function fromEnv(name: string, sources: InterpolationSources, key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new ConfigError(key, `\${env:${name}}: "${name}" is not an environment variable name`)
  const value = sources.env[name]
  if (value === undefined) throw new ConfigError(key, `\${env:${name}}: the environment variable ${name} is not set`)
  return value
}

function fromFile(path: string, sources: InterpolationSources, key: string): string {
  if (path.trim() === '') throw new ConfigError(key, `\${file:}: no path given; use \${file:/path/to/secret}`)
  const absolute = resolve(sources.baseDir, path)
  let text: string
  try {
    text = (sources.readFile ?? ((p) => readFileSync(p, 'utf8')))(absolute)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new ConfigError(key, `\${file:${path}}: cannot read ${absolute}: ${code}`)
  }
  return text.replace(/\r?\n$/, '')
}
