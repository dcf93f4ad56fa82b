import type { ClickHouseClient } from '@clickhouse/client'
import type { TailhouseConfig } from './config/config.js'
import { Engine, type EngineExit, type EngineStatus } from './engine.js'
import { type Logger, stderrLogger } from './log.js'

export interface StartEngineOptions {
  /** The same options as the config file (see loadConfig). */
  config: TailhouseConfig
  /** Relative paths in the config resolve against this directory. Default: the working directory. */
  configDir?: string
  /** An application's own ClickHouse client, e.g. one embedding chDB; the engine leaves it open on stop. */
  client?: ClickHouseClient
  logger?: Logger
  /** Changelog partitions to read again from their start (after a reported cursor regression). */
  resetPartitions?: string[]
}

export interface EngineHandle {
  /** Finishes the batch in flight, closes everything; resolves with why the engine ended. Idempotent. */
  stop(): Promise<EngineExit>
  status(): EngineStatus
  /** Resolves when the engine ends by itself or after stop(): stopped, fenced, or failed (with the error). */
  done: Promise<EngineExit>
}

/**
 * Runs the engine inside this process, the same service `tailhouse start` runs.
 *
 * @example
 *   const { config } = loadConfig()
 *   const engine = await startEngine({ config })
 *   console.log(engine.status().rowsPublished)
 *   await engine.stop()
 */
export async function startEngine(options: StartEngineOptions): Promise<EngineHandle> {
  const engine = new Engine({ ...options, logger: options.logger ?? stderrLogger() })
  await engine.start()
  return { stop: () => engine.stop(), status: () => engine.status(), done: engine.done }
}
