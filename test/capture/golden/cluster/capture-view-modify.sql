ALTER TABLE tailhouse.capture_shop__orders_local ON CLUSTER prod
    (MODIFY QUERY
    SELECT
        'shop.orders_local' AS source,
        if(is_deleted = 1, 'delete', 'upsert') AS op,
        toUInt32(3) AS schema_version,
        cityHash64(toTypeName(id), toTypeName(ver), toTypeName(is_deleted), toTypeName(attrs)) AS schema_fingerprint,
        queryID() AS query_id,
        getSetting('insert_deduplication_token') AS dedup_token,
        formatRow('RowBinary', id, ver, is_deleted, ifNull(toJSONString(attrs), 'null')) AS payload
    FROM shop.orders_local)
