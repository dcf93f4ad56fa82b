/**
 * `npm run chaos [-- --kills N] [--broker-every N] [--rate rows/s] [--keep]`: the chaos test (chaos-run.ts) with
 * its figures on stdout; exit 1 when a row went missing, was duplicated or came out of order (or the source broke
 * its side of the contract). The default size is the one `npm test` runs (chaos.integration.test.ts).
 */
import { parseArgs } from 'node:util'
import { ciSize, defaultBrokerEvery, detailLines, passed, runChaos, summaryLine } from './chaos-run.js'

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: String(ciSize.kills) },
    'broker-every': { type: 'string' },
    rate: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
})
const kills = Number(values.kills)
if (!Number.isInteger(kills) || kills < 1) throw new Error(`--kills takes a positive integer, got ${values.kills}`)
const brokerEvery = Number(values['broker-every'] ?? defaultBrokerEvery(kills))
const report = await runChaos({
  kills,
  brokerEvery,
  rate: values.rate === undefined ? undefined : Number(values.rate),
  keep: values.keep,
  log: (line) => process.stderr.write(`chaos: ${line}\n`),
})
process.stdout.write(`${summaryLine(report)}\n`)
for (const line of detailLines(report)) process.stdout.write(`  ${line}\n`)
process.exitCode = passed(report) ? 0 : 1
