-- 010_begin_run.sql
--
-- What:     opens a run of the copy (sark_migration.runs): records the snapshot and row counts it
--           starts from, so that 011 .. 022 are counted in it and 029 can mark it complete. When
--           the last complete run is still current (nothing written to the v1 or v2 tables since
--           it began, definitions unchanged), it opens none and says so: noop = true, and the
--           steps after it write nothing (the CLI skips them).
-- Requires: sql/tool, sql/mapping installed.
-- Runs:     in a transaction of its own, before 011.
SELECT run_id, noop, reason FROM sark_migration.begin_run();
