import { describe, expect, it } from 'vitest'
import { ciSize, detailLines, runChaos, summaryLine } from './chaos-run.js'

/**
 * The chaos test at CI size (chaos-run.ts; `npm run chaos -- --kills 100` is the long form): an application
 * embedding ClickHouse and the engine, inserting under the capture contract, SIGKILLed at random moments, just
 * after an INSERT began and inside open Kafka transactions, with the broker SIGKILLed and restarted twice; then
 * Kafka, read by librdkafka read_committed, against the source table, row by row.
 */
describe('chaos: application and broker SIGKILLed while INSERTs follow the capture contract', () => {
  it(`loses, repeats and reorders no source row over ${ciSize.kills} kills`, async () => {
    const report = await runChaos({ ...ciSize, log: (line) => process.stderr.write(`chaos: ${line}\n`) })
    process.stderr.write(
      `chaos: ${summaryLine(report)}\n${detailLines(report)
        .map((l) => `  ${l}\n`)
        .join('')}`,
    )
    expect(report.kills).toBe(ciSize.kills)
    expect(report.brokerRestarts).toBe(Math.floor(ciSize.kills / ciSize.brokerEvery))
    expect(report.sourceRows).toBeGreaterThan(10_000)
    // The restarts exercised the contract: INSERTs begun and not acknowledged were sent again.
    expect(report.retriedInserts).toBeGreaterThan(0)
    const { missing, duplicated, outOfOrder, wrongContent } = report
    const { sourceDuplicates, acknowledgedNotInSource, unknownInSource } = report
    expect(
      { missing, duplicated, outOfOrder, wrongContent, sourceDuplicates, acknowledgedNotInSource, unknownInSource },
      detailLines(report).join('\n'),
    ).toEqual({
      missing: 0,
      duplicated: 0,
      outOfOrder: 0,
      wrongContent: 0,
      sourceDuplicates: 0,
      acknowledgedNotInSource: 0,
      unknownInSource: 0,
    })
    expect(report.kafkaRows).toBe(report.sourceRows)
  }, 600_000)
})
