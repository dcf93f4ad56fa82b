-- The changelog: one row per captured source row, block-numbered, in insert order (ORDER BY tuple()).
-- Block number and offset columns must exist from creation: a merge would otherwise collapse every row to its
-- part's minimum block and row identity is lost. Never mutate this table or move partitions into it.
-- schema_fingerprint is cityHash64 of the captured columns' type names, computed in the view per block: the
-- engine decodes a payload by the types it was written with, even after an ALTER MODIFY COLUMN.
CREATE TABLE IF NOT EXISTS {{database}}.changelog {{on_cluster}}
(
    ingest_ts DateTime64(6) DEFAULT now64(6),
    source LowCardinality(String),
    op Enum8('insert' = 1, 'upsert' = 2, 'delete' = 3, 'retract' = 4),
    schema_version UInt32,
    schema_fingerprint UInt64,
    query_id String,
    dedup_token String,
    payload String CODEC(ZSTD(1))
)
ENGINE = {{changelog_engine}}
PARTITION BY toStartOfHour(ingest_ts)
ORDER BY tuple()
TTL toDateTime(ingest_ts) + INTERVAL {{retention_days}} DAY
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1, ttl_only_drop_parts = 1, {{dedup_window_setting}};
