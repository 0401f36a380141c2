-- 008_copy_functions.sql
--
-- What:     defines (does not run) the functions that run the copy. In run order:
--             sark_migration.begin_run()                    opens a run; says "noop" when the last
--                                                           finished run is provably still current
--             sark_migration.refresh_quarantine()           -> 011_refresh_quarantine.sql
--             sark_migration.copy_resources(after, batch_size, range_end)
--             sark_migration.copy_capabilities(after, batch_size, range_end)
--               both: copy_range(target, ...), a keyset range written through write_* (007),
--               without a ledger
--             sark_migration.copy_run(target) / copy_lanes(target, run_id, lanes) /
--               copy_batch(target, run_id, batch_size, lane, lock_source)
--                                                           resumable keyset batches + progress,
--                                                           in key ranges copied side by side
--             sark_migration.copy_table(target)             -> 020, 021: copy_run + copy_lanes +
--                                                           copy_batch, in one statement per lane
--             sark_migration.delete_vanished()              -> 022_delete_vanished.sql
--             sark_migration.finish_run(run_id)             marks the run complete
--             sark_migration.finish_open_run()              -> 029_finish_run.sql
--             sark_migration.copy_completed()               the 'copied' phase of `status`
--           Every row is written by write_resources / write_capabilities (007): the same upsert
--           the forward sync uses, which saves a foreign v2 row before overwriting it and does not
--           touch a row equal to its image; created_at / updated_at are the v1 values.
--           psql runs the same steps as the CLI (sql/data 010 .. 029), so it leaves the same ledgers:
--           a run (begin_run .. finish_run) and its copy progress.
-- Requires: 001 .. 007; public.resources, public.capabilities.
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE). None of these functions writes v1.

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- A table just loaded or truncated has no usable statistics, and the planner then picks plans
-- made for a few rows (a nested loop over a million rows). The steps that read whole v2 tables
-- call this first. ANALYZE samples (about 30,000 rows), so it costs well under a second.
-- It never waits for its lock (SHARE UPDATE EXCLUSIVE, as VACUUM's): right after a big load,
-- autovacuum holds exactly that on the table, for minutes, while it vacuums and analyzes it, and
-- PostgreSQL cancels it for a waiting request only after deadlock_timeout (1 s), longer than the
-- tool waits for any lock (lock_timeout): the ANALYZE then failed the whole step at its end. A
-- table someone is vacuuming or analyzing is planned with the statistics it has; the callers do
-- not depend on them for correctness (delete_vanished allows hash joins only).
CREATE OR REPLACE FUNCTION sark_migration.analyze_if_stale(rel regclass)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
  tuples   real;
  modified bigint;
BEGIN
  SELECT c.reltuples INTO tuples FROM pg_catalog.pg_class c WHERE c.oid = rel;
  SELECT s.n_mod_since_analyze INTO modified FROM pg_catalog.pg_stat_all_tables s WHERE s.relid = rel;
  IF tuples < 0 OR COALESCE(modified, 0) > 0.2 * GREATEST(tuples, 1000) THEN
    BEGIN
      -- Held to the end of the transaction (a subtransaction that commits hands its locks up).
      EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE NOWAIT', rel);
    EXCEPTION WHEN lock_not_available THEN
      RAISE NOTICE 'sark_migration: % is being vacuumed or analyzed by another session (autovacuum, usually): planning with its current statistics', rel;
      RETURN false;
    END;
    EXECUTE format('ANALYZE %s', rel);
    RETURN true;
  END IF;
  RETURN false;
END
$$;
COMMENT ON FUNCTION sark_migration.analyze_if_stale(regclass) IS
  'ANALYZEs rel when it was never analyzed since a load/TRUNCATE or more than 20% of it changed since, unless '
  'another session (autovacuum) holds its SHARE UPDATE EXCLUSIVE lock: never waits. true if it analyzed.';

-- ---------------------------------------------------------------------------------------------
-- Runs: an exact "nothing to do" without computing a single image
-- ---------------------------------------------------------------------------------------------
-- A finished run leaves the database at a fixpoint of the pipeline (re-running every step would
-- write nothing). That stays true exactly as long as no row of a table the pipeline reads or
-- writes has been inserted, updated or deleted since, other than by the run itself:
--   * inserted/updated: a tuple written after the run began has an xmin the run's first snapshot
--     (begin_run) cannot see: xmin >= the snapshot's xmax (age(xmin) <= age(xmax)), or xmin in its
--     list of transactions then in progress. The run's own transactions (writer_xids) are excepted.
--     (Not "xmin >= snapshot xmin": a long transaction anywhere in the cluster holds that back.)
--   * deleted: the row count differs from the count the run left (counted at begin_run in the
--     same snapshot, then adjusted by the run's own inserts and deletes).
-- Tuple xmin survives VACUUM, FREEZE (raw xmin is kept) and CLUSTER; anything that rewrites rows
-- with new xids (dump/restore, pg_repack) only makes the next run do the full work. The 32-bit
-- xmin is only trusted while the run is less than 10^9 transactions old (no wraparound).

CREATE OR REPLACE FUNCTION sark_migration.tracked_tables()
RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$
  SELECT ARRAY['public.mcp_servers', 'public.mcp_tools', 'public.resources', 'public.capabilities',
               'sark_migration.quarantine', 'sark_migration.preexisting_rows']
$$;
COMMENT ON FUNCTION sark_migration.tracked_tables() IS 'Tables whose content determines the result of a pipeline run.';

-- Digest of every view and function in sark_migration: other definitions may mean other images.
CREATE OR REPLACE FUNCTION sark_migration.definitions_hash()
RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT md5(string_agg(d, E'\n' ORDER BY d))
  FROM (SELECT c.oid::regclass::text || ' ' || pg_get_viewdef(c.oid) AS d
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'sark_migration'::regnamespace AND c.relkind IN ('v', 'm')
        UNION ALL
        SELECT p.oid::regprocedure::text || ' ' || p.prosrc || ' ' || COALESCE(array_to_string(p.proconfig, ','), '')
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'sark_migration'::regnamespace) defs
$$;
COMMENT ON FUNCTION sark_migration.definitions_hash() IS 'md5 of the definitions of all views and functions in sark_migration.';

-- Why the tables of a run (tbls) are not as the run left them, or NULL when they are: no tuple
-- written since the run began except by the run's own transactions, row counts as recorded.
CREATE OR REPLACE FUNCTION sark_migration.changed_since(r sark_migration.runs, tbls text[])
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  tbl         text;
  n           bigint;
  newer       bigint;
  after_age   integer;
  in_progress xid[];
  own         xid[];
BEGIN
  IF pg_snapshot_xmin(pg_current_snapshot())::text::numeric
     - pg_snapshot_xmax(r.snapshot)::text::numeric > 1000000000 THEN
    RETURN format('run %s is more than 10^9 transactions old', r.run_id);
  END IF;
  after_age := age(xid(pg_snapshot_xmax(r.snapshot)));
  in_progress := ARRAY(SELECT xid(x) FROM pg_snapshot_xip(r.snapshot) AS x);
  own := ARRAY(SELECT xid(x) FROM unnest(r.writer_xids) AS x);
  FOREACH tbl IN ARRAY tbls LOOP
    IF NOT r.row_counts ? tbl THEN
      RETURN format('run %s did not count %s', r.run_id, tbl);
    END IF;
    -- The xid lists go in as literals: a constant array is searched by hash, not element by element.
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE (age(xmin) <= %s OR xmin = ANY (%L::xid[])) '
                   'AND xmin <> ALL (%L::xid[])) FROM %s', after_age, in_progress, own, tbl)
       INTO n, newer;
    IF newer > 0 THEN
      RETURN format('%s rows of %s were written since run %s began', newer, tbl, r.run_id);
    END IF;
    IF n <> (r.row_counts ->> tbl)::bigint THEN
      RETURN format('%s has %s rows, run %s left %s', tbl, n, r.run_id, r.row_counts ->> tbl);
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION sark_migration.changed_since(sark_migration.runs, text[]) IS
  'NULL when none of tbls was written since run r began except by r itself (xmin not visible to r''s first '
  'snapshot, outside r.writer_xids) and their row counts are what r left; otherwise the reason.';

-- Why run r cannot stand for the present whatever the data: other definitions, or a cutover
-- prerequisite it predates. NULL when only the data can tell.
CREATE OR REPLACE FUNCTION sark_migration.why_run_outdated(r sark_migration.runs)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  enabled_at timestamptz;
BEGIN
  IF r.definitions IS DISTINCT FROM sark_migration.definitions_hash() THEN
    RETURN format('the sark_migration definitions changed since run %s', r.run_id);
  END IF;
  -- The cutover needs a copy that began after the forward sync was enabled (sql/sync): a run that
  -- began before is not current for that purpose, so the next data --execute makes a new one.
  IF to_regclass('sark_migration.sync_log') IS NOT NULL THEN
    EXECUTE $q$SELECT max(at) FROM sark_migration.sync_log WHERE event = 'forward_enabled'$q$ INTO enabled_at;
    IF enabled_at > r.started_at THEN
      RETURN format('the forward sync was enabled after run %s began', r.run_id);
    END IF;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION sark_migration.why_run_outdated(sark_migration.runs) IS
  'Why run r is outdated whatever the data (definitions changed, the forward sync enabled after it began); NULL if not.';

-- Why the last finished run is not current any more, or NULL if it is.
CREATE OR REPLACE FUNCTION sark_migration.why_not_current()
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  r sark_migration.runs;
BEGIN
  SELECT * INTO r FROM sark_migration.runs WHERE finished_at IS NOT NULL ORDER BY run_id DESC LIMIT 1;
  IF NOT FOUND THEN
    RETURN 'no finished run yet';
  END IF;
  RETURN COALESCE(sark_migration.why_run_outdated(r), sark_migration.changed_since(r, sark_migration.tracked_tables()));
END
$$;
COMMENT ON FUNCTION sark_migration.why_not_current() IS
  'NULL when the last finished run is still current (nothing was written to a tracked table since it began '
  'except by the run itself, definitions unchanged): a re-run would write nothing. Otherwise the reason. '
  'Reads every tracked table once (xmin and count only; no image is computed).';

-- Whether the forward sync (sql/sync) kept v2 in step with v1 for the whole of run r: on before r
-- began, never off since, no forward failure recorded since. Then a v1 row deleted during r had
-- its v2 row deleted by the sync in the same transaction, and the copy's batches, which lock the
-- v1 rows they read, cannot have written a row whose v1 row was already gone.
CREATE OR REPLACE FUNCTION sark_migration.synced_throughout(r sark_migration.runs)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  ok boolean;
BEGIN
  IF to_regclass('sark_migration.sync_log') IS NULL OR to_regclass('sark_migration.sync_failures') IS NULL THEN
    RETURN false;
  END IF;
  EXECUTE $q$
    SELECT EXISTS (SELECT 1 FROM sark_migration.sync_log l WHERE l.event = 'forward_enabled' AND l.at <= $1)
       AND NOT EXISTS (SELECT 1 FROM sark_migration.sync_log l
                        WHERE l.event = 'forward_disabled'
                          AND l.at > (SELECT max(e.at) FROM sark_migration.sync_log e
                                       WHERE e.event = 'forward_enabled' AND e.at <= $1))
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                    WHERE t.tgrelid = 'public.mcp_tools'::regclass AND t.tgname LIKE 'sark_sync_forward%')
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                    WHERE t.tgrelid = 'public.mcp_servers'::regclass AND t.tgname LIKE 'sark_sync_forward%')
       AND NOT EXISTS (SELECT 1 FROM sark_migration.sync_failures f WHERE f.direction = 'forward' AND f.at >= $1)$q$
    INTO ok USING r.started_at;
  RETURN ok;
