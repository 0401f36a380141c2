-- 008_rollback_functions.sql
--
-- What:     defines the rollback of the data migration (does not run it):
--             sark_migration.rollback_plan  view, what rollback() would do (for data --rollback --dry-run)
--             sark_migration.rollback()     does it, returns the same counts
--           Rollback removes exactly the v2 rows this migration wrote (metadata @> {"_v1":
--           {"source": ...}}, a uuid id, not in preexisting_rows) and restores the rows it overwrote to their saved image.
--           A row created natively in v2 (no "_v1", even with protocol 'mcp') is never touched.
--           capabilities.resource_id is ON DELETE CASCADE: a migrated resource that a capability
--           we do not delete still references (a native one, a restored one) is KEPT and counted
--           as kept_referenced; deleting it would silently delete those capabilities.
--           v1 tables are never written.
-- Requires: 001 .. 007; public.resources, public.capabilities.
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE).

-- The dry-run of rollback(); created once the v2 tables exist.
DO $install$
BEGIN
  IF to_regclass('public.resources') IS NULL OR to_regclass('public.capabilities') IS NULL THEN
    RAISE NOTICE 'sark_migration: no v2 tables yet; rollback_plan is created once they exist (re-run 008)';
    RETURN;
  END IF;
  EXECUTE $sql$
CREATE OR REPLACE VIEW sark_migration.rollback_plan AS
WITH cap_ours AS (
  SELECT c.id, c.resource_id
  FROM public.capabilities c
  WHERE sark_migration.is_migrated('capabilities', c.id, c.metadata)
    AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                     WHERE p.target_table = 'capabilities' AND p.id = c.id)
),
cap_restore AS (
  SELECT p.id, p.row_image ->> 'resource_id' AS resource_id
  FROM sark_migration.preexisting_rows p
  WHERE p.target_table = 'capabilities'
),
res_ours AS (
  SELECT r.id,
         EXISTS (SELECT 1 FROM public.capabilities c
                  WHERE c.resource_id = r.id
                    AND NOT EXISTS (SELECT 1 FROM cap_ours o WHERE o.id = c.id))
         OR EXISTS (SELECT 1 FROM cap_restore x WHERE x.resource_id = r.id) AS referenced
  FROM public.resources r
  WHERE sark_migration.is_migrated('resources', r.id, r.metadata)
    AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                     WHERE p.target_table = 'resources' AND p.id = r.id)
)
SELECT 'capabilities'::text AS target_table,
       (SELECT count(*) FROM cap_ours)                                           AS would_delete,
       (SELECT count(*) FROM cap_restore x
         WHERE EXISTS (SELECT 1 FROM public.resources r WHERE r.id = x.resource_id)
            OR EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                        WHERE p.target_table = 'resources' AND p.id = x.resource_id)) AS would_restore,
       (SELECT count(*) FROM cap_restore x
         WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = x.resource_id)
           AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                            WHERE p.target_table = 'resources' AND p.id = x.resource_id)) AS not_restorable,
       0::bigint                                                                  AS kept_referenced,
       (SELECT count(*) FROM public.capabilities c
         WHERE NOT sark_migration.is_migrated('capabilities', c.id, c.metadata)
           AND NOT EXISTS (SELECT 1 FROM cap_restore x WHERE x.id = c.id))       AS untouched_native
UNION ALL
SELECT 'resources',
       (SELECT count(*) FROM res_ours WHERE NOT referenced),
       (SELECT count(*) FROM sark_migration.preexisting_rows p WHERE p.target_table = 'resources'),
       0,
       (SELECT count(*) FROM res_ours WHERE referenced),
       (SELECT count(*) FROM public.resources r
         WHERE NOT sark_migration.is_migrated('resources', r.id, r.metadata)
           AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                            WHERE p.target_table = 'resources' AND p.id = r.id))
$sql$;
  EXECUTE $sql$
COMMENT ON VIEW sark_migration.rollback_plan IS
  'What sark_migration.rollback() would do, per v2 table: would_delete (rows this migration wrote), '
  'would_restore (overwritten rows put back from preexisting_rows), not_restorable (saved capabilities '
  'whose resource is gone), kept_referenced (migrated resources kept because a capability that stays '
  'references them: the FK cascade would delete it), untouched_native (rows never touched). Read-only.'
