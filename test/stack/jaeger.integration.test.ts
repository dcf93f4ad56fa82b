import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { describe, expect, inject, it } from 'vitest'
import { uniqueName } from '../helpers/names.js'

interface JaegerTrace {
  traceID: string
  spans: Array<{ spanID: string; operationName: string; tags: Array<{ key: string; value: unknown }> }>
}

describe('local Jaeger', () => {
  const { otlpEndpoint, jaegerQueryUrl } = inject('stack')

  it('stores a span exported over OTLP/HTTP and returns it from /api/traces', async () => {
    const service = uniqueName('tailhouse_smoke')
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint}/v1/traces` }))],
    })
    const span = provider.getTracer('smoke').startSpan('smoke.batch', { attributes: { 'tailhouse.rows': 42 } })
    const { traceId, spanId } = span.spanContext()
    span.end()
    await provider.forceFlush()
    await provider.shutdown()

    const trace = await pollTrace(`${jaegerQueryUrl}/api/traces?service=${service}&limit=5`)
    expect(trace.traceID).toBe(traceId)
    const stored = trace.spans.find((s) => s.spanID === spanId)
    expect(stored?.operationName).toBe('smoke.batch')
    expect(stored?.tags).toContainEqual(expect.objectContaining({ key: 'tailhouse.rows', value: 42 }))
  })
})

/** Jaeger writes asynchronously: poll until the trace is there, or fail after 15 s. */
async function pollTrace(url: string): Promise<JaegerTrace> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const response = await fetch(url)
    if (response.ok) {
      const body = (await response.json()) as { data: JaegerTrace[] | null }
      const [trace] = body.data ?? []
      if (trace) return trace
    }
    if (Date.now() > deadline) throw new Error(`no trace at ${url} within 15 s (last status ${response.status})`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
