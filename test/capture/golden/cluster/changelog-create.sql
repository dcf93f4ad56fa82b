CREATE TABLE IF NOT EXISTS tailhouse.changelog_shop__orders_local ON CLUSTER prod
(
    `__schema_version` UInt16,
    `__ingest` DateTime64(6) DEFAULT now64(6),
    `__query_id` LowCardinality(String),
    `__op` Enum8('insert' = 1, 'upsert' = 2, 'delete' = 3, 'retract' = 4, 'read' = 5),
    `__drift` String,
    `id` UInt64,
    `ver` UInt32,
    `is_deleted` UInt8,
    `attrs__v3` String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY tuple()
TTL toDateTime(__ingest) + toIntervalDay(7)
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800
COMMENT 'tailhouse changelog of shop.orders_local'
