/**
 * The peer's setup, shared by bench/native-kafka-engine (its throughput) and bench/capture-overhead (what it costs
 * the source's INSERTs): ClickHouse's `Kafka` table engine fed by a materialized view from the source table, one
 * ProtobufSingle message per row with the bytes of tailhouse's `Row`, producer settings as tailhouse's.
 */
import { readFileSync } from 'node:fs'
import type { CapturedColumn, ClickHouseType } from '../../engine/schema/clickhouse-type.js'
import { formatClickHouseType, toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { mapRow, type ProtoEnum, type ProtoField, type ProtoMessage } from '../../engine/schema/proto-mapping.js'
import type { Workload } from './workloads.js'

/** Librdkafka producer settings tailhouse also sets (acks=all, idempotent) plus Java-compatible key hashing. */
export const producerConfig = {
  acks: 'all',
  enable_idempotence: 'true',
  partitioner: 'murmur2_random',
}
/** Table-level: compression is a Kafka engine setting. */
export const compressionCodec = 'lz4'

/**
 * Server configuration: librdkafka producer settings (`<kafka><producer>`, `_` for `.`) and, when `logFile` is
 * given, a trace log from which the producer settings in effect are read back (StorageKafka logs every property at
 * trace level; chDB ignores a lower level). Without it chDB writes no log at all.
 */
export function configXml(logFile?: string): string {
  const producer = Object.entries(producerConfig)
    .map(([key, value]) => `      <${key}>${value}</${key}>`)
    .join('\n')
  const logger = logFile
    ? `
  <logger>
    <log>${logFile}</log>
    <errorlog>${logFile}.err</errorlog>
    <level>trace</level>
    <console>0</console>
  </logger>`
    : ''
  return `<clickhouse>${logger}
  <kafka>
    <producer>
${producer}
    </producer>
  </kafka>
</clickhouse>
`
}

/** The librdkafka settings of the first producer, as StorageKafka logged them, plus the topic-level ones we set. */
export function producerSettings(logFile: string): Record<string, string> {
  const logged = new Map<string, string>()
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const match = /Producer set property ([^:]+):(.*)$/.exec(line)
    if (match && !logged.has(match[1] as string)) logged.set(match[1] as string, match[2] as string)
  }
  const pick = (key: string, note = '') => `${logged.get(key) ?? '(not logged)'}${note}`
  const idempotent = logged.get('enable.idempotence') === 'true'
  return {
    // Topic-level properties are not in the logged (global) dump; these are the values we configure.
    acks: `${producerConfig.acks} (configured)`,
    partitioner: `${producerConfig.partitioner} (configured: Java-compatible key hashing, as tailhouse)`,
    'message.timeout.ms': '300000 (librdkafka default, not changed)',
    'enable.idempotence': pick('enable.idempotence'),
    'compression.codec': pick('compression.codec', ' (kafka_compression_codec)'),
    'linger.ms': pick('queue.buffering.max.ms', ' (librdkafka default)'),
    'batch.num.messages': pick('batch.num.messages'),
    'batch.size': pick('batch.size'),
    'max.in.flight.requests.per.connection': pick(
      'max.in.flight.requests.per.connection',
      idempotent ? ' (librdkafka lowers it to 5 for an idempotent producer)' : '',
    ),
    'message.send.max.retries': pick('message.send.max.retries'),
    'queue.buffering.max.messages': pick('queue.buffering.max.messages'),
    'queue.buffering.max.kbytes': pick('queue.buffering.max.kbytes'),
    'statistics.interval.ms': pick('statistics.interval.ms'),
    'client.software.version': pick('client.software.version'),
    kafka_max_rows_per_message: '1',
    'producer lifetime': 'one new librdkafka producer per INSERT, flushed before the INSERT returns',
  }
}

export interface PeerColumn {
  /** The Kafka table's column, named as the Row field it fills. */
  name: string
  type: string
  /** The view's expression over the source table. */
  expression: string
}

/**
 * The Protobuf schema and Kafka table columns that make ClickHouse write the same bytes as tailhouse's `Row`
 * (proto-mapping.ts with int64 timestamps) for the same row, plus the message key tailhouse would send.
 *
 * ClickHouse's own conversions differ in three places, so the view converts first:
 * - DateTime64 into an int64 field is written as whole seconds: the view passes the ticks (toUnixTimestamp64*).
 * - Decimal into a string field drops trailing zeros: the view passes toDecimalString with the full scale.
 * - A `_key` column (the message key) is matched to the `key` of any map field: maps are declared as the
 *   repeated `{ k = 1; v = 2; }` message that a proto map is on the wire, filled from Array(Tuple(k, v)).
 */
