import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { runInstallStep } from './install-step.js'
import { cacheDir } from './paths.js'

/** Zipkin's server with its Lens UI, as one executable jar on Maven Central (io.zipkin:zipkin-server:<v>:jar:exec). */
export const zipkinVersion = '3.6.1'

/**
 * Ensures Zipkin's executable jar is in the cache, copying it from Maven Central with `mvn` the first time (about
 * 135 MB). Returns the jar's path. Zipkin stands in for Jaeger's UI, whose built assets no registry reachable here
 * serves: the local stack keeps Jaeger for its query API and sends the same spans to Zipkin to look at.
 */
export async function ensureZipkinInstalled(): Promise<string> {
  const home = join(cacheDir, `zipkin-${zipkinVersion}`)
  const jar = join(home, `zipkin-server-${zipkinVersion}-exec.jar`)
  if (existsSync(jar)) return jar
  const staging = join(home, 'partial')
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  await runInstallStep({
    service: 'zipkin',
    what: `copying Zipkin ${zipkinVersion} (server and UI, one jar) from Maven Central`,
    command: 'mvn',
    args: [
      '-B',
      '-ntp',
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
      `-Dartifact=io.zipkin:zipkin-server:${zipkinVersion}:jar:exec`,
      `-DoutputDirectory=${staging}`,
    ],
    firstRunOnly: true,
  })
  const copied = readdirSync(staging).find((f) => f.endsWith('-exec.jar'))
  if (!copied) throw new Error(`mvn finished but ${staging} has no zipkin-server exec jar`)
  renameSync(join(staging, copied), jar)
  rmSync(staging, { recursive: true, force: true })
  return jar
}
