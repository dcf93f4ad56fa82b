import { describe, expect, it } from 'vitest'
import { DeadLetterLog } from '../../engine/telemetry/dead-letter-log.js'

function logged() {
  const lines: Array<{ level: string; message: string }> = []
  return { lines, log: (level: string, message: string) => lines.push({ level, message }) }
}

const row = (i: number) => ({ source: 'shop.orders', cursor: `shop.orders/all:1:${i}`, reason: 'too big' })

describe('dead-letter warnings', () => {
  it('names each row up to the per-minute limit, then says how many more at the next minute', () => {
    let now = 0
    const logger = logged()
    const log = new DeadLetterLog(logger, { perMinute: 3, now: () => now })
    log.report([row(0), row(1)], 2)
    log.report([row(2), row(3), row(4)], 3)
    expect(logger.lines.map((l) => l.message)).toEqual([
      'dead-lettered changelog row shop.orders/all:1:0 of shop.orders: too big',
      'dead-lettered changelog row shop.orders/all:1:1 of shop.orders: too big',
      'dead-lettered changelog row shop.orders/all:1:2 of shop.orders: too big',
    ])
    expect(logger.lines.every((l) => l.level === 'warn')).toBe(true)
    now = 61_000
    // A batch that named 1 of its 150 rows (batches name at most 100).
    log.report([row(5)], 150)
    expect(logger.lines.slice(3).map((l) => l.message)).toEqual([
      '2 more changelog rows were dead-lettered in the last minute (tailhouse_dead_letter_rows_total)',
      'dead-lettered changelog row shop.orders/all:1:5 of shop.orders: too big',
    ])
    log.flush()
    expect(logger.lines.at(-1)?.message).toBe(
      '149 more changelog rows were dead-lettered in the last minute (tailhouse_dead_letter_rows_total)',
    )
  })
})
