-- 001_create_migration_schema.sql
--
-- What:     creates schema sark_migration and the ledger tables of the v1 -> v2 data
--           migration (Phase 2): quarantine, preexisting_rows, copy_progress, runs.
-- Requires: nothing (the v1 and v2 tables are not referenced here).
-- Runs:     in a transaction; idempotent (IF NOT EXISTS); never drops a ledger, so
--           re-running it after a copy keeps everything rollback needs.
--
-- Order: sql/mapping 001 .. 008 define (views, functions; no data is moved, idempotent);
-- sql/data 010 .. 022 migrate, sql/data 030 rolls back. See each file's header.

CREATE SCHEMA IF NOT EXISTS sark_migration;
COMMENT ON SCHEMA sark_migration IS
  'sark-migrate Phase 2: the v1 (mcp_servers/mcp_tools) -> v2 (resources/capabilities) mapping, '
  'its inverse, dirty-data findings and the ledgers of the copy. Never writes v1 tables.';

CREATE SEQUENCE IF NOT EXISTS sark_migration.run_id_seq;
COMMENT ON SEQUENCE sark_migration.run_id_seq IS 'ids of sark_migration.runs and sark_migration.copy_progress runs';

-- Rows held back from the copy, one row per (row, reason). Rewritten from the findings by
-- refresh_quarantine(); the copy anti-joins on (source_table, source_id) = the PK prefix.
CREATE TABLE IF NOT EXISTS sark_migration.quarantine (
  source_table text        NOT NULL CHECK (source_table IN ('mcp_servers', 'mcp_tools')),
  source_id    uuid        NOT NULL,
  reason       text        NOT NULL,
  detail       text        NOT NULL,
  source_row   jsonb,
  found_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_table, source_id, reason)
);
COMMENT ON TABLE sark_migration.quarantine IS
  'v1 rows the copy leaves out, with the reason. Kept in step with sark_migration.findings by '
  'sark_migration.refresh_quarantine(); fix the v1 row as the detail says and re-run the copy.';
COMMENT ON COLUMN sark_migration.quarantine.source_table IS 'mcp_servers or mcp_tools';
COMMENT ON COLUMN sark_migration.quarantine.source_id IS 'primary key of the v1 row';
COMMENT ON COLUMN sark_migration.quarantine.reason IS 'finding code, e.g. no_endpoint, orphan_tool';
COMMENT ON COLUMN sark_migration.quarantine.detail IS 'what is wrong and how to fix it, one sentence';
COMMENT ON COLUMN sark_migration.quarantine.source_row IS
  'the v1 row as found (normalized view, JSON columns as jsonb), for the report; NULL if too large (> 64 kB)';
COMMENT ON COLUMN sark_migration.quarantine.found_at IS 'first time this (row, reason) was found; kept across refreshes';

-- v2 rows that carried one of our ids BEFORE the copy first touched them and were not made by
-- this migration (no "_v1" key in metadata), e.g. from the public Alembic 006 auto-copy.
-- Rollback restores them from row_image. A captured image is never overwritten.
CREATE TABLE IF NOT EXISTS sark_migration.preexisting_rows (
  target_table text        NOT NULL CHECK (target_table IN ('resources', 'capabilities')),
  id           text        NOT NULL,
  row_image    jsonb       NOT NULL,
  captured_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_table, id)
);
COMMENT ON TABLE sark_migration.preexisting_rows IS
  'Images of v2 rows that existed with a migrated id before the copy overwrote them and were not '
  'made by this migration. Written by capture_preexisting() (ON CONFLICT DO NOTHING), read by rollback().';
COMMENT ON COLUMN sark_migration.preexisting_rows.target_table IS 'resources or capabilities';
COMMENT ON COLUMN sark_migration.preexisting_rows.id IS 'v2 primary key (= v1 uuid as text)';
COMMENT ON COLUMN sark_migration.preexisting_rows.row_image IS 'to_jsonb(row) as found; restored with jsonb_populate_record';
COMMENT ON COLUMN sark_migration.preexisting_rows.captured_at IS 'when the image was taken';

