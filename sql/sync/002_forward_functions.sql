-- 002_forward_functions.sql
--
-- What:     forward sync, v1 -> v2, as functions (the triggers that call them are created by
--           101_enable_forward_sync.sql). Everything goes through THE mapping: the rows written
--           are those of sark_migration.resource_image / capability_image, filtered by source_id
--           (the v1 primary key), exactly what the copy writes.
--             sark_migration.upsert_resources(ids uuid[])     INSERT ... SELECT FROM resource_image
--             sark_migration.upsert_capabilities(ids uuid[])   ... ON CONFLICT DO UPDATE WHERE changed
--             sark_migration.requarantine(source, ids uuid[])  quarantine entries of these rows, as
--                                                              the findings say now
--             sark_migration.apply_resources(ids uuid[])       "make v2 agree with v1 for these
--             sark_migration.apply_capabilities(ids uuid[])     servers / tools": quarantine, upsert,
--                                                              delete what v1 no longer has
--             sark_migration.forward_sync()                    the statement-level trigger function
--             sark_migration.lock_copy_batch(target, run, n)   the copy's row locks (see below)
--           apply_* is idempotent and takes any mix of inserted, updated, deleted and re-keyed ids,
--           so a trigger passes every id of its transition tables, and a failed sync is repaired by
--           applying the same ids again (retry_sync_failures() in 004).
-- Requires: the mapping (001 .. 008), 001 of this folder; public.resources, public.capabilities.
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE). Creates no trigger.
--
-- Invariants:
--   * A v1 write never fails because of the sync: forward_sync() runs the apply in an exception
--     block; a failure is recorded in sark_migration.sync_failures (and raised as a WARNING).
--   * No echo: forward_sync() sets the transaction-local sark_migration.sync_origin = 'forward'
--     while it writes v2; the reverse triggers return at once when they see it, and forward_sync()
--     returns at once when it sees 'reverse'.
--   * Deletes only ever remove v2 rows that carry metadata._v1 (migrated rows); a v2-native row is
--     never deleted, and a migrated resource that a v2-native capability references is kept (the FK
--     cascade would delete that capability) and reported in sync_failures (SQLSTATE SARK1).
--   * A row that is dirty now is held in quarantine and its v2 row left as it was (as the copy
--     does); when it is clean again it leaves the quarantine and is applied.

-- Performance note: apply_* run inside the application's v1 writes. Their statements read large
-- views (the mapping, the findings), whose planning costs far more than executing them for a
-- handful of ids; as plpgsql with plan_cache_mode = force_generic_plan each statement is planned
-- once per session and then only executed (a LANGUAGE sql function is planned on every call, and
-- custom plans for "= ANY (ids)" are re-planned on every call too): about 0.7 ms per v1 statement
-- instead of 3-5 ms. upsert_* carry no plan_cache_mode of their own: the caller's applies (a
-- function's SET holds for the functions it calls). Under apply_* they run with generic plans; a
-- bulk caller (thousands of ids per call, e.g. a copy batch) must use custom plans, with which
-- upsert_* copy as fast as copy_batch(), while generic plans make them 7-8x slower there.

-- The single INSERT ... ON CONFLICT of a resources row, for a set of v1 ids. A row equal to its
-- image is not offered to the INSERT (no row lock, no WAL, no dead tuple).
CREATE OR REPLACE FUNCTION sark_migration.upsert_resources(ids uuid[])
RETURNS TABLE (inserted bigint, updated bigint)
LANGUAGE plpgsql
AS $$
BEGIN
  WITH written AS (
    INSERT INTO public.resources AS r
           (id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at)
    SELECT i.id, i.name, i.protocol, i.endpoint, i.sensitivity_level, i.metadata, i.created_at, i.updated_at
    FROM sark_migration.resource_image i
    WHERE i.source_id = ANY (ids)
      AND (SELECT (cur.name, cur.protocol, cur.endpoint, cur.sensitivity_level, cur.metadata,
                   cur.created_at, cur.updated_at)
                  IS NOT DISTINCT FROM
                  (i.name, i.protocol, i.endpoint, i.sensitivity_level, i.metadata, i.created_at, i.updated_at)
             FROM public.resources cur WHERE cur.id = i.id) IS NOT TRUE
    ON CONFLICT (id) DO UPDATE
      SET name = EXCLUDED.name, protocol = EXCLUDED.protocol, endpoint = EXCLUDED.endpoint,
          sensitivity_level = EXCLUDED.sensitivity_level, metadata = EXCLUDED.metadata,
          created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
      WHERE (r.name, r.protocol, r.endpoint, r.sensitivity_level, r.metadata, r.created_at, r.updated_at)
            IS DISTINCT FROM
            (EXCLUDED.name, EXCLUDED.protocol, EXCLUDED.endpoint, EXCLUDED.sensitivity_level,
             EXCLUDED.metadata, EXCLUDED.created_at, EXCLUDED.updated_at)
        AND (r.metadata ? '_v1' OR sark_migration.assert_captured('resources', r.id))
    RETURNING (r.xmax = 0) AS was_inserted
  )
  SELECT count(*) FILTER (WHERE was_inserted), count(*) FILTER (WHERE NOT was_inserted)
    INTO inserted, updated
  FROM written;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.upsert_resources(uuid[]) IS
  'Writes the resource_image rows of these mcp_servers ids (new or changed only). Refuses to overwrite a '
  'v2 row not written by this migration unless its image is saved (assert_captured). Returns inserted, updated.';

