-- 022_delete_vanished.sql
--
-- What:     deletes the v2 rows this migration wrote whose v1 row has since been deleted,
--           capabilities first. Rows that were in v2 before the migration (preexisting_rows) and
--           resources still referenced by another capability are kept (counted in "kept").
-- Requires: 020, 021.
-- Runs:     in a transaction of its own (or with 020/021).
SELECT * FROM sark_migration.delete_vanished();