END
$$;
COMMENT ON FUNCTION sark_migration.synced_throughout(sark_migration.runs) IS
  'true when the forward sync was on from before run r began until now, without a recorded failure: no v2 row '
  'written during r can have lost its v1 row unnoticed.';

-- Adds this transaction to the open run, with its net row changes per table: a row appended to
-- run_notes (001), folded into the run by finish_run. No shared row is locked: lanes never wait.
CREATE OR REPLACE FUNCTION sark_migration.note_run(tbl text, delta bigint, copied_target text DEFAULT NULL,
                                                   copied_rows bigint DEFAULT 0)
RETURNS void
LANGUAGE sql
AS $$
  INSERT INTO sark_migration.run_notes (run_id, tbl, delta, copied_target, copied_rows)
  SELECT o.run_id, tbl, delta, copied_target, copied_rows
  FROM (SELECT max(r.run_id) AS run_id FROM sark_migration.runs r WHERE r.finished_at IS NULL) o
  WHERE o.run_id IS NOT NULL
$$;
COMMENT ON FUNCTION sark_migration.note_run(text, bigint, text, bigint) IS
  'Called by every step that writes: records the transaction and its net row change in the open run (if any).';

-- ---------------------------------------------------------------------------------------------
-- The write watermark: "nothing changed" without reading a row
-- ---------------------------------------------------------------------------------------------
-- why_not_current() reads every tracked table (xmin and count): 10 s at 10,000,000 tools. This is
-- as exact and reads no row: a statement-level trigger (sark_watermark) on every tracked table
-- moves the sequence tracked_writes on each INSERT, UPDATE, DELETE and TRUNCATE, except the
-- run's own (its step functions carry SET sark_migration.run_write = on). ENABLE ALWAYS: it fires
-- under session_replication_role = replica too. begin_run records the counter, the triggers, the
-- sequence and the tables' catalog identity (a rewrite, TRUNCATE or ALTER TABLE changes their
-- relfilenode or pg_class row); a later begin_run is a no-op when all of it is as the last
-- finished run began. One gap is closed by refusing the watermark: a transaction that wrote and
-- moved the counter before begin_run read it, but commits after the run's reads, is a change the
-- run never saw; it still holds its write lock on the table when begin_run looks, so a run that
-- begins while another transaction holds one records no watermark, and the next re-run takes
-- the exact path that reads the tables (why_not_current).

