/**
 * One JSON request to the schema registry over node:http(s): the global fetch takes no CA bundle or client
 * certificate without the undici package, and the registry API is small. Never prints credentials.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { RegistryOptions } from './registry-options.js'

export interface JsonResponse {
  status: number
  body: unknown
}

/** Sends `body` as JSON and parses the answer (non-JSON answers are returned as text). Rejects on network errors. */
export function requestJson(
  options: RegistryOptions,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<JsonResponse> {
  const url = new URL(`${options.url}${path}`)
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8')
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' }
  if (payload) {
    headers['content-type'] = 'application/vnd.schemaregistry.v1+json'
    headers['content-length'] = String(payload.length)
  }
  if (options.auth) {
    headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        headers,
        timeout: options.timeoutMs,
        ...(url.protocol === 'https:' && options.tls
          ? { ca: options.tls.ca || undefined, cert: options.tls.cert, key: options.tls.key }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown = text
          try {
            parsed = text === '' ? undefined : JSON.parse(text)
          } catch {
            // not JSON: keep the text for the error message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    req.on('error', reject)
    req.end(payload)
  })
}
