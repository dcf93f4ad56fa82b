ALTER TABLE tailhouse.changelog_shop__orders_local ON CLUSTER prod
    (ADD COLUMN IF NOT EXISTS `attrs__v3` String)
