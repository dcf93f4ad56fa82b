import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runInstallStep } from './install-step.js'
import { cacheDir, repoRoot } from './paths.js'

/** The broker version, pinned in test/stack/kafka/pom.xml too. */
export const kafkaVersion = '4.1.1'

/**
 * Ensures the Kafka broker's jars (and its CLI/perf tools) are in the cache, resolving them from Maven Central
 * with `mvn` the first time. Returns the directory holding the jars; the classpath is `<dir>/*`.
 */
export async function ensureKafkaInstalled(): Promise<string> {
  const home = join(cacheDir, `kafka-${kafkaVersion}`)
  const libs = join(home, 'libs')
  const marker = join(home, '.complete')
  if (existsSync(marker)) return libs
  const staging = join(home, 'libs.partial')
  rmSync(staging, { recursive: true, force: true })
  await runInstallStep({
    service: 'kafka',
    what: `resolving Kafka ${kafkaVersion} jars from Maven Central`,
    command: 'mvn',
    args: [
      '-B',
      '-ntp',
      '-f',
      join(repoRoot, 'test/stack/kafka/pom.xml'),
      `-Dkafka.version=${kafkaVersion}`,
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    firstRunOnly: true,
    fetchedLine: /Downloaded from|Copying /,
  })
  if (!readdirSync(staging).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new Error(`mvn finished but ${staging} has no kafka_2.13 jar`)
  }
  rmSync(libs, { recursive: true, force: true })
  renameSync(staging, libs)
  writeFileSync(marker, `${new Date().toISOString()}\n`)
  return libs
}
