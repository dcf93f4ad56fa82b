CREATE TABLE IF NOT EXISTS tailhouse.migrations ON CLUSTER prod
(
    `name` String,
    `checksum` String,
    `applied_at` DateTime64(3) DEFAULT now64(3),
    `tailhouse_version` String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', applied_at)
ORDER BY name
