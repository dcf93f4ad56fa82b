/**
 * Which columns form a source's Kafka message key (README "Message keys", ARCHITECTURE "Messages"). The one place
 * this is decided: `migrate` validates and reports it, the engine reads with it (source-schemas.ts).
 *
 * - A configured `key` (capture.sources[].key) wins.
 * - ReplacingMergeTree, CollapsingMergeTree, VersionedCollapsingMergeTree (and their Replicated forms): the sorting
 *   key is the row's identity — rows with equal sorting keys are versions of one row, which merges replace or
 *   cancel — so the key is the sorting key's plain columns, and "in order per key" means every version of a row in
 *   the order it was written.
 * - Every other accepted engine (MergeTree, SummingMergeTree, Null, Memory, Log…): a row has no identity; ORDER BY
 *   only sorts (`ORDER BY (user_id, id)` would give every row its own key, and a prefix of it, often a
 *   low-cardinality column by ClickHouse's advice, would pile the topic onto a few partitions and let compaction
 *   drop whole groups). So no key: messages go without a key to partition 0, in changelog order — one ordered
 *   stream per source — and `migrate` warns, naming the source and how to configure a key.
 */

import { CaptureError, ConfigError } from '../errors.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { keyColumnProblem } from './message-key.js'

export interface KeyedTable {
  /** system.tables `engine`, e.g. ReplicatedReplacingMergeTree; '' when unknown. */
  engine: string
  /** system.tables `sorting_key`: its expressions, comma-separated, identifiers quoted by ClickHouse when needed. */
  sortingKey: string
}

export type KeyChoice =
  /** The source's configured `key`. */
  | { from: 'config'; columns: string[] }
  /** The sorting key of an engine that makes it the row's identity; `leftOut` are its expressions that are not
   *  plain columns (toDate(ts), …), which the key cannot use: rows differing only there share a key. */
  | { from: 'identity'; engine: string; columns: string[]; leftOut: string[] }
  /** No key: messages go without a key to partition 0. `engine` is why: one whose rows have no identity, or an
   *  identity engine whose sorting key has no plain column. */
  | { from: 'none'; engine: string; columns: [] }

/** Engines whose sorting key is a row's identity: merges keep one version per sorting key, or cancel pairs. */
const identityEngines = new Set(['ReplacingMergeTree', 'CollapsingMergeTree', 'VersionedCollapsingMergeTree'])

/**
 * The partition of every message without a key: the publisher's partitioner (@platformatic/kafka's
 * compatibilityPartitioner) gives 0 to a message without a key; test/source/key-choice.integration.test.ts holds it.
 */
export const keylessPartition = 0

/** The key of a source: `configured`, else by the rule above. */
export function chooseKey(table: KeyedTable, configured: readonly string[] | undefined): KeyChoice {
  if (configured !== undefined && configured.length > 0) return { from: 'config', columns: [...configured] }
  const engine = table.engine.replace(/^Replicated(?=\w*MergeTree$)/, '')
  if (!identityEngines.has(engine)) return { from: 'none', engine: table.engine, columns: [] }
  const parts = sortingKeyParts(table.sortingKey)
  const columns = parts.filter((p) => p.column !== undefined).map((p) => p.column as string)
  if (columns.length === 0) return { from: 'none', engine: table.engine, columns: [] }
  return {
    from: 'identity',
    engine: table.engine,
    columns,
    leftOut: parts.filter((p) => p.column === undefined).map((p) => p.text),
  }
}

/**
 * The captured columns of a key, in key order. Throws, naming the source, the column and what to do, when a key
 * column is not in the source (`sourceColumns`, when known), not captured (excluded, ALIAS, EPHEMERAL; or not in
 * this schema `version`), or of a type whose text is not an identity. `configKey` names the config entry, e.g.
 * capture.sources[0]: a configured key's problems are ConfigErrors of `<configKey>.key`.
 */
