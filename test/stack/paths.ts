import { join, resolve } from 'node:path'

/** The repository root (this file is test/stack/paths.ts). */
export const repoRoot = resolve(import.meta.dirname, '..', '..')

/** Downloads and builds, reused across runs; git-ignored. Override with TAILHOUSE_CACHE_DIR. */
export const cacheDir = resolve(process.env.TAILHOUSE_CACHE_DIR ?? join(repoRoot, '.cache'))
