import { getJson, normalizeTraceId, type TraceSearch, type TraceSpan, type TraceStore } from './trace-store.js'

interface JaegerTrace {
  traceID: string
  spans: Array<{
    traceID: string
    spanID: string
    operationName: string
    references?: Array<{ refType: string; spanID: string }>
    startTime: number
    duration: number
    tags?: Array<{ key: string; value: unknown }>
    processID: string
  }>
  processes: Record<string, { serviceName: string }>
}

/**
 * Jaeger's query API (the HTTP API its UI uses, served by Jaeger v1 and v2): `GET /api/traces/<id>`, and
 * `GET /api/traces?service=…&operation=…&lookback=…&limit=…` to search.
 */
export function jaegerStore(baseUrl: string): TraceStore {
  const base = baseUrl.replace(/\/$/, '')
  const describe = `Jaeger at ${base}`
  return {
    describe,
    async trace(traceId) {
      const body = (await getJson(describe, `${base}/api/traces/${traceId}`)) as { data?: JaegerTrace[] } | undefined
      const [trace] = body?.data ?? []
      return trace ? spansOf(trace) : undefined
    },
    async search(search: TraceSearch) {
      const query = new URLSearchParams({
        service: search.service,
        operation: search.spanName,
        end: String(Date.now() * 1000),
        start: String((Date.now() - search.lookbackMs) * 1000),
        limit: String(search.limit),
      })
      const body = (await getJson(describe, `${base}/api/traces?${query}`)) as { data?: JaegerTrace[] } | undefined
      return (body?.data ?? []).map(spansOf)
    },
  }
}

function spansOf(trace: JaegerTrace): TraceSpan[] {
  return trace.spans.map((span) => ({
    traceId: normalizeTraceId(span.traceID),
    spanId: span.spanID.padStart(16, '0'),
    parentId: span.references?.find((r) => r.refType === 'CHILD_OF')?.spanID.padStart(16, '0'),
    name: span.operationName,
    service: trace.processes[span.processID]?.serviceName ?? '?',
    startMicros: span.startTime,
    durationMicros: span.duration,
    attributes: Object.fromEntries((span.tags ?? []).map((t) => [t.key, String(t.value)])),
  }))
}
