// Unit test: the Docker stack in docker/ is wired consistently. Reads files only; no Docker engine needed.
//
// Each wiring check is a function returning a list of problems, so that it is tested both ways: it finds
// nothing wrong in docker/compose.yaml, and it does find the fault in a deliberately broken copy.
import { existsSync, readFileSync } from 'node:fs'
import { posix, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../../engine/config/load-config.js'

const repoDir = resolve(import.meta.dirname, '../..')
const dockerDir = resolve(repoDir, 'docker')
const composePath = resolve(dockerDir, 'compose.yaml')

/** The engine's service, and the variables through which it finds the other services. */
const ENGINE = 'tailhouse'
const ENDPOINT_VARS = ['CLICKHOUSE_URL', 'KAFKA_BOOTSTRAP', 'OTLP_ENDPOINT', 'JAEGER_QUERY_URL'] as const

// --- The subset of the compose format this file uses -------------------------------------------------

type Scalar = string | number | boolean | null
type PortSpec = string | number | { target: number; published?: string | number; host_ip?: string }
type VolumeSpec = string | { type?: string; source?: string; target: string }
interface Service {
  image?: string
  hostname?: string
  build?: string | { context?: string; dockerfile?: string }
  command?: string | string[]
  ports?: PortSpec[]
  volumes?: VolumeSpec[]
  environment?: Record<string, Scalar> | string[]
  depends_on?: string[] | Record<string, { condition?: string }>
  healthcheck?: { test?: string | string[]; disable?: boolean }
}
interface Compose {
  services: Record<string, Service>
  volumes?: Record<string, unknown>
}

function loadCompose(): Compose {
  const doc: unknown = parse(readFileSync(composePath, 'utf8'))
  if (typeof doc !== 'object' || doc === null || !('services' in doc)) {
    throw new Error(`${composePath}: no services`)
  }
  return doc as Compose
}

function service(c: Compose, name: string): Service {
  const s = c.services[name]
  if (!s) throw new Error(`no service ${name}`)
  return s
}

function env(s: Service): Record<string, string> {
  const out: Record<string, string> = {}
  if (Array.isArray(s.environment)) {
    for (const kv of s.environment) {
      const i = kv.indexOf('=')
      if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1)
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) out[k] = v === null ? '' : String(v)
  }
  return out
}

function dependencies(s: Service): { name: string; condition: string }[] {
  const d = s.depends_on ?? []
  return Array.isArray(d)
    ? d.map((name) => ({ name, condition: 'service_started' }))
    : Object.entries(d).map(([name, v]) => ({ name, condition: v.condition ?? 'service_started' }))
}

interface Published {
  hostIp: string // '' = every interface
  hostPort: string // '' = Docker picks one
  containerPort: number
}

/** Compose's short ("[ip:]host:container[/proto]") and long port syntaxes. */
function published(s: Service): Published[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { hostIp: p.host_ip ?? '', hostPort: String(p.published ?? ''), containerPort: p.target }
    }
    const spec = String(p).replace(/\/(tcp|udp|sctp)$/, '')
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(spec)
    const [ip, rest] = v6 ? [v6[1] ?? '', v6[2] ?? ''] : ['', spec]
    const parts = rest.split(':')
    const container = Number(parts.at(-1))
    if (parts.length === 3) return { hostIp: parts[0] ?? '', hostPort: parts[1] ?? '', containerPort: container }
    if (parts.length === 2) return { hostIp: ip, hostPort: parts[0] ?? '', containerPort: container }
    return { hostIp: ip, hostPort: '', containerPort: container }
  })
}

interface Mount {
  source: string
  target: string
  kind: 'bind' | 'volume'
}

function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).flatMap((v): Mount[] => {
    if (typeof v === 'object') {
      if (!v.source) return []
      return [{ source: v.source, target: v.target, kind: v.type === 'bind' ? 'bind' : 'volume' }]
    }
    const [source, target] = v.split(':')
    if (source === undefined || target === undefined) return [] // anonymous volume
    const bind = /^(\.|\/|~)/.test(source)
    return [{ source, target, kind: bind ? 'bind' : 'volume' }]
  })
}