-- v2 rows created by the v2 application with ids that are not uuids (SARK's MCP adapter registers
-- 'mcp-stdio-d7aaf3bd' and '<resource id>-<tool name>') reach v1, whose keys are uuids, under
-- sark_migration.v1_id(v2 id), a name-based uuid (003). This is the way back: which v2 id a v1
-- row stands for, so that a later forward sync, a rollback and validation all find the same row.
-- Written by the reverse sync (sql/sync/003) for every such row it writes into v1.
CREATE TABLE IF NOT EXISTS sark_migration.id_map (
  target_table text        NOT NULL CHECK (target_table IN ('resources', 'capabilities')),
  v1_id        uuid        NOT NULL,
  v2_id        text        NOT NULL,
  mapped_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_table, v1_id),
  UNIQUE (target_table, v2_id)
);
COMMENT ON TABLE sark_migration.id_map IS
  'v2 ids that are not uuids and the v1 uuid (v1_id(v2_id)) their row has in mcp_servers / mcp_tools. The '
  'mapping (003) gives such a v1 row its v2 id back.';

-- Keyset progress of a copy, per lane: the v1 key range of a table is split into lanes, key
-- ranges copied side by side on separate connections (copy_lanes() in 007). Each lane resumes
-- after its own last_key; the runner (or copy_batch()) updates it in the same transaction as the
-- batch, so a killed run resumes where each lane's last committed batch ended.
CREATE TABLE IF NOT EXISTS sark_migration.copy_progress (
  target_table text        NOT NULL CHECK (target_table IN ('resources', 'capabilities')),
  run_id       bigint      NOT NULL,
  lane         smallint    NOT NULL DEFAULT 0,
  last_key     uuid,
  range_end    uuid,
  rows_done    bigint      NOT NULL DEFAULT 0,
  started_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  PRIMARY KEY (target_table, run_id, lane)
);
-- A ledger made before lanes existed: one lane per run, the whole key range. Only then altered
-- (an ALTER, even one that changes nothing, would lock the table).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = 'sark_migration.copy_progress'::regclass AND a.attname = 'lane') THEN
    ALTER TABLE sark_migration.copy_progress
      ADD COLUMN lane smallint NOT NULL DEFAULT 0,
      ADD COLUMN range_end uuid,
      DROP CONSTRAINT copy_progress_pkey,
      ADD CONSTRAINT copy_progress_pkey PRIMARY KEY (target_table, run_id, lane);
  END IF;
END
$$;
COMMENT ON TABLE sark_migration.copy_progress IS
  'Keyset progress per target table, run and lane (a v1 key range copied on a connection of its own): '
  'each lane of the unfinished run resumes after its last_key. Written in the same transaction as each batch.';
COMMENT ON COLUMN sark_migration.copy_progress.target_table IS 'resources or capabilities';
COMMENT ON COLUMN sark_migration.copy_progress.run_id IS 'from sequence sark_migration.run_id_seq';
COMMENT ON COLUMN sark_migration.copy_progress.lane IS '0 .. lanes-1, in key order';
COMMENT ON COLUMN sark_migration.copy_progress.last_key IS
  'highest v1 primary key covered by a committed batch; at the start, the key before the lane''s range '
  '(NULL: the lane starts at the first key)';
COMMENT ON COLUMN sark_migration.copy_progress.range_end IS 'last v1 primary key of the lane''s range (NULL: to the end of the table)';
COMMENT ON COLUMN sark_migration.copy_progress.rows_done IS 'v1 rows examined so far (inserted + updated + unchanged)';
COMMENT ON COLUMN sark_migration.copy_progress.started_at IS 'first batch of the run';
COMMENT ON COLUMN sark_migration.copy_progress.updated_at IS 'last committed batch';
COMMENT ON COLUMN sark_migration.copy_progress.finished_at IS 'set by the batch that reached the end of the lane''s range';


