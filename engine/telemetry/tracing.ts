import { type Context, context, type Span, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base'
import { redact } from '../redact.js'

export interface TracingOptions {
  enabled: boolean
  /** OTLP/HTTP base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string
  /** A Zipkin collector, e.g. `http://127.0.0.1:9411/api/v2/spans`: spans go there too. */
  zipkinEndpoint?: string | undefined
  /** Share of batches traced, 0..1. */
  samplingRatio: number
  serviceName: string
}

export interface Tracing {
  tracer: Tracer
  /** True when spans are recorded and exported. */
  enabled: boolean
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

const w3c = new W3CTraceContextPropagator()

/**
 * The engine's tracer. Disabled, it is OpenTelemetry's no-op tracer: spans cost an object allocation and nothing
 * is exported. Enabled, a private provider (not registered globally, so an application embedding the engine keeps
 * its own) exports batches of spans over OTLP/HTTP.
 */
export function createTracing(options: TracingOptions): Tracing {
  if (!options.enabled) {
    return {
      tracer: trace.getTracerProvider().getTracer('noop-for-tailhouse'),
      enabled: false,
      forceFlush: async () => {},
      shutdown: async () => {},
    }
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplingRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` })),
      ...(options.zipkinEndpoint
        ? [
            new BatchSpanProcessor(
              new ZipkinExporter({ url: options.zipkinEndpoint, serviceName: options.serviceName }),
            ),
          ]
        : []),
    ],
  })
  return {
    tracer: provider.getTracer('tailhouse'),
    enabled: true,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  }
}

/** A context whose active span is `span`, to parent child spans explicitly (no global context manager needed). */
export function withSpan(span: Span): Context {
  return trace.setSpan(context.active(), span)
}

/** The W3C `traceparent` of a span, or undefined when it is not sampled (nothing to continue). */
export function traceparentOf(span: Span): string | undefined {
  if (!span.isRecording()) return undefined
  const carrier: Record<string, string> = {}
  w3c.inject(withSpan(span), carrier, {
    set: (c, k, v) => {
      c[k] = v
    },
  })
  return carrier.traceparent
}

/** Ends a span with an error status and the exception recorded, registered secrets redacted (redact.ts). */
export function failSpan(span: Span, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error))
  const message = redact(failure.message)
  const code = (failure as { code?: unknown }).code
  span.recordException({
    name: failure.name,
    message,
    ...(failure.stack === undefined ? {} : { stack: redact(failure.stack) }),
    ...(typeof code === 'string' ? { code } : {}),
  })
  span.setStatus({ code: SpanStatusCode.ERROR, message })
  span.end()
}
