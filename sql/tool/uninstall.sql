-- uninstall.sql: removes what sark-migrate put in the database, so that the database is as SARK's
-- own code knows it: the schema sark_migration (the mapping, validation views, sync functions and
-- the ledgers) and sark_seed, sark_bench (seed and bench helpers); with
-- SET sark_migration.drop_pgmigrations = 'on' also node-pg-migrate's ledger public.pgmigrations
-- (what `sark-migrate uninstall` does; `schema down` keeps it: it records 001-005). alembic_version
-- always stays: it is SARK's.
--
-- Why: the tool's views read the v2 tables, so SARK's own Alembic downgrade() (a plain DROP TABLE)
-- fails while they exist; and `schema down --to 005` should leave v1 as it was.
-- Keep the ledgers: SET sark_migration.keep_ledgers = 'on' first; then the tables of
-- sark_migration (quarantine, preexisting_rows, runs, run_notes, copy_progress, sync_log, sync_failures,
-- reverse_unrepresentable, reverse_inferred, applied_files) and their sequences stay, and only its
-- views and functions go (applied_files then forgets the definition files: none is installed).
-- Refused while a sync trigger exists (v1 or v2 writes would call functions that are gone): turn
-- the sync off first (sark-migrate sync --rollback at cutover, then sync --disable).
-- Requires: nothing. Runs in one transaction. Not numbered: never part of an install.
--   psql -X -v ON_ERROR_STOP=1 -1 -f sql/tool/uninstall.sql
DO $uninstall$
DECLARE
  keep    boolean := COALESCE(current_setting('sark_migration.keep_ledgers', true), '') IN ('on', 'true', '1');
  ledger  boolean := COALESCE(current_setting('sark_migration.drop_pgmigrations', true), '') IN ('on', 'true', '1');
  o       record;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgname LIKE 'sark\_sync\_%' AND NOT tgisinternal) THEN
    RAISE EXCEPTION 'the sync triggers are installed: removing sark_migration now would make every write to the v1 or v2 tables call functions that are gone'
      USING HINT = 'Turn the sync off first: sark-migrate sync --rollback (at cutover), then sark-migrate sync --disable.';
  END IF;

  DROP SCHEMA IF EXISTS sark_seed CASCADE;
  DROP SCHEMA IF EXISTS sark_bench CASCADE;

  IF to_regnamespace('sark_migration') IS NOT NULL THEN
    IF NOT keep THEN
      DROP SCHEMA sark_migration CASCADE;
    ELSE
      -- Views first (CASCADE takes those built on them; a name already gone is skipped), then
      -- every function and procedure.
      FOR o IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_catalog.pg_class c
                WHERE c.relnamespace = 'sark_migration'::regnamespace AND c.relkind IN ('v', 'm') LOOP
        IF to_regclass(o.rel::text) IS NOT NULL THEN
          EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE o.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, o.rel);
        END IF;
      END LOOP;
      FOR o IN SELECT p.oid::regprocedure AS fn, p.prokind FROM pg_catalog.pg_proc p
                WHERE p.pronamespace = 'sark_migration'::regnamespace LOOP
        EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE o.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, o.fn);
      END LOOP;
      IF to_regclass('sark_migration.applied_files') IS NOT NULL THEN
        DELETE FROM sark_migration.applied_files WHERE path LIKE 'sql/%';
      END IF;
    END IF;
  END IF;

  IF ledger AND NOT keep THEN
    DROP TABLE IF EXISTS public.pgmigrations;
  END IF;
END
$uninstall$;
