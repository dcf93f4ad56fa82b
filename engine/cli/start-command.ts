import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../config/load-config.js'
import { UsageError } from '../errors.js'
import { createLogger, type LogFormat, type LogLevel, logFormats, logLevelFromEnv, logLevels } from '../log.js'
import { startEngine } from '../start-engine.js'
import type { Command } from './command.js'
import { usageErrors } from './parse-flags.js'
import { configFlags, configHelp } from './with-config.js'

export const startCommand: Command = {
  name: 'start',
  summary: 'run the engine: publish captured rows to Kafka, exactly once and in order',
  help: `Usage: tailhouse start [--config <file>] [--progress <seconds>] [--log-level <l>] [--log-format <f>] [--reset-partition <id>]…

Tails the changelog in block order and publishes every row to its source's topic, in Kafka transactions that
also carry the batch's end cursor (exactly-once), mirroring the cursor to SQLite. Runs until SIGINT/SIGTERM,
which finish the batch in flight and exit 0. Retries while ClickHouse or Kafka are unreachable; stops with a
message and exit 1 on what retrying cannot fix, and exits 0 when another instance with the same engine.id
takes over (fencing). With embedded ClickHouse, the engine holds its data directory and shares it: tailhouse sql,
status and migrate run through the engine meanwhile (a loopback endpoint only your user can use).

Kafka comes from kafka.* in the config; KAFKA_BOOTSTRAP, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
KAFKA_SASL_PASSWORD, KAFKA_TLS_CA_FILE and the other KAFKA_TLS_* variables override it. Refused credentials or
certificates and missing ACLs stop the engine at once, naming what to fix (README.md, "Security").

Options:
${configHelp}
  --progress <s>       print published rows and lag every s seconds (default 10; 0: never)
  --verbose            log every batch (same as --log-level debug)
  --log-level <l>      debug, info (default), warn, error; or TAILHOUSE_LOG_LEVEL
  --log-format <f>     json (one pino JSON line per event), pretty, or auto (default: pretty on a terminal,
                       json otherwise); or TAILHOUSE_LOG_FORMAT
  --reset-partition <id>
                       read this changelog partition again from its start, after checking a reported cursor
                       regression (its rows may be published twice); repeatable`,
  async run(args) {
    const { values } = usageErrors('start', () =>
      parseArgs({
        args,
        options: {
          ...configFlags,
          progress: { type: 'string' },
          verbose: { type: 'boolean' },
          'log-level': { type: 'string' },
          'log-format': { type: 'string' },
          'reset-partition': { type: 'string', multiple: true },
        },
        strict: true,
      }),
    )
    const loaded = loadConfig(values.config)
    const fromEnv = logLevelFromEnv()
    const level = values.verbose ? 'debug' : (values['log-level'] ?? fromEnv.level)
    const format = values['log-format'] ?? fromEnv.format
    if (!logLevels.includes(level as LogLevel))
      throw new UsageError(`start: --log-level must be one of ${logLevels.join(', ')}`)
    if (!logFormats.includes(format as LogFormat))
      throw new UsageError(`start: --log-format must be one of ${logFormats.join(', ')}`)
    const logger = createLogger({ level: level as LogLevel, format: format as LogFormat })
    const every = Number(values.progress ?? '10')
    if (!(every >= 0)) throw new UsageError(`start: --progress takes seconds, got "${values.progress}"`)
    const engine = await startEngine({
      config: loaded.config,
      configDir: dirname(loaded.path),
      logger,
      resetPartitions: values['reset-partition'],
    })
    let signals = 0
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1
      if (signals > 1) process.exit(130) // a second Ctrl-C: do not wait for the batch in flight
      logger.log('info', `${signal}: stopping`)
      void engine.stop()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const timer =
      every > 0
        ? setInterval(() => {
            const s = engine.status()
            logger.log('info', 'progress', {
              published: s.rowsPublished,
              batches: s.batches,
              lagRows: s.lagRows,
              lagMs: s.lagMs,
            })
          }, every * 1000)
        : undefined
    const exit = await engine.done
    clearInterval(timer)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (exit.reason === 'failed') throw exit.error
    return 0
  },
}
