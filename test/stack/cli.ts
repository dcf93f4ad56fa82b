/**
 * `npm run stack` — brings the local stack up, prints its endpoints, and keeps it up until Ctrl-C.
 * `npm run stack -- install` — only downloads and builds what the stack needs (Kafka jars, Jaeger, Apicurio
 * Registry, the Python consumers' venv, the Debezium event reader's jars), e.g. in CI.
 */

import { ensureDebeziumReaderInstalled } from './debezium-install.js'
import { describeStack, holdUntilSignal } from './hold.js'
import { ensureJaegerInstalled } from './jaeger-install.js'
import { ensureKafkaInstalled } from './kafka-install.js'
import { type Stack, startStack } from './local-stack.js'
import { ensurePythonVenv } from './python-install.js'
import { ensureRegistryInstalled } from './registry-install.js'

const verb = process.argv[2] ?? 'up'
try {
  if (verb === 'install') {
    // Sequential on purpose: mvn and the Go compiler each use both cores.
    await ensureKafkaInstalled()
    await ensureJaegerInstalled()
    await ensureRegistryInstalled()
    await ensurePythonVenv()
    await ensureDebeziumReaderInstalled()
  } else if (verb === 'up') {
    const stack: Stack = await startStack()
    process.stdout.write(`${describeStack(stack)}\n`)
    await holdUntilSignal(stack)
  } else {
    process.stderr.write(`usage: npm run stack [-- up|install]\n`)
    process.exitCode = 2
  }
} catch (error) {
  process.stderr.write(`stack: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
