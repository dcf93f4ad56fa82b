import { defineConfig } from 'vitest/config'

/**
 * Two projects, selected with TEST_MODE (unit | integration | all; default all), failing fast on anything else:
 * - unit: pure logic, `*.test.ts` — no services;
 * - integration: `*.integration.test.ts` — real ClickHouse (embedded chDB, or CLICKHOUSE_URL), and the local
 *   stack (Kafka, Jaeger) that test/stack/global-setup.ts starts once for the run and stops at the end.
 */
const modes = { unit: ['unit'], integration: ['integration'], all: ['unit', 'integration'] } as const
const mode = (process.env.TEST_MODE ?? 'all') as keyof typeof modes
if (!(mode in modes)) {
  throw new Error(`TEST_MODE must be one of ${Object.keys(modes).join(', ')}; got "${process.env.TEST_MODE}"`)
}
const selected: readonly string[] = modes[mode]

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.integration.test.ts', 'node_modules/**', '.cache/**'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.integration.test.ts'],
          globalSetup: ['test/stack/global-setup.ts'],
          // Tests share one broker and the machine has two cores: run files one at a time, so timing-sensitive
          // assertions (exactly-once under crashes) are not starved.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
    ].filter((project) => selected.includes(project.test.name)),
  },
})
