-- 006_plan.sql
--
-- What:     the dry-run plan, computed in SQL and read-only:
--             sark_migration.plan            one row per target table: would_insert, would_update
--                                            (of which overwrite_preexisting), unchanged,
--                                            quarantined, would_delete, stale
--             sark_migration.plan_sample(n)  up to n rows per target table as they would be
--                                            written to v2 (inserts and updates only)
--           Unlike the copy, the plan does not trust the quarantine ledger: it subtracts the
--           quarantine findings as they are now, so a dry-run before the first execute (or
--           after v1 changed) is exact without writing anything.
-- Requires: 001 .. 005; public.resources, public.capabilities (without them this file only
--           prints a notice: re-run it after schema up).
-- Runs:     in a transaction; idempotent. Wrapped in a DO block (EXECUTE per statement) only so
--           that it can be applied to a database without v2 tables. Evaluating the plan costs
--           about one no-op copy (it compares every mapped row with its v2 row).

DO $install$
DECLARE
  c record;
BEGIN
  IF to_regclass('public.resources') IS NULL OR to_regclass('public.capabilities') IS NULL THEN
    RAISE NOTICE 'sark_migration: no v2 tables yet; the plan is created once they exist (re-run 006)';
    RETURN;
  END IF;

  -- The rows the copy would write if it ran now (mapping minus current quarantine findings).
  EXECUTE $sql$
CREATE OR REPLACE VIEW sark_migration.plan_resource_rows AS
SELECT m.*
FROM sark_migration.resource_map m
WHERE NOT EXISTS (SELECT 1 FROM sark_migration.findings_servers_quarantine f WHERE f.source_id = m.source_id)
$sql$;
  EXECUTE $sql$
COMMENT ON VIEW sark_migration.plan_resource_rows IS
  'resource_map minus the current quarantine findings: what the copy would write if run now.'
$sql$;
  EXECUTE $sql$
CREATE OR REPLACE VIEW sark_migration.plan_capability_rows AS
SELECT m.*
FROM sark_migration.capability_map m
WHERE NOT EXISTS (SELECT 1 FROM sark_migration.findings_tools_quarantine f WHERE f.source_id = m.source_id)
$sql$;
  EXECUTE $sql$
COMMENT ON VIEW sark_migration.plan_capability_rows IS
  'capability_map minus the current quarantine findings: what the copy would write if run now.'
$sql$;
  EXECUTE $sql$
CREATE OR REPLACE VIEW sark_migration.plan AS
WITH res AS (
  SELECT count(*) FILTER (WHERE cur.id IS NULL)                                  AS would_insert,
         count(*) FILTER (WHERE cur.id IS NOT NULL AND (cur.name, cur.protocol, cur.endpoint, cur.sensitivity_level,
                                  cur.metadata, cur.created_at, cur.updated_at)
                                 IS DISTINCT FROM (m.name, m.protocol, m.endpoint, m.sensitivity_level,
                                  m.metadata, m.created_at, m.updated_at))        AS would_update,
         count(*) FILTER (WHERE cur.id IS NOT NULL AND NOT sark_migration.is_migrated('resources', cur.id, cur.metadata))  AS overwrite_preexisting,
         count(*) FILTER (WHERE cur.id IS NOT NULL AND (cur.name, cur.protocol, cur.endpoint, cur.sensitivity_level,
                                  cur.metadata, cur.created_at, cur.updated_at)
                                 IS NOT DISTINCT FROM (m.name, m.protocol, m.endpoint, m.sensitivity_level,
                                  m.metadata, m.created_at, m.updated_at))        AS unchanged
  FROM sark_migration.plan_resource_rows m
  LEFT JOIN public.resources cur ON cur.id = m.id
),
cap AS (
  SELECT count(*) FILTER (WHERE cur.id IS NULL)                                  AS would_insert,
         count(*) FILTER (WHERE cur.id IS NOT NULL AND (cur.resource_id, cur.name, cur.description, cur.input_schema,
                                  cur.output_schema, cur.sensitivity_level, cur.metadata)
                                 IS DISTINCT FROM (m.resource_id, m.name, m.description, m.input_schema,
                                  m.output_schema, m.sensitivity_level, m.metadata)) AS would_update,
         count(*) FILTER (WHERE cur.id IS NOT NULL AND NOT sark_migration.is_migrated('capabilities', cur.id, cur.metadata))  AS overwrite_preexisting,
         count(*) FILTER (WHERE cur.id IS NOT NULL AND (cur.resource_id, cur.name, cur.description, cur.input_schema,
                                  cur.output_schema, cur.sensitivity_level, cur.metadata)
                                 IS NOT DISTINCT FROM (m.resource_id, m.name, m.description, m.input_schema,
                                  m.output_schema, m.sensitivity_level, m.metadata)) AS unchanged
  FROM sark_migration.plan_capability_rows m
  LEFT JOIN public.capabilities cur ON cur.id = m.id
),
-- v2 rows holding our image of a v1 row that no longer exists (what delete_vanished removes).
vanished_cap AS (
  SELECT c.id, c.resource_id
  FROM public.capabilities c
  WHERE sark_migration.is_migrated('capabilities', c.id, c.metadata)
    AND NOT EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id = sark_migration.v1_id(c.id))
),
vanished_res AS (
  SELECT r.id,
         EXISTS (SELECT 1 FROM public.capabilities c
                  WHERE c.resource_id = r.id
                    AND NOT EXISTS (SELECT 1 FROM vanished_cap v WHERE v.id = c.id)) AS has_dependents
  FROM public.resources r
  WHERE sark_migration.is_migrated('resources', r.id, r.metadata)
    AND NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = sark_migration.v1_id(r.id))
)
SELECT 'resources'::text AS target_table, res.would_insert, res.would_update, res.overwrite_preexisting,
       res.unchanged,
       (SELECT count(DISTINCT source_id) FROM sark_migration.findings_servers_quarantine) AS quarantined,
       (SELECT count(*) FROM vanished_res WHERE NOT has_dependents)                       AS would_delete,
       (SELECT count(*) FROM vanished_res WHERE has_dependents)                           AS kept_vanished,
       (SELECT count(*) FROM sark_migration.findings WHERE finding = 'stale_v2_row'
                                                   AND source_table = 'mcp_servers')      AS stale
