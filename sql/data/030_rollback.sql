-- 030_rollback.sql
--
-- What:     rolls the data migration back: deletes the v2 rows this migration wrote, restores the
--           v2 rows it overwrote, keeps every v2-native row and every migrated resource that a
--           remaining capability references. See sark_migration.rollback_plan first (dry-run):
--             SELECT * FROM sark_migration.rollback_plan;
-- Requires: sql/mapping 001 .. 008 installed; the zero-downtime sync disabled (rollback locks
--           resources and capabilities against writes while it runs).
-- Runs:     in ONE transaction (all or nothing); psql: psql -1 -v ON_ERROR_STOP=1 -f 030_rollback.sql
SELECT * FROM sark_migration.rollback();
