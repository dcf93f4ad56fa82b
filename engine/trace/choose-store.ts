import { ConfigError, UsageError } from '../errors.js'
import { jaegerStore } from './jaeger-store.js'
import type { TraceStore } from './trace-store.js'
import { zipkinStore } from './zipkin-store.js'

export const defaultJaeger = 'http://127.0.0.1:16686'

/**
 * The trace store `tailhouse trace` reads: --jaeger or --zipkin, else JAEGER_QUERY_URL, else ZIPKIN_URL, else
 * Jaeger on its default port.
 */
export function traceStore(
  jaeger: string | undefined,
  zipkin: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): TraceStore {
  if (jaeger && zipkin) throw new UsageError('trace: give --jaeger or --zipkin, not both')
  for (const [flag, url] of [
    ['--jaeger', jaeger],
    ['--zipkin', zipkin],
  ] as const) {
    if (url !== undefined && !/^https?:\/\/\S+$/.test(url))
      throw new UsageError(`trace: ${flag} takes an http(s) URL, got "${url}"`)
  }
  if (jaeger) return jaegerStore(jaeger)
  if (zipkin) return zipkinStore(zipkin)
  const fromEnv = env.JAEGER_QUERY_URL || undefined
  if (fromEnv) return jaegerStore(checkedUrl('JAEGER_QUERY_URL', fromEnv))
  const zipkinFromEnv = env.ZIPKIN_URL || undefined
  if (zipkinFromEnv) return zipkinStore(checkedUrl('ZIPKIN_URL', zipkinFromEnv))
  return jaegerStore(defaultJaeger)
}

function checkedUrl(variable: string, url: string): string {
  if (!/^https?:\/\/\S+$/.test(url)) throw new ConfigError(variable, `must be an http(s) URL, got "${url}"`)
  return url
}
