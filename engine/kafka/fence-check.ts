/** A producer's claim on its transactional id, as InitProducerId answered it. */
export interface ProducerIdentity {
  producerId: bigint
  producerEpoch: number
}

/**
 * Tells "another instance took over this transactional id" from "the coordinator aborted our transaction on its
 * own". Both bump the producer epoch, and Kafka answers the old producer's next request the same way in both cases
 * (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH). The coordinator aborts a transaction on its own when it outlives
 * the transaction timeout (a broker restarting under a batch, the process paused), and then remembers the epoch it
 * replaced: InitProducerId with that producer id and epoch succeeds (KIP-360/KIP-588). A new instance claims the
 * id without one (epoch -1), which makes the coordinator forget it: the same request fails with PRODUCER_FENCED.
 *
 * So on a fenced-looking error the engine does not stop at once: it starts over with a producer that claims the
 * id as the refused producer (`claimAs`). That claim failing fenced too is a takeover, and the engine stops.
 */
export class FenceCheck {
  #claimAs: ProducerIdentity | undefined

  /**
   * A request was refused as fenced. `refused`: the identity of the producer that sent it, if it had one.
   * `verify`: start over, claiming as `claimAs`. `fenced`: another instance took over (or nothing is left to prove
   * otherwise with: the claim made to check it was refused, or the producer had no identity).
   */
  onFenced(refused: ProducerIdentity | undefined): 'verify' | 'fenced' {
    if (this.#claimAs !== undefined || refused === undefined) return 'fenced'
    this.#claimAs = refused
    return 'verify'
  }

  /** The identity the next producer claims the id with; undefined: as a new instance (epoch -1). */
  get claimAs(): ProducerIdentity | undefined {
    return this.#claimAs
  }

  /** The next producer's claim succeeded: the id is ours again. */
  claimed(): void {
    this.#claimAs = undefined
  }
}
