-- How each registered version of a source is captured: 'view' (a capture view into the source's changelog table)
-- or 'stream' (no view, no changelog: the engine reads the source table itself with SELECT … STREAM). A source keeps
-- its mode: migrate refuses to switch it (README, "Stream mode"). Versions registered before this column existed
-- were captured by a view.
ALTER TABLE {{database}}.sources {{on_cluster}}
    ADD COLUMN IF NOT EXISTS capture_mode LowCardinality(String) DEFAULT 'view';
