/**
 * A ClickHouse data type as tailhouse understands it, parsed from the type names in `system.columns` (see
 * parse-clickhouse-type.ts). Every kind here has a Protobuf mapping (proto-mapping.ts) and a RowBinary decoder
 * (encoding/rowbinary-decoder.ts). Types outside this union are rejected before anything is installed.
 */
export type ClickHouseType =
  | { kind: 'int'; signed: boolean; bits: 8 | 16 | 32 | 64 | 128 | 256 }
  | { kind: 'float'; bits: 32 | 64 }
  /** Decimal(P, S); Decimal32(S) is P = 9, Decimal64(S) P = 18, Decimal128(S) P = 38, Decimal256(S) P = 76. */
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'bool' }
  | { kind: 'string' }
  | { kind: 'fixedString'; length: number }
  | { kind: 'date' }
  | { kind: 'date32' }
  | { kind: 'dateTime'; timezone?: string }
  | { kind: 'dateTime64'; precision: number; timezone?: string }
  /** Time (seconds, Int32 on the wire) and Time64(p) (Int64 ticks of 10^-p s), ClickHouse 25.6+. */
  | { kind: 'time' }
  | { kind: 'time64'; precision: number }
  | { kind: 'uuid' }
  | { kind: 'ipv4' }
  | { kind: 'ipv6' }
  | { kind: 'enum'; bits: 8 | 16; values: Array<{ name: string; value: number }> }
  | { kind: 'lowCardinality'; inner: ClickHouseType }
  | { kind: 'nullable'; inner: ClickHouseType }
  | { kind: 'array'; element: ClickHouseType }
  | { kind: 'map'; key: ClickHouseType; value: ClickHouseType }
  /** Tuple(T1, T2) or Tuple(a T1, b T2); `name` is set only for named elements. */
  | { kind: 'tuple'; elements: Array<{ name?: string; type: ClickHouseType }> }
  /** Nested(a T1, b T2), as system.columns shows it with flatten_nested = 0 (on the wire: Array(Tuple(...))). */
  | { kind: 'nested'; fields: Array<{ name: string; type: ClickHouseType }> }
  /** JSON, Object('json'), Dynamic, Variant(...): captured as their JSON text (toJSONString in the view). */
  | { kind: 'json'; typeName: string }

/** One captured column: its name and its parsed type, plus the type name exactly as ClickHouse spells it. */
export interface CapturedColumn {
  name: string
  type: ClickHouseType
  typeName: string
}
