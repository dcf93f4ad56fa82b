import { addPartitionsToTxnV3, type Base, type Callback, kGetApi } from '@platformatic/kafka'

/** The newest AddPartitionsToTxn version a client may send; 4 and up are for brokers (KIP-890). */
const clientMaxVersion = 3

/**
 * Makes a producer send AddPartitionsToTxn as a client does, at version 3 at most.
 *
 * @platformatic/kafka 1.35 sends the highest version the broker offers. Versions 4 and 5 are the brokers' own
 * (a partition leader verifying a transaction, KIP-890), and the broker authorizes them with CLUSTER_ACTION on the
 * cluster instead of WRITE on the transactional id: with an authorizer, every transaction of a principal that is
 * not a super user fails with CLUSTER_AUTHORIZATION_FAILED. The Java producer sends version 3 at most, and so does
 * this one. Version 3 takes the same arguments (one transaction) and is only used when the broker offers more.
 */
export function useClientAddPartitionsToTxn(client: Base): void {
  const getApi = client[kGetApi].bind(client) as (name: string, callback: Callback<unknown>) => void
  const override = (name: string, callback: Callback<unknown>) => {
    if (name !== 'AddPartitionsToTxn') return getApi(name, callback)
    getApi(name, (error, api) => {
      const version = (api as { version?: number } | undefined)?.version ?? -1
      callback(error, !error && version > clientMaxVersion ? addPartitionsToTxnV3.api : api)
    })
  }
  Object.defineProperty(client, kGetApi, { value: override, configurable: true, writable: true })
}
