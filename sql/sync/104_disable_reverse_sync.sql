-- 104_disable_reverse_sync.sql
--
-- What:     rolls the cutover back: drops the sark_sync_reverse_* triggers of resources and
--           capabilities. The forward sync stays on. Nothing has to be copied back: while the
--           reverse sync was on, every v2 write was written to v1 in the writer's own transaction
--           (except the rows listed in sark_migration.reverse_unrepresentable, which exist in v2
--           only). Records 'rollback' in sark_migration.sync_log.
-- Requires: sql/sync 001 .. 004 installed.
-- Locks:    ACCESS EXCLUSIVE on resources and capabilities (DROP TRIGGER) for an instant, under
--           lock_timeout (500ms here unless the session has one): re-run on "lock timeout".
-- Runs:     in ONE transaction; idempotent. psql -X -v ON_ERROR_STOP=1 -f sql/sync/104_disable_reverse_sync.sql
BEGIN;
SELECT set_config('lock_timeout', '500ms', true) WHERE current_setting('lock_timeout') = '0';

DO $rollback$
DECLARE
  g record;
  n int := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM sark_migration.sync_triggers WHERE direction = 'reverse') THEN
    RETURN;
  END IF;
  PERFORM sark_migration.lock_tables('{public.resources,public.capabilities}', 'ACCESS EXCLUSIVE');
  FOR g IN SELECT * FROM sark_migration.sync_triggers WHERE direction = 'reverse' LOOP
    EXECUTE format('DROP TRIGGER %I ON public.%I', g.trigger_name, g.table_name);
    n := n + 1;
  END LOOP;
  INSERT INTO sark_migration.sync_log (event, detail) VALUES ('rollback', jsonb_build_object('triggers_dropped', n));
END
$rollback$;

COMMIT;
