-- 007_write_functions.sql
--
-- What:     THE write path into v2, one function per target table, used by everything that
--           writes a migrated row: the copy's batches (008, copy_range), the forward sync's
--           triggers (sql/sync/002, apply_*), and bench. For a set of v1 ids:
--             sark_migration.write_resources(ids uuid[])      mcp_servers ids -> resources
--             sark_migration.write_capabilities(ids uuid[])   mcp_tools ids   -> capabilities
--           1. a v2 row with one of these ids that this migration did not write (is_migrated,
--              003) is saved in preexisting_rows before anything can overwrite it (rollback
--              puts it back); an image saved earlier is never replaced;
--           2. INSERT ... SELECT FROM the image view (003) ... ON CONFLICT (id) DO UPDATE, offering
--              only rows that are new or differ from their v2 row (an equal row is not locked, not
--              rewritten: no WAL, no dead tuple, no updated_at churn), and refusing to overwrite a
--              row that is neither migrated nor saved (assert_captured).
--           Returns inserted, updated, unchanged (image rows equal to their v2 row), captured.
--           Quarantined ids and ids whose v1 row is gone have no image: they are not written (the
--           forward sync deletes what v1 no longer has; the copy's delete_vanished does too).
-- Requires: 001 .. 006; public.resources, public.capabilities.
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE). Never writes v1.
--
-- Plans: these run in every copy batch and inside the application's v1 writes (the triggers),
-- against v2 tables that start empty and grow while a session keeps its cached plans (and while
-- one statement of an offline copy inserts a million rows). A plan chosen while a table looked
-- empty (a scan of it to find one row by its key) turns quadratic as the table fills: seen as a
-- copy that never finished under a live writer. So every lookup of a v2 row is written as a probe
-- per id, a subquery correlated on the primary key and fenced with OFFSET 0 (it cannot be turned
-- into a join, whose inner side could be a whole-table scan or hash), and sequential scans are
-- off: the only plan left for it is an index probe, whatever the statistics say. Generic plans
-- (planned once per session). JIT off: a few rows never repay a compilation.

-- The v2 ids of these v1 ids: their own text, or the v2 id the id map names (001, 003: a row the v2
-- application created under an id that is not a uuid).
CREATE OR REPLACE FUNCTION sark_migration.v2_ids(target text, ids uuid[])
RETURNS text[]
LANGUAGE sql STABLE
AS $$
  SELECT ARRAY(SELECT COALESCE((SELECT m.v2_id FROM sark_migration.id_map m
                                 WHERE m.target_table = target AND m.v1_id = k OFFSET 0), k::text)
                 FROM unnest(ids) AS k)
$$;
COMMENT ON FUNCTION sark_migration.v2_ids(text, uuid[]) IS
  'The v2 ids (resources | capabilities) of these v1 ids: the uuid text, or the id sark_migration.id_map names.';

-- Refuses to overwrite a v2 row this migration did not write unless its image is saved.
-- Called only from the ON CONFLICT ... WHERE of write_*, i.e. only for a changed foreign row.
CREATE OR REPLACE FUNCTION sark_migration.assert_captured(target text, row_id text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
              WHERE p.target_table = target AND p.id = row_id) THEN
    RETURN true;
  END IF;
  RAISE EXCEPTION 'sark_migration: %.% exists, was not written by this migration and has no saved image', target, row_id
    USING HINT = 'It appeared while its batch was being written; run the copy again (it saves the row first).',
          ERRCODE = 'object_not_in_prerequisite_state';
END
$$;
COMMENT ON FUNCTION sark_migration.assert_captured(text, text) IS
  'true if the v2 row''s pre-migration image is in preexisting_rows; raises otherwise. Guard of write_*.';

