import { ConfigError } from '../errors.js'
import { registerSecret } from '../redact.js'

/**
 * A tiny declarative validator for the config file: every option has a description, a default and a parser that
 * names the key and the bound when a value is wrong. Unknown keys are rejected (typos must not pass silently).
 */
export interface Field<T> {
  description: string
  /** Absent means required. */
  default?: T
  parse(value: unknown, key: string): T
}

export type Shape<T> = { [K in keyof T]-?: Field<T[K]> }

export function object<T>(shape: Shape<T>) {
  return (value: unknown, key: string): T => {
    if (value === undefined || value === null) value = {}
    if (typeof value !== 'object' || Array.isArray(value))
      throw new ConfigError(key, `must be an object, got ${show(value)}`)
    const input = value as Record<string, unknown>
    const known = Object.keys(shape)
    for (const name of Object.keys(input)) {
      if (!known.includes(name)) {
        throw new ConfigError(join(key, name), `unknown option; known options here: ${known.join(', ')}`)
      }
    }
    const out: Record<string, unknown> = {}
    for (const [name, field] of Object.entries(shape) as Array<[string, Field<unknown>]>) {
      const raw = input[name]
      if (raw === undefined) {
        if (!('default' in field)) throw new ConfigError(join(key, name), `is required: ${field.description}`)
        out[name] = field.default
      } else {
        out[name] = field.parse(raw, join(key, name))
      }
    }
    return out as T
  }
}

export function string(options: { pattern?: RegExp; hint?: string } = {}) {
  return (value: unknown, key: string): string => {
    if (typeof value !== 'string' || value === '')
      throw new ConfigError(key, `must be a non-empty string, got ${show(value)}`)
    if (options.pattern && !options.pattern.test(value)) {
      throw new ConfigError(key, `"${value}" is not valid${options.hint ? `: ${options.hint}` : ''}`)
    }
    return value
  }
}

export function optionalString(options: { pattern?: RegExp; hint?: string } = {}) {
  const parse = string(options)
  return (value: unknown, key: string): string | undefined => (value === undefined ? undefined : parse(value, key))
}

/**
 * A password, token or passphrase: a non-empty string that no error ever shows, registered for redaction
 * (redact.ts) as soon as it is read.
 */
export function secret() {
  return (value: unknown, key: string): string => {
    if (typeof value !== 'string' || value === '') {
      const hint = typeof value === 'number' ? '; quote it in YAML' : ''
      throw new ConfigError(key, `must be a non-empty string${hint} (the value is a secret and is not shown)`)
    }
    registerSecret(value)
    return value
  }
}

/** An optional section or value: absent (or null) is undefined, anything else goes to `parse`. */
export function optional<T>(parse: (value: unknown, key: string) => T) {
  return (value: unknown, key: string): T | undefined =>
    value === undefined || value === null ? undefined : parse(value, key)
}

export function integer(min: number, max: number) {
  return (value: unknown, key: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new ConfigError(key, `must be an integer, got ${show(value)}`)
    if (value < min || value > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${value}`)
    return value
  }
}

export function ratio() {
  return (value: unknown, key: string): number => {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1))
      throw new ConfigError(key, `must be a number from 0 to 1, got ${show(value)}`)
    return value
  }
}

export function boolean() {
  return (value: unknown, key: string): boolean => {
    if (typeof value !== 'boolean') throw new ConfigError(key, `must be true or false, got ${show(value)}`)
    return value
  }
}

export function oneOf<const T extends string>(...choices: T[]) {
  return (value: unknown, key: string): T => {
    if (typeof value !== 'string' || !choices.includes(value as T)) {
      throw new ConfigError(key, `must be one of ${choices.join(', ')}, got ${show(value)}`)
    }
    return value as T
  }
}

export function arrayOf<T>(item: (value: unknown, key: string) => T, options: { minLength?: number } = {}) {
  return (value: unknown, key: string): T[] => {
    if (!Array.isArray(value)) throw new ConfigError(key, `must be a list, got ${show(value)}`)
    if (value.length < (options.minLength ?? 0))
      throw new ConfigError(key, `must list at least ${options.minLength} item(s)`)
    return value.map((v, i) => item(v, `${key}[${i}]`))
  }
}

function join(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value)
}
