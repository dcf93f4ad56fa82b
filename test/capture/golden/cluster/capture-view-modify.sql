ALTER TABLE tailhouse.capture_shop__orders_local ON CLUSTER prod
    (MODIFY QUERY
    SELECT
        toUInt16(3) AS __schema_version,
        queryID() AS __query_id,
        if(is_deleted = 1, 'delete', 'upsert') AS __op,
        if(cityHash64(toTypeName(__source.id), toTypeName(__source.ver), toTypeName(__source.is_deleted), toTypeName(__source.attrs)) = 1234567890, '', concat(toFixedString(reinterpretAsString(cityHash64(toTypeName(__source.id), toTypeName(__source.ver), toTypeName(__source.is_deleted), toTypeName(__source.attrs))), 8), formatRow('RowBinary', __source.id, __source.ver, __source.is_deleted, ifNull(toJSONString(__source.attrs), 'null')))) AS __drift,
        if(cityHash64(toTypeName(__source.id), toTypeName(__source.ver), toTypeName(__source.is_deleted), toTypeName(__source.attrs)) = 1234567890, CAST(__source.id, 'UInt64'), defaultValueOfTypeName('UInt64')) AS id,
        if(cityHash64(toTypeName(__source.id), toTypeName(__source.ver), toTypeName(__source.is_deleted), toTypeName(__source.attrs)) = 1234567890, CAST(__source.ver, 'UInt32'), defaultValueOfTypeName('UInt32')) AS ver,
        if(cityHash64(toTypeName(__source.id), toTypeName(__source.ver), toTypeName(__source.is_deleted), toTypeName(__source.attrs)) = 1234567890, CAST(__source.is_deleted, 'UInt8'), defaultValueOfTypeName('UInt8')) AS is_deleted,
        if(cityHash64(toTypeName(__source.id), toTypeName(__source.ver), toTypeName(__source.is_deleted), toTypeName(__source.attrs)) = 1234567890, CAST(ifNull(toJSONString(__source.attrs), 'null'), 'String'), defaultValueOfTypeName('String')) AS attrs__v3
    FROM shop.orders_local AS __source)
