import type { ProducerPerformanceResult } from '../broker-limit/run.js'
import type { CaptureOverheadResult } from '../capture-overhead/run.js'
import type { EndToEndResult } from '../end-to-end/run.js'
import type { EngineOnlyResult } from '../engine-only/run.js'
import type { NativeKafkaResult } from '../native-kafka-engine/run.js'
import type { SnapshotResult } from '../snapshot/run.js'

/** Everything one `npm run bench` measured: written as bench/results/<date>.json. */
export interface BenchResults {
  startedAt: string
  machine: Record<string, string | number>
  settings: Record<string, unknown>
  endToEnd: EndToEndResult[]
  latency: EndToEndResult[]
  engineOnly: EngineOnlyResult[]
  brokerLimit: ProducerPerformanceResult[]
  nativeKafkaEngine: NativeKafkaResult[]
  captureOverhead: CaptureOverheadResult[]
  /** The initial snapshot of a table filled before capture (narrow rows); absent in older results. */
  snapshot?: SnapshotResult
}

/** Issue 10's targets (and issue 13's snapshot target) for tailhouse on a 2-core machine, exactly-once. */
export interface TargetCheck {
  target: string
  measured: string
  holds: boolean | undefined
}

export function checkTargets(r: BenchResults): TargetCheck[] {
  const e2e = r.endToEnd.find(
    (x) => x.workload === 'narrow' && x.delivery === 'exactly-once' && (x.capture ?? 'view') === 'view',
  )
  const peer = r.nativeKafkaEngine.find((x) => x.workload === 'narrow')
  const pp = r.brokerLimit.find((x) => x.variant === 'transactional')
  const at10k = r.latency.find((x) => x.mode === '10000 rows/s')
  const engine = r.engineOnly.find((x) => x.workload === 'narrow' && x.delivery === 'exactly-once')
  const check = (target: string, value: number | undefined, measured: string, ok: (v: number) => boolean) => ({
    target,
    measured: value === undefined ? 'not measured' : measured,
    holds: value === undefined ? undefined : ok(value),
  })
  const rps = e2e?.rowsPerSecond
  const wide = r.endToEnd.find(
    (x) => x.workload === 'wide' && x.delivery === 'exactly-once' && (x.capture ?? 'view') === 'view',
  )
  const widePeer = r.nativeKafkaEngine.find((x) => x.workload === 'wide')
  const engineRps = engine?.rowsPerSecond
  return [
    check('end to end narrow ≥ 150,000 rows/s', rps, `${fmt(rps)} rows/s`, (v) => v >= 150_000),
    check(
      'end to end narrow ≥ 1.0× the Kafka engine (10k rows per INSERT)',
      rps && peer ? rps / peer.rowsPerSecond : undefined,
      `${ratio(rps, peer?.rowsPerSecond)} of ${fmt(round0(peer?.rowsPerSecond))} rows/s`,
      (v) => v >= 1,
    ),
    check(
      'end to end wide ≥ 0.6× the Kafka engine',
      wide && widePeer ? wide.rowsPerSecond / widePeer.rowsPerSecond : undefined,
      `${ratio(wide?.rowsPerSecond, widePeer?.rowsPerSecond)} (${fmt(wide?.rowsPerSecond)} of ${fmt(round0(widePeer?.rowsPerSecond))} rows/s)`,
      (v) => v >= 0.6,
    ),
    check(
      'engine only narrow ≥ 0.7× ProducerPerformance (transactional)',
      engineRps && pp ? engineRps / pp.recordsPerSecond : undefined,
      `${ratio(engineRps, pp?.recordsPerSecond)} (${fmt(engineRps)} of ${fmt(round0(pp?.recordsPerSecond))} records/s)`,
      (v) => v >= 0.7,
    ),
    check('bytes per record narrow ≤ 200', e2e?.avgRecordBytes, `${e2e?.avgRecordBytes} B`, (v) => v <= 200),
    check('p99 ≤ 250 ms at 10k rows/s', at10k?.latencyP99Ms, `p99 ${at10k?.latencyP99Ms} ms`, (v) => v <= 250),
    check(
      'engine RSS ≤ 300 MB',
      engine?.process.peakRssMb,
      `${engine?.process.peakRssMb} MiB peak (engine only)`,
      (v) => v * 2 ** 20 <= 300e6,
    ),
    check(
      'initial snapshot ≥ live end to end (exactly-once)',
      r.snapshot && rps ? r.snapshot.rowsPerSecond / rps : undefined,
      `${fmt(r.snapshot?.rowsPerSecond)} rows/s, ${ratio(r.snapshot?.rowsPerSecond, rps)} of live`,
      (v) => v >= 1,
    ),
    ...(['narrow', 'wide'] as const).map((workload) => {
      const overhead = r.captureOverhead.find((x) => x.workload === workload)
      return check(
        `capture overhead, ${workload}: tailhouseRatio ≤ 2.0`,
        overhead?.tailhouseRatio,
        `${overhead?.tailhouseRatio.toFixed(2)}× (${overhead?.tailhouseSeconds} s vs ${overhead?.baselineSeconds} s without capture)`,
        (v) => v <= 2.0,
      )
    }),
  ]
}