export function keyColumnsOf(
  source: string,
  choice: KeyChoice,
  captured: readonly CapturedColumn[],
  where: { configKey: string; sourceColumns?: readonly string[]; version?: number },
): CapturedColumn[] {
  // A sorting-key column of an identity engine is the message key by default: say so, and how to choose another.
  const fail = (message: string, remedy: string) =>
    choice.from === 'config'
      ? new ConfigError(`${where.configKey}.key`, `${source}: ${message}`)
      : new CaptureError(
          source,
          `${message}; it is in the sorting key of this ${choice.from === 'identity' ? choice.engine : 'table'}, the ` +
            `row's identity and so the message key: ${remedy}, or set ${where.configKey}.key`,
        )
  return choice.columns.map((name) => {
    if (where.sourceColumns && !where.sourceColumns.includes(name)) throw fail(`has no column "${name}"`, '')
    const column = captured.find((c) => c.name === name)
    if (!column) {
      const version = where.version === undefined ? '' : ` in schema version ${where.version}`
      throw fail(`key column "${name}" is not captured${version} (excluded, ALIAS or EPHEMERAL)`, 'capture it')
    }
    const problem = keyColumnProblem(column.type)
    if (problem) throw fail(`key column "${name}" (${column.typeName}) cannot be a key: ${problem}`, 'change its type')
    return column
  })
}

/**
 * What `migrate` says about a source's key, or undefined when nothing needs saying: a source without a key, or a key
 * that leaves out part of the sorting key. `configKey` names the config entry, e.g. capture.sources[0].
 */
export function keyWarning(source: string, choice: KeyChoice, configKey: string): string | undefined {
  if (choice.from === 'none') {
    return (
      `${source}: no message key — a ${choice.engine || 'table'} row has no identity tailhouse can key by, so its ` +
      'messages go without a key to partition 0, all in changelog order (one consumer per source; a compacted ' +
      `topic refuses them). To spread them over partitions, in order per key, set ${configKey}.key to the ` +
      'column(s) that identify what a row is about, e.g. key: [customer_id]'
    )
  }
  if (choice.from === 'identity' && choice.leftOut.length > 0) {
    return (
      `${source}: message key [${choice.columns.join(', ')}], the plain columns of the sorting key of its ` +
      `${choice.engine}; ${choice.leftOut.join(', ')} of the sorting key cannot be in a key, so rows differing only ` +
      `there share a key (still in order; do not compact the topic). Set ${configKey}.key to choose the key yourself`
    )
  }
  return undefined
}

/** One line per source for `migrate`'s log: the key and where it comes from. */
export function describeKey(choice: KeyChoice): string {
  switch (choice.from) {
    case 'config':
      return `message key [${choice.columns.join(', ')}] (configured)`
    case 'identity':
      return `message key [${choice.columns.join(', ')}] (the sorting key of its ${choice.engine})`
    case 'none':
      return `no message key (partition ${keylessPartition})`
  }
}

/**
 * The expressions of a sorting key as system.tables prints it (`` `user id`, toDate(ts), id ``), each with the
 * column it names when it is a plain column. Commas inside parentheses and quotes do not split.
 */
export function sortingKeyParts(sortingKey: string): Array<{ text: string; column: string | undefined }> {
  const texts: string[] = []
  let depth = 0
  let quote: string | undefined
  let current = ''
  for (let i = 0; i < sortingKey.length; i++) {
    const ch = sortingKey[i] as string
    current += ch
    if (quote) {
      if (ch === '\\') current += sortingKey[++i] ?? ''
      else if (ch === quote) quote = undefined
    } else if (ch === '`' || ch === '"' || ch === "'") quote = ch
    else if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      texts.push(current.slice(0, -1).trim())
      current = ''
    }
  }
  if (current.trim()) texts.push(current.trim())
  return texts.map((text) => ({ text, column: plainColumn(text) }))
}

/** The column an expression names when it is just a (possibly quoted) identifier. */
function plainColumn(text: string): string | undefined {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return text
  const quoted = text.match(/^`((?:[^`\\]|\\.|``)*)`$/s) ?? text.match(/^"((?:[^"\\]|\\.|"")*)"$/s)
  if (!quoted) return undefined
  const q = text[0] as string
  return (quoted[1] as string).replace(/\\(.)/gs, '$1').replaceAll(q + q, q)
}
