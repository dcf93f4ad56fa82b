import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

/** One run of Kafka's `org.apache.kafka.tools.ProducerPerformance`, as the broker-limit benchmark asks for it. */
export interface ProducerPerformanceRun {
  /** Directory of the Kafka jars; the classpath is `<dir>/*`. */
  kafkaLibs: string
  bootstrap: string
  topic: string
  records: number
  recordSize: number
  compression: string
  /** Set for the transactional variant: commit every `durationMs`, like tailhouse's exactly-once batches. */
  transaction?: { id: string; durationMs: number }
  /** Receives each stats line ProducerPerformance prints (every 5 s, then the summary). */
  onStatsLine: (line: string) => void
}

/** The figures of ProducerPerformance's final summary line. Latencies are per record, send() to acknowledgement. */
export interface ProducerPerformanceSummary {
  recordsSent: number
  recordsPerSecond: number
  /** MiB/s of record payload (records × record size), as ProducerPerformance computes it: not wire bytes. */
  mbPerSecond: number
  avgLatencyMs: number
  maxLatencyMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
}

export interface ProducerPerformanceOutcome {
  summary: ProducerPerformanceSummary
  /** Wall time of the java process, JVM start and producer close included. */
  seconds: number
  command: string
}

const mainClass = 'org.apache.kafka.tools.ProducerPerformance'

/** The java command line. A fixed locale keeps printf's decimal point a '.', whatever the machine's locale. */
export function producerPerformanceArgs(run: ProducerPerformanceRun): string[] {
  return [
    '-Xmx512m',
    '-Duser.language=en',
    '-Duser.country=US',
    '-cp',
    `${run.kafkaLibs}/*`,
    mainClass,
    '--topic',
    run.topic,
    '--num-records',
    String(run.records),
    '--record-size',
    String(run.recordSize),
    '--throughput',
    '-1',
    ...(run.transaction
      ? ['--transactional-id', run.transaction.id, '--transaction-duration-ms', String(run.transaction.durationMs)]
      : []),
    '--producer-props',
    `bootstrap.servers=${run.bootstrap}`,
    'acks=all',
    'enable.idempotence=true',
    `compression.type=${run.compression}`,
  ]
}

/**
 * Runs ProducerPerformance to completion and returns its summary. Fails, naming the command and the tail of its
 * output, when java exits non-zero, prints no summary, or sent fewer records than asked (failed sends are only
 * printed by the tool, which still exits 0).
 */
export async function runProducerPerformance(run: ProducerPerformanceRun): Promise<ProducerPerformanceOutcome> {
  const args = producerPerformanceArgs(run)
  const command = ['java', ...args].map(shellQuote).join(' ')
  const started = performance.now()
  const child = spawn('bash', ['-c', dieWithParent, 'producer-performance', 'java', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin.on('error', () => {}) // never written to; see dieWithParent
  const tail: string[] = []
  const remember = (line: string) => {
    tail.push(line)
    if (tail.length > 20) tail.shift()
  }
  let summary: ProducerPerformanceSummary | undefined
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (isStatsLine(line)) {
      run.onStatsLine(line)
      summary = parseSummaryLine(line) ?? summary
    } else {
      remember(line)
    }
  })
  createInterface({ input: child.stderr }).on('line', remember)
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
  const seconds = (performance.now() - started) / 1000
  const fail = (what: string) =>
    new Error(`ProducerPerformance ${what}\ncommand: ${command}\noutput (last lines):\n${tail.join('\n') || '(none)'}`)
  if (exitCode !== 0) throw fail(`exited with code ${exitCode}`)
  if (!summary) throw fail('printed no summary line')
  if (summary.recordsSent !== run.records) throw fail(`sent ${summary.recordsSent} of ${run.records} records`)
  return { summary, seconds, command }
}

/** "N records sent, X records/sec (...)": the periodic window lines and the final summary. */
function isStatsLine(line: string): boolean {
  return /^\d+ (steady state )?records sent, /.test(line)
}

const number = String.raw`(-?\d+(?:\.\d+)?)`

/**
 * Parses the final summary, e.g. (Kafka 4.1.1)
 * `500000 records sent, 67521.9 records/sec (7.73 MB/sec), 36.06 ms avg latency, 160.00 ms max latency,
 * 23 ms 50th, 115 ms 95th, 133 ms 99th, 154 ms 99.9th.` Each figure is found by its label, so added or reordered
 * fields do not break it; the periodic lines (no percentiles) give undefined.
 */
export function parseSummaryLine(line: string): ProducerPerformanceSummary | undefined {
  const field = (pattern: string): number | undefined => {
    const match = new RegExp(pattern).exec(line)
    const value = match?.[1] === undefined ? Number.NaN : Number(match[1])
    return Number.isFinite(value) ? value : undefined
  }
  const summary = {
    recordsSent: field(String.raw`^(\d+) (?:steady state )?records sent`),
    recordsPerSecond: field(`${number} records/sec`),
    mbPerSecond: field(`${number} MB/sec`),
    avgLatencyMs: field(`${number} ms avg latency`),
    maxLatencyMs: field(`${number} ms max latency`),
    p50Ms: field(`${number} ms 50th`),
    p95Ms: field(`${number} ms 95th`),
    p99Ms: field(`${number} ms 99th`),
  }
  const complete = Object.values(summary).every((value) => value !== undefined)
  return complete ? (summary as ProducerPerformanceSummary) : undefined
}

/**
 * Runs "$@" and kills it when this Node process goes away, even by SIGKILL: stdin is a pipe from Node that is never
 * written to, so EOF on it means Node is gone. (A non-interactive bash gives background jobs /dev/null as stdin,
 * hence fd 3.) SIGTERM/SIGINT to the wrapper are passed on to java.
 */
const dieWithParent = `
exec 3<&0
"$@" <&- 3<&- &
child=$!
( while read -r -u 3 _; do :; done; kill -KILL "$child" 2>/dev/null ) >/dev/null 2>&1 &
watcher=$!
exec 3<&-
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
wait "$child"
status=$?
while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
kill "$watcher" 2>/dev/null
exit $status
`

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}
