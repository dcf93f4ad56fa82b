/**
 * `npm run demo` — the main job, end to end on this machine.
 *
 * Today it brings up what tailhouse runs against — the local stack (Kafka, Jaeger) and embedded ClickHouse —
 * and prints the endpoints; the engine issue adds the sample table, capture and the live stream.
 *
 *   npm run demo                 # until Ctrl-C
 *   npm run demo -- --seconds 30 # bounded
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createClickHouse, describeClickHouse, serverVersion } from '../../engine/clickhouse/index.js'
import { describeStack, holdUntilSignal } from '../stack/hold.js'
import { startStack } from '../stack/local-stack.js'
import { repoRoot } from '../stack/paths.js'

const { values } = parseArgs({ options: { seconds: { type: 'string' } } })
const seconds = values.seconds === undefined ? undefined : Number(values.seconds)
if (seconds !== undefined && !(seconds > 0)) {
  process.stderr.write(`demo: --seconds must be a positive number, got "${values.seconds}"\n`)
  process.exit(2)
}

const chOptions = {
  url: process.env.CLICKHOUSE_URL || undefined,
  dataDir: join(repoRoot, '.tailhouse', 'demo', 'clickhouse'),
}
const stack = await startStack()
try {
  const clickhouse = await createClickHouse(chOptions)
  const target = describeClickHouse(chOptions)
  const version = await serverVersion(clickhouse, target)
  process.stdout.write(
    `\ntailhouse demo: the stack is up.\n${describeStack(stack)}\n\n${target}: ClickHouse ${version}\n\n`,
  )
  await holdUntilSignal(stack, seconds === undefined ? undefined : seconds * 1000)
  await clickhouse.close()
} catch (error) {
  await stack.stop()
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