CREATE OR REPLACE FUNCTION sark_migration.write_resources(ids uuid[])
RETURNS TABLE (inserted bigint, updated bigint, unchanged bigint, captured bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
  keys text[] := sark_migration.v2_ids('resources', ids);
BEGIN
  INSERT INTO sark_migration.preexisting_rows (target_table, id, row_image)
  SELECT 'resources', r.id, to_jsonb(r)
  FROM unnest(keys) AS k(id)
  CROSS JOIN LATERAL (SELECT * FROM public.resources r WHERE r.id = k.id OFFSET 0) r
  WHERE NOT sark_migration.is_migrated('resources', r.id, r.metadata)
    AND EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = sark_migration.v1_id(r.id))
  ON CONFLICT ON CONSTRAINT preexisting_rows_pkey DO NOTHING;
  GET DIAGNOSTICS captured = ROW_COUNT;

  -- src is read once: its rows are offered to the INSERT and counted (images, unchanged).
  WITH src AS MATERIALIZED (
    SELECT i.*,
           (SELECT (cur.name, cur.protocol, cur.endpoint, cur.sensitivity_level, cur.metadata, cur.created_at, cur.updated_at)
                   IS NOT DISTINCT FROM
                   (i.name, i.protocol, i.endpoint, i.sensitivity_level, i.metadata, i.created_at, i.updated_at)
              FROM public.resources cur WHERE cur.id = i.id OFFSET 0) AS same      -- NULL: no v2 row yet
    FROM sark_migration.resource_image i
    WHERE i.source_id = ANY (ids)
  ), written AS (
    INSERT INTO public.resources AS r
           (id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at)
    SELECT s.id, s.name, s.protocol, s.endpoint, s.sensitivity_level, s.metadata, s.created_at, s.updated_at
    FROM src s
    WHERE s.same IS NOT TRUE
    ON CONFLICT (id) DO UPDATE
      SET name = EXCLUDED.name, protocol = EXCLUDED.protocol, endpoint = EXCLUDED.endpoint,
          sensitivity_level = EXCLUDED.sensitivity_level, metadata = EXCLUDED.metadata,
          created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
      WHERE (r.name, r.protocol, r.endpoint, r.sensitivity_level, r.metadata, r.created_at, r.updated_at)
            IS DISTINCT FROM
            (EXCLUDED.name, EXCLUDED.protocol, EXCLUDED.endpoint, EXCLUDED.sensitivity_level,
             EXCLUDED.metadata, EXCLUDED.created_at, EXCLUDED.updated_at)
        AND (sark_migration.is_migrated('resources', r.id, r.metadata)
             OR sark_migration.assert_captured('resources', r.id))
    RETURNING (r.xmax = 0) AS was_inserted
  )
  SELECT (SELECT count(*) FROM written WHERE was_inserted),
         (SELECT count(*) FROM written WHERE NOT was_inserted),
         (SELECT count(*) FROM src WHERE same IS TRUE)
    INTO inserted, updated, unchanged;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.write_resources(uuid[]) IS
  'THE write of resources rows: for these mcp_servers ids, saves foreign v2 rows (preexisting_rows), then '
  'upserts their resource_image rows that are new or changed. Returns inserted, updated, unchanged, captured. '
  'Used by the copy and the forward sync.';

CREATE OR REPLACE FUNCTION sark_migration.write_capabilities(ids uuid[])
RETURNS TABLE (inserted bigint, updated bigint, unchanged bigint, captured bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
  keys text[] := sark_migration.v2_ids('capabilities', ids);
BEGIN
  INSERT INTO sark_migration.preexisting_rows (target_table, id, row_image)
  SELECT 'capabilities', c.id, to_jsonb(c)
  FROM unnest(keys) AS k(id)
  CROSS JOIN LATERAL (SELECT * FROM public.capabilities c WHERE c.id = k.id OFFSET 0) c
  WHERE NOT sark_migration.is_migrated('capabilities', c.id, c.metadata)
    AND EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id = sark_migration.v1_id(c.id))
  ON CONFLICT ON CONSTRAINT preexisting_rows_pkey DO NOTHING;
  GET DIAGNOSTICS captured = ROW_COUNT;

  WITH src AS MATERIALIZED (
    SELECT i.*,
           (SELECT (cur.resource_id, cur.name, cur.description, cur.input_schema, cur.output_schema,
                    cur.sensitivity_level, cur.metadata)
                   IS NOT DISTINCT FROM
                   (i.resource_id, i.name, i.description, i.input_schema, i.output_schema,
                    i.sensitivity_level, i.metadata)
              FROM public.capabilities cur WHERE cur.id = i.id OFFSET 0) AS same   -- NULL: no v2 row yet
    FROM sark_migration.capability_image i
    WHERE i.source_id = ANY (ids)
  ), written AS (
    INSERT INTO public.capabilities AS c
           (id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata)
    SELECT s.id, s.resource_id, s.name, s.description, s.input_schema, s.output_schema, s.sensitivity_level, s.metadata
    FROM src s
    WHERE s.same IS NOT TRUE
    ON CONFLICT (id) DO UPDATE
      SET resource_id = EXCLUDED.resource_id, name = EXCLUDED.name, description = EXCLUDED.description,
          input_schema = EXCLUDED.input_schema, output_schema = EXCLUDED.output_schema,
          sensitivity_level = EXCLUDED.sensitivity_level, metadata = EXCLUDED.metadata
      WHERE (c.resource_id, c.name, c.description, c.input_schema, c.output_schema, c.sensitivity_level, c.metadata)
            IS DISTINCT FROM
            (EXCLUDED.resource_id, EXCLUDED.name, EXCLUDED.description, EXCLUDED.input_schema,
             EXCLUDED.output_schema, EXCLUDED.sensitivity_level, EXCLUDED.metadata)
        AND (sark_migration.is_migrated('capabilities', c.id, c.metadata)
             OR sark_migration.assert_captured('capabilities', c.id))
    RETURNING (c.xmax = 0) AS was_inserted
  )
  SELECT (SELECT count(*) FROM written WHERE was_inserted),
         (SELECT count(*) FROM written WHERE NOT was_inserted),
         (SELECT count(*) FROM src WHERE same IS TRUE)
    INTO inserted, updated, unchanged;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.write_capabilities(uuid[]) IS
  'THE write of capabilities rows: for these mcp_tools ids, like write_resources (save foreign rows, upsert '
  'new or changed capability_image rows). The resources they reference must exist (the FK refuses otherwise).';
