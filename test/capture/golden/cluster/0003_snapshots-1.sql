CREATE TABLE IF NOT EXISTS tailhouse.snapshots ON CLUSTER prod
(
    `engine_id` String,
    `source` String,
    `id` UInt64 COMMENT 'unique per engine and source; its order is the order snapshots are published in',
    `kind` Enum8('initial' = 1, 'on-demand' = 2),
    `where_clause` String COMMENT 'SQL condition on the source rows; empty: every row',
    `rows_per_second` UInt32 COMMENT 'publishing throttle; 0: none',
    `status` Enum8('requested' = 1, 'building' = 2, 'publishing' = 3, 'done' = 4, 'failed' = 5),
    `hold_block` Int64 COMMENT 'changelog rows up to this block go before the snapshot, later ones after; -1: all after',
    `rows` UInt64 COMMENT 'rows in the snapshot, once built',
    `last_block` UInt64 COMMENT 'cursor of the last snapshot row, once built',
    `last_offset` UInt64,
    `published` UInt64 COMMENT 'rows committed to Kafka, updated while publishing',
    `detail` String COMMENT 'why it failed, or what the build found',
    `requested_at` DateTime64(3) DEFAULT now64(3),
    `updated_at` DateTime64(6) DEFAULT now64(6)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', updated_at)
ORDER BY (engine_id, source, id)
