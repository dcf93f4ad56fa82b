import { ConfigError } from '../errors.js'

/** KAFKA_BOOTSTRAP (comma-separated host:port) overrides the config file's kafka.brokers. */
export function brokersFromEnv(configured: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const value = env.KAFKA_BOOTSTRAP
  if (!value) return configured
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean)
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d+$/.test(broker)) throw new ConfigError('KAFKA_BOOTSTRAP', `"${broker}" is not host:port`)
  }
  return brokers
}