/** A file bound from the repository: its contents, read relative to the compose file. */
function mountedFiles(s: Service): { target: string; path: string; text: string }[] {
  return mounts(s)
    .filter((m) => m.kind === 'bind' && m.source.startsWith('.'))
    .map((m) => {
      const path = resolve(dockerDir, m.source)
      return { target: m.target, path, text: readFileSync(path, 'utf8') }
    })
}

function imageRepo(s: Service): string {
  return (s.image ?? '').replace(/:[^/:]*$/, '')
}

function servicesOf(c: Compose, repo: string): string[] {
  return Object.keys(c.services).filter((n) => imageRepo(service(c, n)) === repo)
}

// --- XML, kept tiny: these files are ours and flat enough for regexes -----------------------------------

function stripComments(xml: string): string {
  return xml.replace(/<!--[\s\S]*?-->/g, '')
}

/** Inner text of every <tag>…</tag> (not nested in itself). `<profile>` does not match `<profiles>`. */
function elements(xml: string, tag: string): string[] {
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g')
  return [...stripComments(xml).matchAll(re)].map((m) => m[1] ?? '')
}

function text(xml: string, tag: string): string | undefined {
  return elements(xml, tag)[0]?.trim()
}

// --- Kafka listeners -----------------------------------------------------------------------------------

interface Listener {
  name: string
  host: string
  port: number
}

function listeners(value: string | undefined): Listener[] {
  return (value ?? '')
    .split(',')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^([A-Za-z0-9_]+):\/\/(.*):(\d+)$/.exec(l.trim())
      return { name: m?.[1] ?? `unparsable(${l})`, host: m?.[2] ?? '', port: Number(m?.[3]) }
    })
}

// --- Which ports a service listens on inside the network ---------------------------------------------

/** ClickHouse server's image defaults: HTTP, native, interserver. docker/clickhouse/*.xml must keep them. */
const CLICKHOUSE_PORTS = [8123, 9000, 9009]
/** Jaeger v2 all-in-one: OTLP gRPC, OTLP HTTP, UI/query. */
const JAEGER_PORTS = [4317, 4318, 16686]

function listenPorts(c: Compose, name: string): number[] {
  const s = c.services[name]
  if (!s) return []
  switch (imageRepo(s)) {
    case 'clickhouse/clickhouse-server':
      return CLICKHOUSE_PORTS
    case 'jaegertracing/jaeger':
      return JAEGER_PORTS
    case 'apache/kafka':
      return listeners(env(s).KAFKA_LISTENERS).map((l) => l.port)
    case 'clickhouse/clickhouse-keeper':
      return mountedFiles(s)
        .map((f) => text(elements(f.text, 'keeper_server')[0] ?? '', 'tcp_port'))
        .filter((p) => p !== undefined)
        .map(Number)
    default:
      return []
  }
}

/** Names a container answers to on the compose network. */
function namesOf(c: Compose, name: string): string[] {
  const h = c.services[name]?.hostname
  return h ? [name, h] : [name]
}

function endpoints(value: string): { host: string; port: number }[] {
  if (value.includes('://')) {
    const u = new URL(value)
    const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80
    return [{ host: u.hostname, port }]
  }
  return value.split(',').map((hp) => {
    const i = hp.lastIndexOf(':')
    return { host: hp.slice(0, i).trim(), port: Number(hp.slice(i + 1)) }
  })
}

// --- The checks ----------------------------------------------------------------------------------------

function dependencyProblems(c: Compose): string[] {
  const out: string[] = []
  for (const [name, s] of Object.entries(c.services)) {
    for (const d of dependencies(s)) {
      const target = c.services[d.name]
      if (!target) out.push(`${name} depends on missing service ${d.name}`)
      else if (d.condition === 'service_healthy' && (!target.healthcheck?.test || target.healthcheck.disable)) {
        out.push(`${name} waits for ${d.name} to be healthy, but ${d.name} has no healthcheck`)
      }
    }
  }
  return out
}

