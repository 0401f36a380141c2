-- 001_create_sync_ledgers.sql
--
-- What:     the ledgers of the zero-downtime sync (Phases 3-4: v1 and v2 both live):
--             sark_migration.sync_log                 every phase move (forward enabled, cutover,
--                                                     rollback, disabled, decommissioned), with when
--                                                     and by whom; the grace period of decommission
--                                                     counts from the latest 'cutover'
--             sark_migration.sync_failures            an application write whose sync failed: the
--                                                     write itself succeeded, the other side is
--                                                     behind for these ids until they are re-applied
--             sark_migration.reverse_unrepresentable  v2 rows that cannot be written back to v1
--                                                     (non-MCP, id not a uuid, value too long, ...)
--             sark_migration.reverse_inferred         values v1 needs that a v2-native row did not
--                                                     carry and the reverse sync inferred (transport)
--             sark_migration.v1_writes                a counter of the application's v1 write
--                                                     statements while the forward sync is on (not the
--                                                     reverse sync's); decommission refuses while it moves
-- Requires: the mapping's 001 (schema sark_migration, table copy_progress).
-- Runs:     in a transaction; idempotent (IF NOT EXISTS, CREATE OR REPLACE); never drops a ledger.

CREATE TABLE IF NOT EXISTS sark_migration.sync_log (
  id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event   text        NOT NULL CHECK (event IN ('forward_enabled', 'forward_disabled', 'cutover',
                                                'rollback', 'decommissioned')),
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text        NOT NULL DEFAULT current_user,
  detail  jsonb       NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE sark_migration.sync_log IS
  'Phase moves of the zero-downtime sync, newest last. The decommission grace period counts from the '
  'latest cutover event. Written by the action files sql/sync/1NN_*.sql.';
COMMENT ON COLUMN sark_migration.sync_log.event IS
  'forward_enabled | forward_disabled | cutover (reverse sync on) | rollback (reverse sync off) | decommissioned';
COMMENT ON COLUMN sark_migration.sync_log.actor IS 'the database role that made the move';
COMMENT ON COLUMN sark_migration.sync_log.detail IS 'free-form context (e.g. {"force": true})';

-- A sequence, not a table: counting must never make two application writes wait for each other,
-- and nextval neither locks nor rolls back.
CREATE SEQUENCE IF NOT EXISTS sark_migration.v1_writes;
COMMENT ON SEQUENCE sark_migration.v1_writes IS
  'Advanced by the forward sync trigger once per v1 write statement of the application (writes made by the '
  'reverse sync are not counted). Its last_value moving means something still writes v1: decommission '
  'refuses then (sql/sync/109, sark-migrate decommission).';

CREATE TABLE IF NOT EXISTS sark_migration.sync_failures (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  direction    text        NOT NULL CHECK (direction IN ('forward', 'reverse')),
  source_table text        NOT NULL,
  ids          text[]      NOT NULL,
  sqlstate     text        NOT NULL,
  message      text        NOT NULL,
  detail       text,
  context      text,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  resolved_at  timestamptz
);
CREATE INDEX IF NOT EXISTS sync_failures_open ON sark_migration.sync_failures (id) WHERE resolved_at IS NULL;
COMMENT ON TABLE sark_migration.sync_failures IS
  'Application writes whose sync to the other side failed. The application''s write succeeded (the '
  'sync never fails it); the rows with these ids are out of step until re-applied: '
  'SELECT * FROM sark_migration.retry_sync_failures() (or data --execute for the forward direction).';
COMMENT ON COLUMN sark_migration.sync_failures.direction IS 'forward = v1 -> v2, reverse = v2 -> v1';
COMMENT ON COLUMN sark_migration.sync_failures.source_table IS 'the table the application wrote';
COMMENT ON COLUMN sark_migration.sync_failures.ids IS 'primary keys (as text) of the rows the failed statement changed';
COMMENT ON COLUMN sark_migration.sync_failures.sqlstate IS 'SQLSTATE of the error (SARK1: a v2 row kept on purpose, see message)';
COMMENT ON COLUMN sark_migration.sync_failures.resolved_at IS 'set when retry_sync_failures() re-applied the ids successfully';

CREATE TABLE IF NOT EXISTS sark_migration.reverse_unrepresentable (
  target_table text        NOT NULL CHECK (target_table IN ('resources', 'capabilities')),
  id           text        NOT NULL,
  reason       text        NOT NULL,
  detail       text        NOT NULL,
  sqlstate     text,
  row_image    jsonb,
  recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (target_table, id)
);
COMMENT ON TABLE sark_migration.reverse_unrepresentable IS
  'v2 rows the reverse sync could not write to v1, with the reason; v1 keeps its last representable '
  'version of the row (or has none). An entry goes away when the row becomes representable or is '
  'deleted in v2. Reported by sync --status; after a rollback to v1 these rows are NOT in v1.';
COMMENT ON COLUMN sark_migration.reverse_unrepresentable.reason IS
  'not_mcp | resource_not_in_v1 | invalid_value | value_too_long | rejected_by_v1 (before ids that are not uuids and output_schema reached v1 too: id_not_uuid, output_schema_not_empty)';
COMMENT ON COLUMN sark_migration.reverse_unrepresentable.row_image IS 'the v2 row (to_jsonb) when it was recorded';

CREATE TABLE IF NOT EXISTS sark_migration.reverse_inferred (
  target_table text        NOT NULL CHECK (target_table IN ('resources', 'capabilities')),
  id           text        NOT NULL,
  column_name  text        NOT NULL,
  value        text,
  reason       text        NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (target_table, id, column_name)
);
COMMENT ON TABLE sark_migration.reverse_inferred IS
  'v1 values the reverse sync inferred for a v2-native row that did not carry them (e.g. transport '
  'from the endpoint''s form when metadata.transport is absent). The row was written to v1 with it.';
