import { describe, expect, it } from 'vitest'
import { renderTrace } from '../../engine/trace/render-trace.js'
import type { TraceSpan } from '../../engine/trace/trace-store.js'

const span = (
  spanId: string,
  parentId: string | undefined,
  name: string,
  start: number,
  duration: number,
  attributes = {},
) =>
  ({
    traceId: 'a'.repeat(32),
    spanId,
    parentId,
    name,
    service: 'tailhouse',
    startMicros: 1_000_000 + start,
    durationMicros: duration,
    attributes: { 'otel.scope.name': 'tailhouse', 'span.kind': 'internal', ...attributes },
  }) satisfies TraceSpan

describe('renderTrace', () => {
  it('draws children under their parent in start order, with start, duration and attributes', () => {
    const text = renderTrace(
      [
        span('c', 'a', 'publish', 1_500, 20_000, { 'messaging.system': 'kafka' }),
        span('a', undefined, 'tailhouse.batch', 0, 25_000, { 'tailhouse.rows': '3', 'tailhouse.query_ids': '["q"]' }),
        span('b', 'a', 'tailhouse.poll', 100, 1_000),
        span('d', 'c', 'inner', 2_000, 500),
        span('e', 'a', 'tailhouse.checkpoint', 22_000, 200),
      ],
      { mark: { spanId: 'c', note: "this message's traceparent" } },
    )
    expect(text).toBe(
      [
        '   start  duration  span',
        ' +0.0 ms   25.0 ms  tailhouse.batch  tailhouse.rows=3',
        ' +0.1 ms    1.0 ms  ├─ tailhouse.poll',
        " +1.5 ms   20.0 ms  ├─ publish  messaging.system=kafka  <- this message's traceparent",
        ' +2.0 ms    0.5 ms  │  └─ inner',
        '+22.0 ms    0.2 ms  └─ tailhouse.checkpoint',
      ].join('\n'),
    )
  })

  it('shows a span whose parent is missing as a root', () => {
    expect(renderTrace([span('x', 'gone', 'orphan', 0, 1_000)]).split('\n')[1]).toBe('+0.0 ms    1.0 ms  orphan')
  })
})
