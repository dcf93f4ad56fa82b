import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../stack/paths.js'
import { ensurePythonVenv } from '../stack/python-install.js'

/**
 * Runs one of the Python consumers of test/consumers with the stack's venv (installed by `npm run stack --
 * install`; created on first use otherwise) and returns its stdout lines parsed as JSON. Fails with its stderr.
 */
export async function runPython(script: string, args: string[], timeoutMs = 90_000): Promise<unknown[]> {
  const python = await ensurePythonVenv()
  const path = join(repoRoot, 'test/consumers', script)
  const stdout = await new Promise<string>((resolveRun, reject) => {
    execFile(
      python,
      [path, ...args],
      {
        cwd: join(repoRoot, 'test/consumers'),
        // No __pycache__ in the work tree.
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, out, err) => {
        if (error) reject(new Error(`${script} failed: ${error.message}\n${err}`))
        else resolveRun(out)
      },
    )
  })
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown)
}
