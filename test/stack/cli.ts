/**
 * `npm run stack` — brings the local stack up, prints its endpoints, and keeps it up until Ctrl-C.
 * `npm run stack -- --secure` — the same with the secured Kafka (SASL_SSL, mutual TLS, ACLs), printing the
 *   KAFKA_* variables that point tailhouse at it.
 * `npm run stack -- install` — only downloads and builds what the stack needs (Kafka jars, Jaeger, Zipkin,
 *   Apicurio Registry, Chromium for the trace UI's screenshot test, the Python consumers' venv, the Debezium event
 *   reader's jars), e.g. in CI.
 */

import { ensureChromium } from './chromium-install.js'
import { ensureDebeziumReaderInstalled } from './debezium-install.js'
import { describeStack, holdUntilSignal } from './hold.js'
import { ensureJaegerInstalled } from './jaeger-install.js'
import { ensureKafkaInstalled } from './kafka-install.js'
import { type Stack, startStack } from './local-stack.js'
import { ensurePythonVenv } from './python-install.js'
import { ensureRegistryInstalled } from './registry-install.js'
import { ensureZipkinInstalled } from './zipkin-install.js'

const args = process.argv.slice(2)
const flags = new Set(args.filter((a) => a.startsWith('--')))
const verb = args.find((a) => !a.startsWith('--')) ?? 'up'
const unknown = [...flags].filter((f) => f !== '--secure')
try {
  if (unknown.length > 0 || !['install', 'up'].includes(verb)) {
    process.stderr.write(`usage: npm run stack [-- up [--secure]|install]\n`)
    process.exitCode = 2
  } else if (verb === 'install') {
    // Sequential on purpose: mvn and the Go compiler each use both cores.
    await ensureKafkaInstalled()
    await ensureZipkinInstalled()
    await ensureJaegerInstalled()
    await ensureChromium()
    await ensureRegistryInstalled()
    await ensurePythonVenv()
    await ensureDebeziumReaderInstalled()
  } else if (verb === 'up') {
    const stack: Stack = await startStack(undefined, { secure: flags.has('--secure') })
    process.stdout.write(`${describeStack(stack)}\n`)
    await holdUntilSignal(stack)
  }
} catch (error) {
  process.stderr.write(`stack: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