/** The markdown table printed at the end of a run and written next to the JSON. */
export function renderMarkdown(r: BenchResults): string {
  const lines: string[] = []
  const m = r.machine
  lines.push(`# tailhouse benchmarks, ${r.startedAt}`)
  lines.push('')
  lines.push(
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}. Settings: ${JSON.stringify(r.settings)}. ` +
      'MiB = 2^20 bytes; record bytes = key + value + headers.',
  )
  lines.push('')
  lines.push('## Throughput at the maximum rate')
  lines.push('')
  lines.push(
    '| run | rows | rows/s | MiB/s | bytes/record | peak RSS MiB | CPU cores | CPU µs/row engine / process | check |',
  )
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|')
  const tailhouseRuns = [
    ...r.endToEnd.map((x) => ({ kind: 'end to end', ...x })),
    ...r.engineOnly.map((x) => ({ kind: 'engine only', ...x })),
  ]
  for (const x of tailhouseRuns)
    lines.push(
      row(
        `tailhouse ${x.kind}, ${x.workload}, ${x.delivery}${streamed(x)}`,
        x.rows,
        x.rowsPerSecond,
        x.mbPerSecond,
        x.avgRecordBytes,
        x.process.peakRssMb,
        x.process.cpuCores,
        cpuPerRow(x),
        verdict(x.verified),
      ),
    )
  for (const x of r.nativeKafkaEngine)
    lines.push(
      row(
        `ClickHouse Kafka engine, ${x.workload} (${x.format.split(' ')[0]})`,
        x.rows,
        Math.round(x.rowsPerSecond),
        round1(x.mbPerSecond),
        Math.round(x.avgMessageBytes),
        Math.round(x.peakRssMb),
        '–',
        '–',
        'count only',
      ),
    )
  for (const x of r.brokerLimit)
    lines.push(
      row(
        `Kafka ProducerPerformance, ${x.variant} (${x.compression})`,
        x.records,
        Math.round(x.recordsPerSecond),
        round1(x.mbPerSecond),
        x.recordSize,
        '–',
        '–',
        '–',
        '–',
      ),
    )
  lines.push('')
  lines.push('## Latency, INSERT → visible to a read_committed consumer (narrow, exactly-once)')
  lines.push('')
  lines.push(
    '| rate | messages timed | p50 ms | p99 ms | max ms | peak RSS MiB | CPU cores | CPU µs/row engine / process | check |',
  )
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|')
  for (const x of r.latency)
    lines.push(
      `| ${x.mode} | ${fmt(x.latencySamples)} | ${x.latencyP50Ms} | ${x.latencyP99Ms} | ${x.latencyMaxMs} | ${x.process.peakRssMb} | ${x.process.cpuCores} | ${cpuPerRow(x)} | ${verdict(x.verified)} |`,
    )
  lines.push('')
  lines.push('## Ratios (same run)')
  lines.push('')
  lines.push('| tailhouse | compared with | ratio |')
  lines.push('|---|---|---:|')
  const pp = r.brokerLimit.find((x) => x.variant === 'transactional')
  const ppIdempotent = r.brokerLimit.find((x) => x.variant === 'idempotent')
  for (const x of r.endToEnd) {
    const peer = r.nativeKafkaEngine.find((p) => p.workload === x.workload)
    lines.push(
      `| end to end, ${x.workload}, ${x.delivery}${streamed(x)} | ClickHouse Kafka engine, ${x.workload} | ${ratio(x.rowsPerSecond, peer?.rowsPerSecond)} |`,
    )
  }
  for (const x of tailhouseRuns.filter((x) => x.workload === 'narrow')) {
    const broker = x.delivery === 'exactly-once' ? pp : ppIdempotent
    lines.push(
      `| ${x.kind}, narrow, ${x.delivery}${streamed(x)} | ProducerPerformance ${broker?.variant ?? ''} | ${ratio(x.rowsPerSecond, broker?.recordsPerSecond)} |`,
    )
  }
  lines.push('')
  if (r.snapshot) {
    const x = r.snapshot
    lines.push('## Initial snapshot: a table filled before capture, to Kafka with op read (exactly-once)')
    lines.push('')
    lines.push(
      '| workload | rows | rows/s | copy + diff s | publishing rows/s | peak RSS MiB | CPU cores | CPU µs/row engine / process | check |',
    )
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|')
    lines.push(
      row(
        x.workload,
        x.rows,
        x.rowsPerSecond,
        x.buildSeconds,
        x.publishRowsPerSecond,
        x.process.peakRssMb,
        x.process.cpuCores,
        cpuPerRow(x),
        verdict(x.verified),
      ),
    )
    lines.push('')
  }
  lines.push("## Capture overhead: what capture costs the captured table's INSERTs")
  lines.push('')
  lines.push(
    'Seconds = INSERT wall time + until the merges they caused had finished; the same rows into each table, ' +
      "interleaved. CPU = seconds of the process (all of ClickHouse's threads) over the same spans.",
  )
  lines.push('')
  lines.push(
    '| workload | rows | rows/INSERT | no capture s | tailhouse view s | tailhouse stream s | Kafka engine s | view ratio | stream ratio | Kafka engine ratio | CPU s: none / view / stream / Kafka engine |',
  )
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const x of r.captureOverhead)
    lines.push(
      row(
        x.workload,
        x.rows,
        x.rowsPerInsert,
        x.baselineSeconds,
        x.tailhouseSeconds,
        x.tailhouseStreamSeconds ?? '–',
        x.kafkaEngineSeconds,
        `${x.tailhouseRatio.toFixed(2)}×`,
        x.tailhouseStreamRatio === undefined ? '–' : `${x.tailhouseStreamRatio.toFixed(2)}×`,
        `${x.kafkaEngineRatio.toFixed(2)}×`,
        `${x.cpuSeconds.baseline} / ${x.cpuSeconds.tailhouse} / ${x.cpuSeconds.tailhouseStream ?? '–'} / ${x.cpuSeconds.kafkaEngine}`,
      ),
    )
  lines.push('')
  lines.push('## Targets (issue 10, exactly-once; snapshot: issue 13)')
  lines.push('')
  lines.push('| target | measured | holds |')
  lines.push('|---|---|---|')
  for (const t of checkTargets(r))
    lines.push(`| ${t.target} | ${t.measured} | ${t.holds === undefined ? '–' : t.holds ? 'yes' : 'no'} |`)
  lines.push('')
  return lines.join('\n')
}

/** ', mode stream' for a stream-mode run; nothing for view mode (and for results from before stream mode). */
function streamed(x: object): string {
  return 'capture' in x && x.capture === 'stream' ? ', mode stream' : ''
}

function row(...cells: Array<string | number>): string {
  return `| ${cells.map((c) => (typeof c === 'number' ? fmt(c) : c)).join(' | ')} |`
}

/** Older results have no CPU per row; the main thread's is missing off Linux. */
function cpuPerRow(x: { cpuMicrosPerRow?: number; processCpuMicrosPerRow?: number }): string {
  if (x.processCpuMicrosPerRow === undefined) return '–'
  return `${x.cpuMicrosPerRow ?? '–'} / ${x.processCpuMicrosPerRow}`
}

function verdict(v: { records: number; missing: number; duplicated: number }): string {
  return v.missing === 0 && v.duplicated === 0 ? 'every row once' : `MISSING ${v.missing}, DUPLICATED ${v.duplicated}`
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '–'
  return Number.isInteger(n) ? n.toLocaleString('en-US') : String(n)
}

function round0(n: number | undefined): number | undefined {
  return n === undefined ? undefined : Math.round(n)
}

function round1(n: number): number {
  return Math.round(n * 10) / 10
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a && b ? `${(a / b).toFixed(2)}×` : '–'
}
