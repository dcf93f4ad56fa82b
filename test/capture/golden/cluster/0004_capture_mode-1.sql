ALTER TABLE tailhouse.sources ON CLUSTER prod
    (ADD COLUMN IF NOT EXISTS `capture_mode` LowCardinality(String) DEFAULT 'view')