FROM res
UNION ALL
SELECT 'capabilities', cap.would_insert, cap.would_update, cap.overwrite_preexisting, cap.unchanged,
       (SELECT count(DISTINCT source_id) FROM sark_migration.findings_tools_quarantine),
       (SELECT count(*) FROM vanished_cap),
       0,
       (SELECT count(*) FROM sark_migration.findings WHERE finding = 'stale_v2_row'
                                                   AND source_table = 'mcp_tools')
FROM cap
$sql$;
  EXECUTE $sql$
COMMENT ON VIEW sark_migration.plan IS
  'Dry-run plan per target table. would_insert / would_update / unchanged: rows the copy would write '
  '(updates include overwrite_preexisting, v2 rows not made by this migration whose image is saved '
  'first); quarantined: v1 rows held back; would_delete: migrated v2 rows whose v1 row is gone; '
  'kept_vanished: such resources kept because other capabilities still point to them; stale: migrated '
  'rows whose v1 row is now quarantined (left as they are). Read-only.'
$sql$;
  COMMENT ON COLUMN sark_migration.plan.target_table IS 'resources or capabilities';
  COMMENT ON COLUMN sark_migration.plan.would_insert IS 'image rows with no v2 row yet';
  COMMENT ON COLUMN sark_migration.plan.would_update IS 'image rows whose v2 row differs (written)';
  COMMENT ON COLUMN sark_migration.plan.overwrite_preexisting IS
    'of would_update: v2 rows not made by this migration (image saved first, restored by rollback)';
  COMMENT ON COLUMN sark_migration.plan.unchanged IS 'image rows whose v2 row is already equal (not written)';
  COMMENT ON COLUMN sark_migration.plan.quarantined IS 'v1 rows held back by a quarantine finding';
  COMMENT ON COLUMN sark_migration.plan.would_delete IS 'migrated v2 rows whose v1 row no longer exists';
  COMMENT ON COLUMN sark_migration.plan.kept_vanished IS
    'migrated resources whose v1 row is gone but that other capabilities still reference (kept)';
  COMMENT ON COLUMN sark_migration.plan.stale IS 'migrated v2 rows whose v1 row is now quarantined (left as they are)';
  FOR c IN SELECT cl.relname AS view_name, a.attname AS column_name,
                  CASE WHEN cl.relname = 'plan_resource_rows' THEN 'resources' ELSE 'capabilities' END AS target
             FROM pg_catalog.pg_class cl
             JOIN pg_catalog.pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0
            WHERE cl.relnamespace = 'sark_migration'::regnamespace
              AND cl.relname IN ('plan_resource_rows', 'plan_capability_rows') LOOP
    EXECUTE format('COMMENT ON COLUMN sark_migration.%I.%I IS %L', c.view_name, c.column_name,
                   CASE WHEN c.column_name = 'source_id' THEN 'v1 primary key'
                        WHEN c.column_name = 'server_source_id' THEN 'v1 primary key of the referenced server'
                        ELSE format('%s.%s as the copy would write it', c.target, c.column_name) END);
  END LOOP;

  EXECUTE $sql$
CREATE OR REPLACE FUNCTION sark_migration.plan_sample(n integer DEFAULT 3)
RETURNS TABLE (target_table text, change text, source_id uuid, v2_row jsonb)
LANGUAGE sql STABLE
AS $$
  (SELECT 'resources'::text,
          CASE WHEN cur.id IS NULL THEN 'insert' ELSE 'update' END,
          m.source_id,
          to_jsonb(m) - 'source_id'
   FROM sark_migration.plan_resource_rows m
   LEFT JOIN public.resources cur ON cur.id = m.id
   WHERE cur.id IS NULL
      OR (cur.name, cur.protocol, cur.endpoint, cur.sensitivity_level, cur.metadata, cur.created_at, cur.updated_at)
         IS DISTINCT FROM (m.name, m.protocol, m.endpoint, m.sensitivity_level, m.metadata, m.created_at, m.updated_at)
   ORDER BY m.source_id
   LIMIT n)
  UNION ALL
  (SELECT 'capabilities'::text,
          CASE WHEN cur.id IS NULL THEN 'insert' ELSE 'update' END,
          m.source_id,
          to_jsonb(m) - '{source_id,server_source_id}'::text[]
   FROM sark_migration.plan_capability_rows m
   LEFT JOIN public.capabilities cur ON cur.id = m.id
   WHERE cur.id IS NULL
      OR (cur.resource_id, cur.name, cur.description, cur.input_schema, cur.output_schema, cur.sensitivity_level, cur.metadata)
         IS DISTINCT FROM (m.resource_id, m.name, m.description, m.input_schema, m.output_schema, m.sensitivity_level, m.metadata)
   ORDER BY m.source_id
   LIMIT n)
$$
$sql$;
  EXECUTE $sql$
COMMENT ON FUNCTION sark_migration.plan_sample(integer) IS
  'Up to n rows per target table that the copy would insert or update, as the v2 row (JSON). Read-only.'
$sql$;
END
$install$;
