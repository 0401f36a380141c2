-- 101_enable_forward_sync.sql
--
-- What:     turns the forward sync (v1 -> v2) on: eight statement-level AFTER triggers calling
--           sark_migration.forward_sync(), with transition tables except for TRUNCATE:
--             sark_sync_forward_servers_insert | _update | _delete | _truncate   ON public.mcp_servers
--             sark_sync_forward_tools_insert   | _update | _delete | _truncate   ON public.mcp_tools
--           (PostgreSQL allows transition tables on single-event triggers only, hence one per event.)
--           From the moment this commits, every v1 write is applied to v2 in the writer's own
--           transaction; run the copy (data --execute) AFTER this, never before, so that no write can
--           fall between the two. Records 'forward_enabled' in sark_migration.sync_log.
-- Requires: sql/sync 001 .. 004 (and the mapping) installed; the v2 tables.
-- Locks:    SHARE ROW EXCLUSIVE on mcp_servers and mcp_tools (CREATE TRIGGER): readers are never
--           blocked; writers wait at most lock_timeout while this waits. Only taken when a trigger
--           is missing. Taken by sark_migration.lock_tables (sql/tool/002): mcp_tools NOWAIT once
--           mcp_servers is held, so an application transaction can never deadlock with this one.
--           lock_timeout is set to 500ms here unless the session already has one; on "lock timeout"
--           or "could not obtain lock" simply run the file again (sark-migrate retries with backoff).
-- Runs:     in ONE transaction; idempotent (creates only missing triggers).
--           psql -X -v ON_ERROR_STOP=1 -f sql/sync/101_enable_forward_sync.sql
BEGIN;
SELECT set_config('lock_timeout', '500ms', true) WHERE current_setting('lock_timeout') = '0';

DO $enable$
DECLARE
  spec    record;
  missing int;
BEGIN
  IF to_regprocedure('sark_migration.forward_sync()') IS NULL THEN
    RAISE EXCEPTION 'sark_migration.forward_sync() is not installed'
      USING HINT = 'Apply sql/sync/001 .. 004 first (sark-migrate sync --enable does).';
  END IF;
  SELECT count(*) INTO missing
  FROM (VALUES ('mcp_servers', 'servers'), ('mcp_tools', 'tools')) t(tbl, short)
  CROSS JOIN (VALUES ('insert'), ('update'), ('delete'), ('truncate')) e(ev)
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                     WHERE g.tgrelid = ('public.' || t.tbl)::regclass
                       AND g.tgname = 'sark_sync_forward_' || t.short || '_' || e.ev);
  IF missing = 0 THEN
    RETURN;
  END IF;
  PERFORM sark_migration.lock_tables('{public.mcp_servers,public.mcp_tools}', 'SHARE ROW EXCLUSIVE');
  FOR spec IN
    SELECT t.tbl, t.short, e.ev, e.ref
    FROM (VALUES ('mcp_servers', 'servers'), ('mcp_tools', 'tools')) t(tbl, short)
    CROSS JOIN (VALUES ('insert', 'REFERENCING NEW TABLE AS new_rows'),
                       ('update', 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'),
                       ('delete', 'REFERENCING OLD TABLE AS old_rows'),
                       ('truncate', '')) e(ev, ref)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                    WHERE g.tgrelid = ('public.' || spec.tbl)::regclass
                      AND g.tgname = 'sark_sync_forward_' || spec.short || '_' || spec.ev) THEN
      EXECUTE format('CREATE TRIGGER %I AFTER %s ON public.%I %s '
                     'FOR EACH STATEMENT EXECUTE FUNCTION sark_migration.forward_sync()',
                     'sark_sync_forward_' || spec.short || '_' || spec.ev, upper(spec.ev), spec.tbl, spec.ref);
      EXECUTE format('COMMENT ON TRIGGER %I ON public.%I IS %L',
                     'sark_sync_forward_' || spec.short || '_' || spec.ev, spec.tbl,
                     'sark-migrate forward sync (v1 -> v2): applies this statement''s rows to v2 through the '
                     'mapping. Remove with sql/sync/102_disable_forward_sync.sql (sark-migrate sync --disable).');
    END IF;
  END LOOP;
  INSERT INTO sark_migration.sync_log (event, detail) VALUES ('forward_enabled', jsonb_build_object('triggers_created', missing));
END
$enable$;

COMMIT;
