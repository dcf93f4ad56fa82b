import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { StackError } from '../../engine/errors.js'

const run = promisify(execFile)

/** PEM files, each holding one thing: a certificate, or its unencrypted PKCS#8 key. */
export interface CertificateFiles {
  cert: string
  key: string
}

/** What the secured local broker and the tests use, all signed by one throwaway CA made for this run. */
export interface TestCertificates {
  /** The CA certificate: the bundle a client trusts (`kafka.tls.caFile`). */
  ca: string
  /** The broker's: subject alternative names IP 127.0.0.1 and DNS localhost. */
  broker: CertificateFiles
  /** A client certificate for mutual TLS, CN `tailhouse-mtls` (the broker maps it to principal User:tailhouse-mtls). */
  client: CertificateFiles
  /** A valid certificate of the same CA for another host (`wrong.example`), to prove hostname verification. */
  wrongHost: CertificateFiles
  /** Key and certificate chain in one file each, the form Kafka's PEM keystore reads. */
  brokerKeystore: string
  wrongHostKeystore: string
}

export const mtlsPrincipal = 'tailhouse-mtls'

/**
 * Generates a CA and the certificates above with `openssl` into `dir`. Keys are RSA 2048 (every TLS stack takes
 * them), valid for two days: they live as long as one stack run.
 */
export async function generateTestCertificates(dir: string): Promise<TestCertificates> {
  mkdirSync(dir, { recursive: true })
  const path = (name: string) => join(dir, name)
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-noenc', '-days', '2'], {
    '-keyout': path('ca.key'),
    '-out': path('ca.pem'),
    '-subj': '/CN=tailhouse test CA',
  })
  const issue = async (name: string, subject: string, altNames: string | undefined) => {
    const files = { cert: path(`${name}.pem`), key: path(`${name}.key`) }
    await openssl(['req', '-newkey', 'rsa:2048', '-noenc'], {
      '-keyout': files.key,
      '-out': path(`${name}.csr`),
      '-subj': subject,
    })
    const extensions = path(`${name}.ext`)
    writeFileSync(
      extensions,
      [
        'basicConstraints = CA:FALSE',
        'keyUsage = digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth, clientAuth',
        ...(altNames ? [`subjectAltName = ${altNames}`] : []),
      ].join('\n'),
    )
    await openssl(['x509', '-req', '-days', '2', '-CAcreateserial'], {
      '-in': path(`${name}.csr`),
      '-CA': path('ca.pem'),
      '-CAkey': path('ca.key'),
      '-out': files.cert,
      '-extfile': extensions,
    })
    return files
  }
  const broker = await issue('broker', '/CN=localhost', 'IP:127.0.0.1, DNS:localhost')
  const client = await issue('client', `/CN=${mtlsPrincipal}`, undefined)
  const wrongHost = await issue('wrong-host', '/CN=wrong.example', 'DNS:wrong.example')
  const keystore = (files: CertificateFiles, name: string) => {
    const file = path(name)
    writeFileSync(file, `${readFileSync(files.key, 'utf8')}${readFileSync(files.cert, 'utf8')}`)
    return file
  }
  return {
    ca: path('ca.pem'),
    broker,
    client,
    wrongHost,
    brokerKeystore: keystore(broker, 'broker.keystore.pem'),
    wrongHostKeystore: keystore(wrongHost, 'wrong-host.keystore.pem'),
  }
}

async function openssl(args: string[], options: Record<string, string>): Promise<void> {
  const argv = [...args, ...Object.entries(options).flat()]
  try {
    await run('openssl', argv)
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim()
    throw new StackError('kafka', `openssl ${args[0]} failed: ${stderr || (error as Error).message}`, {
      cause: error,
    })
  }
}
