import { describe, expect, it } from 'vitest'
import { CaptureError, ConfigError } from '../../engine/errors.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { chooseKey, describeKey, keyColumnsOf, keyWarning, sortingKeyParts } from '../../engine/source/key-choice.js'

const table = (engine: string, sortingKey: string) => ({ engine, sortingKey })

describe('the default message key', () => {
  it.each([
    ['ReplacingMergeTree', 'tenant, id', ['tenant', 'id']],
    ['ReplicatedReplacingMergeTree', 'id', ['id']],
    ['CollapsingMergeTree', 'user_id, id', ['user_id', 'id']],
    ['ReplicatedCollapsingMergeTree', 'id', ['id']],
    ['VersionedCollapsingMergeTree', 'account, id', ['account', 'id']],
  ])('is the sorting key of a %s: the row identity', (engine, sortingKey, columns) => {
    expect(chooseKey(table(engine, sortingKey), undefined)).toEqual({ from: 'identity', engine, columns, leftOut: [] })
  })

  it.each([
    ['MergeTree', 'user_id, id'],
    ['ReplicatedMergeTree', 'id'],
    ['SummingMergeTree', 'day, product'],
    ['Null', ''],
    ['Memory', ''],
    ['Log', ''],
    // Unknown (the table is gone): no identity known.
    ['', ''],
  ])('is none for a %s, whose ORDER BY (%s) only sorts', (engine, sortingKey) => {
    expect(chooseKey(table(engine, sortingKey), undefined)).toEqual({ from: 'none', engine, columns: [] })
  })

  it('is none for an identity engine whose sorting key has no plain column', () => {
    expect(chooseKey(table('ReplacingMergeTree', 'cityHash64(id)'), undefined).from).toBe('none')
    expect(chooseKey(table('ReplacingMergeTree', ''), undefined).from).toBe('none')
  })

  it('leaves out the expressions of an identity sorting key, and says which', () => {
    expect(chooseKey(table('ReplacingMergeTree', '`user id`, toDate(ts), id'), undefined)).toEqual({
      from: 'identity',
      engine: 'ReplacingMergeTree',
      columns: ['user id', 'id'],
      leftOut: ['toDate(ts)'],
    })
  })

  it('is the configured key whatever the engine', () => {
    for (const engine of ['MergeTree', 'ReplacingMergeTree', 'Null'])
      expect(chooseKey(table(engine, 'a, b'), ['c', 'a'])).toEqual({ from: 'config', columns: ['c', 'a'] })
  })
})

describe('sortingKeyParts', () => {
  it('splits at top-level commas only, and unquotes plain columns', () => {
    expect(sortingKeyParts('toStartOfInterval(ts, toIntervalHour(1)), `a,b`, "x""y", `p``q`, id')).toEqual([
      { text: 'toStartOfInterval(ts, toIntervalHour(1))', column: undefined },
      { text: '`a,b`', column: 'a,b' },
      { text: '"x""y"', column: 'x"y' },
      { text: '`p``q`', column: 'p`q' },
      { text: 'id', column: 'id' },
    ])
    expect(sortingKeyParts('')).toEqual([])
  })
})

describe('keyWarning', () => {
  it('names the source, the chosen key and how to configure one when there is no key', () => {
    const warning = keyWarning(
      'shop.events',
      chooseKey(table('MergeTree', 'user_id, id'), undefined),
      'capture.sources[2]',
    )
    expect(warning).toMatch(/^shop\.events: no message key — a MergeTree row has no identity/)
    expect(warning).toContain('without a key to partition 0, all in changelog order')
    expect(warning).toContain('set capture.sources[2].key')
  })

  it('warns about an identity key that leaves part of the sorting key out', () => {
    const choice = chooseKey(table('ReplacingMergeTree', 'tenant, toDate(ts), id'), undefined)
    expect(keyWarning('shop.users', choice, 'capture.sources[0]')).toMatch(
      /^shop\.users: message key \[tenant, id\], the plain columns of the sorting key of its ReplacingMergeTree; toDate\(ts\) of the sorting key cannot be in a key.*Set capture\.sources\[0\]\.key/,
    )
  })

  it('is silent for a configured key and a whole identity key', () => {
    expect(keyWarning('s.t', chooseKey(table('MergeTree', 'id'), ['id']), 'k')).toBeUndefined()
    expect(keyWarning('s.t', chooseKey(table('ReplacingMergeTree', 'id'), undefined), 'k')).toBeUndefined()
  })

  it('describes every choice in one phrase', () => {
    expect(describeKey(chooseKey(table('MergeTree', 'id'), ['a', 'b']))).toBe('message key [a, b] (configured)')
    expect(describeKey(chooseKey(table('CollapsingMergeTree', 'id'), undefined))).toBe(
      'message key [id] (the sorting key of its CollapsingMergeTree)',
    )
    expect(describeKey(chooseKey(table('MergeTree', 'id'), undefined))).toBe('no message key (partition 0)')
  })
})

describe('keyColumnsOf', () => {
  const captured = [
    toCapturedColumn('shop.t', 'tenant', 'LowCardinality(String)'),
    toCapturedColumn('shop.t', 'id', 'UInt64'),
    toCapturedColumn('shop.t', 'score', 'Float64'),
  ]
  const where = { configKey: 'capture.sources[1]', sourceColumns: ['tenant', 'id', 'score', 'secret'] }
  const thrown = (f: () => unknown) => {
    try {
      f()
    } catch (error) {
      return error as Error
    }
    throw new Error('did not throw')
  }

  it('returns the captured key columns in key order', () => {
    const columns = keyColumnsOf('shop.t', { from: 'config', columns: ['id', 'tenant'] }, captured, where)
    expect(columns.map((c) => c.name)).toEqual(['id', 'tenant'])
  })

  it('refuses a configured key column the source does not have, naming the config key, source and column', () => {
    const error = thrown(() => keyColumnsOf('shop.t', { from: 'config', columns: ['id', 'nope'] }, captured, where))
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).key).toBe('capture.sources[1].key')
    expect(error.message).toBe('capture.sources[1].key: shop.t: has no column "nope"')
  })

  it('refuses a configured key column that is not captured, or cannot be a key', () => {
    expect(thrown(() => keyColumnsOf('shop.t', { from: 'config', columns: ['secret'] }, captured, where)).message).toBe(
      'capture.sources[1].key: shop.t: key column "secret" is not captured (excluded, ALIAS or EPHEMERAL)',
    )
    expect(
      thrown(() => keyColumnsOf('shop.t', { from: 'config', columns: ['score'] }, captured, where)).message,
    ).toMatch(/^capture\.sources\[1\]\.key: shop\.t: key column "score" \(Float64\) cannot be a key: a float column/)
  })

  it('refuses an identity key column that is excluded, saying it is the row identity and what to do', () => {
    const choice = chooseKey(table('ReplacingMergeTree', 'tenant, secret'), undefined)
    const error = thrown(() => keyColumnsOf('shop.t', choice, captured, { ...where, version: 3 }))
    expect(error).toBeInstanceOf(CaptureError)
    expect(error.message).toBe(
      'shop.t: key column "secret" is not captured in schema version 3 (excluded, ALIAS or EPHEMERAL); it is in the ' +
        "sorting key of this ReplacingMergeTree, the row's identity and so the message key: capture it, or set " +
        'capture.sources[1].key',
    )
  })

  it('gives no columns for no key', () => {
    expect(keyColumnsOf('shop.t', chooseKey(table('MergeTree', 'id'), undefined), captured, where)).toEqual([])
  })
})
