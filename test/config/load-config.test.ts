import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../engine/config/load-config.js'
import { ConfigError } from '../../engine/errors.js'

function configFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tailhouse-config-'))
  writeFileSync(join(dir, name), text)
  return dir
}

function failure(dir: string): ConfigError {
  try {
    loadConfig(undefined, dir)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('config file', () => {
  it('reads YAML with defaults filled in', () => {
    const dir = configFile('tailhouse.config.yaml', 'capture:\n  sources:\n    - table: shop.orders\n')
    const { config, path } = loadConfig(undefined, dir)
    expect(path).toBe(join(dir, 'tailhouse.config.yaml'))
    expect(config.capture).toEqual({
      database: 'tailhouse',
      cluster: undefined,
      retentionDays: 7,
      dedupWindow: 10_000,
      checkSettings: true,
      sources: [{ table: 'shop.orders', exclude: [], snapshot: 'initial' }],
    })
    expect(config.protobuf).toEqual({ schemasDir: 'schemas', timestamps: 'timestamp', enums: 'enum' })
  })

  it('reads JSON', () => {
    const dir = configFile(
      'tailhouse.config.json',
      JSON.stringify({ capture: { cluster: 'prod', sources: [{ table: 'a.b', exclude: ['secret'] }] } }),
    )
    expect(loadConfig(undefined, dir).config.capture).toMatchObject({
      cluster: 'prod',
      sources: [{ table: 'a.b', exclude: ['secret'] }],
    })
  })

  it('reads a source capture mode: view unless set to stream', () => {
    const dir = configFile(
      'tailhouse.config.yaml',
      'capture:\n  sources:\n    - table: a.b\n    - table: a.c\n      mode: stream\n    - table: a.d\n      mode: view\n',
    )
    expect(loadConfig(undefined, dir).config.capture.sources.map((s) => s.mode)).toEqual([undefined, 'stream', 'view'])
  })

  it.each([
    [
      'capture:\n  sources:\n    - table: a.b\n      mode: changelog\n',
      'capture.sources[0].mode',
      /one of view, stream, got "changelog"/,
    ],
    [
      'capture:\n  sources:\n    - table: shop.orders\n  retention: 3\n',
      'capture.retention',
      /unknown option; known options here: database, cluster/,
    ],
    ['capture:\n  sources:\n    - table: orders\n', 'capture.sources[0].table', /expected db\.table/],
    ['capture:\n  sources: []\n', 'capture.sources', /at least 1/],
    [
      'capture:\n  retentionDays: 0\n  sources:\n    - table: a.b\n',
      'capture.retentionDays',
      /between 1 and 3650, got 0/,
    ],
    [
      'capture:\n  sources:\n    - table: a.b\nprotobuf:\n  enums: ints\n',
      'protobuf.enums',
      /one of enum, string, got "ints"/,
    ],
    ['clickhouse:\n  url: 5\ncapture:\n  sources:\n    - table: a.b\n', 'clickhouse.url', /non-empty string, got 5/],
    ['{}\n', 'capture', /is required: what to capture/],
  ])('rejects a bad value and names the key (%#)', (text, key, message) => {
    const error = failure(configFile('tailhouse.config.yaml', text))
    expect(error.key).toBe(key)
    expect(error.message).toMatch(message)
    expect(error.message).toContain('tailhouse.config.yaml')
  })

  it('says where it looked when there is no config file', () => {
    const error = failure(mkdtempSync(join(tmpdir(), 'tailhouse-empty-')))
    expect(error.message).toMatch(/no tailhouse\.config\.yaml \/ tailhouse\.config\.yml \/ tailhouse\.config\.json in /)
  })

  it('reports a YAML syntax error with the file', () => {
    const error = failure(configFile('tailhouse.config.yaml', 'capture: [\n'))
    expect(error.message).toMatch(/is not valid YAML/)
  })
})
