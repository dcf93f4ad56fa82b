import { existsSync } from 'node:fs'
import { ConfigError, StackError } from '../../engine/errors.js'
import { runInstallStep } from './install-step.js'

/** Flags for headless Chromium on a closed network, as root: no sandbox, no GPU, no calls home. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Where Debian's (and most distributions') Chromium package puts its binary. */
const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser']

/** Debian's Chromium, and a font so that text in screenshots is legible on a minimal machine. */
const packages = ['chromium', 'fonts-dejavu-core']

/**
 * Ensures a Chromium binary for the trace UI's screenshot test and returns its path: CHROMIUM_PATH when set, else
 * the distribution's package, installed with apt-get the first time when running as root (as CI does). A test tool
 * never downloads a browser of its own: playwright-core drives this one.
 */
export async function ensureChromium(): Promise<string> {
  const fromEnv = process.env.CHROMIUM_PATH
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ConfigError('CHROMIUM_PATH', `${fromEnv} does not exist`)
    return fromEnv
  }
  const found = candidates.find((path) => existsSync(path))
  if (found) return found
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new StackError(
      'chromium',
      `no Chromium at ${candidates.join(' or ')}: install it (Debian/Ubuntu: sudo apt-get install ${packages.join(' ')}), ` +
        'or set CHROMIUM_PATH to a Chromium or Chrome binary',
    )
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = () =>
    runInstallStep({
      service: 'chromium',
      what: `installing Debian's ${packages.join(' and ')} with apt-get`,
      command: 'apt-get',
      args: ['install', '-y', '--no-install-recommends', ...packages],
      env,
      firstRunOnly: true,
    })
  try {
    await install()
  } catch {
    // A fresh machine may have no package lists yet, or stale ones: read them, then try once more.
    await runInstallStep({
      service: 'chromium',
      what: 'reading package lists (apt-get update)',
      command: 'apt-get',
      args: ['update'],
      env,
    })
    await install()
  }
  const installed = candidates.find((path) => existsSync(path))
  if (!installed)
    throw new StackError(
      'chromium',
      `apt-get installed ${packages.join(' ')} but no binary is at ${candidates.join(' or ')}`,
    )
  return installed
}