-- Never fails the application's write: if the counter cannot move, the watermark no longer
-- matches... unless nothing moves it at all, so a failure here also drops every watermark.
CREATE OR REPLACE FUNCTION sark_migration.count_tracked_write()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER                              -- the application's role needs no grant on our schema
SET search_path = pg_catalog
AS $$
BEGIN
  IF current_setting('sark_migration.run_write', true) IS DISTINCT FROM 'on' THEN
    BEGIN
      PERFORM nextval('sark_migration.tracked_writes');
    EXCEPTION WHEN others THEN
      RAISE WARNING 'sark_migration: could not count a write to % (%); the next copy reads every row', TG_TABLE_NAME, SQLERRM;
      PERFORM set_config('sark_migration.watermark_broken', 'on', false);
    END;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION sark_migration.count_tracked_write() IS
  'Trigger sark_watermark on every tracked table: moves sark_migration.tracked_writes once per write statement '
  '(not for the copy''s own, which set sark_migration.run_write). Never raises.';

-- DDL on the application's tables (CREATE TRIGGER: SHARE ROW EXCLUSIVE for an instant); run it
-- under a short lock_timeout and retry on 55P03, as the CLI does.
CREATE OR REPLACE FUNCTION sark_migration.install_write_watermark()
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  tbl     text;
  missing regclass[];
  created integer := 0;
BEGIN
  missing := ARRAY(SELECT t::regclass FROM unnest(sark_migration.tracked_tables()) AS t
                    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                                       WHERE g.tgrelid = t::regclass AND g.tgname = 'sark_watermark' AND g.tgenabled = 'A'));
  IF cardinality(missing) = 0 THEN
    RETURN 0;
  END IF;
  -- Every table first, without waiting while holding one (lock_tables): CREATE TRIGGER table by
  -- table waited for the next table while holding the last, and an application transaction
  -- writing them in the other order (a server, then its tools, each with the sync's v2 write) was
  -- cancelled as the deadlock's victim (seen under the writer of test/load.test.ts).
  PERFORM sark_migration.lock_tables(missing, 'SHARE ROW EXCLUSIVE');
  FOREACH tbl IN ARRAY missing::text[] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS sark_watermark ON %s', tbl);
    EXECUTE format('CREATE TRIGGER sark_watermark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION sark_migration.count_tracked_write()', tbl);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER sark_watermark', tbl);
    created := created + 1;
  END LOOP;
  RETURN created;
END
$$;
COMMENT ON FUNCTION sark_migration.install_write_watermark() IS
  'Creates the sark_watermark trigger on every tracked table where it is missing or not ENABLE ALWAYS; returns '
  'how many it created. Takes SHARE ROW EXCLUSIVE on those tables for an instant.';

-- What begin_run records, and what a later begin_run compares: NULL when it cannot prove anything.
CREATE OR REPLACE FUNCTION sark_migration.write_watermark()
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
  counter bigint;
  mark    jsonb;
BEGIN
  IF to_regclass('sark_migration.tracked_writes') IS NULL
     OR current_setting('sark_migration.watermark_broken', true) = 'on' THEN
    RETURN NULL;
  END IF;
  -- The counter first, then the locks: a writer that moved it before this read holds its lock
  -- until it ends, so it is seen below unless it already committed (and the run will read it).
  SELECT s.last_value + CASE WHEN s.is_called THEN 0 ELSE -1 END INTO counter FROM sark_migration.tracked_writes s;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
              WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                AND l.relation = ANY (SELECT to_regclass(t)::oid FROM unnest(sark_migration.tracked_tables()) t)
                AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
                AND l.pid <> pg_backend_pid()) THEN
    RETURN NULL;
  END IF;
  SELECT jsonb_build_object(
           'writes', counter,
           'sequence', 'sark_migration.tracked_writes'::regclass::oid,
           'tables', jsonb_agg(jsonb_build_array(c.oid, c.relfilenode, c.xmin::text, t.oid) ORDER BY c.oid))
    INTO mark
    FROM unnest(sark_migration.tracked_tables()) AS tt(name)
    JOIN pg_catalog.pg_class c ON c.oid = to_regclass(tt.name)
    LEFT JOIN pg_catalog.pg_trigger t ON t.tgrelid = c.oid AND t.tgname = 'sark_watermark' AND t.tgenabled = 'A';
  -- Every table must carry its trigger, or writes to it are not counted.
  IF jsonb_path_exists(mark, '$.tables[*][3] ? (@ == null)') OR jsonb_array_length(mark -> 'tables') <> cardinality(sark_migration.tracked_tables()) THEN
    RETURN NULL;
  END IF;
  RETURN mark;
END
$$;
COMMENT ON FUNCTION sark_migration.write_watermark() IS
  'The write counter, the sequence, and per tracked table its oid, relfilenode, pg_class xmin and sark_watermark '
  'trigger; NULL when a trigger is missing or another transaction holds a write lock on a tracked table.';

