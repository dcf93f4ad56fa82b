import { type Base, type Callback, kGetApi } from '@platformatic/kafka'
import { kafkaGiveUpMs } from '../sink/stall-watch.js'

/**
 * How long the transaction coordinator lets one of our transactions stay open before it aborts it on its own
 * (transaction.timeout.ms). Longer than the engine waits on a batch before giving it up (kafkaGiveUpMs), so the
 * coordinator never aborts a transaction the engine still waits on — it aborts only one already given up, which the
 * next producer's claim aborts anyway. Brokers accept up to transaction.max.timeout.ms (15 minutes by default).
 */
export const transactionTimeoutMs = kafkaGiveUpMs + 30_000

/**
 * Makes a producer claim its transactional id with {@link transactionTimeoutMs}.
 *
 * @platformatic/kafka 1.35 sends its request timeout (`timeout`, 5 s by default) as InitProducerId's
 * transaction_timeout_ms. A transaction open longer than 5 s — a broker restarting under a batch in flight, a slow
 * disk — was aborted by the coordinator, which bumps the producer epoch: the next request of the batch failed
 * with INVALID_PRODUCER_EPOCH or PRODUCER_FENCED, as if another instance had taken over. The request timeout
 * itself stays as it is.
 */
export function useTransactionTimeout(client: Base, timeoutMs = transactionTimeoutMs): void {
  const getApi = client[kGetApi].bind(client) as (name: string, callback: Callback<unknown>) => void
  const override = (name: string, callback: Callback<unknown>) => {
    if (name !== 'InitProducerId') return getApi(name, callback)
    getApi(name, (error, api) => {
      if (error || typeof api !== 'function') return callback(error, api)
      // InitProducerId(connection, transactionalId, transactionTimeoutMs, producerId, producerEpoch, callback)
      const initProducerId = api as (...args: unknown[]) => void
      const withTimeout = (connection: unknown, transactionalId: unknown, _timeout: unknown, ...rest: unknown[]) =>
        initProducerId(connection, transactionalId, timeoutMs, ...rest)
      callback(null, Object.assign(withTimeout, { version: (api as { version?: number }).version }))
    })
  }
  Object.defineProperty(client, kGetApi, { value: override, configurable: true, writable: true })
}
