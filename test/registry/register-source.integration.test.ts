import { describe, expect, inject, it } from 'vitest'
import { RegistryError } from '../../engine/errors.js'
import { requestJson } from '../../engine/registry/http-json.js'
import {
  checkRegistered,
  registerSourceVersion,
  type SourceVersionInput,
} from '../../engine/registry/register-source.js'
import { RegistryClient } from '../../engine/registry/registry-client.js'
import type { RegistryOptions } from '../../engine/registry/registry-options.js'
import type { RegistryFormat } from '../../engine/registry/source-schema.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { generateRowProto } from '../../engine/schema/proto-writer.js'
import { uniqueName } from '../helpers/names.js'

/**
 * Registration against the local stack's real registry (Apicurio's Confluent API): per format, a source's first
 * version, a compatible change (a column added) and an incompatible one (a column's type changed) under the
 * subject's BACKWARD level, whose refusal names the column; the lookups `start` makes; the naming strategies.
 */

const options = { timestamps: 'timestamp', enums: 'enum' } as const

/** Successive versions of one source, with field numbers carried over as migrate does. */
function versions(database: string, table: string, topic: string, format: RegistryFormat) {
  let previousFieldNumbers: Record<string, number> = {}
  let version = 0
  return (columns: Record<string, string>): SourceVersionInput => {
    version += 1
    const captured = Object.entries(columns).map(([name, type]) => toCapturedColumn(`${database}.${table}`, name, type))
    const proto = generateRowProto({ database, table, version, columns: captured, options, previousFieldNumbers })
    previousFieldNumbers = proto.fieldNumbers
    return { format, topic, database, table, version, columns: captured, protoText: proto.text, options }
  }
}

function registryOptions(strategy: RegistryOptions['subjectNameStrategy'] = 'topic'): RegistryOptions {
  return { url: inject('stack').schemaRegistryUrl, subjectNameStrategy: strategy, timeoutMs: 10_000 }
}

async function setCompatibility(options: RegistryOptions, subject: string, level: string): Promise<void> {
  const res = await requestJson(options, 'PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level })
  expect(res.status).toBe(200)
}

describe('registerSourceVersion / checkRegistered against the registry', () => {
  it.each<RegistryFormat>(['avro', 'json-schema', 'protobuf'])(
    '%s: registers versions, accepts a compatible change and refuses an incompatible one naming the column',
    async (format) => {
      const options = registryOptions()
      const client = new RegistryClient(options)
      const topic = uniqueName('th_reg')
      const subject = `${topic}-value`
      const next = versions('shop', 'orders', topic, format)
      const v1 = next({ id: 'UInt64', qty: 'Int32', name: 'String' })

      const first = await registerSourceVersion(client, v1)
      expect(first).toMatchObject({ subject, created: true, compatibility: expect.stringMatching(/^[A-Z_]+$/) })
      expect(first?.schemaId).toEqual(expect.any(Number))
      // Re-running migrate registers nothing new.
      expect(await registerSourceVersion(client, v1)).toMatchObject({
        subject,
        schemaId: first?.schemaId,
        created: false,
      })
      expect(await checkRegistered(client, v1)).toEqual({ subject, schemaId: first?.schemaId })

      await setCompatibility(options, subject, 'BACKWARD')
      const v2 = next({ id: 'UInt64', qty: 'Int32', name: 'String', note: 'Nullable(String)' })
      const second = await registerSourceVersion(client, v2)
      expect(second).toMatchObject({ subject, created: true, compatibility: 'BACKWARD' })
      expect(second?.schemaId).not.toBe(first?.schemaId)

      const v3 = next({ id: 'UInt64', qty: 'String', name: 'String', note: 'Nullable(String)' })
      // A dry run asks without registering, and refuses the same way.
      const dry = await registerSourceVersion(client, v3, { dryRun: true }).catch((error: unknown) => error)
      expect(dry).toBeInstanceOf(RegistryError)
      expect((dry as RegistryError).message).toMatch(/columns qty \(changed\)/)
      const refused = await registerSourceVersion(client, v3).catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(RegistryError)
      expect(refused).toMatchObject({ code: 'TH_REGISTRY', status: 409, subject })
      expect((refused as RegistryError).message).toMatch(
        /refuses shop\.orders schema version 3 under compatibility BACKWARD: columns qty \(changed\) since registry version 2/,
      )
      // `start` finds the versions migrate registered, and names the missing one.
      expect(await checkRegistered(client, v2)).toEqual({ subject, schemaId: second?.schemaId })
      await expect(checkRegistered(client, v3)).rejects.toThrow(
        /holds no .* schema of shop\.orders version 3: run `tailhouse migrate`/,
      )
    },
  )

  it('names subjects by record name, or by topic and record name, as configured', async () => {
    const topic = uniqueName('th_reg')
    const input = versions('shop', 'orders', topic, 'avro')({ id: 'UInt64' })
    const byRecord = await registerSourceVersion(new RegistryClient(registryOptions('record')), input)
    expect(byRecord?.subject).toBe('tailhouse.shop.orders.Envelope')
    const byBoth = await registerSourceVersion(new RegistryClient(registryOptions('topic-record')), input)
    expect(byBoth?.subject).toBe(`${topic}-tailhouse.shop.orders.Envelope`)
    // Formats without a registry schema register nothing.
    expect(
      await registerSourceVersion(new RegistryClient(registryOptions()), { ...input, format: 'json' }),
    ).toBeUndefined()
  })

  it('says which registry it cannot reach', async () => {
    const client = new RegistryClient({ url: 'http://127.0.0.1:9', subjectNameStrategy: 'topic', timeoutMs: 2_000 })
    const input = versions('shop', 'orders', 't', 'avro')({ id: 'UInt64' })
    const error = await registerSourceVersion(client, input).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TH_REGISTRY', canRetry: true })
    expect((error as Error).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9: ECONNREFUSED/)
  })
})
