import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import { ensureJaegerInstalled, jaegerModuleVersion } from './jaeger-install.js'
import { progress, seconds } from './progress.js'
import { ServiceProcess, waitUntilHealthy } from './service-process.js'

export interface JaegerServer {
  /** OTLP/HTTP base URL; traces are posted to `<otlpEndpoint>/v1/traces`. */
  otlpEndpoint: string
  /** Query API base URL, e.g. `<queryUrl>/api/traces?service=tailhouse`. */
  queryUrl: string
  stop(): Promise<void>
}

/**
 * Starts Jaeger v2 all-in-one with in-memory storage, its OTLP/HTTP receiver and query API on free ports of
 * 127.0.0.1 (Jaeger's default config listens on all interfaces, hence the config file).
 */
export async function startJaeger(runDir: string): Promise<JaegerServer> {
  const binary = await ensureJaegerInstalled()
  const started = Date.now()
  const [otlpPort, queryPort, queryGrpcPort] = [await freePort(), await freePort(), await freePort()]
  const home = join(runDir, 'jaeger')
  mkdirSync(home, { recursive: true })
  const config = join(home, 'config.yaml')
  writeFileSync(config, jaegerConfig(otlpPort, queryPort, queryGrpcPort))
  progress('jaeger', `starting Jaeger (${jaegerModuleVersion}) with OTLP on 127.0.0.1:${otlpPort}`)
  const service = ServiceProcess.start({
    name: 'jaeger',
    command: binary,
    args: ['--config', config],
    logFile: join(home, 'jaeger.log'),
  })
  const queryUrl = `http://127.0.0.1:${queryPort}`
  try {
    await waitUntilHealthy(service, async () => (await fetch(`${queryUrl}/api/services`)).ok, 60_000)
  } catch (error) {
    await service.stop(2_000)
    throw error
  }
  progress('jaeger', `ready, query API at ${queryUrl}, in ${seconds(started)}`)
  return { otlpEndpoint: `http://127.0.0.1:${otlpPort}`, queryUrl, stop: () => service.stop() }
}

function jaegerConfig(otlpPort: number, queryPort: number, queryGrpcPort: number): string {
  return `# Written by tailhouse's local stack: Jaeger v2 all-in-one, memory storage, loopback only.
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn

extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memory_store
    http:
      endpoint: 127.0.0.1:${queryPort}
    grpc:
      endpoint: 127.0.0.1:${queryGrpcPort}

receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlpPort}

exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
`
}
