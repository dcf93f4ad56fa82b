// The engine on the secured local broker (SASL_SSL, ACLs): it works with exactly the ACLs of requiredAcls (which
// README.md, "Security", lists), stops naming the missing one when one is absent, and stops at once on a wrong
// password. Written through the public surface (migrate, startEngine, reading the topics back), not the changelog.
import { describe, expect, it } from 'vitest'
import type { TailhouseConfig } from '../../engine/config/config.js'
import { KafkaAuthenticationError, KafkaAuthorizationError } from '../../engine/errors.js'
import type { RequiredAcl } from '../../engine/kafka/required-acls.js'
import { waitFor } from '../helpers/engine.js'
import {
  capturedLogger,
  committed,
  exitWithin,
  type SecuredFixture as Fixture,
  grant,
  revoke,
  saslConfig,
  securedFixture,
  startAs,
  useSecuredKafka,
} from '../helpers/secured-kafka.js'

const secured = useSecuredKafka()
const principal = 'User:tailhouse'

const describeAcl = (acl: RequiredAcl) => `${acl.operation} on ${acl.resourceType} ${acl.resource}`

describe('engine on a secured Kafka: least privilege', () => {
  it('publishes exactly once with exactly the listed ACLs, and resumes from its checkpoint', async () => {
    const f = await securedFixture(secured())
    expect(f.acls.map(describeAcl)).toEqual([
      `WRITE on Topic ${f.sourceTopic.slice(0, f.sourceTopic.indexOf('.src.') + 5)}`,
      `CREATE on Topic ${f.sourceTopic.slice(0, f.sourceTopic.indexOf('.src.') + 5)}`,
      `READ on Topic ${f.config.kafka.checkpointTopic}`,
      `WRITE on Topic ${f.config.kafka.checkpointTopic}`,
      `CREATE on Topic ${f.config.kafka.checkpointTopic}`,
      `WRITE on TransactionalId tailhouse-${f.config.engine.id}-`,
    ])
    await grant(f.secure, principal, f.acls)

    const first = await startAs(f)
    await waitFor('3 rows published', () => first.status().rowsPublished === 3n)
    expect((await first.stop()).reason).toBe('stopped')
    // A restart reads the committed checkpoint (READ) and goes on from it.
    await f.insert(3, 2)
    const second = await startAs(f)
    await waitFor('5 rows published', () => second.status().rowsPublished === 5n)
    expect((await second.stop()).reason).toBe('stopped')

    const rows = await committed(f, f.sourceTopic)
    expect(rows).toHaveLength(5)
    expect(
      new Set(rows.map((r) => r.headers.find(([k]) => k?.toString() === 'tailhouse.cursor')?.[1]?.toString())).size,
    ).toBe(5)
    const checkpoints = await committed(f, f.config.kafka.checkpointTopic)
    expect(JSON.parse(checkpoints.at(-1)?.value?.toString() ?? '{}')).toMatchObject({ rowsTotal: '5' })
  })

  it('at-least-once needs no transactional id, no checkpoint READ or WRITE, no IDEMPOTENT_WRITE', async () => {
    const f = await securedFixture(secured(), { kafka: { delivery: 'at-least-once' } })
    expect(f.acls.map((a) => `${a.resourceType}:${a.operation}`)).toEqual([
      'Topic:WRITE',
      'Topic:CREATE',
      'Topic:CREATE',
    ])
    await grant(f.secure, principal, f.acls)
    const engine = await startAs(f)
    await waitFor('3 rows published', () => engine.status().rowsPublished === 3n)
    await engine.stop()
    expect(await committed(f, f.sourceTopic)).toHaveLength(3)
  })

  // Each ACL in turn is left out; the engine must stop (not retry) with an error naming it.
  const cases: Array<[string, (f: Fixture) => RequiredAcl, Partial<TailhouseConfig['engine']>]> = [
    ['WRITE on the source topics', (f) => pick(f, 'WRITE', (a) => a.patternType === 'PREFIXED'), {}],
    ['CREATE on the source topics', (f) => pick(f, 'CREATE', (a) => a.patternType === 'PREFIXED'), {}],
    [
      'CREATE on the checkpoint topic',
      (f) => pick(f, 'CREATE', (a) => a.resource === f.config.kafka.checkpointTopic),
      {},
    ],
    [
      'WRITE on the checkpoint topic',
      (f) => pick(f, 'WRITE', (a) => a.resource === f.config.kafka.checkpointTopic),
      {},
    ],
    ['WRITE on the transactional id', (f) => pick(f, 'WRITE', (a) => a.resourceType === 'TransactionalId'), {}],
    [
      'CREATE on the dead-letter topic',
      (f) => pick(f, 'CREATE', (a) => a.resource === f.config.kafka.deadLetterTopic),
      { onPoisonRow: 'dead-letter' },
    ],
  ]

  it.each(cases)(
    'without %s it stops at once, naming the permission and the resource',
    async (_what, missing, engine) => {
      const f = await securedFixture(secured(), { engine })
      const left = missing(f)
      await grant(
        f.secure,
        principal,
        f.acls.filter((a) => a !== left),
      )
      const log = capturedLogger()
      const exit = await exitWithin(await startAs(f, log.logger), 20_000)
      expectDenied(exit, f, left)
      expect(log.text()).not.toMatch(/retrying/)
    },
  )

  it('without READ on the checkpoint topic a restart stops, naming it', async () => {
    const f = await securedFixture(secured())
    await grant(f.secure, principal, f.acls)
    const first = await startAs(f)
    await waitFor('3 rows published', () => first.status().rowsPublished === 3n)
    await first.stop()
    const read = pick(f, 'READ', (a) => a.resource === f.config.kafka.checkpointTopic)
    await revoke(f.secure, principal, [read])
    const log = capturedLogger()
    const exit = await exitWithin(await startAs(f, log.logger), 20_000)
    expectDenied(exit, f, read)
    expect(log.text()).not.toMatch(/retrying/)
  })

  it('a wrong password stops the engine at once with an authentication error, without retrying', async () => {
    const f = await securedFixture(secured(), {
      kafka: saslConfig(secured(), 'SCRAM-SHA-512', { username: 'tailhouse', password: 'wrong-password-7' }),
    })
    await grant(f.secure, principal, f.acls)
    const log = capturedLogger()
    const started = Date.now()
    const exit = await exitWithin(await startAs(f, log.logger), 10_000)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(exit.reason).toBe('failed')
    expect(exit.error).toBeInstanceOf(KafkaAuthenticationError)
    expect(exit.error?.message).toMatch(/refused to authenticate User:tailhouse with SASL SCRAM-SHA-512/)
    expect(log.text()).toContain('refused to authenticate')
    expect(log.text()).not.toMatch(/retrying/)
    expect(log.text()).not.toContain('wrong-password-7')
  })
})

function pick(f: Fixture, operation: RequiredAcl['operation'], match: (acl: RequiredAcl) => boolean): RequiredAcl {
  const acl = f.acls.find((a) => a.operation === operation && match(a))
  if (!acl) throw new Error(`no ${operation} ACL matching in ${f.acls.map(describeAcl).join(', ')}`)
  return acl
}

/** The exit is a failure naming `acl`'s operation, resource type and resource (the full topic for a prefix). */
function expectDenied(exit: { reason: string; error?: Error }, f: Fixture, acl: RequiredAcl): void {
  expect(exit.reason).toBe('failed')
  expect(exit.error).toBeInstanceOf(KafkaAuthorizationError)
  const resource = acl.patternType === 'PREFIXED' ? f.sourceTopic : acl.resource
  expect(exit.error).toMatchObject({
    code: 'TH_KAFKA_ACCESS',
    operation: acl.operation,
    resourceType: acl.resourceType,
    resource,
    principal,
  })
  expect(exit.error?.message).toContain(`grant ${principal} ${acl.operation}`)
  expect(exit.error?.message).toContain(`${acl.resourceType} ${resource}`)
}
