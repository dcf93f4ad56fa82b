import type { ClickHouseClient } from '@clickhouse/client'

/** How often system.merges is read while waiting. */
export const pollIntervalMs = 15
/** Merges are over once none has been seen for this long; this tail is not counted as merge time. */
export const quietMs = 400
/** A wait that never becomes quiet is a fault (a merge that never ends), not a result. */
const maxWaitMs = 10 * 60_000

export interface MergeWait {
  /** performance.now() of the last poll that saw a merge in one of `own`; undefined when none was seen. */
  lastOwnMergeAt: number | undefined
  /** Polls that saw a merge in a database outside `own` (a merge of another variant starting late). */
  otherMergePolls: number
  polls: number
}

/**
 * Watches system.merges until no merge has run in any of `all` databases for {@link quietMs}, and reports the
 * last moment one of `own`'s was running. Databases, not tables: whatever tables `migrate` puts in the capture
 * database are covered without this code knowing their names.
 */
export async function waitForMerges(client: ClickHouseClient, own: string[], all: string[]): Promise<MergeWait> {
  const started = performance.now()
  let lastOwnMergeAt: number | undefined
  let lastAnyMergeAt = started
  let otherMergePolls = 0
  let polls = 0
  for (;;) {
    const running = await mergingDatabases(client, all)
    polls += 1
    const now = performance.now()
    if (running.length > 0) lastAnyMergeAt = now
    if (running.some((db) => own.includes(db))) lastOwnMergeAt = now
    if (running.some((db) => !own.includes(db))) otherMergePolls += 1
    if (now - lastAnyMergeAt >= quietMs) return { lastOwnMergeAt, otherMergePolls, polls }
    if (now - started > maxWaitMs)
      throw new Error(`merges in ${all.join(', ')} still running after ${maxWaitMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs))
  }
}

/**
 * CPU microseconds per poll of a wait on the idle server: the process's user + system time (all threads) over a
 * few waits with nothing to merge, divided by their polls. It covers the polls, the timers between them and
 * whatever the idle server does meanwhile, so that `polls × this` is what a wait costs beyond the merges it sees.
 */
export async function calibratePollCpu(client: ClickHouseClient, all: string[], waits = 5): Promise<number> {
  await waitForMerges(client, all, all) // warm up
  const before = process.cpuUsage()
  let polls = 0
  for (let i = 0; i < waits; i++) polls += (await waitForMerges(client, all, all)).polls
  const used = process.cpuUsage(before)
  return (used.user + used.system) / polls
}

async function mergingDatabases(client: ClickHouseClient, databases: string[]): Promise<string[]> {
  const list = databases.map((db) => `'${db}'`).join(', ')
  const result = await client.query({
    query: `SELECT DISTINCT database FROM system.merges WHERE database IN (${list})`,
    format: 'TabSeparated',
  })
  return (await result.text()).split('\n').filter((line) => line !== '')
}
