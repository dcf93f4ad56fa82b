CREATE TABLE IF NOT EXISTS tailhouse.changelog ON CLUSTER prod
(
    `ingest_ts` DateTime64(6) DEFAULT now64(6),
    `source` LowCardinality(String),
    `op` Enum8('insert' = 1, 'upsert' = 2, 'delete' = 3, 'retract' = 4),
    `schema_version` UInt32,
    `schema_fingerprint` UInt64,
    `query_id` String,
    `dedup_token` String,
    `payload` String CODEC(ZSTD(1))
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toStartOfHour(ingest_ts)
ORDER BY tuple()
TTL toDateTime(ingest_ts) + toIntervalDay(7)
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000
