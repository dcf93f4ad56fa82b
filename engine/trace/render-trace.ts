import { queryIdsAttribute } from './query-ids.js'
import type { TraceSpan } from './trace-store.js'

/** Attributes every span has, or shown elsewhere, left out of the tree. */
const hidden = new Set(['otel.scope.name', 'otel.scope.version', 'service.name', 'span.kind', queryIdsAttribute])

export interface RenderOptions {
  /** A span to point at, e.g. the one a message's traceparent names. */
  mark?: { spanId: string; note: string } | undefined
}

/**
 * A trace as a tree for the terminal: one line per span, children under their parent in start order, with the
 * span's start relative to the trace's and its duration, then its attributes.
 *
 *   start    duration  span
 *   +0.0 ms   55.0 ms  tailhouse.batch  tailhouse.rows=3
 *   +0.0 ms   11.0 ms  ├─ tailhouse.poll  db.response.returned_rows=3
 *  +53.0 ms    2.2 ms  └─ tailhouse.checkpoint
 */
export function renderTrace(spans: TraceSpan[], options: RenderOptions = {}): string {
  const ids = new Set(spans.map((s) => s.spanId))
  const children = new Map<string | undefined, TraceSpan[]>()
  for (const span of spans) {
    // A parent missing from the trace (not exported, or sampled elsewhere) makes its children roots.
    const parent = span.parentId !== undefined && ids.has(span.parentId) ? span.parentId : undefined
    children.set(parent, [...(children.get(parent) ?? []), span])
  }
  for (const list of children.values()) list.sort((a, b) => a.startMicros - b.startMicros)
  const start = Math.min(...spans.map((s) => s.startMicros))
  const rows: Array<[string, string, string]> = []
  const walk = (span: TraceSpan, prefix: string, branch: string) => {
    const attributes = Object.entries(span.attributes)
      .filter(([key]) => !hidden.has(key))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key}=${value}`)
    const mark = options.mark?.spanId === span.spanId ? `  <- ${options.mark.note}` : ''
    rows.push([
      `+${ms(span.startMicros - start)}`,
      ms(span.durationMicros),
      `${prefix}${branch}${span.name}${attributes.length > 0 ? `  ${attributes.join('  ')}` : ''}${mark}`,
    ])
    const list = children.get(span.spanId) ?? []
    list.forEach((child, i) => {
      const last = i === list.length - 1
      walk(child, branch === '' ? prefix : `${prefix}${branch === '└─ ' ? '   ' : '│  '}`, last ? '└─ ' : '├─ ')
    })
  }
  for (const root of children.get(undefined) ?? []) walk(root, '', '')
  const startWidth = Math.max(5, ...rows.map((r) => r[0].length))
  const durationWidth = Math.max(8, ...rows.map((r) => r[1].length))
  return [
    `${'start'.padStart(startWidth)}  ${'duration'.padStart(durationWidth)}  span`,
    ...rows.map(([s, d, name]) => `${s.padStart(startWidth)}  ${d.padStart(durationWidth)}  ${name}`),
  ].join('\n')
}

function ms(micros: number): string {
  return `${(micros / 1000).toFixed(1)} ms`
}
