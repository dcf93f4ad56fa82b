ALTER TABLE shop.orders_local ON CLUSTER prod
    (MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1)