CREATE OR REPLACE FUNCTION sark_migration.begin_run()
RETURNS TABLE (run_id bigint, noop boolean, reason text, copied jsonb)
LANGUAGE plpgsql
AS $$
DECLARE
  why  text;
  last sark_migration.runs;
  mark jsonb;
BEGIN
  -- Read before anything else: the watermark of this run, if it begins.
  mark := sark_migration.write_watermark();
  SELECT * INTO last FROM sark_migration.runs r WHERE r.finished_at IS NOT NULL ORDER BY r.run_id DESC LIMIT 1;
  -- Without reading a row: nothing was written to a tracked table since the last run began.
  IF FOUND AND mark IS NOT NULL AND last.watermark = mark AND sark_migration.why_run_outdated(last) IS NULL THEN
    RETURN QUERY SELECT last.run_id, true,
      format('nothing changed since run %s began (no write since, by the write watermark)', last.run_id), last.copied;
    RETURN;
  END IF;
  -- The exact fallback (why_not_current, on the run already read): reads every tracked table.
  why := CASE WHEN last.run_id IS NULL THEN 'no finished run yet'
              ELSE COALESCE(sark_migration.why_run_outdated(last),
                            sark_migration.changed_since(last, sark_migration.tracked_tables())) END;
  IF why IS NULL THEN
    RETURN QUERY SELECT last.run_id, true, format('nothing changed since run %s began', last.run_id), last.copied;
    RETURN;
  END IF;

  -- One statement: the snapshot whose xmin is recorded is the one the counts are read in.
  INSERT INTO sark_migration.runs AS r (snapshot, row_counts, begin_counts, definitions, watermark)
  SELECT pg_current_snapshot(), c.counts, c.counts, sark_migration.definitions_hash(), mark
  FROM (SELECT jsonb_build_object(
                 'public.mcp_servers',              (SELECT count(*) FROM public.mcp_servers),
                 'public.mcp_tools',                (SELECT count(*) FROM public.mcp_tools),
                 'public.resources',                (SELECT count(*) FROM public.resources),
                 'public.capabilities',             (SELECT count(*) FROM public.capabilities),
                 'sark_migration.quarantine',       (SELECT count(*) FROM sark_migration.quarantine),
                 'sark_migration.preexisting_rows', (SELECT count(*) FROM sark_migration.preexisting_rows))
               AS counts) c
  RETURNING * INTO last;
  -- Notes of interrupted runs: only the newest open run is ever finished.
  DELETE FROM sark_migration.run_notes n WHERE n.run_id < last.run_id;
  RETURN QUERY SELECT last.run_id, false, why, '{}'::jsonb;
END
$$;
COMMENT ON FUNCTION sark_migration.begin_run() IS
  'Starts a pipeline run and returns its id, or, when the last finished run is still current, returns that '
  'run with noop = true (skip every step: they would write nothing) and what it copied. reason says why a '
  'run is needed (or that none is). Call it in its own transaction, before refresh_quarantine.';

CREATE OR REPLACE FUNCTION sark_migration.finish_run(run bigint)
RETURNS boolean
LANGUAGE sql
AS $$
  -- The run's notes, folded in: row counts as the run left them (a table whose net change is 0
  -- keeps its count), image rows examined per target, and the transactions that wrote.
  WITH notes AS (
    DELETE FROM sark_migration.run_notes n WHERE n.run_id = run RETURNING n.*
  ), counts AS (
    SELECT n.tbl, sum(n.delta) AS delta FROM notes n WHERE n.tbl IS NOT NULL GROUP BY n.tbl HAVING sum(n.delta) <> 0
  ), copied AS (
    SELECT n.copied_target AS target, sum(n.copied_rows) AS n FROM notes n WHERE n.copied_target IS NOT NULL GROUP BY 1
  )
  UPDATE sark_migration.runs r
     SET finished_at = clock_timestamp(),
         row_counts  = r.row_counts || COALESCE((SELECT jsonb_object_agg(c.tbl, COALESCE((r.row_counts ->> c.tbl)::bigint, 0) + c.delta)
                                                 FROM counts c), '{}'::jsonb),
         copied      = r.copied || COALESCE((SELECT jsonb_object_agg(c.target, COALESCE((r.copied ->> c.target)::bigint, 0) + c.n)
                                             FROM copied c), '{}'::jsonb),
         writer_xids = r.writer_xids || ARRAY(SELECT DISTINCT n.xid FROM notes n ORDER BY 1)
   WHERE r.run_id = run AND r.finished_at IS NULL
  RETURNING true
$$;
COMMENT ON FUNCTION sark_migration.finish_run(bigint) IS
  'Marks a run complete once every step (quarantine, both copies to done, delete_vanished) committed. '
  'Only a finished run can make a later begin_run say noop.';

-- Each write saves the foreign v2 rows it is about to overwrite itself (write_*, 007).
DROP FUNCTION IF EXISTS sark_migration.capture_preexisting();