-- One row per data --execute pipeline run. It makes a re-run that has nothing to do cheap AND
-- exact: begin_run() reports "noop" only when the last finished run is provably still current,
-- i.e. no row of any table the pipeline reads or writes was inserted, updated or deleted since
-- that run's first snapshot except by the run's own transactions (see 007: why_not_current()).
CREATE TABLE IF NOT EXISTS sark_migration.runs (
  run_id        bigint      PRIMARY KEY DEFAULT nextval('sark_migration.run_id_seq'),
  snapshot      pg_snapshot NOT NULL,
  writer_xids   xid8[]      NOT NULL DEFAULT '{}',
  row_counts    jsonb       NOT NULL,
  begin_counts  jsonb       NOT NULL,
  copied        jsonb       NOT NULL DEFAULT '{}',
  definitions   text        NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
COMMENT ON TABLE sark_migration.runs IS
  'Pipeline runs (begin_run .. finish_run). The last finished run is the watermark that lets a re-run '
  'prove, from tuple xmin and row counts alone, that it has nothing to do.';
COMMENT ON COLUMN sark_migration.runs.run_id IS 'from sequence sark_migration.run_id_seq';
COMMENT ON COLUMN sark_migration.runs.snapshot IS
  'the snapshot begin_run counted in: a tuple whose xmin it cannot see was written after the run began';
COMMENT ON COLUMN sark_migration.runs.writer_xids IS 'transactions of this run that wrote (noted by the step functions in run_notes, folded in by finish_run)';
COMMENT ON COLUMN sark_migration.runs.row_counts IS
  'rows per tracked table at begin_run; finish_run adds the run''s own inserts and deletes (run_notes)';
COMMENT ON COLUMN sark_migration.runs.begin_counts IS 'rows per tracked table at begin_run (as counted, never adjusted)';
COMMENT ON COLUMN sark_migration.runs.copied IS 'per target table: image rows the run''s copy examined (its "unchanged" basis)';
COMMENT ON COLUMN sark_migration.runs.definitions IS 'definitions_hash() at begin_run: other definitions, other images';
COMMENT ON COLUMN sark_migration.runs.started_at IS 'begin_run';
COMMENT ON COLUMN sark_migration.runs.finished_at IS 'finish_run: every step completed; NULL = interrupted or running';

-- What each transaction of the open run wrote, one row per note (note_run, 008), folded into its
-- runs row by finish_run. Appended, never updated: batches of the copy's lanes commit side by side.
-- (Before: every batch updated the run's row, so lanes took turns on it, and writer_xids grew by a
-- transaction per batch, rewritten whole each time: 38,071 of them at 96 % of 10,000,000 tools,
-- where batches had shrunk to a few rows waiting on one another.)
CREATE TABLE IF NOT EXISTS sark_migration.run_notes (
  run_id        bigint NOT NULL,
  xid           xid8   NOT NULL DEFAULT pg_current_xact_id(),
  tbl           text,
  delta         bigint NOT NULL DEFAULT 0,
  copied_target text,
  copied_rows   bigint NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS run_notes_run ON sark_migration.run_notes (run_id);
COMMENT ON TABLE sark_migration.run_notes IS
  'Writes of the open run, one row per step transaction (note_run); finish_run folds them into runs '
  '(row_counts, copied, writer_xids) and deletes them. Rows of an interrupted run go when the next run begins.';

-- The write watermark (008): moved by every write statement to a tracked table but the run's own.
CREATE SEQUENCE IF NOT EXISTS sark_migration.tracked_writes;
COMMENT ON SEQUENCE sark_migration.tracked_writes IS
  'moved by the sark_watermark trigger of each tracked table on every write statement except the copy''s own';
ALTER TABLE sark_migration.runs ADD COLUMN IF NOT EXISTS watermark jsonb;
COMMENT ON COLUMN sark_migration.runs.watermark IS
  'write_watermark() at begin_run: the counter, the triggers and the tables'' catalog identity; NULL when another '
  'transaction held a write lock on a tracked table then (the watermark cannot prove "nothing changed")';
