import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { runInstallStep } from './install-step.js'
import { cacheDir, repoRoot } from './paths.js'

/**
 * Jaeger's Go module version as the module proxy serves it. Jaeger tags each release twice; v1.76.0 is the
 * same commit as v2.13.0, and its cmd/jaeger is the v2 (OpenTelemetry Collector based) all-in-one binary.
 */
export const jaegerModuleVersion = 'v1.76.0'

/**
 * Ensures the Jaeger v2 all-in-one binary is in the cache, building it with `go build` the first time through
 * the wrapper module in test/stack/jaeger (go.mod + go.sum pin every dependency). Returns the binary's path.
 */
export async function ensureJaegerInstalled(): Promise<string> {
  const binDir = join(cacheDir, 'bin')
  const binary = join(binDir, `jaeger-${jaegerModuleVersion}`)
  if (existsSync(binary)) return binary
  mkdirSync(binDir, { recursive: true })
  const partial = `${binary}.partial`
  await runInstallStep({
    service: 'jaeger',
    what: `building Jaeger ${jaegerModuleVersion} (v2 all-in-one) with go`,
    command: 'go',
    args: ['build', '-trimpath', '-o', partial, 'github.com/jaegertracing/jaeger/cmd/jaeger'],
    cwd: join(repoRoot, 'test/stack/jaeger'),
    env: {
      ...process.env,
      CGO_ENABLED: '0',
      GOTOOLCHAIN: 'local',
      // go.sum (committed) pins every module's hash, so a build never consults the checksum database; the
      // proxy reachable here has no checksum-database entries for part of the OpenTelemetry Collector.
      GOFLAGS: '-mod=readonly',
      GOSUMDB: 'off',
      // Go's module and build caches stay where Go keeps them (~/go/pkg/mod, ~/.cache/go-build), shared by every
      // clone on the machine like ~/.m2 and ~/.npm; only the finished binary lives in the project's cache.
    },
    firstRunOnly: true,
    fetchedLine: /^go: downloading /,
  })
  renameSync(partial, binary)
  return binary
}
