-- 010_begin_run.sql
--
-- What:     opens a run of the copy (sark_migration.runs): records the snapshot and row counts it
--           starts from, so that 011 .. 022 are counted in it and 029 can mark it complete. When
--           the last complete run is still current (nothing written to the v1 or v2 tables since
--           it began, definitions unchanged), it opens none and says so: noop = true, and the
--           steps after it write nothing (the CLI skips them). First it puts the write watermark's
--           trigger (sark_watermark) on every tracked table where it is missing: with it, that
--           answer takes no time whatever the size of the tables.
-- Requires: sql/tool, sql/mapping installed.
-- Locks:    SHARE ROW EXCLUSIVE on mcp_servers, mcp_tools, resources, capabilities for an instant
--           (CREATE TRIGGER), only where the trigger is missing; under lock_timeout (500ms here
--           unless the session has one): re-run on "lock timeout".
-- Runs:     in a transaction of its own, before 011.
SELECT set_config('lock_timeout', '500ms', false) WHERE current_setting('lock_timeout') = '0';
SELECT sark_migration.install_write_watermark() AS watermark_triggers_created;
SELECT run_id, noop, reason FROM sark_migration.begin_run();