function portProblems(c: Compose): string[] {
  const out: string[] = []
  const seen = new Map<string, string>()
  for (const [name, s] of Object.entries(c.services)) {
    for (const p of published(s)) {
      if (p.hostIp !== '127.0.0.1') out.push(`${name}: port ${p.containerPort} is published on '${p.hostIp || '*'}'`)
      if (p.hostPort === '') out.push(`${name}: port ${p.containerPort} has no fixed host port`)
      const key = `${p.hostIp}:${p.hostPort}`
      const other = seen.get(key)
      if (other !== undefined) out.push(`${name}: host port ${key} is already published by ${other}`)
      seen.set(key, name)
    }
  }
  return out
}

function mountProblems(c: Compose): string[] {
  const out: string[] = []
  for (const [name, s] of Object.entries(c.services)) {
    for (const m of mounts(s)) {
      if (m.kind === 'bind' && m.source.startsWith('.') && !existsSync(resolve(dockerDir, m.source))) {
        out.push(`${name}: mounted ${m.source} does not exist`)
      }
      if (m.kind === 'volume' && !(c.volumes && m.source in c.volumes)) {
        out.push(`${name}: volume ${m.source} is not declared under volumes:`)
      }
    }
    const b = s.build
    if (b !== undefined) {
      const context = resolve(dockerDir, typeof b === 'string' ? b : (b.context ?? '.'))
      const dockerfile = resolve(context, typeof b === 'string' ? 'Dockerfile' : (b.dockerfile ?? 'Dockerfile'))
      if (!existsSync(dockerfile)) out.push(`${name}: build file ${dockerfile} does not exist`)
    }
  }
  return out
}

/** The engine's endpoint variables name services that exist, on ports they listen on. */
function endpointProblems(c: Compose): string[] {
  const engine = c.services[ENGINE]
  if (!engine) return [`no ${ENGINE} service`]
  const vars = env(engine)
  const out: string[] = []
  for (const v of ENDPOINT_VARS) {
    const value = vars[v]
    if (!value) {
      out.push(`${ENGINE}: ${v} is not set`)
      continue
    }
    for (const { host, port } of endpoints(value)) {
      const target = Object.keys(c.services).find((n) => namesOf(c, n).includes(host))
      if (!target) {
        out.push(`${v}=${value}: no service named ${host}`)
        continue
      }
      if (!listenPorts(c, target).includes(port)) out.push(`${v}=${value}: ${target} does not listen on ${port}`)
      if (imageRepo(service(c, target)) === 'apache/kafka') {
        // The bootstrap answer redirects clients to an advertised address: it must be this one.
        const adv = listeners(env(service(c, target)).KAFKA_ADVERTISED_LISTENERS)
        if (!adv.some((l) => l.host === host && l.port === port)) {
          out.push(`${v}=${value}: ${host}:${port} is not one of ${target}'s advertised listeners`)
        }
      }
    }
  }
  return out
}

/** KRaft single node: listeners, advertised addresses and the quorum fit together. */
function kafkaProblems(c: Compose): string[] {
  const out: string[] = []
  for (const name of servicesOf(c, 'apache/kafka')) {
    const s = service(c, name)
    const e = env(s)
    const own = listeners(e.KAFKA_LISTENERS)
    const protocols = new Set((e.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '').split(',').map((p) => p.split(':')[0]))
    for (const l of own) {
      if (!protocols.has(l.name)) out.push(`${name}: listener ${l.name} has no security protocol`)
    }
    const controllers = (e.KAFKA_CONTROLLER_LISTENER_NAMES ?? '').split(',')
    for (const l of listeners(e.KAFKA_ADVERTISED_LISTENERS)) {
      const bound = own.find((o) => o.name === l.name)
      if (!bound) {
        out.push(`${name}: advertised ${l.name} is not a listener`)
      } else if (namesOf(c, name).includes(l.host)) {
        if (bound.port !== l.port) out.push(`${name}: ${l.name} advertised on ${l.port} but bound on ${bound.port}`)
      } else if (l.host === '127.0.0.1' || l.host === 'localhost') {
        const p = published(s).find((x) => x.hostPort === String(l.port))
        if (!p || p.containerPort !== bound.port) {
          out.push(
            `${name}: ${l.name} advertised to the host as ${l.host}:${l.port}, not published to port ${bound.port}`,
          )
        }
      } else {
        out.push(`${name}: ${l.name} advertised as ${l.host}, which no container answers to`)
      }
      if (controllers.includes(l.name)) out.push(`${name}: controller listener ${l.name} is advertised`)
    }
    const inter = e.KAFKA_INTER_BROKER_LISTENER_NAME
    if (!own.some((l) => l.name === inter)) out.push(`${name}: inter-broker listener ${inter} is not a listener`)
    for (const voter of (e.KAFKA_CONTROLLER_QUORUM_VOTERS ?? '').split(',')) {
      const m = /^(\d+)@(.*):(\d+)$/.exec(voter)
      const port = Number(m?.[3])
      if (m?.[1] !== e.KAFKA_NODE_ID || !namesOf(c, name).includes(m?.[2] ?? '')) {
        out.push(`${name}: quorum voter ${voter} is not node ${e.KAFKA_NODE_ID} at ${name}`)
      }
      if (!own.some((l) => controllers.includes(l.name) && l.port === port)) {
        out.push(`${name}: quorum voter ${voter} is not on a controller listener`)
      }
    }
    // KRaft cluster ids are 16 bytes, base64url without padding.
    if (Buffer.from(e.CLUSTER_ID ?? '', 'base64url').length !== 16) out.push(`${name}: CLUSTER_ID is not 16 bytes`)
  }
  return out
}