CREATE OR REPLACE FUNCTION sark_migration.upsert_capabilities(ids uuid[])
RETURNS TABLE (inserted bigint, updated bigint)
LANGUAGE plpgsql
AS $$
BEGIN
  WITH written AS (
    INSERT INTO public.capabilities AS c
           (id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata)
    SELECT i.id, i.resource_id, i.name, i.description, i.input_schema, i.output_schema, i.sensitivity_level, i.metadata
    FROM sark_migration.capability_image i
    WHERE i.source_id = ANY (ids)
      AND (SELECT (cur.resource_id, cur.name, cur.description, cur.input_schema, cur.output_schema,
                   cur.sensitivity_level, cur.metadata)
                  IS NOT DISTINCT FROM
                  (i.resource_id, i.name, i.description, i.input_schema, i.output_schema,
                   i.sensitivity_level, i.metadata)
             FROM public.capabilities cur WHERE cur.id = i.id) IS NOT TRUE
    ON CONFLICT (id) DO UPDATE
      SET resource_id = EXCLUDED.resource_id, name = EXCLUDED.name, description = EXCLUDED.description,
          input_schema = EXCLUDED.input_schema, output_schema = EXCLUDED.output_schema,
          sensitivity_level = EXCLUDED.sensitivity_level, metadata = EXCLUDED.metadata
      WHERE (c.resource_id, c.name, c.description, c.input_schema, c.output_schema, c.sensitivity_level, c.metadata)
            IS DISTINCT FROM
            (EXCLUDED.resource_id, EXCLUDED.name, EXCLUDED.description, EXCLUDED.input_schema,
             EXCLUDED.output_schema, EXCLUDED.sensitivity_level, EXCLUDED.metadata)
        AND (c.metadata ? '_v1' OR sark_migration.assert_captured('capabilities', c.id))
    RETURNING (c.xmax = 0) AS was_inserted
  )
  SELECT count(*) FILTER (WHERE was_inserted), count(*) FILTER (WHERE NOT was_inserted)
    INTO inserted, updated
  FROM written;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.upsert_capabilities(uuid[]) IS
  'Writes the capability_image rows of these mcp_tools ids (new or changed only); like upsert_resources.';

