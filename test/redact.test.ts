import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../engine/log.js'
import { forgetSecrets, redact, redactedMark, registerSecret } from '../engine/redact.js'

function captured() {
  const stream = new PassThrough()
  return {
    stream,
    text: () => {
      let out = ''
      for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) out += chunk.toString()
      return out
    },
  }
}

afterEach(() => forgetSecrets())

describe('redaction of known secrets', () => {
  it('masks every occurrence of every registered secret', () => {
    registerSecret('hunter2-password')
    registerSecret('tok-abc-123')
    expect(redact('a hunter2-password b tok-abc-123 c hunter2-password')).toBe(
      `a ${redactedMark} b ${redactedMark} c ${redactedMark}`,
    )
  })

  it('masks a secret that contains another one whole', () => {
    registerSecret('pass')
    registerSecret('password-long-1')
    expect(redact('password-long-1 pass')).toBe(`${redactedMark} ${redactedMark}`)
  })

  it('masks the JSON-escaped form too (a quote in a password is escaped in JSON logs)', () => {
    registerSecret('pa"ss\\word')
    expect(redact(JSON.stringify({ msg: 'pa"ss\\word' }))).toBe(`{"msg":"${redactedMark}"}`)
  })

  it('ignores values too short to mask without garbling text, and non-strings', () => {
    registerSecret('abc')
    registerSecret(undefined)
    registerSecret(12345)
    expect(redact('abc 12345')).toBe('abc 12345')
  })

  it('keeps secrets out of JSON and pretty log lines, fields and error messages included', () => {
    registerSecret('s3cr3t-value-9')
    for (const format of ['json', 'pretty'] as const) {
      const out = captured()
      const log = createLogger({ level: 'debug', format, destination: out.stream })
      log.log('debug', 'connecting with s3cr3t-value-9', {
        password: 's3cr3t-value-9',
        error: new Error('auth failed for s3cr3t-value-9'),
      })
      const text = out.text()
      expect(text).toContain('connecting with')
      expect(text).toContain(redactedMark)
      expect(text).not.toContain('s3cr3t-value-9')
    }
  })
})
