import { TraceLookupError } from '../errors.js'

/** One span of a stored trace, as both trace stores (Jaeger, Zipkin) describe it. */
export interface TraceSpan {
  /** 32 lowercase hex digits. */
  traceId: string
  spanId: string
  /** Undefined for the root. */
  parentId: string | undefined
  name: string
  service: string
  /** Since the Unix epoch, µs. */
  startMicros: number
  durationMicros: number
  /** Attribute values as text; an array attribute as the store writes it (JSON text for Jaeger, a,b for Zipkin). */
  attributes: Record<string, string>
}

/** Searching batch traces: the service and span name to look for, how far back, how many traces at most. */
export interface TraceSearch {
  service: string
  spanName: string
  lookbackMs: number
  limit: number
}

/** A trace store's query API. */
export interface TraceStore {
  /** For messages: "Jaeger at http://…". */
  describe: string
  /** The trace's spans; undefined when the store has no such trace. */
  trace(traceId: string): Promise<TraceSpan[] | undefined>
  /** Recent traces holding a span of `spanName` in `service`, newest first. */
  search(search: TraceSearch): Promise<TraceSpan[][]>
}

/** A W3C trace id: 32 hex digits; the stores may drop leading zeros. */
export function normalizeTraceId(id: string): string {
  return id.toLowerCase().padStart(32, '0')
}

/** GET a JSON document; 404 is undefined, other failures throw naming the store and URL. */
export async function getJson(store: string, url: string): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(15_000) })
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message
    throw new TraceLookupError(`cannot reach ${store} (${cause}); is it running? (--jaeger or --zipkin <url>)`, {
      cause: error,
      canRetry: true,
    })
  }
  if (response.status === 404) return undefined
  if (!response.ok) throw new TraceLookupError(`${store} answered ${response.status} to ${url}`)
  return response.json()
}
