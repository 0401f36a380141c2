-- 103_enable_reverse_sync.sql
--
-- What:     the cutover: turns the reverse sync (v2 -> v1) on, so that both application versions can
--           write (blue-green) and a rollback to v1 loses nothing. Eight statement-level AFTER triggers
--           calling sark_migration.reverse_sync():
--             sark_sync_reverse_resources_insert    | _update | _delete | _truncate   ON public.resources
--             sark_sync_reverse_capabilities_insert | _update | _delete | _truncate   ON public.capabilities
--           (a cutover made before the _truncate triggers existed gets them when this is run again)
--           Refused unless the forward sync is on, the copy has completed AFTER the forward sync was
--           enabled, and no forward sync failure is open (otherwise v2 could miss v1 writes). Records 'cutover' in sark_migration.sync_log: the
--           decommission grace period counts from it.
-- Requires: sql/sync 001 .. 004 installed (003 generated for this database).
-- Locks:    SHARE ROW EXCLUSIVE on resources and capabilities (readers never blocked), only when a
--           trigger is missing; lock_timeout 2s unless the session has one: re-run on "lock timeout".
-- Runs:     in ONE transaction; idempotent. psql -X -v ON_ERROR_STOP=1 -f sql/sync/103_enable_reverse_sync.sql
BEGIN;
SELECT set_config('lock_timeout', '500ms', true) WHERE current_setting('lock_timeout') = '0';

DO $cutover$
DECLARE
  spec    record;
  missing int;
BEGIN
  IF to_regprocedure('sark_migration.reverse_sync()') IS NULL
     OR to_regprocedure('sark_migration.reverse_upsert_servers(text[])') IS NULL THEN
    RAISE EXCEPTION 'the reverse sync functions are not installed'
      USING HINT = 'Apply sql/sync/001 .. 004 after schema up and the mapping (sark-migrate sync --cutover does).';
  END IF;
  SELECT count(*) INTO missing
  FROM (VALUES ('resources'), ('capabilities')) t(tbl)
  CROSS JOIN (VALUES ('insert'), ('update'), ('delete'), ('truncate')) e(ev)
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                     WHERE g.tgrelid = ('public.' || t.tbl)::regclass
                       AND g.tgname = 'sark_sync_reverse_' || t.tbl || '_' || e.ev);
  IF missing = 0 THEN
    RETURN;
  END IF;
  IF (SELECT count(*) FROM sark_migration.sync_triggers WHERE direction = 'forward') < 6 THEN
    RAISE EXCEPTION 'the forward sync is not on: v1 writes would not reach v2 during the cutover'
      USING HINT = 'Enable it first (sql/sync/101_enable_forward_sync.sql, sark-migrate sync --enable).';
  END IF;
  IF NOT sark_migration.copy_completed() THEN
    RAISE EXCEPTION 'the copy has not completed: v2 does not hold all v1 rows yet'
      USING HINT = 'Run the copy to its end (sark-migrate data --execute --batch-size N).';
  END IF;
  IF EXISTS (SELECT 1
               FROM (SELECT DISTINCT ON (p.target_table) p.started_at
                       FROM sark_migration.copy_progress p ORDER BY p.target_table, p.run_id DESC) newest
              WHERE newest.started_at < (SELECT max(l.at) FROM sark_migration.sync_log l WHERE l.event = 'forward_enabled')) THEN
    RAISE EXCEPTION 'the newest copy ran before the forward sync was enabled: v1 writes made in between are not in v2'
      USING HINT = 'Run the copy once more (sark-migrate data --execute --batch-size 1000); it writes only what changed.';
  END IF;
  IF EXISTS (SELECT 1 FROM sark_migration.sync_failures WHERE direction = 'forward' AND resolved_at IS NULL) THEN
    RAISE EXCEPTION 'open forward sync failures: v2 is missing some v1 writes'
      USING HINT = 'SELECT * FROM sark_migration.retry_sync_failures(); then look at sark_migration.sync_issues.';
  END IF;
  PERFORM sark_migration.lock_tables('{public.resources,public.capabilities}', 'SHARE ROW EXCLUSIVE');
  FOR spec IN
    SELECT t.tbl, e.ev, e.ref
    FROM (VALUES ('resources'), ('capabilities')) t(tbl)
    CROSS JOIN (VALUES ('insert', 'REFERENCING NEW TABLE AS new_rows'),
                       ('update', 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'),
                       ('delete', 'REFERENCING OLD TABLE AS old_rows'),
                       ('truncate', '')) e(ev, ref)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                    WHERE g.tgrelid = ('public.' || spec.tbl)::regclass
                      AND g.tgname = 'sark_sync_reverse_' || spec.tbl || '_' || spec.ev) THEN
      EXECUTE format('CREATE TRIGGER %I AFTER %s ON public.%I %s '
                     'FOR EACH STATEMENT EXECUTE FUNCTION sark_migration.reverse_sync()',
                     'sark_sync_reverse_' || spec.tbl || '_' || spec.ev, upper(spec.ev), spec.tbl, spec.ref);
      EXECUTE format('COMMENT ON TRIGGER %I ON public.%I IS %L',
                     'sark_sync_reverse_' || spec.tbl || '_' || spec.ev, spec.tbl,
                     'sark-migrate reverse sync (v2 -> v1): writes this statement''s rows back to v1. Remove with '
                     'sql/sync/104_disable_reverse_sync.sql (sark-migrate sync --rollback).');
    END IF;
  END LOOP;
  INSERT INTO sark_migration.sync_log (event, detail) VALUES ('cutover', jsonb_build_object('triggers_created', missing));
END
$cutover$;

COMMIT;
