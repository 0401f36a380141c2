-- 005_migration_ledger.sql: the two schema ledgers of a SARK database, kept by psql exactly as
-- `schema up` / `schema down` keep them:
--   public.pgmigrations    node-pg-migrate's: which of migrations/NNN_*.sql are applied
--   public.alembic_version SARK's Alembic: its head, always the newest applied migration (the
--                          migration ids are SARK's revision ids, 001_initial ... 007_federation)
--
-- Why: a DBA who applies 006/007 by hand must leave the ledgers the CLI leaves, or the CLI
-- (status, validate, schema down) and SARK's own `alembic` misread the database afterwards.
-- Use:      in the same transaction as the migration's Up half (record) or Down half (forget):
--             sed '/^-- Down Migration/,$d' migrations/006_protocol_adapters.sql |
--               psql -X -1 -v ON_ERROR_STOP=1 -f - -c "SELECT sark_migration.record_migration('006_protocol_adapters')"
--           Adopting a database SARK's Alembic built (at 005_gateway_audit): record 001 .. 005
--           without running them, as `schema up` does.
-- Requires: 001. Runs in a transaction; idempotent (CREATE OR REPLACE).

-- SARK's Alembic reads its head here; `schema up` and `schema down` call this after every move.
CREATE OR REPLACE FUNCTION sark_migration.set_alembic_head()
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
  head text;
BEGIN
  IF to_regclass('public.pgmigrations') IS NOT NULL THEN
    -- node-pg-migrate's own order of the ledger
    SELECT m.name INTO head FROM public.pgmigrations m ORDER BY m.run_on DESC, m.id DESC LIMIT 1;
  END IF;
  -- The table as SARK's Alembic creates it.
  CREATE TABLE IF NOT EXISTS public.alembic_version (
    version_num varchar(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
  );
  DELETE FROM public.alembic_version WHERE version_num IS DISTINCT FROM head;
  IF head IS NOT NULL THEN
    INSERT INTO public.alembic_version (version_num) VALUES (head) ON CONFLICT DO NOTHING;
  END IF;
  RETURN head;
END
$$;
COMMENT ON FUNCTION sark_migration.set_alembic_head() IS
  'Sets public.alembic_version to the newest migration in public.pgmigrations (creating the table as Alembic '
  'does); empties it when none is applied. Returns the head.';

CREATE OR REPLACE FUNCTION sark_migration.record_migration(migration text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
  newer text;
BEGIN
  IF migration IS NULL OR migration !~ '^\d{3}_\w+$' THEN
    RAISE EXCEPTION 'sark_migration: % is not a migration id', coalesce(quote_literal(migration), 'NULL')
      USING HINT = 'Give the file name without .sql, e.g. 006_protocol_adapters.';
  END IF;
  -- The table as node-pg-migrate creates it; it later checks the recorded names against its files.
  CREATE TABLE IF NOT EXISTS public.pgmigrations (
    id     SERIAL PRIMARY KEY,
    name   varchar(255) NOT NULL,
    run_on timestamp NOT NULL
  );
  IF NOT EXISTS (SELECT 1 FROM public.pgmigrations m WHERE m.name = migration) THEN
    SELECT max(m.name) INTO newer FROM public.pgmigrations m WHERE m.name > migration;
    IF newer IS NOT NULL THEN
      RAISE EXCEPTION 'sark_migration: % cannot be recorded after %, which is newer', migration, newer
        USING HINT = 'Migrations are applied in the order of their numbers.';
    END IF;
    INSERT INTO public.pgmigrations (name, run_on) VALUES (migration, now());
  END IF;
  RETURN sark_migration.set_alembic_head();
END
$$;
COMMENT ON FUNCTION sark_migration.record_migration(text) IS
  'Records a migration as applied, as node-pg-migrate does after running it (a no-op when recorded), and moves '
  'alembic_version to the head. Call it in the transaction that ran the migration''s Up half.';

CREATE OR REPLACE FUNCTION sark_migration.forget_migration(migration text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
  newer text;
BEGIN
  IF to_regclass('public.pgmigrations') IS NULL THEN
    RAISE EXCEPTION 'sark_migration: this database has no public.pgmigrations, so % was never recorded', migration;
  END IF;
  SELECT max(m.name) INTO newer FROM public.pgmigrations m WHERE m.name > migration;
  IF newer IS NOT NULL THEN
    RAISE EXCEPTION 'sark_migration: % cannot be reverted while % is applied', migration, newer
      USING HINT = 'Revert migrations newest first.';
  END IF;
  DELETE FROM public.pgmigrations m WHERE m.name = migration;
  RETURN sark_migration.set_alembic_head();
END
$$;
COMMENT ON FUNCTION sark_migration.forget_migration(text) IS
  'Removes a migration from public.pgmigrations, as node-pg-migrate does after running its Down half, and moves '
  'alembic_version back to the head. Call it in the transaction that ran the Down half.';
