import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfigError } from '../engine/errors.js'
import { createLogger, type LogFormat, type LogLevel, logLevelFromEnv, stderrLogger } from '../engine/log.js'
import { formatPrettyLine } from '../engine/log-format.js'

/** A PassThrough destination; the logger writes synchronously, so what it holds can be read right away. */
function sink(tty = false): { stream: PassThrough; text: () => string; lines: () => string[] } {
  const stream = new PassThrough()
  if (tty) Object.assign(stream, { isTTY: true })
  let buffered = ''
  const text = () => {
    for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) buffered += chunk.toString()
    return buffered
  }
  return { stream, text, lines: () => text().split('\n').filter(Boolean) }
}

function jsonLines(level: LogLevel, emit: (log: ReturnType<typeof createLogger>) => void) {
  const out = sink()
  emit(createLogger({ level, format: 'json', destination: out.stream }))
  return out.lines().map((line) => JSON.parse(line) as Record<string, unknown>)
}

const ESC = '\u001b'
const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('createLogger json', () => {
  it('writes one JSON object per event with level label, msg, ISO time and fields at the top level', () => {
    const before = Date.now()
    const [line, ...rest] = jsonLines('info', (log) => log.log('info', 'published batch', { rows: 100, topic: 't' }))
    expect(rest).toEqual([])
    expect(line).toMatchObject({ level: 'info', msg: 'published batch', rows: 100, topic: 't' })
    expect(line?.time).toMatch(isoTime)
    expect(Date.parse(line?.time as string)).toBeGreaterThanOrEqual(before - 1)
    expect(Object.keys(line ?? {}).sort()).toEqual(['level', 'msg', 'rows', 'time', 'topic'])
  })

  it('logs an event without fields', () => {
    expect(jsonLines('debug', (log) => log.log('warn', 'hello'))).toEqual([
      { level: 'warn', time: expect.stringMatching(isoTime), msg: 'hello' },
    ])
  })

  it('serializes bigints as strings, at any depth', () => {
    const [line] = jsonLines('info', (log) =>
      log.log('info', 'cursor', { lag: 12345678901234567890n, at: { block: 7n, list: [1n, 2] } }),
    )
    expect(line).toMatchObject({ lag: '12345678901234567890', at: { block: '7', list: ['1', 2] } })
  })

  it('serializes Errors as {type, message, code, stack}, whatever the field is called', () => {
    const error = new ConfigError('clickhouse.url', 'must use http://')
    const plain = new TypeError('boom')
    const [line] = jsonLines('info', (log) => log.log('error', 'stopping', { error, err: plain, nested: { plain } }))
    expect(line?.error).toEqual({
      type: 'ConfigError',
      message: 'clickhouse.url: must use http://',
      code: 'TH_CONFIG',
      stack: error.stack,
    })
    expect(line?.err).toEqual({ type: 'TypeError', message: 'boom', stack: plain.stack })
    expect(line?.nested).toEqual({ plain: { type: 'TypeError', message: 'boom', stack: plain.stack } })
  })

  it('keeps an error cause and survives cycles', () => {
    const cause = Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const error = new Error('cannot reach', { cause })
    const loop: Record<string, unknown> = { n: 1 }
    loop.self = loop
    const [line] = jsonLines('info', (log) => log.log('info', 'x', { error, loop }))
    expect(line?.error).toMatchObject({
      message: 'cannot reach',
      cause: { message: 'ECONNREFUSED', code: 'ECONNREFUSED' },
    })
    expect(line?.loop).toEqual({ n: 1, self: '[Circular]' })
  })

  it('does not let fields shadow level, time or msg', () => {
    const [line] = jsonLines('info', (log) => log.log('info', 'real', { level: 'fake', msg: 'fake', time: 3 }))
    expect(line).toMatchObject({ level: 'info', msg: 'real', _level: 'fake', _msg: 'fake', _time: 3 })
  })

  it('drops events below the level', () => {
    const lines = jsonLines('warn', (log) => {
      for (const level of ['debug', 'info', 'warn', 'error'] as const) log.log(level, level)
    })
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      ['warn', 'warn'],
      ['error', 'error'],
    ])
  })

  it('does not change the fields object', () => {
    const fields = { n: 1n, error: new Error('x') }
    jsonLines('info', (log) => log.log('info', 'x', fields))
    expect(fields.n).toBe(1n)
    expect(fields.error).toBeInstanceOf(Error)
  })
})