-- The quarantine entries of some v1 rows, recomputed from the findings for those rows only (the
-- findings views are filtered by source_id, which reaches the v1 primary key in every branch).
-- The one exception is the tools' server_quarantined finding: its view branch groups the findings
-- of ALL servers (a full scan per call), so it is derived here from the quarantine ledger, which
-- holds exactly those findings per server, with the view's message.
CREATE OR REPLACE FUNCTION sark_migration.requarantine(source text, ids uuid[])
RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  IF source = 'mcp_servers' THEN
    WITH now_found AS (
      SELECT f.source_id, f.finding AS reason, string_agg(f.message, ' ' ORDER BY f.message) AS detail
      FROM sark_migration.findings_servers_quarantine f
      WHERE f.source_id = ANY (ids)
      GROUP BY f.source_id, f.finding
    ), dropped AS (
      DELETE FROM sark_migration.quarantine q
      WHERE q.source_table = 'mcp_servers' AND q.source_id = ANY (ids)
        AND NOT EXISTS (SELECT 1 FROM now_found n WHERE n.source_id = q.source_id AND n.reason = q.reason)
    )
    INSERT INTO sark_migration.quarantine AS q (source_table, source_id, reason, detail, source_row)
    SELECT 'mcp_servers', n.source_id, n.reason, n.detail,
           (SELECT CASE WHEN pg_column_size(to_jsonb(s)) <= 65536 THEN to_jsonb(s) END
              FROM sark_migration.v1_servers s WHERE s.id = n.source_id)
    FROM now_found n
    ON CONFLICT (source_table, source_id, reason) DO UPDATE
      SET detail = EXCLUDED.detail, source_row = EXCLUDED.source_row
      WHERE (q.detail, q.source_row) IS DISTINCT FROM (EXCLUDED.detail, EXCLUDED.source_row);
  ELSIF source = 'mcp_tools' THEN
    WITH now_found AS (
      SELECT f.source_id, f.finding AS reason, string_agg(f.message, ' ' ORDER BY f.message) AS detail
      FROM sark_migration.findings_tools_quarantine f
      WHERE f.source_id = ANY (ids) AND f.finding <> 'server_quarantined'
      GROUP BY f.source_id, f.finding
      UNION ALL
      SELECT t.id, 'server_quarantined',
             format('Tool %s (%L) belongs to server %s, which is quarantined (%s); a capability cannot exist '
                    'without its resource. Fix the server and this tool migrates with it.',
                    t.id, left(t.name, 80), t.server_id, q.reasons)
      FROM sark_migration.v1_tools t
      CROSS JOIN LATERAL (SELECT string_agg(DISTINCT sq.reason, ', ') AS reasons
                            FROM sark_migration.quarantine sq
                           WHERE sq.source_table = 'mcp_servers' AND sq.source_id = t.server_id) q
      WHERE t.id = ANY (ids) AND q.reasons IS NOT NULL
    ), dropped AS (
      DELETE FROM sark_migration.quarantine q
      WHERE q.source_table = 'mcp_tools' AND q.source_id = ANY (ids)
        AND NOT EXISTS (SELECT 1 FROM now_found n WHERE n.source_id = q.source_id AND n.reason = q.reason)
    )
    INSERT INTO sark_migration.quarantine AS q (source_table, source_id, reason, detail, source_row)
    SELECT 'mcp_tools', n.source_id, n.reason, n.detail,
           (SELECT CASE WHEN pg_column_size(to_jsonb(t)) <= 65536 THEN to_jsonb(t) END
              FROM sark_migration.v1_tools t WHERE t.id = n.source_id)
    FROM now_found n
    ON CONFLICT (source_table, source_id, reason) DO UPDATE
      SET detail = EXCLUDED.detail, source_row = EXCLUDED.source_row
      WHERE (q.detail, q.source_row) IS DISTINCT FROM (EXCLUDED.detail, EXCLUDED.source_row);
  ELSE
    RAISE EXCEPTION 'sark_migration.requarantine: source must be mcp_servers or mcp_tools, got %', source;
  END IF;
END
$$;
COMMENT ON FUNCTION sark_migration.requarantine(text, uuid[]) IS
  'Brings the quarantine entries of these v1 rows in line with the findings now (adds, updates, removes), '
  'as refresh_quarantine() does for the whole table.';

