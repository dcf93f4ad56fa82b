DROP TABLE IF EXISTS tailhouse.changelog_shop__orders_local ON CLUSTER prod SYNC
