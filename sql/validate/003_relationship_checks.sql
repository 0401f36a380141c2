-- 003_relationship_checks.sql
--
-- What:     the relationships family, sark_migration.check_relationships:
--             relationships.orphaned_capabilities          capabilities whose resource does not
--                                                          exist; details say whether their v1
--                                                          tool and server still exist.   (error)
--             relationships.capability_resource_matches_v1 the capability of every migrated v1
--                                                          tool points at the resource of the
--                                                          tool's server (from 002's check_keys,
--                                                          which evaluates the key comparison
--                                                          once for both families).        (error)
--             relationships.cost_tracking_references       cost rows whose capability or resource
--                                                          does not exist (a ledger without foreign
--                                                          keys on purpose, so only a warning).
--                                                                                        (warning)
--           sark_migration.check_references holds the two checks of references alone (validate
--           --quick and --full read it next to check_keys).
-- Requires: 000, 002 (check_keys); public.resources, capabilities, cost_tracking, mcp_servers,
--           mcp_tools.
-- Runs:     in a transaction; idempotent. Cost: an anti-join of capabilities on resources (parallel)
--           and of cost_tracking on both.

SELECT sark_migration.validation_define_view(
  'check_references',
  ARRAY['public.resources', 'public.capabilities', 'public.cost_tracking', 'public.mcp_servers', 'public.mcp_tools',
        'sark_migration.validation_uuid(text)'],
  $view$
  WITH orphan AS MATERIALIZED (
    SELECT c.id, c.resource_id, sark_migration.is_migrated('capabilities', c.id, c.metadata) AS migrated
    FROM public.capabilities c
    WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = c.resource_id)
  ), cost AS MATERIALIZED (
    SELECT ct.id, ct.capability_id, ct.resource_id,
           NOT EXISTS (SELECT 1 FROM public.capabilities c WHERE c.id = ct.capability_id) AS capability_missing,
           NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = ct.resource_id) AS resource_missing
    FROM public.cost_tracking ct
    WHERE NOT EXISTS (SELECT 1 FROM public.capabilities c WHERE c.id = ct.capability_id)
       OR NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = ct.resource_id)
  )
  -- relationships.orphaned_capabilities -----------------------------------------------------------
  SELECT 'relationships.orphaned_capabilities'::text AS check_name,
         'error'::text AS severity,
         o.n = 0 AS passed,
         CASE WHEN o.n = 0 THEN 'No capability references a missing resource.'
         ELSE format('%s capabilities reference a resource that does not exist (%s of them migrated from v1): '
                     'the foreign key capabilities_resource_id_fkey was bypassed or is missing. For the ones whose '
                     'v1 server still exists (details.rows[].v1_server_exists), run `sark-migrate data --execute` to '
                     'restore the resource; delete the others or restore their resource. Full list: details.investigate.',
                     o.n, o.migrated)
         END AS message,
         jsonb_build_object(
           'orphaned', o.n,
           'rows', CASE WHEN o.n > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object(
                      'id', x.id, 'resource_id', x.resource_id, 'migrated_from_v1', x.migrated,
                      'v1_tool_exists', t.id IS NOT NULL, 'v1_tool_server_id', t.server_id,
                      'v1_server_exists', s.id IS NOT NULL) ORDER BY x.id)
             FROM (SELECT * FROM orphan ORDER BY id LIMIT 20) x
             LEFT JOIN public.mcp_tools t ON t.id = sark_migration.validation_uuid(x.id)
             LEFT JOIN public.mcp_servers s ON s.id = sark_migration.validation_uuid(x.resource_id)) ELSE '[]'::jsonb END,
           'investigate',
             'SELECT c.id, c.name, c.resource_id, t.id IS NOT NULL AS v1_tool_exists, s.id IS NOT NULL AS v1_server_exists '
             || 'FROM capabilities c LEFT JOIN mcp_tools t ON t.id::text = c.id LEFT JOIN mcp_servers s ON s.id::text = c.resource_id '
             || 'WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.id = c.resource_id) ORDER BY c.id;') AS details
  FROM (SELECT count(*) AS n, count(*) FILTER (WHERE migrated) AS migrated FROM orphan) o
  -- relationships.cost_tracking_references --------------------------------------------------------
  UNION ALL
  SELECT 'relationships.cost_tracking_references', 'warning',
         k.n = 0,
         CASE WHEN k.n = 0 THEN 'Every cost_tracking row references an existing capability and resource.'
         ELSE format('%s cost_tracking rows reference a capability (%s) or resource (%s) that does not exist. Cost rows '
                     'are a ledger without foreign keys on purpose and still count in mv_daily_cost_summary (under '
                     'protocol NULL); if these ids should exist, run `sark-migrate data --execute`, otherwise nothing '
                     'needs doing.', k.n, k.capability_missing, k.resource_missing)
         END,
         jsonb_build_object(
           'rows_with_missing_reference', k.n,
           'capability_missing', k.capability_missing,
           'resource_missing', k.resource_missing,
           'rows', CASE WHEN k.n > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('id', x.id, 'capability_id', x.capability_id, 'resource_id', x.resource_id,
                                                 'capability_missing', x.capability_missing,
                                                 'resource_missing', x.resource_missing) ORDER BY x.id)
             FROM (SELECT * FROM cost ORDER BY id LIMIT 20) x) ELSE '[]'::jsonb END)
  FROM (SELECT count(*) AS n,
               count(*) FILTER (WHERE capability_missing) AS capability_missing,
               count(*) FILTER (WHERE resource_missing) AS resource_missing
        FROM cost) k
  $view$,
  'Validation, references: no orphaned capabilities, cost_tracking references (warning).',
  'relationships.prerequisites');

SELECT sark_migration.validation_define_view(
  'check_relationships',
  ARRAY['sark_migration.check_keys', 'sark_migration.check_references'],
  $view$SELECT * FROM sark_migration.check_keys WHERE check_name LIKE 'relationships.%'
        UNION ALL
        SELECT * FROM sark_migration.check_references$view$,
  'Validation, relationships family: no orphaned capabilities, every v1 tool''s capability under its '
  'server''s resource, cost_tracking references (warning).',
  'relationships.prerequisites');
