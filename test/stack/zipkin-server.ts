import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import { progress, seconds } from './progress.js'
import { ServiceProcess, waitUntilHealthy } from './service-process.js'
import { ensureZipkinInstalled, zipkinVersion } from './zipkin-install.js'

export interface ZipkinServer {
  /** Base URL: the UI is at `<url>/zipkin/`, spans are posted to `<url>/api/v2/spans`. */
  url: string
  stop(): Promise<void>
}

/**
 * Starts Zipkin (in-memory storage) on a free port of 127.0.0.1; Zipkin's own default listens on every interface,
 * hence the Armeria port settings. Its collectors for Kafka, RabbitMQ and others stay idle without their addresses.
 */
export async function startZipkin(runDir: string): Promise<ZipkinServer> {
  const jar = await ensureZipkinInstalled()
  const started = Date.now()
  const port = await freePort()
  const home = join(runDir, 'zipkin')
  mkdirSync(home, { recursive: true })
  progress('zipkin', `starting Zipkin ${zipkinVersion} on 127.0.0.1:${port}`)
  const service = ServiceProcess.start({
    name: 'zipkin',
    command: 'java',
    args: [
      '-Xms64m',
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1', // starts faster; Zipkin's load here is a few spans
      '-jar',
      jar,
      `--armeria.ports[0].port=${port}`,
      '--armeria.ports[0].ip=127.0.0.1',
      '--armeria.ports[0].protocols[0]=http',
      '--logging.level.root=WARN',
    ],
    cwd: home,
    env: { ...process.env, STORAGE_TYPE: 'mem', SELF_TRACING_ENABLED: 'false' },
    logFile: join(home, 'zipkin.log'),
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitUntilHealthy(service, async () => (await fetch(`${url}/health`)).ok, 90_000)
  } catch (error) {
    await service.stop(2_000)
    throw error
  }
  progress('zipkin', `ready, UI at ${url}/zipkin/, in ${seconds(started)}`)
  return { url, stop: () => service.stop() }
}
