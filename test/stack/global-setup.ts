import type { TestProject } from 'vitest/node'
import type { StackEndpoints } from './endpoints.js'
import { describeStack } from './hold.js'
import { type Stack, startStack } from './local-stack.js'

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints
  }
}

let stack: Stack | undefined

/** Starts the stack once for the integration run; tests read its endpoints with `inject('stack')`. */
export async function setup(project: TestProject): Promise<void> {
  stack = await startStack()
  process.stderr.write(`${describeStack(stack)}\n`)
  project.provide('stack', stack.endpoints)
}

export async function teardown(): Promise<void> {
  await stack?.stop()
}
