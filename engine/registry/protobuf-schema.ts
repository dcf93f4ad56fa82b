/**
 * The Protobuf schema tailhouse registers for a source version: one self-contained file, package
 * `tailhouse.<db>.<table>` (no version, so every version is one record name), whose FIRST message is an Envelope
 * with the fields of tailhouse.v1.Envelope (schema/envelope-proto.ts) — except that `row` is typed as the version's
 * `Row` instead of `bytes`. A length-delimited field is the same on the wire either way, so the values tailhouse
 * writes (and ClickHouse's `FORMAT Protobuf` writes) are unchanged, while a registry deserializer decodes the row
 * in one step. The Row message is the generated `.proto`'s (schema/proto-writer.ts), field numbers and all.
 *
 * Only well-known types are imported (google/protobuf/timestamp.proto, duration.proto); registries know them
 * without references. Values carry the message index [0] (the Envelope).
 */
import { packageSegment } from '../schema/proto-names.js'

/** `tailhouse.<db>.<table>`: the registered file's package. */
export function registryProtoPackage(database: string, table: string): string {
  return ['tailhouse', packageSegment(database), packageSegment(table)].join('.')
}

/** The registered file for a version, from the version's generated `.proto` text. */
export function registryProtoText(database: string, table: string, rowProtoText: string): string {
  const lines = rowProtoText.split('\n')
  const packageLine = lines.findIndex((line) => /^package\s+[\w.]+;\s*$/.test(line))
  const rowLine = lines.findIndex((line) => /^message Row\s*\{/.test(line))
  if (packageLine < 0 || rowLine < 0) throw new TypeError('the .proto text has no package or no message Row')
  let rowStart = rowLine
  while (rowStart > 0 && (lines[rowStart - 1] ?? '').startsWith('//')) rowStart -= 1
  const header = lines.slice(0, rowStart)
  header[packageLine] = `package ${registryProtoPackage(database, table)};`
  const imports = header.filter((line) => line.startsWith('import '))
  if (!imports.includes('import "google/protobuf/timestamp.proto";')) {
    header.splice(packageLine + 1, 0, '', 'import "google/protobuf/timestamp.proto";')
  }
  return [...header, envelopeText, '', ...lines.slice(rowStart)].join('\n')
}

const envelopeText = `// One change captured from the source table: the value of each Kafka message. Wire-identical to
// tailhouse.v1.Envelope (tailhouse/v1/envelope.proto), with \`row\` typed.
message Envelope {
  // The source table, "<database>.<table>".
  string source = 1;
  // What the row means for the source table.
  Op op = 2;
  // The source's schema version that \`row\` is encoded with.
  uint32 schema_version = 3;
  // Where the row sits in its changelog.
  Cursor cursor = 4;
  // The query_id of the INSERT that wrote the row.
  string query_id = 5;
  // When the row reached the changelog (microsecond precision).
  google.protobuf.Timestamp ingest_time = 6;
  // The row itself.
  Row row = 7;
}

// The meaning of a captured row, from the source table's engine.
enum Op {
  OP_UNSPECIFIED = 0;
  // A row inserted into a MergeTree table.
  OP_INSERT = 1;
  // A new state for the row's key (ReplacingMergeTree, or a +1 row of a CollapsingMergeTree).
  OP_UPSERT = 2;
  // The row's key is deleted (ReplacingMergeTree with is_deleted = 1).
  OP_DELETE = 3;
  // A -1 row of a CollapsingMergeTree: cancels the earlier row with the same key and values.
  OP_RETRACT = 4;
  // A row that existed before capture began, published by a snapshot.
  OP_READ = 5;
}

// A position in one changelog table: (_partition_id, _block_number, _block_offset).
message Cursor {
  string partition_id = 1;
  uint64 block_number = 2;
  uint64 block_offset = 3;
}`
