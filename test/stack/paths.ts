import { join, resolve } from 'node:path'
import { packageRoot } from '../../engine/package-root.js'

/** The repository root, whether this runs from source (test/stack/) or compiled (dist/test/stack/, npm run bench). */
export const repoRoot = packageRoot

/** Downloads and builds, reused across runs; git-ignored. Override with TAILHOUSE_CACHE_DIR. */
export const cacheDir = resolve(process.env.TAILHOUSE_CACHE_DIR ?? join(repoRoot, '.cache'))
