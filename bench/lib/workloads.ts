/**
 * The two row shapes every benchmark uses, so tailhouse, the broker baseline and ClickHouse's Kafka engine move
 * the same rows. Rows are generated server-side from `numbers()`: a literal VALUES list parses too slowly in
 * ClickHouse to load anything downstream of it.
 */
export interface Workload {
  name: 'narrow' | 'wide'
  /** Column definitions for CREATE TABLE, in order. */
  columns: Array<[name: string, type: string]>
  /** ORDER BY of the source table; its first column is the message key. */
  orderBy: string
  /** Message key column(s) for tailhouse. */
  key: string[]
  /** A SELECT yielding `count` rows with ids from `first` on, columns in table order. */
  select(first: number, count: number): string
}

/** An order: 6 columns (integers, a decimal, an enum, a DateTime64, an array of strings). */
export const narrow: Workload = {
  name: 'narrow',
  columns: [
    ['order_id', 'UInt64'],
    ['customer_id', 'UInt32'],
    ['amount', 'Decimal(12, 2)'],
    ['status', "Enum8('new' = 1, 'paid' = 2, 'shipped' = 3)"],
    ['created_at', "DateTime64(3, 'UTC')"],
    ['items', 'Array(String)'],
  ],
  orderBy: 'order_id',
  key: ['customer_id'],
  select: (first, count) => `
    SELECT number AS order_id, toUInt32(number % 500) AS customer_id, toDecimal64((number % 100000) / 100, 2) AS amount,
           toInt8(1 + number % 3) AS status, now64(3) AS created_at, [concat('sku-', toString(number % 97))] AS items
    FROM numbers(${first}, ${count})`,
}

/** 50 columns: integers, floats, strings, decimals, DateTime64, nullables, arrays, an enum, a UUID, a map. */
function wideColumns(): Array<[string, string, string]> {
  const columns: Array<[string, string, string]> = [
    ['id', 'UInt64', 'number'],
    ['tenant_id', 'UInt32', 'toUInt32(number % 1000)'],
    ['created_at', "DateTime64(3, 'UTC')", 'now64(3)'],
    ['updated_at', "DateTime64(6, 'UTC')", 'now64(6)'],
    ['event_date', 'Date', 'today()'],
    ['uuid', 'UUID', 'generateUUIDv4(number)'],
    ['status', "Enum8('new' = 1, 'paid' = 2, 'shipped' = 3, 'returned' = 4)", 'toInt8(1 + number % 4)'],
    ['tags', 'Array(String)', "[concat('tag-', toString(number % 13)), concat('t', toString(number % 7))]"],
    ['scores', 'Array(Float64)', '[number / 3, number / 7, number / 11]'],
    ['counts', 'Array(UInt32)', 'range(toUInt32(number % 5))'],
    ['attributes', 'Map(String, String)', "map('channel', 'web', 'region', concat('r', toString(number % 9)))"],
  ]
  for (let i = 1; i <= 8; i++) columns.push([`int_${i}`, 'Int64', `toInt64(number * ${i}) - 1000`])
  for (let i = 1; i <= 5; i++) columns.push([`uint_${i}`, 'UInt32', `toUInt32((number + ${i}) % 4000000000)`])
  for (let i = 1; i <= 5; i++) columns.push([`float_${i}`, 'Float64', `number / ${i + 1}`])
  for (let i = 1; i <= 6; i++) columns.push([`text_${i}`, 'String', `concat('value-${i}-', toString(number % 10007))`])
  for (let i = 1; i <= 4; i++)
    columns.push([`price_${i}`, 'Decimal(18, 4)', `toDecimal64((number % 1000000) / ${i * 10}, 4)`])
  columns.push(['big_amount', 'Decimal(38, 10)', 'toDecimal128(number / 3, 10)'])
  for (let i = 1; i <= 4; i++)
    columns.push([`maybe_int_${i}`, 'Nullable(Int32)', `if(number % ${i + 1} = 0, NULL, toInt32(number % 100000))`])
  for (let i = 1; i <= 3; i++)
    columns.push([
      `maybe_text_${i}`,
      'Nullable(String)',
      `if(number % ${i + 2} = 0, NULL, concat('m', toString(number)))`,
    ])
  columns.push(['maybe_price', 'Nullable(Decimal(18, 4))', 'if(number % 2 = 0, NULL, toDecimal64(number / 100, 4))'])
  columns.push(['maybe_ts', "Nullable(DateTime64(3, 'UTC'))", 'if(number % 3 = 0, NULL, now64(3))'])
  columns.push(['flag', 'Bool', 'number % 2 = 1'])
  columns.push(['country', 'LowCardinality(String)', "['de', 'fr', 'us', 'jp'][number % 4 + 1]"])
  return columns
}

const wideSpec = wideColumns()

/** An event with 50 columns of the types users capture most. */
export const wide: Workload = {
  name: 'wide',
  columns: wideSpec.map(([name, type]) => [name, type]),
  orderBy: 'id',
  key: ['tenant_id'],
  select: (first, count) => `
    SELECT ${wideSpec.map(([name, , expression]) => `${expression} AS ${name}`).join(',\n           ')}
    FROM numbers(${first}, ${count})`,
}

export const workloads = { narrow, wide } as const

/** CREATE TABLE for a workload's source table. */
export function createSourceTable(workload: Workload, table: string): string {
  const columns = workload.columns.map(([name, type]) => `${name} ${type}`).join(', ')
  return `CREATE TABLE ${table} (${columns}) ENGINE = MergeTree ORDER BY ${workload.orderBy}`
}