$sql$;
  COMMENT ON COLUMN sark_migration.rollback_plan.target_table IS 'resources or capabilities';
  COMMENT ON COLUMN sark_migration.rollback_plan.would_delete IS 'rows this migration wrote: deleted';
  COMMENT ON COLUMN sark_migration.rollback_plan.would_restore IS 'rows it overwrote: put back from preexisting_rows';
  COMMENT ON COLUMN sark_migration.rollback_plan.not_restorable IS 'saved capabilities whose resource no longer exists';
  COMMENT ON COLUMN sark_migration.rollback_plan.kept_referenced IS
    'migrated resources kept because a remaining capability references them (ON DELETE CASCADE)';
  COMMENT ON COLUMN sark_migration.rollback_plan.untouched_native IS 'v2-native rows: never touched';
END
$install$;

CREATE OR REPLACE FUNCTION sark_migration.rollback()
RETURNS TABLE (target_table text, deleted bigint, restored bigint, not_restorable bigint,
               kept_referenced bigint, untouched_native bigint)
LANGUAGE plpgsql
SET work_mem = '128MB'
AS $$
DECLARE
  res_restored bigint;  cap_deleted bigint;  cap_restored bigint;  cap_unrestorable bigint;
  res_deleted bigint;   res_kept bigint;     cap_native bigint;    res_native bigint;
BEGIN
  -- Nothing else may write v2 rows with our ids while we work (the sync must be disabled first).
  PERFORM sark_migration.lock_tables('{public.resources,public.capabilities}', 'SHARE ROW EXCLUSIVE');
  PERFORM sark_migration.analyze_if_stale('public.capabilities');
  PERFORM sark_migration.analyze_if_stale('public.resources');

  -- 1. Resources we overwrote get their saved image back (re-inserted if deleted since).
  INSERT INTO public.resources AS r
  SELECT img.*
  FROM sark_migration.preexisting_rows p
  CROSS JOIN LATERAL jsonb_populate_record(NULL::public.resources, p.row_image) AS img
  WHERE p.target_table = 'resources'
  ON CONFLICT (id) DO UPDATE
    SET name = EXCLUDED.name, protocol = EXCLUDED.protocol, endpoint = EXCLUDED.endpoint,
        sensitivity_level = EXCLUDED.sensitivity_level, metadata = EXCLUDED.metadata,
        created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
    WHERE (r.name, r.protocol, r.endpoint, r.sensitivity_level, r.metadata, r.created_at, r.updated_at)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.protocol, EXCLUDED.endpoint, EXCLUDED.sensitivity_level,
                            EXCLUDED.metadata, EXCLUDED.created_at, EXCLUDED.updated_at);
  SELECT count(*) INTO res_restored FROM sark_migration.preexisting_rows p WHERE p.target_table = 'resources';

  -- 2. Capabilities we wrote go.
  DELETE FROM public.capabilities c
  WHERE sark_migration.is_migrated('capabilities', c.id, c.metadata)
    AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                     WHERE p.target_table = 'capabilities' AND p.id = c.id);
  GET DIAGNOSTICS cap_deleted = ROW_COUNT;

  -- 3. Capabilities we overwrote get their saved image back, if their resource still exists.
  INSERT INTO public.capabilities AS c
  SELECT img.*
  FROM sark_migration.preexisting_rows p
  CROSS JOIN LATERAL jsonb_populate_record(NULL::public.capabilities, p.row_image) AS img
  WHERE p.target_table = 'capabilities'
    AND EXISTS (SELECT 1 FROM public.resources r WHERE r.id = p.row_image ->> 'resource_id')
  ON CONFLICT (id) DO UPDATE
    SET resource_id = EXCLUDED.resource_id, name = EXCLUDED.name, description = EXCLUDED.description,
        input_schema = EXCLUDED.input_schema, output_schema = EXCLUDED.output_schema,
        sensitivity_level = EXCLUDED.sensitivity_level, metadata = EXCLUDED.metadata
    WHERE (c.resource_id, c.name, c.description, c.input_schema, c.output_schema, c.sensitivity_level, c.metadata)
          IS DISTINCT FROM (EXCLUDED.resource_id, EXCLUDED.name, EXCLUDED.description, EXCLUDED.input_schema,
                            EXCLUDED.output_schema, EXCLUDED.sensitivity_level, EXCLUDED.metadata);
  SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM public.resources r WHERE r.id = p.row_image ->> 'resource_id')),
         count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = p.row_image ->> 'resource_id'))
    INTO cap_restored, cap_unrestorable
  FROM sark_migration.preexisting_rows p WHERE p.target_table = 'capabilities';

  -- 4. Resources we wrote go, unless a capability still references them (ON DELETE CASCADE).
  DELETE FROM public.resources r
  WHERE sark_migration.is_migrated('resources', r.id, r.metadata)
    AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                     WHERE p.target_table = 'resources' AND p.id = r.id)
    AND NOT EXISTS (SELECT 1 FROM public.capabilities c WHERE c.resource_id = r.id);
  GET DIAGNOSTICS res_deleted = ROW_COUNT;

  SELECT count(*) INTO res_kept FROM public.resources r
   WHERE sark_migration.is_migrated('resources', r.id, r.metadata)
     AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                      WHERE p.target_table = 'resources' AND p.id = r.id);

  SELECT count(*) INTO cap_native FROM public.capabilities c
   WHERE NOT sark_migration.is_migrated('capabilities', c.id, c.metadata)
     AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                      WHERE p.target_table = 'capabilities' AND p.id = c.id);
  SELECT count(*) INTO res_native FROM public.resources r
   WHERE NOT sark_migration.is_migrated('resources', r.id, r.metadata)
     AND NOT EXISTS (SELECT 1 FROM sark_migration.preexisting_rows p
                      WHERE p.target_table = 'resources' AND p.id = r.id);

  -- 5. The ledger of a finished rollback: restored images are no longer needed (a later run
  --    captures afresh), progress restarts from scratch. Unrestorable images are kept.
  DELETE FROM sark_migration.preexisting_rows p
  WHERE p.target_table = 'resources'
     OR (p.target_table = 'capabilities'
         AND EXISTS (SELECT 1 FROM public.capabilities c WHERE c.id = p.id));
  DELETE FROM sark_migration.copy_progress;

  RETURN QUERY VALUES
    ('capabilities'::text, cap_deleted, cap_restored, cap_unrestorable, 0::bigint, cap_native),
    ('resources'::text,    res_deleted, res_restored, 0::bigint,        res_kept,  res_native);
