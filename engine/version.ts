/** The package version, from package.json. */
export { packageVersion as version } from './package-root.js'
