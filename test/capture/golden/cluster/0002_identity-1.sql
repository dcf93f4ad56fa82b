CREATE TABLE IF NOT EXISTS tailhouse.identity ON CLUSTER prod
(
    `id` UUID,
    `updated_at` DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', updated_at)
ORDER BY tuple()
