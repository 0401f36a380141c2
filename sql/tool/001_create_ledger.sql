-- 001_create_ledger.sql: the tool's own bookkeeping schema.
--
-- Requires: nothing. Runs in one transaction; safe to run any number of times.
-- Every SQL file sark-migrate applies is recorded here with its SHA-256, so a file edited after it
-- was applied is reported as drift instead of being silently re-applied or ignored.

CREATE SCHEMA IF NOT EXISTS sark_migration;
COMMENT ON SCHEMA sark_migration IS
  'sark-migrate: the v1 -> v2 mapping, its ledgers and validation views. Dropping it loses the rollback ledger.';

CREATE TABLE IF NOT EXISTS sark_migration.applied_files (
  path        text PRIMARY KEY,
  sha256      text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  applied_by  text NOT NULL DEFAULT current_user
);
COMMENT ON TABLE sark_migration.applied_files IS
  'Every SQL file (schema migrations and sql/**) applied by sark-migrate, with the hash it had then.';
