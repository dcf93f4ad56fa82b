import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runInstallStep } from './install-step.js'
import { cacheDir, repoRoot } from './paths.js'

export const pythonRequirements = join(repoRoot, 'test/stack/python/requirements.txt')

/**
 * Ensures a Python venv under the cache with test/stack/python/requirements.txt installed from PyPI (confluent-kafka
 * with its schema-registry extras, quixstreams, …), re-created when the requirements change. Returns its python.
 * Needs python3 ≥ 3.9 with the venv module.
 */
export async function ensurePythonVenv(): Promise<string> {
  const venv = join(cacheDir, 'python-venv')
  const python = join(venv, 'bin', 'python')
  const marker = join(venv, '.requirements-sha256')
  const digest = createHash('sha256').update(readFileSync(pythonRequirements)).digest('hex')
  if (existsSync(python) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === digest) return python
  rmSync(venv, { recursive: true, force: true })
  const system = process.env.TAILHOUSE_PYTHON ?? 'python3'
  await runInstallStep({
    service: 'python',
    what: `creating a venv with ${system}`,
    command: system,
    args: ['-m', 'venv', venv],
  })
  await runInstallStep({
    service: 'python',
    what: 'installing the Python consumers from PyPI (confluent-kafka, quixstreams, …)',
    command: python,
    args: ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', pythonRequirements],
    firstRunOnly: true,
  })
  writeFileSync(marker, `${digest}\n`)
  return python
}
