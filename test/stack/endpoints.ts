/** Where the stack's services answer. Shared by the tests, the demo and the benchmarks. */
export interface StackEndpoints {
  /** Kafka bootstrap, `host:port`. */
  kafkaBootstrap: string
  /** OTLP/HTTP base URL (traces go to `/v1/traces`). */
  otlpEndpoint: string
  /** Jaeger query API base URL. */
  jaegerQueryUrl: string
  /** Zipkin base URL: its UI at `/zipkin/`, its collector at `/api/v2/spans`, its query API at `/api/v2/`. */
  zipkinUrl: string
  /** Schema registry (Confluent REST API) base URL, e.g. Apicurio's `http://127.0.0.1:<port>/apis/ccompat/v7`. */
  schemaRegistryUrl: string
  /** A ClickHouse server's HTTP URL, when the stack runs one (testcontainers, or CLICKHOUSE_URL). Unset: embedded. */
  clickhouseUrl?: string | undefined
}

/** The environment variables that point the stack at services that are already running. */
export const stackEnv = {
  kafkaBootstrap: 'KAFKA_BOOTSTRAP',
  otlpEndpoint: 'OTLP_ENDPOINT',
  jaegerQueryUrl: 'JAEGER_QUERY_URL',
  zipkinUrl: 'ZIPKIN_URL',
  clickhouseUrl: 'CLICKHOUSE_URL',
  schemaRegistryUrl: 'SCHEMA_REGISTRY_URL',
  provider: 'TAILHOUSE_STACK',
} as const
