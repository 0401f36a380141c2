-- 102_disable_forward_sync.sql
--
-- What:     turns the forward sync (v1 -> v2) off: drops the sark_sync_forward_* triggers of
--           mcp_servers and mcp_tools. Refused while the reverse sync is on (cutover): v2 writes
--           would keep flowing to v1 but v1 writes would stop reaching v2. To force it anyway (it
--           then drops the reverse triggers too): SET sark_migration.force = 'on' before running.
--           Records 'forward_disabled' in sark_migration.sync_log.
-- Requires: sql/tool 002 (lock_tables); sql/sync 001 .. 004 where the sync was ever enabled.
-- Locks:    ACCESS EXCLUSIVE on mcp_servers and mcp_tools (DROP TRIGGER) for an instant, under
--           lock_timeout (500ms here unless the session has one): re-run on "lock timeout".
-- Runs:     in ONE transaction; idempotent (drops only what exists; nothing when the sync was
--           never installed).
--           psql -X -v ON_ERROR_STOP=1 -f sql/sync/102_disable_forward_sync.sql
BEGIN;
SELECT set_config('lock_timeout', '500ms', true) WHERE current_setting('lock_timeout') = '0';

DO $disable$
DECLARE
  g      record;
  forced boolean := COALESCE(current_setting('sark_migration.force', true), '') IN ('on', 'true', '1');
  n      int := 0;
BEGIN
  -- Never installed (a copy made without the sync): nothing to turn off, so rollback runs it anyway.
  IF to_regclass('sark_migration.sync_triggers') IS NULL THEN
    RAISE NOTICE 'the sync was never installed: nothing to turn off';
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM sark_migration.sync_triggers WHERE direction = 'reverse') THEN
    IF NOT forced THEN
      RAISE EXCEPTION 'the reverse sync is on (cutover): disabling the forward sync now would stop v1 writes from reaching v2'
        USING HINT = 'Roll back the cutover first (sql/sync/104_disable_reverse_sync.sql, sark-migrate sync --rollback), '
                     'or SET sark_migration.force = ''on'' to drop both directions.';
    END IF;
    PERFORM sark_migration.lock_tables('{public.resources,public.capabilities,public.mcp_servers,public.mcp_tools}', 'ACCESS EXCLUSIVE');
    FOR g IN SELECT * FROM sark_migration.sync_triggers WHERE direction = 'reverse' LOOP
      EXECUTE format('DROP TRIGGER %I ON public.%I', g.trigger_name, g.table_name);
    END LOOP;
    INSERT INTO sark_migration.sync_log (event, detail) VALUES ('rollback', '{"forced_by_disable": true}');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM sark_migration.sync_triggers WHERE direction = 'forward') THEN
    RETURN;
  END IF;
  PERFORM sark_migration.lock_tables('{public.mcp_servers,public.mcp_tools}', 'ACCESS EXCLUSIVE');
  FOR g IN SELECT * FROM sark_migration.sync_triggers WHERE direction = 'forward' LOOP
    EXECUTE format('DROP TRIGGER %I ON public.%I', g.trigger_name, g.table_name);
    n := n + 1;
  END LOOP;
  INSERT INTO sark_migration.sync_log (event, detail)
  VALUES ('forward_disabled', jsonb_build_object('triggers_dropped', n, 'force', forced));
END
$disable$;

COMMIT;
