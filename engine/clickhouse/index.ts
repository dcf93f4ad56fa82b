export { createClickHouse } from './client-factory.js'
export {
  type ClickHouseOptions,
  clickHouseEnv,
  clickHouseOptionsFromEnv,
  defaultEmbeddedDataDir,
  describeClickHouse,
  validateClickHouseOptions,
} from './options.js'
export { serverVersion } from './server-info.js'
export { translateClickHouseError } from './translate-error.js'
