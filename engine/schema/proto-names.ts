/**
 * Protobuf identifiers made from arbitrary ClickHouse names (columns, tuple elements, enum names, databases). Every
 * function here is total and deterministic: any input yields a valid identifier, the same one every time.
 */

/**
 * Words that are not used bare as field names or package segments: the Protobuf grammar's own words and scalar
 * types, property names that protobufjs message objects inherit (a field called `constructor` breaks them), and
 * keywords of the languages consumers generate code in, where protoc does not rename package segments (a Java
 * package `tailhouse.default.orders` does not compile).
 */
const reservedWords = new Set(
  [
    'syntax edition import weak public package option message enum service rpc returns stream extend extensions',
    'reserved to max optional required repeated map oneof group true false inf nan',
    'double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64 bool string bytes',
    'constructor prototype',
    'abstract assert boolean break byte case catch char class const continue default do else extends final',
    'finally for goto if implements instanceof int interface long native new private protected return short',
    'static strictfp super switch synchronized this throw throws transient try void volatile while',
    'and as async await def del elif except from global in is lambda none nonlocal not or pass raise with yield',
    'auto delete friend inline mutable namespace operator register signed sizeof struct template typedef typeid',
    'typename union unsigned using virtual chan func go select type var null self',
  ]
    .join(' ')
    .split(' '),
)

/** Lowercase ASCII words of `raw`: accents dropped, camelCase split, every other character a separator. */
function words(raw: string): string[] {
  return raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '')
}

/** A lower_snake field name for `raw`; reserved words get a trailing `_`, a leading digit a leading `_`. */
export function fieldIdentifier(raw: string): string {
  const snake = words(raw).join('_') || 'field'
  const name = /^[0-9]/.test(snake) ? `_${snake}` : snake
  return reservedWords.has(name) ? `${name}_` : name
}

/** A PascalCase type name derived from a field name; it never contains `_`, so it cannot clash with enum values. */
export function typeIdentifier(fieldName: string): string {
  const pascal = words(fieldName)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')
  return /^[A-Z]/.test(pascal) ? pascal : `Field${pascal}`
}

/** UPPER_SNAKE form of a PascalCase type name, used to prefix its enum values (`TagsItem` → `TAGS_ITEM`). */
export function upperSnake(typeName: string): string {
  return words(typeName).join('_').toUpperCase()
}

/** The UPPER_SNAKE part of an enum value name for a ClickHouse enum name; '' when nothing usable remains. */
export function enumValueWords(raw: string): string {
  return words(raw).join('_').toUpperCase()
}

/** A lowercase `[a-z0-9_]` path segment for file names (`Shop-EU` → `shop_eu`). */
export function pathSegment(raw: string): string {
  return (
    raw
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_') || '_'
  )
}

/** A package segment: a path segment that is also an identifier and no reserved word (`default` → `default_`). */
export function packageSegment(raw: string): string {
  const segment = pathSegment(raw)
  const name = /^[0-9]/.test(segment) ? `_${segment}` : segment
  return reservedWords.has(name) ? `${name}_` : name
}

/** protoc's default JSON name of a field (`ToJsonName`): underscores dropped, the letter after each capitalized. */
export function defaultJsonName(fieldName: string): string {
  return fieldName.replace(/_+(.?)/g, (_, next: string) => next.toUpperCase())
}

/** The map entry message protoc synthesizes for a map field (`tag_counts` → `TagCountsEntry`). */
export function mapEntryName(fieldName: string): string {
  const camel = defaultJsonName(fieldName)
  return `${camel.charAt(0).toUpperCase()}${camel.slice(1)}Entry`
}

/**
 * Names taken in one Protobuf scope. `claim` returns the first free one of `name`, `name` + suffix(2), … A name
 * is free when its key is: the key can be stricter than equality, e.g. to keep protoc's JSON names apart.
 */
export class NameScope {
  private readonly taken = new Set<string>()

  constructor(
    private readonly suffix: (name: string, n: number) => string,
    private readonly key: (name: string) => string = (name) => name,
  ) {}

  has(name: string): boolean {
    return this.taken.has(this.key(name))
  }

  take(name: string): void {
    this.taken.add(this.key(name))
  }

  /** `blocked` can refuse further candidates, e.g. names that are taken outside this scope. */
  claim(name: string, blocked: (candidate: string) => boolean = () => false): string {
    let candidate = name
    for (let n = 2; this.has(candidate) || blocked(candidate); n += 1) candidate = this.suffix(name, n)
    this.take(candidate)
    return candidate
  }
}

/** Field names in one message. Keys ignore underscores, so no two default JSON names (`a_1`, `a1`) can clash. */
export function fieldScope(): NameScope {
  return new NameScope(
    (name, n) => `${name.replace(/_+$/, '')}_${n}`,
    (name) => name.replaceAll('_', ''),
  )
}

/** Nested message and enum names in one message. */
export function typeScope(): NameScope {
  return new NameScope((name, n) => `${name}${n}`)
}