-- Makes v2 agree with v1 for these mcp_servers ids.
CREATE OR REPLACE FUNCTION sark_migration.apply_resources(ids uuid[])
RETURNS TABLE (upserted bigint, deleted bigint, held bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  held_before uuid[];
  held_after  uuid[];
  inserted    bigint;
  updated     bigint;
  new_v2      uuid[];
  recheck     uuid[];
  tools       uuid[];
BEGIN
  ids := ARRAY(SELECT DISTINCT k FROM unnest(ids) AS k WHERE k IS NOT NULL);
  IF cardinality(ids) = 0 THEN
    RETURN QUERY SELECT 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;

  -- 1. Quarantine, as the findings say now.
  held_before := ARRAY(SELECT DISTINCT q.source_id FROM sark_migration.quarantine q
                        WHERE q.source_table = 'mcp_servers' AND q.source_id = ANY (ids));
  PERFORM sark_migration.requarantine('mcp_servers', ids);
  held_after := ARRAY(SELECT DISTINCT q.source_id FROM sark_migration.quarantine q
                       WHERE q.source_table = 'mcp_servers' AND q.source_id = ANY (ids));

  -- 2. A v2 row with one of these ids that this migration did not write is saved for rollback
  --    before it is overwritten (as capture_preexisting() does before the copy).
  INSERT INTO sark_migration.preexisting_rows (target_table, id, row_image)
  SELECT 'resources', r.id, to_jsonb(r)
  FROM unnest(ids) AS k(id)
  JOIN public.resources r ON r.id = k.id::text
  WHERE NOT r.metadata ? '_v1'
    AND EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = k.id)
  ON CONFLICT ON CONSTRAINT preexisting_rows_pkey DO NOTHING;

  -- 3. Servers that are new to v2: their tools may have been waiting for them (orphans, or the
  --    copy has not reached them yet).
  new_v2 := ARRAY(SELECT k.id FROM unnest(ids) AS k(id)
                   WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = k.id::text));
  SELECT u.inserted, u.updated INTO inserted, updated FROM sark_migration.upsert_resources(ids) u;

  -- 4. v1 rows that are gone: their migrated v2 rows go, unless a v2-native capability still
  --    references them (resources -> capabilities is ON DELETE CASCADE).
  WITH gone AS (
    SELECT r.id,
           (SELECT count(*) FROM public.capabilities c
             WHERE c.resource_id = r.id AND NOT c.metadata ? '_v1') AS native_dependents
    FROM unnest(ids) AS k(id)
    JOIN public.resources r ON r.id = k.id::text
    WHERE r.metadata ? '_v1'
      AND NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = k.id)
  ), del AS (
    DELETE FROM public.resources r USING gone g
    WHERE r.id = g.id AND g.native_dependents = 0
    RETURNING r.id
  ), kept AS (
    INSERT INTO sark_migration.sync_failures (direction, source_table, ids, sqlstate, message)
    SELECT 'forward', 'mcp_servers', array_agg(g.id ORDER BY g.id), 'SARK1',
           format('%s resources row(s) kept although their mcp_servers row was deleted: v2-native '
                  'capabilities reference them (%s in all), and deleting the resource would cascade to them. '
                  'Move or delete those capabilities in v2, then run SELECT * FROM sark_migration.retry_sync_failures().',
                  count(*), sum(g.native_dependents))
    FROM gone g WHERE g.native_dependents > 0
    HAVING count(*) > 0
  )
  SELECT count(*) INTO deleted FROM del;

  -- 5. Tools whose fate depends on their server: the server entered or left the quarantine,
  --    appeared in v2, or is gone from v1 (orphans, where the v1 FK is missing). Locked FOR SHARE
  --    first, so that the apply (a new snapshot) sees their latest committed version and no
  --    concurrent tool write can be overwritten by an older image.
  recheck := ARRAY(SELECT k FROM unnest(ids) AS k
                    WHERE (k = ANY (held_before)) <> (k = ANY (held_after))
                       OR k = ANY (new_v2)
                       OR NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = k));
  IF cardinality(recheck) > 0 THEN
    tools := ARRAY(SELECT t.id FROM public.mcp_tools t WHERE t.server_id = ANY (recheck)
                    ORDER BY t.id FOR SHARE);
    IF cardinality(tools) > 0 THEN
      PERFORM sark_migration.apply_capabilities(tools);
    END IF;
  END IF;

  upserted := inserted + updated;
  held := cardinality(held_after);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.apply_resources(uuid[]) IS
  'Makes resources agree with mcp_servers for these ids, through resource_image: re-evaluates their '
  'quarantine, saves foreign v2 rows, upserts, deletes migrated rows whose v1 row is gone, and re-applies '
  'the tools of servers whose state changed. Idempotent. Returns upserted, deleted, held (quarantined).';

