import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryClient } from '../../engine/registry/registry-client.js'

/**
 * The client's own logic over HTTPS: the CA bundle, basic auth and the error it gives for each refusal, against a
 * small fake of the registry API (the real registry, Apicurio, is exercised by register-source.integration.test.ts;
 * it runs without TLS and auth here).
 */
let server: Server
let url: string
let ca: string
const seen: Array<{ path: string; authorization: string | undefined; body: string }> = []

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'th-registry-tls-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  ca = readFileSync(join(dir, 'cert.pem'), 'utf8')
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization, body })
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
        res.end(JSON.stringify(json))
      }
      if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
        return reply(401, { error_code: 401, message: 'Unauthorized' })
      }
      if (req.url === '/api/subjects/ok-value/versions') return reply(200, { id: 7 })
      if (req.url === '/api/subjects/bad-value/versions') {
        return reply(422, { error_code: 42201, message: 'Invalid schema' })
      }
      if (req.url === '/api/config/ok-value') return reply(404, { error_code: 40408, message: 'no subject config' })
      if (req.url === '/api/config') return reply(200, { compatibilityLevel: 'FULL' })
      return reply(500, { error_code: 50001, message: 'boom' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

const schema = { schemaType: 'AVRO' as const, schema: '"long"' }

describe('registry client over HTTPS', () => {
  it('trusts the configured CA and sends basic auth', async () => {
    const client = new RegistryClient({
      url,
      subjectNameStrategy: 'topic',
      auth: { username: 'u', password: 'p' },
      tls: { ca },
      timeoutMs: 5_000,
    })
    expect(await client.register('ok-value', schema)).toBe(7)
    expect(seen.at(-1)).toMatchObject({ path: '/api/subjects/ok-value/versions', body: JSON.stringify(schema) })
    // No subject level: the global one.
    expect(await client.compatibility('ok-value')).toBe('FULL')
  })

  it('names what went wrong: an unknown CA, bad credentials, a refused schema, a failing registry', async () => {
    const noCa = new RegistryClient({ url, subjectNameStrategy: 'topic', timeoutMs: 5_000 })
    await expect(noCa.register('ok-value', schema)).rejects.toMatchObject({
      code: 'TH_REGISTRY',
      canRetry: true,
      message: expect.stringMatching(/cannot reach https:\/\/127\.0\.0\.1:\d+\/api: (SELF_SIGNED_CERT|DEPTH_ZERO)/),
    })
    const wrong = new RegistryClient({
      url,
      subjectNameStrategy: 'topic',
      auth: { username: 'u', password: 'wrong' },
      tls: { ca },
      timeoutMs: 5_000,
    })
    const denied = (await wrong.register('ok-value', schema).catch((e: Error) => e)) as Error
    expect(denied.message).toMatch(/answered 401: check registry\.username \/ registry\.password/)
    expect(denied.message).not.toContain('wrong') // the password is never printed
    const client = new RegistryClient({
      url,
      subjectNameStrategy: 'topic',
      auth: { username: 'u', password: 'p' },
      tls: { ca },
      timeoutMs: 5_000,
    })
    await expect(client.register('bad-value', schema)).rejects.toMatchObject({
      status: 422,
      registryCode: 42201,
      canRetry: false,
      message: 'schema registry, subject bad-value: refused the schema (HTTP 422): Invalid schema',
    })
    await expect(client.latest('other')).rejects.toMatchObject({ status: 500, canRetry: true })
  })
})