// --- Tests ---------------------------------------------------------------------------------------------

const compose = loadCompose()

describe('docker/compose.yaml', () => {
  it('has the expected services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['clickhouse-1', 'clickhouse-2', 'jaeger', 'kafka', 'keeper', ENGINE].sort(),
    )
  })

  it('depends only on services that exist, and healthy only where a healthcheck exists', () => {
    expect(dependencies(service(compose, ENGINE)).length).toBeGreaterThan(0)
    expect(dependencyProblems(compose)).toEqual([])
  })

  it('publishes every port on 127.0.0.1 only, each host port once', () => {
    expect(Object.values(compose.services).flatMap(published).length).toBeGreaterThan(0)
    expect(portProblems(compose)).toEqual([])
  })

  it('mounts only files that exist, and declared volumes', () => {
    expect(Object.values(compose.services).flatMap(mounts).length).toBeGreaterThan(0)
    expect(mountProblems(compose)).toEqual([])
  })

  it("points the engine's endpoints at services and ports that exist", () => {
    expect(endpointProblems(compose)).toEqual([])
  })

  it('wires Kafka listeners, advertised addresses and quorum consistently', () => {
    expect(servicesOf(compose, 'apache/kafka')).toHaveLength(1)
    expect(kafkaProblems(compose)).toEqual([])
  })

  it('configures Kafka for transactions on a single broker', () => {
    const e = env(service(compose, servicesOf(compose, 'apache/kafka')[0] ?? ''))
    expect(e.KAFKA_PROCESS_ROLES?.split(',').sort()).toEqual(['broker', 'controller'])
    expect(e.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1')
    expect(e.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe('1')
    expect(e.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe('1')
    expect(e.KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS).toBe('0')
  })

  it('runs the engine with its verb and a valid config file naming the cluster', () => {
    const s = service(compose, ENGINE)
    expect(s.command).toEqual(['start'])
    expect(engineConfig().capture.cluster).toBe('tailhouse')
    expect(engineConfig().engine.offsetsPath.startsWith('/var/lib/tailhouse/')).toBe(true)
  })
})

describe('the checks catch broken wiring', () => {
  const setEnv = (c: Compose, name: string, key: string, value: string) => {
    service(c, name).environment = { ...env(service(c, name)), [key]: value }
  }
  const broken: [string, (c: Compose) => void, (c: Compose) => string[]][] = [
    ['a missing dependency', (c) => Object.assign(service(c, ENGINE), { depends_on: ['nope'] }), dependencyProblems],
    ['waiting for health without a healthcheck', (c) => delete service(c, 'jaeger').healthcheck, dependencyProblems],
    ['a port on every interface', (c) => service(c, 'jaeger').ports?.push('9999:9999'), portProblems],
    ['a host port used twice', (c) => service(c, 'jaeger').ports?.push('127.0.0.1:8123:16686'), portProblems],
    [
      'a missing mounted file',
      (c) => service(c, 'keeper').volumes?.push('./clickhouse/nope.xml:/x.xml'),
      mountProblems,
    ],
    ['an undeclared volume', (c) => service(c, 'keeper').volumes?.push('nope-data:/x'), mountProblems],
    [
      'an engine URL naming no service',
      (c) => setEnv(c, ENGINE, 'CLICKHOUSE_URL', 'http://clickhouse-9:8123'),
      endpointProblems,
    ],
    [
      'an engine URL on a port nobody listens on',
      (c) => setEnv(c, ENGINE, 'OTLP_ENDPOINT', 'http://jaeger:4319'),
      endpointProblems,
    ],
    [
      'a bootstrap address Kafka does not advertise',
      (c) => setEnv(c, ENGINE, 'KAFKA_BOOTSTRAP', 'kafka:9093'),
      endpointProblems,
    ],
    [
      'a host listener that is not published',
      (c) => Object.assign(service(c, 'kafka'), { ports: ['127.0.0.1:9095:9094'] }),
      kafkaProblems,
    ],
  ]

  it.each(broken)('%s', (_what, breakIt, check) => {
    const copy = structuredClone(compose)
    breakIt(copy)
    expect(check(copy)).not.toEqual([])
  })
})

/** The engine's config file as mounted at /app/tailhouse.config.yaml, validated by tailhouse's own loader. */
function engineConfig() {
  const mount = (service(compose, ENGINE).volumes ?? []).find((v: unknown) =>
    String(v).endsWith(':/app/tailhouse.config.yaml:ro'),
  )
  if (!mount) throw new Error('the engine service does not mount a config at /app/tailhouse.config.yaml')
  const hostPath = resolve(dockerDir, String(mount).split(':')[0] ?? '')
  return loadConfig(hostPath).config
}

describe('docker/clickhouse/*.xml', () => {
  const servers = servicesOf(compose, 'clickhouse/clickhouse-server')
  const files = (name: string) => mountedFiles(service(compose, name))
  const engineEnv = env(service(compose, ENGINE))
  const cluster = engineConfig().capture.cluster ?? ''

  it('are well-formed enough for ClickHouse: no "--" inside a comment', () => {
    const all = [...servers, ...servicesOf(compose, 'clickhouse/clickhouse-keeper')].flatMap(files)
    expect(all.length).toBeGreaterThan(0)
    for (const f of all) {
      for (const m of f.text.matchAll(/<!--([\s\S]*?)-->/g)) expect(m[1], f.path).not.toContain('--')
    }
  })

  it(`define cluster ${cluster}: one shard, two replicas, the compose services themselves`, () => {
    expect(servers).toHaveLength(2)
    for (const name of servers) {
      const defs = files(name).filter((f) => elements(f.text, 'remote_servers').length > 0)
      expect(defs, `${name} mounts one remote_servers file`).toHaveLength(1)
      const def = elements(elements(defs[0]?.text ?? '', 'remote_servers')[0] ?? '', cluster)[0] ?? ''
      const shards = elements(def, 'shard')
      expect(shards).toHaveLength(1)
      const replicas = elements(shards[0] ?? '', 'replica')
      expect(replicas.map((r) => text(r, 'host')).sort()).toEqual([...servers].sort())
      for (const r of replicas) expect(CLICKHOUSE_PORTS).toContain(Number(text(r, 'port')))
    }
  })

  it('keep the image default ports that the checks above assume', () => {
    for (const f of servers.flatMap(files)) {
      for (const tag of ['http_port', 'tcp_port', 'interserver_http_port'])
        expect(elements(f.text, tag), f.path).toEqual([])
    }
  })

  it('point every server at the keeper service', () => {
    const keepers = servicesOf(compose, 'clickhouse/clickhouse-keeper')
    expect(keepers).toHaveLength(1)
    const keeper = keepers[0] ?? ''
    for (const name of servers) {
      const nodes = files(name).flatMap((f) => elements(elements(f.text, 'zookeeper')[0] ?? '', 'node'))
      expect(nodes.length, `${name} has a zookeeper node`).toBeGreaterThan(0)
      for (const n of nodes) {
        expect(namesOf(compose, keeper)).toContain(text(n, 'host'))
        expect(listenPorts(compose, keeper)).toContain(Number(text(n, 'port')))
      }
      expect(dependencies(service(compose, name)).map((d) => d.name)).toContain(keeper)
    }
  })

  it('give each replica the same {shard} and its own {replica}, reachable by name', () => {
    const macros = servers.map((name) => {
      const defs = files(name).filter((f) => elements(f.text, 'macros').length > 0)
      expect(defs, `${name} mounts one macros file`).toHaveLength(1)
      const xml = defs[0]?.text ?? ''
      const m = elements(xml, 'macros')[0] ?? ''
      // The name the other replica fetches parts from must be this container's.
      expect(namesOf(compose, name)).toContain(text(xml, 'interserver_http_host'))
      return { shard: text(m, 'shard'), replica: text(m, 'replica') }
    })
    expect(new Set(macros.map((m) => m.shard)).size).toBe(1)
    expect(macros[0]?.shard).toBeTruthy()
    expect(new Set(macros.map((m) => m.replica)).size).toBe(servers.length)
  })

  it("define the engine's user, with the settings capture depends on", () => {
    for (const name of servers) {
      const users = files(name).flatMap((f) => elements(f.text, 'users'))
      const profiles = files(name).flatMap((f) => elements(f.text, 'profiles'))
      const user = users.flatMap((u) => elements(u, engineEnv.CLICKHOUSE_USER ?? ''))[0]
      expect(user, `${name} defines user ${engineEnv.CLICKHOUSE_USER}`).toBeDefined()
      expect(text(user ?? '', 'password')).toBe(engineEnv.CLICKHOUSE_PASSWORD)
      const profile = profiles.flatMap((p) => elements(p, text(user ?? '', 'profile') ?? ''))[0] ?? ''
      expect(text(profile, 'materialized_views_ignore_errors')).toBe('0')
      expect(text(profile, 'deduplicate_blocks_in_dependent_materialized_views')).toBe('1')
    }
  })
})

describe('docker/Dockerfile', () => {
  const dockerfile = readFileSync(resolve(dockerDir, 'Dockerfile'), 'utf8')
  // The runtime stage, with line continuations joined.
  const lastStage = (dockerfile.split(/^FROM\s/m).at(-1) ?? '').replace(/\\\n\s*/g, ' ')
  const instruction = (name: string) =>
    [...lastStage.matchAll(new RegExp(`^${name}\\s+(.*)$`, 'gm'))].map((m) => m[1]?.trim() ?? '')

  it('runs the same file as package.json "bin"', () => {
    const pkg = JSON.parse(readFileSync(resolve(repoDir, 'package.json'), 'utf8')) as { bin?: Record<string, string> }
    const bin = posix.normalize(pkg.bin?.tailhouse ?? '')
    const entrypoint = JSON.parse(instruction('ENTRYPOINT').at(-1) ?? '[]') as string[]
    expect(bin).toBe('dist/engine/main.js')
    expect(entrypoint[0]).toBe('node')
    expect(posix.normalize(entrypoint[1] ?? '')).toBe(bin)
    // The entrypoint's relative path needs the WORKDIR the files are copied to.
    expect(instruction('WORKDIR').at(-1)).toBe('/app')
    expect(instruction('COPY').some((c) => /\s\.?\/?dist\/?$/.test(c))).toBe(true)
  })

  it('runs as a non-root user on Node 20 slim, with its data directory as a volume', () => {
    expect(lastStage).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim/)
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=20$/m)
    expect(instruction('USER').at(-1)).toMatch(/^(?!root$|0$)\S+$/)
    const dataDir = /TAILHOUSE_DATA_DIR=(\S+)/.exec(instruction('ENV').join(' '))?.[1]
    expect(dataDir).toBe('/var/lib/tailhouse')
    expect(instruction('VOLUME').join(' ')).toContain(`"${dataDir}"`)
    expect(mounts(service(compose, ENGINE)).map((m) => m.target)).toContain(dataDir)
  })

  it('keeps local installs and caches out of the build context', () => {
    const ignore = readFileSync(resolve(dockerDir, 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
    for (const p of ['**/node_modules', 'dist', '.cache', '.tailhouse', '.git']) expect(ignore).toContain(p)
  })
})