END
$$;
COMMENT ON FUNCTION sark_migration.rollback() IS
  'Removes the v2 rows this migration wrote and restores the rows it overwrote (preexisting_rows); never '
  'touches v2-native rows and never deletes a resource that a remaining capability references (counted '
  'in kept_referenced). Locks resources and capabilities against writes for its duration. Never writes v1.';

-- The views of sark_migration depend on the v1 and v2 tables (PostgreSQL records that), so
-- `schema down` (DROP TABLE resources) and `decommission` (DROP TABLE mcp_tools) would be refused
-- while they exist. This drops them all, keeping the ledgers and functions; re-running
-- sql/mapping 002..008 recreates them.
CREATE OR REPLACE FUNCTION sark_migration.detach_views()
RETURNS integer
LANGUAGE plpgsql
SET client_min_messages = warning                    -- no NOTICE per cascaded view
AS $$
DECLARE
  v      record;
  before integer;
BEGIN
  SELECT count(*) INTO before FROM pg_catalog.pg_class c
   WHERE c.relnamespace = 'sark_migration'::regnamespace AND c.relkind IN ('v', 'm');
  FOR v IN SELECT c.relname FROM pg_catalog.pg_class c
            WHERE c.relnamespace = 'sark_migration'::regnamespace AND c.relkind = 'v' LOOP
    EXECUTE format('DROP VIEW IF EXISTS sark_migration.%I CASCADE', v.relname);   -- may be gone (CASCADE)
  END LOOP;
  RETURN before;
END
$$;
COMMENT ON FUNCTION sark_migration.detach_views() IS
  'Drops every view of sark_migration (they depend on the v1 and v2 tables) so that schema down / '
  'decommission can drop those tables; ledgers and functions stay. Re-run sql/mapping 002..008 to recreate.';
