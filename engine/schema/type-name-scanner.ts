/**
 * The lexical layer of the type-name parser: a cursor over one type name as `system.columns.type` prints it, with
 * the few token shapes that occur there — bare words, backquoted names, single-quoted strings, integers and
 * parentheses. Failures throw {@link ClickHouseTypeError}; the parser adds the grammar.
 */

/** A type name that tailhouse cannot parse or does not map; `message` is the reason a user can act on. */
export class ClickHouseTypeError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'ClickHouseTypeError'
  }
}

/** Escapes of ClickHouse's quoted strings and backquoted names (`readQuotedString`); others stand for themselves. */
const escapes: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9, '0': 0, a: 7, v: 11, e: 27 }

export class TypeNameScanner {
  private pos = 0

  constructor(readonly text: string) {}

  get position(): number {
    return this.pos
  }

  skipSpaces(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos += 1
  }

  atEnd(): boolean {
    this.skipSpaces()
    return this.pos >= this.text.length
  }

  /** The next non-space character, not consumed ('' at the end). */
  peek(): string {
    this.skipSpaces()
    return this.text[this.pos] ?? ''
  }

  /** Consumes `char` if it comes next. */
  accept(char: string): boolean {
    if (this.peek() !== char) return false
    this.pos += 1
    return true
  }

  expect(char: string): void {
    if (!this.accept(char)) this.fail(`expected "${char}"`)
  }

  /** A bare word: letters, digits and underscores, not starting with a digit. */
  word(): string {
    this.skipSpaces()
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos))
    if (!match) this.fail('expected a name')
    this.pos += match[0].length
    return match[0]
  }

  /** A bare word or a backquoted name, as ClickHouse prints tuple element and Nested field names. */
  name(): string {
    return this.peek() === '`' ? this.quoted('`') : this.word()
  }

  /** A string in `quote`s with backslash escapes (and doubled quotes), decoded as UTF-8 like ClickHouse's bytes. */
  quoted(quote: "'" | '`'): string {
    this.expect(quote)
    const bytes: number[] = []
    const raw = (s: string) => bytes.push(...Buffer.from(s, 'utf8'))
    for (;;) {
      const char = this.character(`unterminated ${quote}-quoted text`)
      if (char === quote) {
        if (this.text[this.pos] !== quote) return Buffer.from(bytes).toString('utf8')
        this.pos += 1
        raw(quote)
      } else if (char === '\\') {
        this.escape(bytes, raw)
      } else {
        raw(char)
      }
    }
  }

  /** A decimal integer, optionally negative. */
  integer(): number {
    this.skipSpaces()
    const match = /^-?[0-9]+/.exec(this.text.slice(this.pos))
    if (!match) this.fail('expected a number')
    this.pos += match[0].length
    return Number(match[0])
  }

  /**
   * Skips a parenthesized argument list whose grammar tailhouse does not need (JSON, Dynamic, Variant), keeping
   * quoted strings and backquoted names opaque so that a parenthesis inside them does not count.
   */
  skipArguments(): void {
    this.expect('(')
    let depth = 1
    while (depth > 0) {
      const char = this.text[this.pos]
      if (char === undefined) this.fail('expected ")"')
      if (char === "'" || char === '`') {
        this.quoted(char)
        continue
      }
      this.pos += 1
      if (char === '(') depth += 1
      if (char === ')') depth -= 1
    }
  }

  /** Moves back to a position returned by {@link position}, to re-read a word as something else. */
  rewind(position: number): void {
    this.pos = position
  }

  fail(reason: string): never {
    throw new ClickHouseTypeError(`cannot parse the type name at offset ${this.pos}: ${reason}`)
  }

  /** Consumes one code point (a surrogate pair counts as one). */
  private character(atEnd: string): string {
    const codePoint = this.text.codePointAt(this.pos)
    if (codePoint === undefined) this.fail(atEnd)
    const char = String.fromCodePoint(codePoint)
    this.pos += char.length
    return char
  }

  private escape(bytes: number[], raw: (s: string) => void): void {
    const char = this.character('unterminated escape')
    const hex = char === 'x' ? /^[0-9A-Fa-f]{2}/.exec(this.text.slice(this.pos)) : null
    if (hex) {
      this.pos += 2
      bytes.push(Number.parseInt(hex[0], 16))
    } else if (Object.hasOwn(escapes, char)) {
      bytes.push(escapes[char] as number)
    } else {
      raw(char)
    }
  }
}

/** The escapes ClickHouse writes (`writeAnyEscapedString`), besides the quote itself. */
const writtenEscapes: Record<string, string> = {
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
}

/** Writes `text` as ClickHouse writes quoted strings and backquoted names, so that {@link TypeNameScanner} reads it back. */
export function quoteText(text: string, quote: "'" | '`'): string {
  const escaped = Array.from(text, (char) => (char === quote ? `\\${char}` : (writtenEscapes[char] ?? char)))
  return `${quote}${escaped.join('')}${quote}`
}

/** A tuple element or Nested field name as ClickHouse prints it: bare when it is a plain word, else backquoted. */
export function formatName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : quoteText(name, '`')
}
