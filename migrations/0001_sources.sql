-- The source registry: every captured (source, schema_version) with its columns in payload order and the changelog
-- column holding each, so the engine can read any changelog row, also after the source was altered or uncaptured.
-- Each source's changelog table (changelog_<db>__<table>) is created by capture, not here. Identical on every
-- host of a cluster. Read with FINAL: a row is replaced (same key, newer updated_at) when a capture is removed.
CREATE TABLE IF NOT EXISTS {{database}}.sources {{on_cluster}}
(
    source String,
    schema_version UInt32,
    schema_fingerprint UInt64,
    columns String COMMENT 'JSON array of {name, type, field, column} in payload order',
    field_numbers String COMMENT 'JSON: Protobuf field number per column ever captured; dropped ones negative (retired)',
    op_expression String,
    proto_file String,
    created_at DateTime64(3) DEFAULT now64(3),
    removed_at Nullable(DateTime64(3)),
    updated_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = {{registry_engine}}
ORDER BY (source, schema_version);