-- Makes v2 agree with v1 for these mcp_tools ids.
CREATE OR REPLACE FUNCTION sark_migration.apply_capabilities(ids uuid[])
RETURNS TABLE (upserted bigint, deleted bigint, held bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  inserted bigint;
  updated  bigint;
BEGIN
  ids := ARRAY(SELECT DISTINCT k FROM unnest(ids) AS k WHERE k IS NOT NULL);
  IF cardinality(ids) = 0 THEN
    RETURN QUERY SELECT 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;

  PERFORM sark_migration.requarantine('mcp_tools', ids);

  -- The resources these capabilities need, if the copy has not written them yet. DO NOTHING: a
  -- resource that exists is at least as new as ours (its server's own writes keep it current).
  INSERT INTO public.resources AS r
         (id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at)
  SELECT i.id, i.name, i.protocol, i.endpoint, i.sensitivity_level, i.metadata, i.created_at, i.updated_at
  FROM sark_migration.resource_image i
  WHERE i.source_id IN (SELECT t.server_id FROM public.mcp_tools t WHERE t.id = ANY (ids))
    AND NOT EXISTS (SELECT 1 FROM public.resources cur WHERE cur.id = i.id)
  ON CONFLICT (id) DO NOTHING;

  INSERT INTO sark_migration.preexisting_rows (target_table, id, row_image)
  SELECT 'capabilities', c.id, to_jsonb(c)
  FROM unnest(ids) AS k(id)
  JOIN public.capabilities c ON c.id = k.id::text
  WHERE NOT c.metadata ? '_v1'
    AND EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id = k.id)
  ON CONFLICT ON CONSTRAINT preexisting_rows_pkey DO NOTHING;

  SELECT u.inserted, u.updated INTO inserted, updated FROM sark_migration.upsert_capabilities(ids) u;

  WITH del AS (
    DELETE FROM public.capabilities c
    USING unnest(ids) AS k(id)
    WHERE c.id = k.id::text
      AND c.metadata ? '_v1'
      AND NOT EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id = k.id)
    RETURNING c.id
  )
  SELECT count(*) INTO deleted FROM del;

  upserted := inserted + updated;
  SELECT count(DISTINCT q.source_id) INTO held FROM sark_migration.quarantine q
   WHERE q.source_table = 'mcp_tools' AND q.source_id = ANY (ids);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.apply_capabilities(uuid[]) IS
  'Makes capabilities agree with mcp_tools for these ids, through capability_image (writing a missing '
  'parent resource first): quarantine, upsert, delete migrated rows whose v1 row is gone. Idempotent.';

