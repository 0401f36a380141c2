-- 005_business_rule_checks.sql
--
-- What:     the business-rules family, sark_migration.check_business_rules, over ALL v2 rows
--           (migrated and native):
--             rules.sensitivity_levels   resources/capabilities.sensitivity_level is one of
--                                        low, medium, high, critical                        (error)
--             rules.protocols            resources.protocol is one of mcp, http, grpc, graphql (error)
--             rules.names                no NULL or blank name                              (error)
--             rules.endpoints            no blank resources.endpoint                        (error)
--             rules.metadata_objects     metadata is a JSON object                          (error)
--             rules.capability_schemas   input_schema and output_schema are JSON objects: SARK's
--                                        CapabilitySchema rejects anything else             (error)
--             rules.core_metadata_keys   every migrated row has all the core metadata keys the v2
--                                        application reads at the top level (metadata->>'status')
--                                                                                           (error)
--           The CHECK constraints of 006 make the first ones impossible while they are in place;
--           these checks find rows written while a constraint was dropped, NOT VALID or bypassed.
-- Requires: 000; public.resources, public.capabilities; sark_migration.core_keys(text) (the mapping).
-- Runs:     in a transaction; idempotent. Cost: one parallel scan per table (count FILTERs); the
--           offending rows are listed only when there are some.

