/** The message header naming the INSERT's query id, when the engine writes it (the envelope always has it). */
const queryIdHeader = 'tailhouse.query_id'

/** The batch span attribute listing the query ids of the INSERTs whose rows the batch published. */
export const queryIdsAttribute = 'tailhouse.query_ids'

/** The query ids of a batch span: its attribute as Jaeger writes arrays (JSON text) or Zipkin does (a,b). */
export function batchQueryIds(attributes: Record<string, string>): string[] {
  const value = attributes[queryIdsAttribute]
  if (value === undefined || value === '') return []
  if (value.startsWith('[')) {
    try {
      const parsed = JSON.parse(value) as unknown
      if (Array.isArray(parsed)) return parsed.map(String)
    } catch {
      // not JSON after all: a comma list
    }
  }
  return value.split(',')
}

/**
 * The query id of the INSERT that wrote a message's row: its `tailhouse.query_id` header when it has one, else the
 * envelope's `query_id`, from a JSON envelope or from a Protobuf one (field 5, read off the wire: no schema needed).
 */
export function messageQueryId(value: Buffer | null, headers: Array<[string, Buffer]>): string | undefined {
  const header = headers.find(([name]) => name === queryIdHeader)?.[1]
  if (header) return header.toString('utf8')
  if (!value || value.length === 0) return undefined
  if (value[0] === 0x7b) {
    try {
      const queryId = (JSON.parse(value.toString('utf8')) as { query_id?: unknown }).query_id
      return typeof queryId === 'string' ? queryId : undefined
    } catch {
      return undefined
    }
  }
  return protobufString(value, 5)
}

/** A top-level length-delimited field of a Protobuf message, as UTF-8; undefined if absent or malformed. */
function protobufString(message: Buffer, field: number): string | undefined {
  let at = 0
  const varint = (): number | undefined => {
    let result = 0
    for (let shift = 0; shift < 50 && at < message.length; shift += 7) {
      const byte = message[at++] as number
      result += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return result
    }
    return undefined
  }
  while (at < message.length) {
    const tag = varint()
    if (tag === undefined) return undefined
    const wire = tag & 7
    if (wire === 0) {
      if (varint() === undefined) return undefined
    } else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else if (wire === 2) {
      const length = varint()
      if (length === undefined || at + length > message.length) return undefined
      if (Math.floor(tag / 8) === field) return message.subarray(at, at + length).toString('utf8')
      at += length
    } else return undefined
  }
  return undefined
}
