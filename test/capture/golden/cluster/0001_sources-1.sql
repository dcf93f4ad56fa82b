CREATE TABLE IF NOT EXISTS tailhouse.sources ON CLUSTER prod
(
    `source` String,
    `schema_version` UInt32,
    `schema_fingerprint` UInt64,
    `columns` String COMMENT 'JSON array of {name, type, field, column} in payload order',
    `field_numbers` String COMMENT 'JSON: Protobuf field number per column ever captured; dropped ones negative (retired)',
    `op_expression` String,
    `proto_file` String,
    `created_at` DateTime64(3) DEFAULT now64(3),
    `removed_at` Nullable(DateTime64(3)),
    `updated_at` DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', updated_at)
ORDER BY (source, schema_version)
