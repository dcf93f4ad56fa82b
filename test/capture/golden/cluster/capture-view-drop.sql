DROP VIEW IF EXISTS tailhouse.capture_shop__orders_local ON CLUSTER prod SYNC
