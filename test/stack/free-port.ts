import { createServer } from 'node:net'

/**
 * Hands out ports from `next` (the OS's choice), never the same one twice. The OS may give a port that was just
 * closed to the next caller at once, and the stack starts its services in parallel: without this, Jaeger's query API
 * and Kafka were once given the same port (CI, Kafka: "Address already in use").
 */
export function portAllocator(next: () => Promise<number>): () => Promise<number> {
  const handedOut = new Set<number>()
  return async () => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = await next()
      if (!handedOut.has(port)) {
        handedOut.add(port)
        return port
      }
    }
    throw new Error('no free port found that was not handed out already (100 tries)')
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it), never one this process handed out before. */
export const freePort = portAllocator(osPort)

function osPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port)
        else reject(new Error('no port assigned'))
      })
    })
  })
}
