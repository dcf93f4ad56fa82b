// Unit test: docker/compose.secure.yaml, the secured variant, is wired consistently with docker/compose.yaml, its
// Kafka settings (docker/kafka-secure/) and the engine's config. Reads files only; no Docker engine needed.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../../engine/config/load-config.js'
import { effectiveSecurity } from '../../engine/kafka/connection.js'
import { requiredAcls } from '../../engine/kafka/required-acls.js'

const dockerDir = resolve(import.meta.dirname, '../../docker')
const read = (path: string) => readFileSync(resolve(dockerDir, path), 'utf8')

interface Service {
  environment?: Record<string, string>
  volumes?: string[]
  depends_on?: Record<string, { condition?: string }>
  healthcheck?: { test?: string[] }
  command?: string[]
}
const base = parse(read('compose.yaml')) as { services: Record<string, Service> }
const secure = parse(read('compose.secure.yaml')) as { services: Record<string, Service> }
const service = (name: string) => secure.services[name] ?? {}
const env = (name: string) => ({ ...base.services[name]?.environment, ...secure.services[name]?.environment })
const serverProperties = read('kafka-secure/server.properties')
const clientProperties = read('kafka-secure/client.properties')
const property = (text: string, key: string) =>
  text
    .split('\n')
    .find((l) => l.startsWith(`${key}=`))
    ?.slice(key.length + 1)

/** host path → container path of a service's bind mounts, relative to docker/. */
const mounts = (name: string) => new Map((service(name).volumes ?? []).map((v) => v.split(':') as [string, string]))

describe('docker/compose.secure.yaml', () => {
  it('secures every Kafka listener: SASL over TLS for clients, SASL for the controller', () => {
    const listeners = (env('kafka').KAFKA_LISTENERS ?? '').split(',').map((l) => l.split('://')[0])
    const protocols = Object.fromEntries(
      (env('kafka').KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '').split(',').map((p) => p.split(':')),
    )
    expect(listeners.length).toBeGreaterThan(0)
    for (const listener of listeners) {
      const controller = listener === env('kafka').KAFKA_CONTROLLER_LISTENER_NAMES
      expect(protocols[listener as string], listener).toBe(controller ? 'SASL_PLAINTEXT' : 'SASL_SSL')
    }
  })

  it('mounts the settings where the image reads them, with the certificates where they point', () => {
    const kafka = mounts('kafka')
    expect(kafka.get('./kafka-secure/server.properties')).toBe('/mnt/shared/config/server.properties')
    const secrets = kafka.get('./kafka-secure/certs') as string
    expect(property(serverProperties, 'ssl.keystore.location')).toBe(`${secrets}/kafka.keystore.pem`)
    expect(property(serverProperties, 'ssl.truststore.location')).toBe(`${secrets}/ca.pem`)
    expect(property(clientProperties, 'ssl.truststore.location')).toBe(`${secrets}/ca.pem`)
    // generate-certs.sh writes exactly those files, and a certificate for the names clients connect to.
    const script = read('kafka-secure/generate-certs.sh')
    expect(script).toMatch(/-out ca\.pem/)
    expect(script).toMatch(/> kafka\.keystore\.pem/)
    expect(script).toMatch(/subjectAltName = DNS:kafka, DNS:localhost, IP:127\.0\.0\.1/)
    // The healthcheck and the ACL job log in with the mounted client settings.
    const client = kafka.get('./kafka-secure/client.properties')
    expect(service('kafka').healthcheck?.test?.join(' ')).toContain(`--command-config ${client}`)
    expect(service('kafka-acls').command?.join(' ')).toContain(`--command-config ${client}`)
  })

  it('keeps JAAS settings in the properties file: the image drops environment values with "="', () => {
    for (const [name, value] of Object.entries(env('kafka'))) expect(String(value), name).not.toContain('=')
    expect(serverProperties).toMatch(/^listener\.name\.internal\.plain\.sasl\.jaas\.config=/m)
  })

  it('gives the engine credentials the broker knows, and the CA that signed the broker', () => {
    const engine = env('tailhouse')
    const jaasUser = (listener: string, user: string) =>
      new RegExp(`user_${user}="([^"]+)"`).exec(
        property(serverProperties, `listener.name.${listener}.plain.sasl.jaas.config`) ?? '',
      )?.[1]
    expect(engine.KAFKA_SASL_PASSWORD).toBe(jaasUser('internal', engine.KAFKA_SASL_USERNAME ?? ''))
    const admin = /password="([^"]+)"/.exec(property(clientProperties, 'sasl.jaas.config') ?? '')?.[1]
    expect(admin).toBe(jaasUser('internal', 'admin'))
    expect(property(serverProperties, 'super.users')).toBe('User:admin')
    expect(mounts('tailhouse').get('./kafka-secure/certs/ca.pem')).toBe(engine.KAFKA_TLS_CA_FILE)
    const { sasl, tls } = effectiveSecurity(
      loadConfig(resolve(dockerDir, 'tailhouse.config.yaml')).config.kafka,
      engine,
    )
    expect(sasl).toMatchObject({ mechanism: 'PLAIN', username: 'tailhouse' })
    expect(tls).toMatchObject({ caFile: '/etc/tailhouse/kafka-ca.pem', verifyHostname: true })
    expect(service('tailhouse').depends_on?.['kafka-acls']?.condition).toBe('service_completed_successfully')
    expect(service('kafka-acls').depends_on?.kafka?.condition).toBe('service_healthy')
  })

  it('grants the engine exactly requiredAcls for docker/tailhouse.config.yaml', () => {
    const script = service('kafka-acls').command?.join(' ') ?? ''
    expect(script).toContain('--allow-principal User:tailhouse')
    const granted = script
      .split(';')
      .filter((c) => c.includes('--operation'))
      .flatMap((c) => {
        const operations = [...c.matchAll(/--operation (\w+)/g)].map((m) => (m[1] as string).toUpperCase())
        const topic = /--topic (\S+)/.exec(c)?.[1]
        const resource = topic ?? (/--transactional-id (\S+)/.exec(c)?.[1] as string)
        const pattern = /--resource-pattern-type prefixed/.test(c) ? 'PREFIXED' : 'LITERAL'
        return operations.map((o) => `${topic ? 'Topic' : 'TransactionalId'} ${resource} ${pattern} ${o}`)
      })
    const config = loadConfig(resolve(dockerDir, 'tailhouse.config.yaml')).config
    const needed = requiredAcls(config).map((a) => `${a.resourceType} ${a.resource} ${a.patternType} ${a.operation}`)
    expect(granted.sort()).toEqual(needed.sort())
  })
})