-- ---------------------------------------------------------------------------------------------
-- 011: the quarantine ledger := the quarantine findings
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION sark_migration.refresh_quarantine()
RETURNS TABLE (added bigint, removed bigint, held_servers bigint, held_tools bigint)
LANGUAGE plpgsql
SET sark_migration.run_write = 'on'                -- the run's own writes do not move the watermark
-- Hash joins over a million ids fit in memory instead of spilling in batches.
SET work_mem = '128MB'
AS $$
DECLARE
  rewritten bigint;
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS sark_quarantine_now (
    source_table text, source_id uuid, reason text, detail text
  ) ON COMMIT DROP;
  TRUNCATE pg_temp.sark_quarantine_now;

  -- One row per (row, reason): a reason found in several columns is one entry.
  INSERT INTO pg_temp.sark_quarantine_now
  SELECT f.source_table, f.source_id, f.finding, string_agg(f.message, ' ' ORDER BY f.message)
  FROM (SELECT * FROM sark_migration.findings_servers_quarantine
        UNION ALL
        SELECT * FROM sark_migration.findings_tools_quarantine) f
  GROUP BY f.source_table, f.source_id, f.finding;

  DELETE FROM sark_migration.quarantine q
  WHERE NOT EXISTS (SELECT 1 FROM pg_temp.sark_quarantine_now n
                     WHERE (n.source_table, n.source_id, n.reason) = (q.source_table, q.source_id, q.reason));
  GET DIAGNOSTICS removed = ROW_COUNT;

  WITH ins AS (
    INSERT INTO sark_migration.quarantine AS q (source_table, source_id, reason, detail, source_row)
    SELECT n.source_table, n.source_id, n.reason, n.detail,
           CASE WHEN pg_column_size(img.j) <= 65536 THEN img.j END
    FROM pg_temp.sark_quarantine_now n
    LEFT JOIN LATERAL (
      SELECT to_jsonb(s) AS j FROM sark_migration.v1_servers s
       WHERE n.source_table = 'mcp_servers' AND s.id = n.source_id
      UNION ALL
      SELECT to_jsonb(t) FROM sark_migration.v1_tools t
       WHERE n.source_table = 'mcp_tools' AND t.id = n.source_id
    ) img ON true
    ON CONFLICT (source_table, source_id, reason) DO UPDATE
      SET detail = EXCLUDED.detail, source_row = EXCLUDED.source_row
      WHERE (q.detail, q.source_row) IS DISTINCT FROM (EXCLUDED.detail, EXCLUDED.source_row)
    RETURNING (q.xmax = 0) AS was_inserted
  )
  SELECT count(*) FILTER (WHERE was_inserted), count(*) FILTER (WHERE NOT was_inserted)
    INTO added, rewritten
  FROM ins;

  IF added > 0 OR removed > 0 OR rewritten > 0 THEN
    PERFORM sark_migration.note_run('sark_migration.quarantine', added - removed);
  END IF;
  -- The image views anti-join the quarantine: plans cached by every session (the sync triggers in
  -- the application's) must see its new size, not the one they were made with. ANALYZE gives the
  -- planner the size and makes every cached plan that reads the table be made again.
  IF added > 0 OR removed > 0 THEN
    ANALYZE sark_migration.quarantine;
  END IF;

  SELECT count(DISTINCT q.source_id) FILTER (WHERE q.source_table = 'mcp_servers'),
         count(DISTINCT q.source_id) FILTER (WHERE q.source_table = 'mcp_tools')
    INTO held_servers, held_tools
  FROM sark_migration.quarantine q;

  TRUNCATE pg_temp.sark_quarantine_now;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.refresh_quarantine() IS
  'Rewrites sark_migration.quarantine from the quarantine findings: adds new entries, drops entries '
  'that are no longer dirty, keeps found_at of the others. Returns entries added/removed and rows held.';

-- ---------------------------------------------------------------------------------------------
-- 020 / 021: the copy, one keyset batch per call
-- ---------------------------------------------------------------------------------------------
-- copy_range(target, after, batch_size, range_end, lock_source) writes, through write_resources /
-- write_capabilities (007), the v1 rows whose key is in (after, upto], upto being the batch_size-th
-- key after "after", at most range_end (after NULL: from the start; batch_size NULL: to range_end in
-- one statement; range_end NULL: to the end of the table).
-- lock_source (while the forward sync is on): the batch's v1 rows are read FOR SHARE NOWAIT first,
-- and written by the next statements, which see their latest committed version (READ COMMITTED:
-- a new snapshot per statement). An application write to one of them waits until the batch
-- commits, and its trigger then applies the newer version; so a batch can never write an image
-- older than one the sync wrote. NOWAIT: when the application holds one of the rows, the batch
-- fails at once (55P03) and releases what it locked; the caller retries after a short backoff, so
-- the copy never waits while holding row locks and cannot deadlock with the application. With
-- batch_size NULL and lock_source (an offline copy), the whole v1 table is locked in SHARE mode
-- instead: every application write then waits for the whole statement.
-- Returns last_key (pass it as "after" next time), done (no v1 key in (last_key, range_end]), and
-- inserted / updated / unchanged / captured as write_* counts them.
DROP FUNCTION IF EXISTS sark_migration.copy_resources(uuid, integer);
DROP FUNCTION IF EXISTS sark_migration.copy_capabilities(uuid, integer);
CREATE OR REPLACE FUNCTION sark_migration.copy_range(target text, after uuid, batch_size integer, range_end uuid,
                                                     lock_source boolean DEFAULT false)
RETURNS TABLE (last_key uuid, done boolean, inserted bigint, updated bigint, unchanged bigint, captured bigint)
LANGUAGE plpgsql
SET sark_migration.run_write = 'on'
AS $$
DECLARE
  source text;
  ids    uuid[];
  w      record;
BEGIN
  IF batch_size IS NOT NULL AND batch_size < 1 THEN
    RAISE EXCEPTION 'sark_migration: batch_size must be at least 1, got %', batch_size;
  END IF;
  IF target NOT IN ('resources', 'capabilities') THEN
    RAISE EXCEPTION 'sark_migration: copy target must be resources or capabilities, got %', target;
  END IF;
  source := CASE target WHEN 'resources' THEN 'public.mcp_servers' ELSE 'public.mcp_tools' END;
  IF lock_source AND batch_size IS NULL THEN
    EXECUTE format('LOCK TABLE %s IN SHARE MODE', source);
  END IF;
  -- The batch's keys, and one more: if it exists, the range is not done. Built for the bounds it
  -- has (EXECUTE plans it with their values): a cached plan for "(after IS NULL OR id > after)"
  -- cannot start the index scan at "after" and reads the lane from its beginning in every batch.
  EXECUTE format('SELECT ARRAY(SELECT id FROM %s WHERE true%s%s ORDER BY id LIMIT $3%s)', source,
                 CASE WHEN after IS NOT NULL THEN ' AND id > $1' END,
                 CASE WHEN range_end IS NOT NULL THEN ' AND id <= $2' END,
                 CASE WHEN lock_source AND batch_size IS NOT NULL THEN ' FOR SHARE NOWAIT' END)
     INTO ids USING after, range_end, batch_size + 1;
  done := batch_size IS NULL OR cardinality(ids) <= batch_size;
  IF NOT done THEN
    ids := ids[1:batch_size];
  END IF;

  IF cardinality(ids) = 0 THEN                                -- nothing in (after, range_end]
    RETURN QUERY SELECT after, true, 0::bigint, 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  last_key := ids[cardinality(ids)];

  IF target = 'resources' THEN
    SELECT * INTO w FROM sark_migration.write_resources(ids);
  ELSE
    SELECT * INTO w FROM sark_migration.write_capabilities(ids);
  END IF;
  inserted := w.inserted; updated := w.updated; unchanged := w.unchanged; captured := w.captured;

  PERFORM sark_migration.note_run('public.' || target, inserted, target, inserted + updated + unchanged);
  IF captured > 0 THEN
    PERFORM sark_migration.note_run('sark_migration.preexisting_rows', captured);
  END IF;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.copy_range(text, uuid, integer, uuid, boolean) IS
  'Copies the v1 rows of target (resources | capabilities) with key in (after, next batch_size keys], at most '
  'range_end (NULLs: from the start / to range_end / to the end) through write_resources / write_capabilities; '
  'lock_source: FOR SHARE NOWAIT on those v1 rows first (SHARE on the table when batch_size is NULL). Returns '
  'last_key (pass as after next time), done, inserted, updated, unchanged, captured. Commit per call.';

CREATE OR REPLACE FUNCTION sark_migration.copy_resources(after uuid DEFAULT NULL, batch_size integer DEFAULT NULL,
                                                        range_end uuid DEFAULT NULL)
RETURNS TABLE (last_key uuid, done boolean, inserted bigint, updated bigint, unchanged bigint)
LANGUAGE sql
AS $$
  SELECT c.last_key, c.done, c.inserted, c.updated, c.unchanged
  FROM sark_migration.copy_range('resources', after, batch_size, range_end) c
$$;
COMMENT ON FUNCTION sark_migration.copy_resources(uuid, integer, uuid) IS
  'copy_range(''resources'', ...) without locks or progress ledger: copies mcp_servers -> resources, by default '
  'all of it in one statement. psql''s 020 uses copy_table, which records its run.';

CREATE OR REPLACE FUNCTION sark_migration.copy_capabilities(after uuid DEFAULT NULL, batch_size integer DEFAULT NULL,
                                                           range_end uuid DEFAULT NULL)
RETURNS TABLE (last_key uuid, done boolean, inserted bigint, updated bigint, unchanged bigint)
LANGUAGE sql
AS $$
  SELECT c.last_key, c.done, c.inserted, c.updated, c.unchanged
  FROM sark_migration.copy_range('capabilities', after, batch_size, range_end) c
$$;
COMMENT ON FUNCTION sark_migration.copy_capabilities(uuid, integer, uuid) IS
  'copy_range(''capabilities'', ...) without locks or progress ledger: copies mcp_tools -> capabilities. Run after '
  'copy_resources has finished (capabilities reference resources). psql''s 021 uses copy_table.';

-- ---------------------------------------------------------------------------------------------
-- Resumable batching: progress recorded in the batch's own transaction, per lane
-- ---------------------------------------------------------------------------------------------
-- A run of a table's copy is split into lanes: consecutive v1 key ranges, each copied by its own
-- connection, side by side. Why: on an index-heavy table one INSERT ... SELECT is bound by one
-- core (the image, the heap, five indexes), and a GIN pending list is merged by whichever inserter
-- fills it while that inserter stops inserting; with two lanes the other lane goes on (an
-- inserter that finds the merge taken skips it). Measured by `bench`: two lanes load 100,000
-- servers / 1,000,000 tools in 27-28 s on 2 cores, one lane with a merger beside it in 37-41 s.
-- The lanes of a run are planned once, by copy_lanes(); a resumed run keeps its lanes.
CREATE OR REPLACE FUNCTION sark_migration.copy_run(target text)
RETURNS bigint
LANGUAGE sql
AS $$
  SELECT COALESCE(
    (SELECT max(p.run_id) FROM sark_migration.copy_progress p
      WHERE p.target_table = target AND p.finished_at IS NULL),
    nextval('sark_migration.run_id_seq'))
$$;
COMMENT ON FUNCTION sark_migration.copy_run(text) IS
  'Copy run id to use for target (resources | capabilities): the unfinished one if a previous copy was '
  'interrupted (each of its lanes resumes after its last_key), else a new one.';

-- The keys that end every lane but the last when a table's keys are split into "lanes" ranges of
-- equal row counts, whatever the keys' distribution (random v4 uuids or time-ordered ones): lane
-- k - 1 ends at the (total * k / lanes)-th key, so lanes hold floor(total / lanes) keys or one
-- more. Fewer ends (fewer lanes) when the table has fewer keys than lanes. Reads only.
CREATE OR REPLACE FUNCTION sark_migration.lane_ends(source regclass, lanes integer)
RETURNS uuid[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  total bigint;
  ends  uuid[] := '{}';
  b     uuid;
BEGIN
  IF lanes > 1 THEN
    EXECUTE format('SELECT count(*) FROM %s', source) INTO total;
    FOR k IN 1 .. lanes - 1 LOOP
      EXECUTE format('SELECT id FROM %s ORDER BY id OFFSET $1 LIMIT 1', source) INTO b
        USING GREATEST(total * k / lanes - 1, 0);
      IF b IS NOT NULL AND (cardinality(ends) = 0 OR b > ends[cardinality(ends)]) THEN
        ends := ends || b;
      END IF;
    END LOOP;
  END IF;
  RETURN ends;
END
$$;
COMMENT ON FUNCTION sark_migration.lane_ends(regclass, integer) IS
  'The keys (id, uuid) that end each of the first lanes - 1 of "lanes" consecutive key ranges of equal row counts '
  'of source; lane k covers (ends[k], ends[k + 1]] (1-based, open at both outer ends). Used by copy_lanes.';

CREATE OR REPLACE FUNCTION sark_migration.copy_lanes(target text, run bigint, lanes integer DEFAULT 1)
RETURNS TABLE (lane smallint, last_key uuid, range_end uuid, rows_done bigint, finished boolean)
LANGUAGE plpgsql
AS $$
DECLARE
  bounds uuid[];
BEGIN
  IF target NOT IN ('resources', 'capabilities') THEN
    RAISE EXCEPTION 'sark_migration: copy target must be resources or capabilities, got %', target;
  END IF;
  IF lanes IS NULL OR lanes < 1 OR lanes > 64 THEN
    RAISE EXCEPTION 'sark_migration: lanes must be between 1 and 64, got %', lanes;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM sark_migration.copy_progress p WHERE p.target_table = target AND p.run_id = run) THEN
    -- Keys written later fall into some lane all the same: the ranges cover every possible key.
    bounds := sark_migration.lane_ends(CASE target WHEN 'resources' THEN 'public.mcp_servers'
                                                   ELSE 'public.mcp_tools' END::regclass, lanes);
    -- Lane k - 1 covers (bounds[k - 1], bounds[k]]: NULL beyond either end of the array, an open end.
    INSERT INTO sark_migration.copy_progress (target_table, run_id, lane, last_key, range_end)
    SELECT target, run, (k - 1)::smallint, bounds[k - 1], bounds[k]
    FROM generate_series(1, cardinality(bounds) + 1) AS k
    ON CONFLICT ON CONSTRAINT copy_progress_pkey DO NOTHING;
  END IF;

  RETURN QUERY
  SELECT p.lane, p.last_key, p.range_end, p.rows_done, p.finished_at IS NOT NULL
  FROM sark_migration.copy_progress p
  WHERE p.target_table = target AND p.run_id = run
  ORDER BY p.lane;
END
$$;
COMMENT ON FUNCTION sark_migration.copy_lanes(text, bigint, integer) IS
  'The lanes of a copy run: plans them on first call (the v1 keys split into "lanes" ranges of equal row '
  'counts, fewer when the table has fewer keys), afterwards returns them as planned, whatever lanes says. '
  'Copy each lane with copy_batch(target, run, batch_size, lane), each on a connection of its own.';

DROP FUNCTION IF EXISTS sark_migration.copy_batch(text, bigint, integer);
DROP FUNCTION IF EXISTS sark_migration.copy_batch(text, bigint, integer, integer);
CREATE OR REPLACE FUNCTION sark_migration.copy_batch(target text, run bigint, batch_size integer DEFAULT NULL,
                                                     lane integer DEFAULT 0, lock_source boolean DEFAULT false)
RETURNS TABLE (last_key uuid, done boolean, inserted bigint, updated bigint, unchanged bigint, captured bigint,
               rows_done bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  progress sark_migration.copy_progress;
  result   record;
BEGIN
  IF target NOT IN ('resources', 'capabilities') THEN
    RAISE EXCEPTION 'sark_migration: copy target must be resources or capabilities, got %', target;
  END IF;

  -- A run never planned with copy_lanes is one lane over the whole table (psql: just call this).
  IF lane = 0 THEN
    INSERT INTO sark_migration.copy_progress (target_table, run_id, lane)
    VALUES (target, run, 0)
    ON CONFLICT ON CONSTRAINT copy_progress_pkey DO NOTHING;
  END IF;

  SELECT * INTO progress FROM sark_migration.copy_progress p
   WHERE p.target_table = target AND p.run_id = run AND p.lane = copy_batch.lane
   FOR UPDATE;                                   -- two runners on one lane wait, never interleave
  IF NOT FOUND THEN
    RAISE EXCEPTION 'sark_migration: run % of the % copy has no lane %', run, target, lane
      USING HINT = 'Plan the lanes first: SELECT * FROM sark_migration.copy_lanes(target, run, lanes).';
  END IF;

  IF progress.finished_at IS NOT NULL THEN
    RETURN QUERY SELECT progress.last_key, true, 0::bigint, 0::bigint, 0::bigint, 0::bigint, progress.rows_done;
    RETURN;
  END IF;

  SELECT * INTO result
  FROM sark_migration.copy_range(target, progress.last_key, batch_size, progress.range_end, lock_source);

  UPDATE sark_migration.copy_progress p
     SET last_key    = result.last_key,
         rows_done   = p.rows_done + result.inserted + result.updated + result.unchanged,
         updated_at  = clock_timestamp(),
         finished_at = CASE WHEN result.done THEN clock_timestamp() END
   WHERE p.target_table = target AND p.run_id = run AND p.lane = copy_batch.lane
  RETURNING p.rows_done INTO progress.rows_done;

  RETURN QUERY SELECT result.last_key, result.done, result.inserted, result.updated, result.unchanged,
                      result.captured, progress.rows_done;
END
$$;
COMMENT ON FUNCTION sark_migration.copy_batch(text, bigint, integer, integer, boolean) IS
  'Copies the next keyset batch of one lane of a copy run (after its copy_progress.last_key, up to its '
  'range_end) with copy_range and records the progress in the same transaction: call it in autocommit, one '
  'batch per transaction, until done. batch_size NULL = the rest of the lane in one statement. lock_source: '
  'while the forward sync is on (see copy_range). Lane 0 of a run that copy_lanes never planned is the whole '
  'table. A killed run resumes where each lane''s last committed batch ended.';

-- What psql runs (020, 021): the rest of a table's copy run as one statement per unfinished lane,
-- recorded in copy_progress as `data --execute --offline --jobs 1` records it, so that `status`
-- says 'copied' afterwards and an interrupted run (by hand or by the CLI) is finished, not
-- started again. With the forward sync on, each lane locks its v1 rows in SHARE mode while it
-- runs, as the CLI's offline copy does: the application must be stopped.
CREATE OR REPLACE FUNCTION sark_migration.copy_table(target text)
RETURNS TABLE (run_id bigint, lanes integer, inserted bigint, updated bigint, unchanged bigint, captured bigint,
               rows_done bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  run  bigint := sark_migration.copy_run(target);
  sync boolean := EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                           WHERE t.tgname LIKE 'sark\_sync\_forward%' AND NOT t.tgisinternal);
  l    record;
  b    record;
BEGIN
  run_id := run; lanes := 0; inserted := 0; updated := 0; unchanged := 0; captured := 0; rows_done := 0;
  FOR l IN SELECT * FROM sark_migration.copy_lanes(target, run, 1) LOOP
    lanes := lanes + 1;
    SELECT * INTO b FROM sark_migration.copy_batch(target, run, NULL, l.lane, sync);
    inserted := inserted + b.inserted;
    updated := updated + b.updated;
    unchanged := unchanged + b.unchanged;
    captured := captured + b.captured;
    rows_done := rows_done + b.rows_done;
  END LOOP;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.copy_table(text) IS
  'Copies target (resources | capabilities) to the end in one transaction: every unfinished lane of its copy '
  'run (a new run of one lane, or the interrupted one), through copy_batch, progress recorded. psql''s copy '
  '(020, 021). With the forward sync on, locks the v1 rows (SHARE): for a stopped application only.';

-- The 'copied' phase of `status`. Each copy is a run per target table (copy_run()); the newest
-- run of each is the one that counts, and it is complete when every one of its lanes is: an
-- interrupted re-run means the copy is not complete.
CREATE OR REPLACE FUNCTION sark_migration.copy_completed()
RETURNS boolean
LANGUAGE sql STABLE
AS $$
  SELECT count(*) FILTER (WHERE newest.finished) = 2
  FROM (SELECT p.target_table, bool_and(p.finished_at IS NOT NULL) AS finished
          FROM sark_migration.copy_progress p
         WHERE p.run_id = (SELECT max(q.run_id) FROM sark_migration.copy_progress q
                            WHERE q.target_table = p.target_table)
         GROUP BY p.target_table) AS newest
$$;
COMMENT ON FUNCTION sark_migration.copy_completed() IS
  'true when every lane of the newest copy run of both resources and capabilities has finished '
  '(copy_progress.finished_at).';

-- psql's last step (029): the run that 010 opened is complete once every step committed.
CREATE OR REPLACE FUNCTION sark_migration.finish_open_run()
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  open_run bigint;
BEGIN
  SELECT max(r.run_id) INTO open_run FROM sark_migration.runs r WHERE r.finished_at IS NULL;
  IF open_run IS NULL THEN
    RETURN NULL;                              -- 010 found nothing to do: no run was opened
  END IF;
  IF NOT sark_migration.copy_completed() THEN
    RAISE EXCEPTION 'sark_migration: run % cannot be finished: the copy of resources or capabilities is not complete', open_run
      USING HINT = 'Run sql/data/020_copy_resources.sql and 021_copy_capabilities.sql (they resume), then 022 and this file.';
  END IF;
  PERFORM sark_migration.finish_run(open_run);
  RETURN open_run;
END
$$;
COMMENT ON FUNCTION sark_migration.finish_open_run() IS
  'Finishes the newest unfinished run (begin_run) once both copies are complete; returns its id, or NULL when '
  'none is open. After it, a re-run that finds nothing changed is a no-op without reading an image.';

-- ---------------------------------------------------------------------------------------------
-- 022: v1 rows deleted since an earlier copy
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION sark_migration.delete_vanished()
RETURNS TABLE (target_table text, deleted bigint, kept bigint)
LANGUAGE plpgsql
SET sark_migration.run_write = 'on'
-- The anti-joins on the text of the ids have no index to probe: a nested loop would be quadratic
-- and a merge join sorts a million strings twice, so hash joins only (in memory: work_mem).
SET work_mem = '128MB'
SET enable_nestloop = off
SET enable_mergejoin = off
AS $$
DECLARE
  cap_deleted bigint;
  res_deleted bigint;
  res_kept    bigint;
  open_run    sark_migration.runs;
BEGIN
  -- Shortcut, exact: in a run that began with empty v2 tables, every v2 row was written by this
  -- run from a v1 row that existed then; one can only have vanished if a v1 row was deleted
  -- since the run began, i.e. if the v1 tables changed at all, and the forward sync did not
  -- follow every change (synced_throughout). If not, there is nothing to do.
  SELECT * INTO open_run FROM sark_migration.runs r WHERE r.finished_at IS NULL ORDER BY r.run_id DESC LIMIT 1;
  IF FOUND
     AND (open_run.begin_counts ->> 'public.resources')::bigint = 0
     AND (open_run.begin_counts ->> 'public.capabilities')::bigint = 0
     AND (sark_migration.changed_since(open_run, ARRAY['public.mcp_servers', 'public.mcp_tools']) IS NULL
          OR sark_migration.synced_throughout(open_run)) THEN
    RETURN QUERY VALUES ('capabilities'::text, 0::bigint, 0::bigint), ('resources'::text, 0::bigint, 0::bigint);
    RETURN;
  END IF;

  PERFORM sark_migration.analyze_if_stale('public.capabilities');
  PERFORM sark_migration.analyze_if_stale('public.resources');

  -- Capabilities first: a resource can only go once nothing points to it. The anti-join on the
  -- text of the id needs no cast; the few survivors are then checked to hold our image: the
  -- marker and a uuid-shaped id (a v2-native row is never deleted here). A row that existed
  -- before the migration and was overwritten by it goes too: it holds our image of a v1 row
  -- that is gone, and its original image stays in preexisting_rows, which rollback re-inserts.
  DELETE FROM public.capabilities c
  USING (SELECT c2.id
           FROM public.capabilities c2
          WHERE NOT EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id::text = c2.id)
         OFFSET 0) v                                 -- fence: the checks below see survivors only
  WHERE c.id = v.id
    AND sark_migration.is_migrated('capabilities', c.id, c.metadata)
    -- an id of the v2 application's: its v1 row is under v1_id()
    AND NOT EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id = sark_migration.v1_id(v.id));
  GET DIAGNOSTICS cap_deleted = ROW_COUNT;

  -- The FK is ON DELETE CASCADE: a resource that any capability still references (a v2-native
  -- one, a restored one, ...) is kept, never deleted with its dependents.
  WITH vanished AS (
    SELECT v.id,
           EXISTS (SELECT 1 FROM public.capabilities c WHERE c.resource_id = v.id) AS referenced
    FROM (SELECT r2.id, r2.metadata
            FROM public.resources r2
           WHERE NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id::text = r2.id)
          OFFSET 0) v
    WHERE sark_migration.is_migrated('resources', v.id, v.metadata)
      AND NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = sark_migration.v1_id(v.id))
  ), del AS (
    DELETE FROM public.resources r
    USING vanished v
    WHERE r.id = v.id AND NOT v.referenced
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM del), (SELECT count(*) FROM vanished WHERE referenced)
    INTO res_deleted, res_kept;

  IF cap_deleted > 0 THEN
    PERFORM sark_migration.note_run('public.capabilities', -cap_deleted);
  END IF;
  IF res_deleted > 0 THEN
    PERFORM sark_migration.note_run('public.resources', -res_deleted);
  END IF;
  RETURN QUERY VALUES ('capabilities'::text, cap_deleted, 0::bigint),
                      ('resources'::text, res_deleted, res_kept);
END
$$;
COMMENT ON FUNCTION sark_migration.delete_vanished() IS
  'Deletes the v2 rows holding this migration''s image (is_migrated) of a v1 row that no '
  'longer exists, capabilities first; keeps (and counts) resources still referenced by other capabilities, '
  'because the FK would cascade. Rows never written by the migration are never deleted; an overwritten '
  'preexisting row keeps its saved image in preexisting_rows (rollback re-inserts it).';
