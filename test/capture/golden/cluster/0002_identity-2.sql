INSERT INTO tailhouse.identity (id) SELECT generateUUIDv4()
WHERE (
    SELECT count()
    FROM tailhouse.identity
) = 0
