import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  clickHouseOptionsFromEnv,
  describeClickHouse,
  validateClickHouseOptions,
} from '../../engine/clickhouse/options.js'
import { ConfigError } from '../../engine/errors.js'

describe('ClickHouse options', () => {
  it('means embedded ClickHouse when CLICKHOUSE_URL is unset or empty', () => {
    expect(clickHouseOptionsFromEnv({}).url).toBeUndefined()
    expect(clickHouseOptionsFromEnv({ CLICKHOUSE_URL: '' }).url).toBeUndefined()
    expect(describeClickHouse({})).toBe(`embedded ClickHouse (chDB) at ${resolve('.tailhouse/clickhouse')}`)
    expect(describeClickHouse({ dataDir: '/var/lib/th' })).toBe('embedded ClickHouse (chDB) at /var/lib/th')
  })

  it('reads a server, its credentials and TLS files from the environment', () => {
    const options = clickHouseOptionsFromEnv({
      CLICKHOUSE_URL: 'https://ch.example:8443',
      CLICKHOUSE_USER: 'cdc',
      CLICKHOUSE_PASSWORD: 's3cret',
      CLICKHOUSE_DATABASE: 'shop',
      CLICKHOUSE_TLS_CA: '/etc/ca.pem',
      CLICKHOUSE_TLS_CERT: '/etc/client.pem',
      CLICKHOUSE_TLS_KEY: '/etc/client.key',
    })
    expect(options).toMatchObject({
      url: 'https://ch.example:8443',
      username: 'cdc',
      password: 's3cret',
      database: 'shop',
      tls: { caCertPath: '/etc/ca.pem', certPath: '/etc/client.pem', keyPath: '/etc/client.key' },
    })
    expect(() => validateClickHouseOptions(options)).not.toThrow()
  })

  it('never puts the password in the description', () => {
    const text = describeClickHouse({ url: 'http://u:pw@h:8123/', username: 'cdc', password: 'pw' })
    expect(text).toBe('ClickHouse server http://h:8123 as cdc')
    expect(text).not.toContain('pw')
  })

  it.each([
    [{ url: 'not a url' }, 'clickhouse.url', /not a URL/],
    [{ url: 'ftp://h:21' }, 'clickhouse.url', /http:\/\/ or https:\/\//],
    [{ url: 'http://h:8123', tls: { caCertPath: '/ca' } }, 'clickhouse.tls', /not https/],
    [{ url: 'https://h', tls: { caCertPath: '/ca', certPath: '/c' } }, 'clickhouse.tls', /both/],
    [{ requestTimeoutMs: 0 }, 'clickhouse.requestTimeoutMs', /positive/],
  ])('rejects %j naming %s', (options, key, message) => {
    let thrown: unknown
    try {
      validateClickHouseOptions(options)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    expect((thrown as ConfigError).key).toBe(key)
    expect((thrown as ConfigError).message).toMatch(message)
  })

  it('asks for the CA when only a client certificate is given', () => {
    expect(() => clickHouseOptionsFromEnv({ CLICKHOUSE_TLS_CERT: '/c', CLICKHOUSE_TLS_KEY: '/k' })).toThrow(
      /CLICKHOUSE_TLS_CA: is required/,
    )
  })
})
