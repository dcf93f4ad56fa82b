/**
 * The secrets this process knows (passwords, tokens, key passphrases), and their removal from text that leaves
 * it: log lines, CLI error output, span events. tailhouse never puts a secret into a message on purpose; this is
 * the second line of defence against one arriving inside a foreign error (a server echoing a statement, a
 * library's message). Values are registered where they are read: config parsing and the connection factories.
 */

/** Shorter values are not registered: masking every "abc" in every line would garble logs and protect little. */
export const minimumSecretLength = 4

export const redactedMark = '[redacted]'

const secrets = new Set<string>()
/** Longest first, so a secret that contains another one is masked whole. */
let ordered: string[] = []

/** Remembers `value` as a secret; empty, short or non-string values are ignored. Idempotent. */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < minimumSecretLength || secrets.has(value)) return
  secrets.add(value)
  // The same secret as it appears in JSON text (a quote or backslash in a password is escaped there).
  secrets.add(JSON.stringify(value).slice(1, -1))
  ordered = [...secrets].sort((a, b) => b.length - a.length)
}

/** `text` with every registered secret replaced by {@link redactedMark}. */
export function redact(text: string): string {
  if (ordered.length === 0) return text
  let out = text
  for (const secret of ordered) if (out.includes(secret)) out = out.replaceAll(secret, redactedMark)
  return out
}

/**
 * A minimal stream for loggers that writes each line to `destination` with the secrets redacted, one `write` per
 * line as given (pino and the pretty logger write whole lines synchronously).
 */
export function redactingStream(destination: NodeJS.WritableStream): NodeJS.WritableStream {
  return {
    write(chunk: unknown) {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk)
      return destination.write(redact(text))
    },
  } as NodeJS.WritableStream
}

/** For tests: forget every registered secret. */
export function forgetSecrets(): void {
  secrets.clear()
  ordered = []
}
