-- The identity of this capture database's changelogs: one random UUID, made when the database is first migrated.
-- The engine binds its checkpoint, its SQLite state and its transactional id to it, so that a checkpoint of other
-- changelogs (another project, a re-created capture database) is never taken for this one. Identical on every host
-- of a cluster.
CREATE TABLE IF NOT EXISTS {{database}}.identity {{on_cluster}}
(
    id UUID,
    updated_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = {{registry_engine}}
ORDER BY tuple();

INSERT INTO {{database}}.identity (id)
SELECT generateUUIDv4() WHERE (SELECT count() FROM {{database}}.identity) = 0;