SELECT sark_migration.validation_define_view(
  'check_business_rules',
  ARRAY['public.resources', 'public.capabilities', 'sark_migration.core_keys(text)',
        'sark_migration.validation_uuid(text)'],
  $view$
  WITH r AS (
    SELECT count(*) FILTER (WHERE r.sensitivity_level IS NULL
                               OR r.sensitivity_level NOT IN ('low', 'medium', 'high', 'critical')) AS sensitivity,
           count(*) FILTER (WHERE r.protocol IS NULL OR r.protocol NOT IN ('mcp', 'http', 'grpc', 'graphql')) AS protocol,
           count(*) FILTER (WHERE r.name IS NULL OR btrim(r.name) = '') AS name,
           count(*) FILTER (WHERE r.endpoint IS NULL OR btrim(r.endpoint) = '') AS endpoint,
           count(*) FILTER (WHERE jsonb_typeof(r.metadata) IS DISTINCT FROM 'object') AS metadata,
           count(*) FILTER (WHERE sark_migration.is_migrated('resources', r.id, r.metadata)
                              AND NOT r.metadata ?& array_remove(sark_migration.core_keys('mcp_servers'), '_v1')) AS core
    FROM public.resources r
  ), c AS (
    SELECT count(*) FILTER (WHERE c.sensitivity_level IS NULL
                               OR c.sensitivity_level NOT IN ('low', 'medium', 'high', 'critical')) AS sensitivity,
           count(*) FILTER (WHERE c.name IS NULL OR btrim(c.name) = '') AS name,
           count(*) FILTER (WHERE jsonb_typeof(c.metadata) IS DISTINCT FROM 'object') AS metadata,
           count(*) FILTER (WHERE jsonb_typeof(c.input_schema) IS DISTINCT FROM 'object'
                               OR jsonb_typeof(c.output_schema) IS DISTINCT FROM 'object') AS schemas,
           count(*) FILTER (WHERE sark_migration.is_migrated('capabilities', c.id, c.metadata)
                              AND NOT c.metadata ?& array_remove(array_remove(sark_migration.core_keys('mcp_tools'), '_v1'), '_v2')) AS core
    FROM public.capabilities c
  )
  -- rules.sensitivity_levels ---------------------------------------------------------------------
  SELECT 'rules.sensitivity_levels'::text AS check_name,
         'error'::text AS severity,
         r.sensitivity + c.sensitivity = 0 AS passed,
         CASE WHEN r.sensitivity + c.sensitivity = 0 THEN
           'Every resources and capabilities row has a sensitivity_level of low, medium, high or critical.'
         ELSE format('%s resources and %s capabilities rows have a sensitivity_level outside low, medium, high, '
                     'critical (first ones in details.rows); authorization decisions read it. The CHECK constraints '
                     '*_sensitivity_level_check refuse such values, so one was dropped or bypassed (see '
                     'schema.constraint.*). Correct the rows, then restore or validate the constraint.',
                     r.sensitivity, c.sensitivity)
         END AS message,
         jsonb_build_object('resources', r.sensitivity, 'capabilities', c.sensitivity,
           'rows', CASE WHEN r.sensitivity + c.sensitivity > 0 THEN (
             SELECT jsonb_agg(x ORDER BY x ->> 'table', x ->> 'id') FROM (
               (SELECT jsonb_build_object('table', 'resources', 'id', r.id, 'value', r.sensitivity_level) AS x
                FROM public.resources r
                WHERE r.sensitivity_level IS NULL OR r.sensitivity_level NOT IN ('low', 'medium', 'high', 'critical')
                ORDER BY r.id LIMIT 20)
               UNION ALL
               (SELECT jsonb_build_object('table', 'capabilities', 'id', c.id, 'value', c.sensitivity_level)
                FROM public.capabilities c
                WHERE c.sensitivity_level IS NULL OR c.sensitivity_level NOT IN ('low', 'medium', 'high', 'critical')
                ORDER BY c.id LIMIT 20)) y) ELSE '[]'::jsonb END) AS details
  FROM r, c
  -- rules.protocols ------------------------------------------------------------------------------
  UNION ALL
  SELECT 'rules.protocols', 'error',
         r.protocol = 0,
         CASE WHEN r.protocol = 0 THEN 'Every resources row has a protocol of mcp, http, grpc or graphql.'
         ELSE format('%s resources rows have a protocol outside mcp, http, grpc, graphql (first ones in details.rows): '
                     'no protocol adapter serves them. resources_protocol_check refuses such values, so it was '
                     'dropped or bypassed (schema.constraint.resources_protocol_check). Correct the rows, then '
                     'restore the constraint.', r.protocol)
         END,
         jsonb_build_object('resources', r.protocol,
           'rows', CASE WHEN r.protocol > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('table', 'resources', 'id', x.id, 'value', x.protocol) ORDER BY x.id)
             FROM (SELECT r.id, r.protocol FROM public.resources r
                   WHERE r.protocol IS NULL OR r.protocol NOT IN ('mcp', 'http', 'grpc', 'graphql')
                   ORDER BY r.id LIMIT 20) x) ELSE '[]'::jsonb END)
  FROM r
  -- rules.names ----------------------------------------------------------------------------------
  UNION ALL
  SELECT 'rules.names', 'error',
         r.name + c.name = 0,
         CASE WHEN r.name + c.name = 0 THEN 'Every resources and capabilities row has a name.'
         ELSE format('%s resources and %s capabilities rows have a NULL or blank name (first ones in details.rows): '
                     'v2 lists and audit events show them as nameless. Give them the name of their v1 row (for '
                     'migrated rows `sark-migrate data --execute` does), or a name for native rows.',
                     r.name, c.name)
         END,
         jsonb_build_object('resources', r.name, 'capabilities', c.name,
           'rows', CASE WHEN r.name + c.name > 0 THEN (
             SELECT jsonb_agg(x ORDER BY x ->> 'table', x ->> 'id') FROM (
               (SELECT jsonb_build_object('table', 'resources', 'id', r.id, 'value', r.name) AS x
                FROM public.resources r WHERE r.name IS NULL OR btrim(r.name) = '' ORDER BY r.id LIMIT 20)
               UNION ALL
               (SELECT jsonb_build_object('table', 'capabilities', 'id', c.id, 'value', c.name)
                FROM public.capabilities c WHERE c.name IS NULL OR btrim(c.name) = '' ORDER BY c.id LIMIT 20)) y)
           ELSE '[]'::jsonb END)
  FROM r, c
  -- rules.endpoints ------------------------------------------------------------------------------
  UNION ALL
  SELECT 'rules.endpoints', 'error',
         r.endpoint = 0,
         CASE WHEN r.endpoint = 0 THEN 'Every resources row has an endpoint.'
         ELSE format('%s resources rows have a blank endpoint (first ones in details.rows): nothing can reach them. '
                     'For migrated servers the endpoint is the v1 command (stdio) or endpoint: run `sark-migrate data '
                     '--execute` to re-copy; fix native rows by hand.', r.endpoint)
         END,
         jsonb_build_object('resources', r.endpoint,
           'rows', CASE WHEN r.endpoint > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('table', 'resources', 'id', x.id, 'value', x.endpoint) ORDER BY x.id)
             FROM (SELECT r.id, r.endpoint FROM public.resources r
                   WHERE r.endpoint IS NULL OR btrim(r.endpoint) = '' ORDER BY r.id LIMIT 20) x) ELSE '[]'::jsonb END)
  FROM r
  -- rules.metadata_objects -----------------------------------------------------------------------
  UNION ALL
  SELECT 'rules.metadata_objects', 'error',
         r.metadata + c.metadata = 0,
         CASE WHEN r.metadata + c.metadata = 0 THEN 'The metadata of every resources and capabilities row is a JSON object.'
         ELSE format('%s resources and %s capabilities rows have metadata that is not a JSON object (first ones in '
                     'details.rows): the v2 application reads metadata->>''key'' and gets NULL. The CHECK '
                     'constraints *_metadata_is_object refuse these, so one was dropped or bypassed. Migrated rows: '
                     'run `sark-migrate data --execute`; native rows: wrap the value in an object.',
                     r.metadata, c.metadata)
         END,
         jsonb_build_object('resources', r.metadata, 'capabilities', c.metadata,
           'rows', CASE WHEN r.metadata + c.metadata > 0 THEN (
             SELECT jsonb_agg(x ORDER BY x ->> 'table', x ->> 'id') FROM (
               (SELECT jsonb_build_object('table', 'resources', 'id', r.id, 'type', jsonb_typeof(r.metadata)) AS x
                FROM public.resources r WHERE jsonb_typeof(r.metadata) IS DISTINCT FROM 'object' ORDER BY r.id LIMIT 20)
               UNION ALL
               (SELECT jsonb_build_object('table', 'capabilities', 'id', c.id, 'type', jsonb_typeof(c.metadata))
                FROM public.capabilities c WHERE jsonb_typeof(c.metadata) IS DISTINCT FROM 'object' ORDER BY c.id LIMIT 20)) y)
           ELSE '[]'::jsonb END)
  FROM r, c
  -- rules.capability_schemas ---------------------------------------------------------------------
  UNION ALL
  SELECT 'rules.capability_schemas', 'error',
         c.schemas = 0,
         CASE WHEN c.schemas = 0 THEN 'The input_schema and output_schema of every capabilities row are JSON objects.'
         ELSE format('%s capabilities rows have an input_schema or output_schema that is not a JSON object (first ones '
                     'in details.rows): SARK''s CapabilitySchema rejects them, so the v2 application cannot load '
                     'them. A migrated one comes from a v1 tool whose parameters was not an object, which the copy '
                     'holds in quarantine (parameters_not_object): fix the v1 row and run `sark-migrate data '
                     '--execute`; correct native rows in v2.', c.schemas)
         END,
         jsonb_build_object('capabilities', c.schemas,
           'rows', CASE WHEN c.schemas > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('table', 'capabilities', 'id', x.id, 'input_schema', jsonb_typeof(x.input_schema),
                                                 'output_schema', jsonb_typeof(x.output_schema)) ORDER BY x.id)
             FROM (SELECT c.id, c.input_schema, c.output_schema FROM public.capabilities c
                   WHERE jsonb_typeof(c.input_schema) IS DISTINCT FROM 'object'
                      OR jsonb_typeof(c.output_schema) IS DISTINCT FROM 'object'
                   ORDER BY c.id LIMIT 20) x) ELSE '[]'::jsonb END)
  FROM c
  -- rules.core_metadata_keys ---------------------------------------------------------------------
  UNION ALL
  SELECT 'rules.core_metadata_keys', 'error',
         r.core + c.core = 0,
         CASE WHEN r.core + c.core = 0 THEN
           'Every migrated resources and capabilities row has all the core metadata keys (JSON null where v1 had NULL).'
         ELSE format('%s migrated resources and %s migrated capabilities rows lack core metadata keys the v2 '
                     'application reads at the top level (e.g. metadata->>''status''); details.rows names the rows '
                     'and the missing keys. Run `sark-migrate data --execute` to rewrite them from v1.',
                     r.core, c.core)
         END,
         jsonb_build_object('resources', r.core, 'capabilities', c.core,
           'rows', CASE WHEN r.core + c.core > 0 THEN (
             SELECT jsonb_agg(x ORDER BY x ->> 'table', x ->> 'id') FROM (
               (SELECT jsonb_build_object('table', 'resources', 'id', r.id, 'missing_keys',
                         (SELECT jsonb_agg(k ORDER BY k)
                            FROM unnest(array_remove(sark_migration.core_keys('mcp_servers'), '_v1')) AS k
                           WHERE NOT r.metadata ? k)) AS x
                FROM public.resources r
                WHERE sark_migration.is_migrated('resources', r.id, r.metadata)
                  AND NOT r.metadata ?& array_remove(sark_migration.core_keys('mcp_servers'), '_v1')
                ORDER BY r.id LIMIT 20)
               UNION ALL
               (SELECT jsonb_build_object('table', 'capabilities', 'id', c.id, 'missing_keys',
                         (SELECT jsonb_agg(k ORDER BY k)
                            FROM unnest(array_remove(array_remove(sark_migration.core_keys('mcp_tools'), '_v1'), '_v2')) AS k
                           WHERE NOT c.metadata ? k))
                FROM public.capabilities c
                WHERE sark_migration.is_migrated('capabilities', c.id, c.metadata)
                  AND NOT c.metadata ?& array_remove(array_remove(sark_migration.core_keys('mcp_tools'), '_v1'), '_v2')
                ORDER BY c.id LIMIT 20)) y)
           ELSE '[]'::jsonb END)
  FROM r, c
  $view$,
  'Validation, business-rules family: valid sensitivity levels and protocols, names, endpoints, metadata '
  'objects, and the core metadata keys of migrated rows, over every v2 row.',
  'rules.prerequisites');
