/** The engine's lifecycle, in order. `stopped` and `failed` are final. */
export const engineStates = ['created', 'starting', 'running', 'stopping', 'stopped', 'failed'] as const
export type EngineState = (typeof engineStates)[number]

/** Holds the state; every transition names the state it expects, and a wrong one throws naming both. */
export class StateMachine {
  #state: EngineState = 'created'

  get state(): EngineState {
    return this.#state
  }

  set(expected: EngineState | readonly EngineState[], next: EngineState): void {
    const allowed = typeof expected === 'string' ? [expected] : expected
    if (!allowed.includes(this.#state)) {
      throw new Error(`engine state: cannot go to ${next} from ${this.#state} (expected ${allowed.join(' or ')})`)
    }
    this.#state = next
  }

  /** Moves to `next` from any state that is not final. */
  end(next: 'stopped' | 'failed'): void {
    if (this.#state !== 'stopped' && this.#state !== 'failed') this.#state = next
  }
}
