import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runInstallStep } from './install-step.js'
import { cacheDir } from './paths.js'

/**
 * Apicurio Registry, the local stack's schema registry: its Confluent-compatible API (`/apis/ccompat/v7`) is what
 * tailhouse and the consumers' serializers talk to. Karapace, the first choice, is not on PyPI; Apicurio is on
 * Maven Central as the Quarkus distribution `io.apicurio:apicurio-registry-app:<v>:tar.gz:all`. 3.0.9 is the newest
 * served there that runs on Java 17 (3.3.x needs Java 21); it keeps its data in memory (H2), so each start is empty.
 */
export const registryVersion = '3.0.9'

/** Ensures the distribution is unpacked in the cache; returns the runner jar. */
export async function ensureRegistryInstalled(): Promise<string> {
  const home = join(cacheDir, `apicurio-registry-${registryVersion}`)
  const jar = join(home, `apicurio-registry-app-${registryVersion}-runner.jar`)
  const marker = join(home, '.complete')
  if (existsSync(marker) && existsSync(jar)) return jar
  const staging = `${home}.partial`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  // dependency:get 2.8 without transitive resolution, copied to `dest`: newer plugin versions (and `copy`) read
  // the artifact's parent POM, which Maven Central does not serve for 3.0.9.
  const archive = join(staging, 'apicurio-registry.tar.gz')
  await runInstallStep({
    service: 'registry',
    what: `resolving Apicurio Registry ${registryVersion} from Maven Central (about 110 MB)`,
    command: 'mvn',
    args: [
      '-B',
      '-ntp',
      'org.apache.maven.plugins:maven-dependency-plugin:2.8:get',
      `-Dartifact=io.apicurio:apicurio-registry-app:${registryVersion}:tar.gz:all`,
      '-Dtransitive=false',
      `-Ddest=${archive}`,
    ],
    cwd: staging,
    firstRunOnly: true,
  })
  if (!existsSync(archive)) throw new Error(`mvn finished but ${archive} is missing`)
  await runInstallStep({
    service: 'registry',
    what: 'unpacking Apicurio Registry',
    command: 'tar',
    args: ['xzf', archive],
    cwd: staging,
  })
  rmSync(archive)
  if (!existsSync(join(staging, `apicurio-registry-app-${registryVersion}-runner.jar`))) {
    throw new Error(`the Apicurio archive holds no apicurio-registry-app-${registryVersion}-runner.jar`)
  }
  rmSync(home, { recursive: true, force: true })
  renameSync(staging, home)
  writeFileSync(marker, `${new Date().toISOString()}\n`)
  return jar
}
