import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { followSnapshot, requestSnapshot } from '../snapshot/request-snapshot.js'
import type { Command } from './command.js'
import { usageErrors } from './parse-flags.js'
import { configFlags, configHelp, withConfig } from './with-config.js'

export const snapshotCommand: Command = {
  name: 'snapshot',
  summary: 're-publish a source (or the rows a condition picks) with op read, while live capture goes on',
  help: `Usage: tailhouse snapshot <db.table> [--where <condition>] [--rows-per-second <n>] [--detach] [--config <file>]

Publishes the rows the source holds now again, each as a message with op read — to rebuild a compacted topic or
feed a new consumer — while live capture goes on. The running engine (engine.id of the config) does it: changelog
rows it has read so far go first, then the snapshot's rows, then the rest, so for a key its snapshot row comes
before its later changes. In chunks, resumable: after a crash the engine goes on from its last committed batch.
ReplacingMergeTree and (Versioned)CollapsingMergeTree sources are read with FINAL: the rows their merges keep.
Follows the progress (rows, rows/s, time left) until the snapshot is published; Ctrl-C stops following, not the
snapshot. Without a running engine, the request waits for the next tailhouse start. Stream-mode sources are
refused (README, "Existing rows: snapshots").
Exits 1 when the snapshot failed (the reason is printed); 0 once it is published, or requested with --detach.

Options:
${configHelp}
  --where <condition>  only rows this SQL condition on the source's columns holds for, e.g. "id > 1000"
  --rows-per-second <n>
                       publish at most this many snapshot rows per second (default: as fast as it goes)
  --detach             return once requested, without following`,
  async run(args) {
    const { values, positionals } = usageErrors('snapshot', () =>
      parseArgs({
        args,
        options: {
          ...configFlags,
          where: { type: 'string' },
          'rows-per-second': { type: 'string' },
          detach: { type: 'boolean' },
        },
        strict: true,
        allowPositionals: true,
      }),
    )
    if (positionals.length !== 1)
      throw new UsageError('snapshot takes one source, db.table; see tailhouse snapshot --help')
    const rate = values['rows-per-second']
    if (rate !== undefined && !/^\d{1,9}$/.test(rate))
      throw new UsageError(`--rows-per-second takes a whole number of rows, got "${rate}"`)
    const source = positionals[0] as string
    return withConfig(values, async ({ client, config, embeddedHere }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`)
      const record = await requestSnapshot(client, config, {
        source,
        where: values.where,
        rowsPerSecond: rate === undefined ? 0 : Number(rate),
      })
      log(`${source}: snapshot ${record.id} requested${record.where ? ` (where ${record.where})` : ''}`)
      if (values.detach) return 0
      if (embeddedHere) {
        log('no engine runs on this embedded ClickHouse now: tailhouse start publishes the snapshot when it starts')
        return 0
      }
      const stop = new AbortController()
      const onSignal = () => {
        log('stopped following; the engine goes on with the snapshot')
        stop.abort()
      }
      process.once('SIGINT', onSignal)
      try {
        const last = await followSnapshot(
          client,
          config.capture.database,
          record,
          (line) => log(`${source}: ${line}`),
          {
            signal: stop.signal,
          },
        )
        if (last.status === 'done') log(`${source}: snapshot ${record.id} published: ${last.rows} row(s)`)
        if (last.status === 'failed') log(`${source}: snapshot ${record.id} failed: ${last.detail}`)
        return last.status === 'failed' ? 1 : 0
      } finally {
        process.off('SIGINT', onSignal)
      }
    })
  },
}