-- One place that records a failed sync; never raises (the application's write must go through).
CREATE OR REPLACE FUNCTION sark_migration.record_sync_failure(
  direction text, source_table text, ids text[], sqlstate text, message text, detail text, context text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO sark_migration.sync_failures (direction, source_table, ids, sqlstate, message, detail, context)
  VALUES (direction, source_table, ids, sqlstate, message, detail, context);
  RAISE WARNING 'sark_migration: % sync of % row(s) of % failed (%: %); the write itself succeeded and the '
                'failure is recorded in sark_migration.sync_failures', direction, cardinality(ids), source_table,
                sqlstate, message;
EXCEPTION WHEN others THEN
  RAISE WARNING 'sark_migration: % sync of % failed (%: %) and could not be recorded (%)',
                direction, source_table, sqlstate, message, SQLERRM;
END
$$;
COMMENT ON FUNCTION sark_migration.record_sync_failure(text, text, text[], text, text, text, text) IS
  'Records a failed sync in sync_failures and raises a WARNING; never raises an error itself.';

-- The trigger function of the forward sync: AFTER INSERT / UPDATE / DELETE ... FOR EACH STATEMENT
-- on mcp_servers and mcp_tools, with the transition tables new_rows / old_rows. Every id in them
-- is applied (an UPDATE that changes a primary key is a delete of the old id and an insert of the
-- new one, which apply_* handles as such). AFTER TRUNCATE has no transition tables and needs
-- none: every migrated v2 row of the table has lost its v1 row, which is what delete_vanished()
-- (sql/mapping/007) removes, and the table's quarantine entries go with their rows; its failure
-- is recorded with no ids, which retry_sync_failures() (004) repairs with delete_vanished(). lock_timeout 1s: the longest the sync may make an
-- application write wait for a lock (e.g. on a mapping view being replaced by DDL); past it the
-- apply gives up, the write goes through and the failure is recorded for retry_sync_failures().
-- Adjust with ALTER FUNCTION sark_migration.forward_sync() SET lock_timeout = '...'.
CREATE OR REPLACE FUNCTION sark_migration.forward_sync()
RETURNS trigger
LANGUAGE plpgsql
SET lock_timeout = '1s'
AS $$
DECLARE
  ids   uuid[];
  state text;
  msg   text;
  det   text;
  ctx   text;
BEGIN
  IF current_setting('sark_migration.sync_origin', true) = 'reverse' THEN
    RETURN NULL;                                  -- written by the reverse sync: no echo
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    ids := '{}';
  ELSIF TG_OP = 'INSERT' THEN
    SELECT array_agg(n.id) INTO ids FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(o.id) INTO ids FROM old_rows o;
  ELSE
    SELECT array_agg(x.id) INTO ids FROM (SELECT n.id FROM new_rows n UNION SELECT o.id FROM old_rows o) x;
  END IF;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;

  PERFORM set_config('sark_migration.sync_origin', 'forward', true);
  BEGIN
    IF TG_OP = 'TRUNCATE' THEN
      DELETE FROM sark_migration.quarantine q WHERE q.source_table = TG_TABLE_NAME;
      PERFORM sark_migration.delete_vanished();
    ELSIF TG_TABLE_NAME = 'mcp_servers' THEN
      PERFORM sark_migration.apply_resources(ids);
    ELSE
      PERFORM sark_migration.apply_capabilities(ids);
    END IF;
  EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            ctx = PG_EXCEPTION_CONTEXT;
    PERFORM sark_migration.record_sync_failure('forward', TG_TABLE_NAME, ids::text[], state, msg, det, ctx);
  END;
  PERFORM set_config('sark_migration.sync_origin', '', true);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION sark_migration.forward_sync() IS
  'Statement-level AFTER trigger on mcp_servers / mcp_tools (sark_sync_forward_*): applies the changed ids '
  'to v2 through the mapping (apply_resources / apply_capabilities); after a TRUNCATE, removes the migrated '
  'rows it orphaned (delete_vanished). Never fails the v1 write: a failure '
  'is recorded in sync_failures. Skips writes made by the reverse sync (sync_origin = reverse).';

-- The copy's side of "no write falls between sync and copy": in the transaction of each copy
-- batch, BEFORE copy_batch(), this locks the v1 rows that batch will read, FOR SHARE. A writer
-- to one of them waits for the batch to commit (then its trigger applies the newer version), and
-- copy_batch() (the next statement: a new snapshot under READ COMMITTED) reads the latest
-- committed version of every row it copies. So a batch can never write an image older than one
-- a trigger already wrote. NOWAIT: when a writer holds one of the rows, this fails at once
-- (SQLSTATE 55P03, the batch's transaction releases what it locked) and the caller retries after
-- a short backoff; the copy never waits while holding row locks, so it cannot deadlock with an
-- application transaction that updates several rows (which would otherwise often be the victim).
-- batch_size NULL (the whole table in one statement): a SHARE lock on the table instead, waited
-- for under lock_timeout, which makes every v1 write wait for the whole copy of that table; live
-- migrations therefore use --batch-size. Returns the rows locked (NULL: the table).
DROP FUNCTION IF EXISTS sark_migration.lock_copy_batch(text, bigint, integer);
CREATE OR REPLACE FUNCTION sark_migration.lock_copy_batch(target text, run bigint, batch_size integer DEFAULT NULL,
                                                          lane integer DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  after  uuid;
  upto   uuid;
  done   timestamptz;
  locked bigint;
BEGIN
  SELECT p.last_key, p.range_end, p.finished_at INTO after, upto, done
    FROM sark_migration.copy_progress p
   WHERE p.target_table = target AND p.run_id = run AND p.lane = lock_copy_batch.lane;
  IF done IS NOT NULL THEN
    RETURN 0;
  END IF;
  IF target = 'resources' THEN
    IF batch_size IS NULL THEN
      LOCK TABLE public.mcp_servers IN SHARE MODE;
      RETURN NULL;
    END IF;
    SELECT count(*) INTO locked FROM (
      SELECT s.id FROM public.mcp_servers s
       WHERE (after IS NULL OR s.id > after) AND (upto IS NULL OR s.id <= upto)
       ORDER BY s.id LIMIT batch_size FOR SHARE NOWAIT) x;
  ELSIF target = 'capabilities' THEN
    IF batch_size IS NULL THEN
      LOCK TABLE public.mcp_tools IN SHARE MODE;
      RETURN NULL;
    END IF;
    SELECT count(*) INTO locked FROM (
      SELECT t.id FROM public.mcp_tools t
       WHERE (after IS NULL OR t.id > after) AND (upto IS NULL OR t.id <= upto)
       ORDER BY t.id LIMIT batch_size FOR SHARE NOWAIT) x;
  ELSE
    RAISE EXCEPTION 'sark_migration: copy target must be resources or capabilities, got %', target;
  END IF;
  RETURN locked;
END
$$;
COMMENT ON FUNCTION sark_migration.lock_copy_batch(text, bigint, integer, integer) IS
  'Locks FOR SHARE the v1 rows the next copy_batch(target, run, batch_size, lane) will read (the whole table in '
  'SHARE mode when batch_size is NULL). Call it first in the batch''s transaction while the forward sync is '
  'on, then copy_batch() as a second statement.';
