import { getJson, normalizeTraceId, type TraceSearch, type TraceSpan, type TraceStore } from './trace-store.js'

interface ZipkinSpan {
  traceId: string
  id: string
  parentId?: string
  name?: string
  timestamp?: number
  duration?: number
  localEndpoint?: { serviceName?: string }
  tags?: Record<string, string>
}

/** Zipkin's v2 API: `GET /api/v2/trace/<id>`, and `GET /api/v2/traces?serviceName=…&spanName=…` to search. */
export function zipkinStore(baseUrl: string): TraceStore {
  const base = baseUrl.replace(/\/$/, '')
  const describe = `Zipkin at ${base}`
  return {
    describe,
    async trace(traceId) {
      const spans = (await getJson(describe, `${base}/api/v2/trace/${traceId}`)) as ZipkinSpan[] | undefined
      return spans && spans.length > 0 ? spans.map(spanOf) : undefined
    },
    async search(search: TraceSearch) {
      const query = new URLSearchParams({
        serviceName: search.service.toLowerCase(), // Zipkin stores names lowercased
        spanName: search.spanName,
        endTs: String(Date.now()),
        lookback: String(search.lookbackMs),
        limit: String(search.limit),
      })
      const traces = (await getJson(describe, `${base}/api/v2/traces?${query}`)) as ZipkinSpan[][] | undefined
      return (traces ?? []).map((spans) => spans.map(spanOf))
    },
  }
}

function spanOf(span: ZipkinSpan): TraceSpan {
  return {
    traceId: normalizeTraceId(span.traceId),
    spanId: span.id,
    parentId: span.parentId,
    name: span.name ?? '?',
    service: span.localEndpoint?.serviceName ?? '?',
    startMicros: span.timestamp ?? 0,
    durationMicros: span.duration ?? 0,
    attributes: { ...(span.tags ?? {}) },
  }
}
