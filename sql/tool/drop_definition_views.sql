-- drop_definition_views.sql: removes the views sark-migrate defined in schema sark_migration.
--
-- Requires: nothing. Runs in one transaction.
-- Why: the validation and mapping views read the v2 tables, so `schema down` could not drop those
-- tables while the views exist. They are definitions (re-created from sql/ on the next run that
-- needs them); the ledger tables (applied_files, quarantine, preexisting_rows, copy_progress) stay.
-- Not numbered: it is not part of the definitions a run installs.
DO $$
DECLARE
  v text;
BEGIN
  -- By name: a view dropped by an earlier CASCADE in this loop is then simply skipped.
  FOR v IN
    SELECT c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'sark_migration' AND c.relkind = 'v'
  LOOP
    EXECUTE format('DROP VIEW IF EXISTS sark_migration.%I CASCADE', v);
  END LOOP;
  -- The definition files that created them are no longer installed: forget their hashes, so the
  -- next run that needs them applies them again instead of trusting the record.
  IF to_regclass('sark_migration.applied_files') IS NOT NULL THEN
    DELETE FROM sark_migration.applied_files
     WHERE path LIKE 'sql/mapping/%' OR path LIKE 'sql/validate/%' OR path ~ '^sql/sync/0' OR path ~ '^sql/tool/00[34]';
  END IF;
END
$$;
