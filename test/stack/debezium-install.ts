import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runInstallStep } from './install-step.js'
import { cacheDir, repoRoot } from './paths.js'

const pom = join(repoRoot, 'test/consumers/debezium/pom.xml')

/**
 * Ensures the jars of the Debezium event reader (test/consumers/debezium: Debezium's ExtractNewRecordState and
 * DebeziumSerdes, Kafka Connect's JsonConverter) are in the cache, resolved from Maven Central by `mvn`; re-resolved
 * when the pom changes. Returns the directory; the classpath is `<dir>/*`.
 */
export async function ensureDebeziumReaderInstalled(): Promise<string> {
  const digest = createHash('sha256').update(readFileSync(pom)).digest('hex').slice(0, 12)
  const home = join(cacheDir, `debezium-reader-${digest}`)
  const libs = join(home, 'libs')
  const marker = join(home, '.complete')
  if (existsSync(marker)) return libs
  const staging = join(home, 'libs.partial')
  rmSync(staging, { recursive: true, force: true })
  await runInstallStep({
    service: 'debezium',
    what: 'resolving Debezium and Kafka Connect jars from Maven Central (about 25 MB)',
    command: 'mvn',
    args: [
      '-B',
      '-ntp',
      '-f',
      pom,
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    firstRunOnly: true,
    fetchedLine: /Downloaded from|Copying /,
  })
  rmSync(libs, { recursive: true, force: true })
  renameSync(staging, libs)
  writeFileSync(marker, `${new Date().toISOString()}\n`)
  return libs
}