describe('createLogger pretty', () => {
  const line = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (.*)$/

  it('writes `time level message key=value` lines, without color off a TTY', () => {
    const out = sink()
    const log = createLogger({ level: 'debug', format: 'pretty', destination: out.stream })
    log.log('info', 'published batch', { rows: 100, topic: 'a b', lag: 5n })
    log.log('debug', 'batch sent, committing', { messages: 3 })
    const lines = out.lines()
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(line)
    expect(lines[0]?.replace(line, '$2')).toBe('info  published batch rows=100 topic="a b" lag="5"')
    expect(lines[1]?.replace(line, '$2')).toBe('debug batch sent, committing messages=3')
    expect(out.text()).not.toContain(ESC)
  })

  it('colors the level on a TTY', () => {
    const out = sink(true)
    createLogger({ level: 'info', format: 'pretty', destination: out.stream }).log('warn', 'slow')
    expect(out.text().slice(24)).toBe(` ${ESC}[33mwarn${ESC}[39m  slow\n`)
  })

  it('shows Errors and objects on the same line', () => {
    const text = formatPrettyLine(
      'error',
      'stopping',
      { error: new ConfigError('TAILHOUSE_LOG_LEVEL', 'bad'), at: { n: 1n } },
      { time: new Date('2026-11-24T00:00:00.000Z') },
    )
    expect(text).toBe(
      '2026-11-24T00:00:00.000Z error stopping error="ConfigError: TAILHOUSE_LOG_LEVEL: bad [TH_CONFIG]" at={"n":"1"}\n',
    )
  })

  it('drops events below the level', () => {
    const out = sink()
    const log = createLogger({ level: 'error', format: 'pretty', destination: out.stream })
    log.log('warn', 'no')
    log.log('error', 'yes')
    expect(out.lines().map((l) => l.replace(line, '$2'))).toEqual(['error yes'])
  })
})

describe('createLogger auto', () => {
  it('writes JSON to a stream that is not a TTY', () => {
    const out = sink()
    createLogger({ level: 'info', format: 'auto', destination: out.stream }).log('info', 'hi', { k: 1 })
    expect(JSON.parse(out.text())).toMatchObject({ level: 'info', msg: 'hi', k: 1 })
  })

  it('writes pretty lines to a TTY', () => {
    const out = sink(true)
    createLogger({ level: 'info', format: 'auto', destination: out.stream }).log('info', 'hi', { k: 1 })
    expect(out.text().slice(24)).toBe(` ${ESC}[32minfo${ESC}[39m  hi k=1\n`)
  })
})

describe('stderrLogger', () => {
  afterEach(() => vi.restoreAllMocks())

  it('writes pretty lines to process.stderr at the minimum level', () => {
    const written: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    const log = stderrLogger('warn')
    log.log('info', 'hidden')
    log.log('warn', 'batch sent, committing', { messages: 2 })
    expect(written).toHaveLength(1)
    expect(written[0]?.slice(0, 24)).toMatch(isoTime)
    expect(written[0]?.slice(24).replaceAll(`${ESC}[33m`, '').replaceAll(`${ESC}[39m`, '')).toBe(
      ' warn  batch sent, committing messages=2\n',
    )
  })
})

describe('logLevelFromEnv', () => {
  it('defaults to info and auto, or to the given defaults', () => {
    expect(logLevelFromEnv({})).toEqual({ level: 'info', format: 'auto' })
    expect(logLevelFromEnv({ TAILHOUSE_LOG_LEVEL: '', TAILHOUSE_LOG_FORMAT: ' ' }, { level: 'debug' })).toEqual({
      level: 'debug',
      format: 'auto',
    })
  })

  it('reads both variables, case-insensitively', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as LogLevel[]) {
      for (const format of ['json', 'pretty', 'auto'] as LogFormat[]) {
        expect(logLevelFromEnv({ TAILHOUSE_LOG_LEVEL: level, TAILHOUSE_LOG_FORMAT: format })).toEqual({ level, format })
      }
    }
    expect(logLevelFromEnv({ TAILHOUSE_LOG_LEVEL: 'WARN', TAILHOUSE_LOG_FORMAT: 'Json' })).toEqual({
      level: 'warn',
      format: 'json',
    })
  })

  it('rejects a bad level with a ConfigError naming TAILHOUSE_LOG_LEVEL', () => {
    const attempt = () => logLevelFromEnv({ TAILHOUSE_LOG_LEVEL: 'verbose' })
    expect(attempt).toThrow(ConfigError)
    expect(attempt).toThrow('TAILHOUSE_LOG_LEVEL: must be one of debug, info, warn, error; got "verbose"')
  })

  it('rejects a bad format with a ConfigError naming TAILHOUSE_LOG_FORMAT', () => {
    try {
      logLevelFromEnv({ TAILHOUSE_LOG_FORMAT: 'xml' })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      expect(error).toMatchObject({ key: 'TAILHOUSE_LOG_FORMAT', code: 'TH_CONFIG' })
      expect((error as Error).message).toBe('TAILHOUSE_LOG_FORMAT: must be one of json, pretty, auto; got "xml"')
    }
  })
})
