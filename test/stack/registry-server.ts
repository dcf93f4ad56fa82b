import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import { progress, seconds } from './progress.js'
import { ensureRegistryInstalled, registryVersion } from './registry-install.js'
import { ServiceProcess, waitUntilHealthy } from './service-process.js'

export interface RegistryServer {
  /** The Confluent-compatible API base URL, `http://127.0.0.1:<port>/apis/ccompat/v7`. */
  url: string
  stop(): Promise<void>
}

/**
 * Starts Apicurio Registry on a free port of 127.0.0.1 with in-memory storage and waits until its Confluent API
 * answers. About 4 s on two idle cores, 300 MB of memory.
 */
export async function startRegistry(runDir: string): Promise<RegistryServer> {
  const jar = await ensureRegistryInstalled()
  const started = Date.now()
  const port = await freePort()
  const home = join(runDir, 'registry')
  mkdirSync(home, { recursive: true })
  progress('registry', `starting Apicurio Registry ${registryVersion} on 127.0.0.1:${port}`)
  const service = ServiceProcess.start({
    name: 'registry',
    command: 'java',
    args: [
      '-Xms64m',
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      // The management interface (health, metrics) would take a second port on all interfaces.
      '-Dquarkus.management.enabled=false',
      '-Dquarkus.log.level=WARN',
      '-jar',
      jar,
    ],
    cwd: home,
    logFile: join(home, 'registry.log'),
  })
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`
  try {
    await waitUntilHealthy(service, async () => (await fetch(`${url}/subjects`)).ok, 90_000)
  } catch (error) {
    await service.stop(2_000)
    throw error
  }
  progress('registry', `ready at ${url} in ${seconds(started)}`)
  return { url, stop: () => service.stop() }
}
