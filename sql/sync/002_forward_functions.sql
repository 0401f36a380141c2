-- 002_forward_functions.sql
--
-- What:     forward sync, v1 -> v2, as functions (the triggers that call them are created by
--           101_enable_forward_sync.sql). Every v2 row is written by write_resources /
--           write_capabilities (sql/mapping/007), exactly as the copy writes it.
--             sark_migration.requarantine(source, ids uuid[])  quarantine entries of these rows, as
--                                                              the findings say now
--             sark_migration.apply_resources(ids uuid[])       "make v2 agree with v1 for these
--             sark_migration.apply_capabilities(ids uuid[])     servers / tools": quarantine, write
--                                                              (write_resources / write_capabilities,
--                                                              THE upsert the copy uses too), delete
--                                                              what v1 no longer has
--             sark_migration.forward_sync()                    the statement-level trigger function
--           apply_* is idempotent and takes any mix of inserted, updated, deleted and re-keyed ids,
--           so a trigger passes every id of its transition tables, and a failed sync is repaired by
--           applying the same ids again (retry_sync_failures() in 004).
-- Requires: the mapping (001 .. 009), 001 of this folder; public.resources, public.capabilities.
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE). Creates no trigger.
--
-- Invariants:
--   * A v1 write never fails because of the sync: forward_sync() runs the apply in an exception
--     block; a failure is recorded in sark_migration.sync_failures (and raised as a WARNING).
--   * No echo: forward_sync() sets the transaction-local sark_migration.sync_origin = 'forward'
--     while it writes v2; the reverse triggers return at once when they see it, and forward_sync()
--     returns at once when it sees 'reverse'.
--   * Deletes only ever remove v2 rows the migration wrote (is_migrated); a v2-native row is
--     never deleted, and a migrated resource that a v2-native capability references is kept (the FK
--     cascade would delete that capability) and reported in sync_failures (SQLSTATE SARK1).
--   * A row that is dirty now is held in quarantine and its v2 row left as it was (as the copy
--     does); when it is clean again it leaves the quarantine and is applied.

-- Performance note: apply_* run inside the application's v1 writes. Their statements read large
-- views (the mapping, the findings), whose planning costs far more than executing them for a
-- handful of ids; as plpgsql with plan_cache_mode = force_generic_plan each statement is planned
-- once per session and then only executed (a LANGUAGE sql function is planned on every call, and
-- custom plans for "= ANY (ids)" are re-planned on every call too): about 0.7 ms per v1 statement
-- instead of 3-5 ms. A plan cached by an application session may have been made while the v2
-- tables were still empty, so, as in write_* (sql/mapping/007), every lookup of a v2 row is a
-- probe by key (a correlated subquery fenced with OFFSET 0, or "= ANY (ids)"), never a join whose
-- inner side could be a scan of the whole table, and sequential scans are off.

-- Replaced by write_resources / write_capabilities (sql/mapping/007) and copy_range (008).
DROP FUNCTION IF EXISTS sark_migration.upsert_resources(uuid[]);
DROP FUNCTION IF EXISTS sark_migration.upsert_capabilities(uuid[]);
DROP FUNCTION IF EXISTS sark_migration.lock_copy_batch(text, bigint, integer, integer);

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
SET enable_seqscan = off
SET jit = off
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

  -- 2. Servers that are new to v2: their tools may have been waiting for them (orphans, or the
  --    copy has not reached them yet).
  new_v2 := ARRAY(SELECT k.id FROM unnest(ids, sark_migration.v2_ids('resources', ids)) AS k(id, v2_id)
                   WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = k.v2_id OFFSET 0));

  -- 3. THE write (a foreign v2 row is saved for rollback before it is overwritten).
  SELECT w.inserted, w.updated INTO inserted, updated FROM sark_migration.write_resources(ids) w;

  -- 4. v1 rows that are gone: their migrated v2 rows go, unless a v2-native capability still
  --    references them (resources -> capabilities is ON DELETE CASCADE).
  WITH gone AS (
    SELECT r.id,
           (SELECT count(*) FROM public.capabilities c
             WHERE c.resource_id = r.id AND NOT sark_migration.is_migrated('capabilities', c.id, c.metadata))
             AS native_dependents
    FROM unnest(ids) AS k(id)
    CROSS JOIN LATERAL (SELECT r.id, r.metadata FROM public.resources r WHERE r.id = k.id::text OFFSET 0) r
    WHERE sark_migration.is_migrated('resources', r.id, r.metadata)
      AND NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = k.id)
  ), del AS (
    DELETE FROM public.resources r
    WHERE r.id = ANY (ARRAY(SELECT g.id FROM gone g WHERE g.native_dependents = 0))
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
  'Makes resources agree with mcp_servers for these ids, through write_resources: re-evaluates their '
  'quarantine, writes (saving foreign v2 rows first), deletes migrated rows whose v1 row is gone, and re-applies '
  'the tools of servers whose state changed. Idempotent. Returns upserted, deleted, held (quarantined).';

-- Makes v2 agree with v1 for these mcp_tools ids.
CREATE OR REPLACE FUNCTION sark_migration.apply_capabilities(ids uuid[])
RETURNS TABLE (upserted bigint, deleted bigint, held bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
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

  -- The resources these capabilities need, if the copy has not written them yet (only missing
  -- ones: a resource that exists is at least as new as ours, its server's own writes keep it so).
  PERFORM sark_migration.write_resources(ARRAY(
    SELECT DISTINCT t.server_id FROM public.mcp_tools t
     WHERE t.id = ANY (ids)
       AND NOT EXISTS (SELECT 1 FROM public.resources cur
                        WHERE cur.id = (sark_migration.v2_ids('resources', ARRAY[t.server_id]))[1] OFFSET 0)));

  SELECT w.inserted, w.updated INTO inserted, updated FROM sark_migration.write_capabilities(ids) w;

  WITH del AS (
    DELETE FROM public.capabilities c
    WHERE c.id = ANY (ids::text[])
      AND sark_migration.is_migrated('capabilities', c.id, c.metadata)
      AND NOT EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id = c.id::uuid)
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
  'Makes capabilities agree with mcp_tools for these ids, through write_capabilities (writing a missing '
  'parent resource first): quarantine, write, delete migrated rows whose v1 row is gone. Idempotent.';

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
    PERFORM nextval('sark_migration.v1_writes');  -- "v1 still receives writes" (decommission)
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