export function peerSchema(workload: Workload): { proto: string; columns: PeerColumn[] } {
  const captured = workload.columns.map(([name, type]) => toCapturedColumn('bench.src', name, type))
  const { row } = mapRow(captured, { timestamps: 'int64' })
  const extra: ProtoMessage[] = []
  const fields = row.fields.map((field) => {
    const map = /^map<(.+), (.+)>$/.exec(field.type)
    if (!map) return field
    const name = `Kv${field.number}`
    extra.push({
      name,
      reserved: [],
      enums: [],
      messages: [],
      fields: [
        { name: 'k', number: 1, type: map[1] as string, comment: '' },
        { name: 'v', number: 2, type: map[2] as string, comment: '' },
      ],
    })
    return { ...field, label: 'repeated' as const, type: name }
  })
  const proto = [
    'syntax = "proto3";',
    ...messageLines({ ...row, fields, messages: [...row.messages, ...extra] }, ''),
    '',
  ].join('\n')
  const columns = captured.map((column, i) => {
    const field = row.fields[i] as ProtoField
    const converted = convert(column, `\`${column.name}\``, column.type)
    return {
      name: field.name,
      type: converted?.type ?? column.typeName,
      expression: converted?.expression ?? `\`${column.name}\``,
    }
  })
  const keyText = workload.key.map((name) => `toString(\`${name}\`)`)
  columns.push({
    name: '_key',
    type: 'String',
    expression: keyText.length === 1 ? (keyText[0] as string) : `toJSONString([${keyText.join(', ')}])`,
  })
  return { proto, columns }
}

export interface KafkaEngineTables {
  workload: Workload
  bootstrap: string
  topic: string
  /** The `.proto` file written from `peerSchema(workload).proto`. */
  schemaFile: string
  /** Qualified names: the source table (exists), the Kafka engine table and the view (both created). */
  source: string
  kafkaTable: string
  view: string
}

/** CREATE TABLE … ENGINE = Kafka and the materialized view from the source to it, in that order. */
export function kafkaEngineTablesSql(t: KafkaEngineTables): string[] {
  const { columns } = peerSchema(t.workload)
  const settings = [
    `kafka_broker_list = ${sqlString(t.bootstrap)}`,
    `kafka_topic_list = ${sqlString(t.topic)}`,
    `kafka_group_name = ${sqlString(`${t.topic}-unused`)}`,
    `kafka_format = 'ProtobufSingle'`,
    `kafka_schema = ${sqlString(`${t.schemaFile}:Row`)}`,
    'kafka_max_rows_per_message = 1',
    `kafka_compression_codec = '${compressionCodec}'`,
  ]
  return [
    `CREATE TABLE ${t.kafkaTable} (${columns.map((c) => `${c.name} ${c.type}`).join(', ')})
       ENGINE = Kafka SETTINGS ${settings.join(', ')}`,
    `CREATE MATERIALIZED VIEW ${t.view} TO ${t.kafkaTable} AS
       SELECT ${columns.map((c) => `${c.expression} AS ${c.name}`).join(', ')} FROM ${t.source}`,
  ]
}

const tickFunctions: Record<number, string> = {
  0: 'toUnixTimestamp',
  3: 'toUnixTimestamp64Milli',
  6: 'toUnixTimestamp64Micro',
  9: 'toUnixTimestamp64Nano',
}

/** How the view hands a value to the Kafka table; undefined when as it is. */
function convert(
  column: CapturedColumn,
  expression: string,
  type: ClickHouseType,
): { type: string; expression: string } | undefined {
  switch (type.kind) {
    case 'nullable': {
      const inner = convert(column, expression, type.inner)
      return inner && { type: `Nullable(${inner.type})`, expression: inner.expression }
    }
    case 'dateTime64': {
      const fn = tickFunctions[type.precision]
      if (!fn) throw new Error(`${column.name}: DateTime64(${type.precision}) has no tick conversion in this bench`)
      return { type: 'Int64', expression: `toInt64(${fn}(${expression}))` }
    }
    case 'decimal':
      return { type: 'String', expression: `toDecimalString(${expression}, ${type.scale})` }
    case 'array': {
      const element = convert(column, 'x', type.element)
      return (
        element && { type: `Array(${element.type})`, expression: `arrayMap(x -> ${element.expression}, ${expression})` }
      )
    }
    case 'map': {
      if (convert(column, 'x', type.key) || convert(column, 'x', type.value))
        throw new Error(`${column.name}: maps of decimals or DateTime64 are not supported by this bench`)
      const pairs = `Array(Tuple(k ${formatClickHouseType(type.key)}, v ${formatClickHouseType(type.value)}))`
      return { type: pairs, expression: `CAST(${expression}, ${sqlString(pairs)})` }
    }
    case 'tuple':
    case 'nested':
    case 'json':
    case 'time':
    case 'time64':
      throw new Error(`${column.name}: ${column.typeName} is not supported by this bench`)
    default:
      return undefined
  }
}

function messageLines(message: ProtoMessage, indent: string): string[] {
  const inner = `${indent}  `
  return [
    `${indent}message ${message.name} {`,
    ...message.reserved.map(([from, to]) => `${inner}reserved ${from === to ? from : `${from} to ${to}`};`),
    ...message.fields.map((f) => `${inner}${f.label ? `${f.label} ` : ''}${f.type} ${f.name} = ${f.number};`),
    ...message.enums.flatMap((e) => enumLines(e, inner)),
    ...message.messages.flatMap((m) => messageLines(m, inner)),
    `${indent}}`,
  ]
}

function enumLines(protoEnum: ProtoEnum, indent: string): string[] {
  return [
    `${indent}enum ${protoEnum.name} {`,
    ...protoEnum.values.map((v) => `${indent}  ${v.name} = ${v.number};`),
    `${indent}}`,
  ]
}

export function sqlString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
}
