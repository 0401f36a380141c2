-- 004_fidelity_checks.sql
--
-- What:     the fidelity family (validate --full), sark_migration.check_fidelity: proof that the
--           values arrived, not just the rows.
--             fidelity.resources           every migrated resources row equals the mapping of its
--                                          v1 row (sark_migration.resource_image), and every
--                                          mappable v1 server has one.                      (error)
--             fidelity.capabilities        the same for capabilities / capability_image.     (error)
--             fidelity.servers_roundtrip   the inverse mapping rebuilds every migrated v1 server
--                                          exactly (v1_servers EXCEPT v1_servers_rebuilt, both
--                                          ways).                                            (error)
--             fidelity.tools_roundtrip     the same for tools.                               (error)
--             fidelity.v1_source_gone      v2 rows with _v1 provenance whose v1 row no longer
--                                          exists.                                           (error)
--           Rows held in the quarantine are left out on both sides (data.quarantined_* reports
--           them). On failure details.rows names the first 20 offending ids with the differing
--           fields and both values, and details.investigate is the one query for the full list.
--
-- How (the 1,000,000-row budget): each side of each comparison is reduced to (id, a 64-bit hash
-- of the whole row), summed per bucket of the id; only buckets that differ are compared row by
-- row (validation_define_diff_view in 000). So the mapping and its inverse are evaluated once per
-- row, by parallel workers, and the per-field difference is computed for the first 20 offending
-- rows only. A changed value changes its row's hash and so its bucket's sum (missing a
-- difference needs a 64-bit collision).
--
-- Requires: 000; sark_migration.row_hash (000; any supported PostgreSQL); the mapping (sql/mapping):
--           resource_image, capability_image, v1_servers, v1_tools, v1_servers_rebuilt,
--           v1_tools_rebuilt, quarantine; public.resources, capabilities, mcp_servers, mcp_tools.
--           Where one is missing the family is one failing check saying which.
-- Runs:     in a transaction; idempotent.

-- ---------------------------------------------------------------------------------------------
-- Row-level mismatch views: every id whose whole row differs between the two sides, with why.
-- Querying one of them costs one hashing pass over both sides (plus the few bad buckets).
-- ---------------------------------------------------------------------------------------------

-- resources (migrated, not quarantined) vs resource_image. Every column is cast to text/jsonb/
-- timestamptz on both sides so that the hashes depend on the values only.
SELECT sark_migration.validation_define_diff_view(
  view_name   => 'validation_resource_mismatches',
  requires    => ARRAY['public.resources', 'sark_migration.resource_image', 'sark_migration.quarantine',
                       'sark_migration.row_hash(anyelement,bigint)'],
  description => 'Migrated resources rows (metadata._v1, not quarantined) that differ from resource_image (the '
                 'mapping of their v1 server), and resource_image rows missing from resources. left_image: the '
                 'resources row, right_image: the expected one.',
  left_rows   => $q$SELECT r.id::text AS id,
                       sark_migration.row_hash(ROW(r.id::text, r.name::text, r.protocol::text, r.endpoint::text,
                                                r.sensitivity_level::text, r.metadata, r.created_at, r.updated_at), 0) AS h,
                       to_jsonb(r) AS j
                FROM public.resources r
                WHERE sark_migration.is_migrated('resources', r.id, r.metadata)$q$,
  left_held   => $q$SELECT r.id::text AS id,
                       sark_migration.row_hash(ROW(r.id::text, r.name::text, r.protocol::text, r.endpoint::text,
                                                r.sensitivity_level::text, r.metadata, r.created_at, r.updated_at), 0) AS h
                FROM public.resources r
                WHERE r.id = ANY (ARRAY(SELECT q.source_id::text FROM sark_migration.quarantine q
                                         WHERE q.source_table = 'mcp_servers'))
                  AND sark_migration.is_migrated('resources', r.id, r.metadata)$q$,
  -- resource_image leaves the quarantine out itself: nothing to subtract on the right.
  right_rows  => $q$SELECT i.id::text AS id,
                       sark_migration.row_hash(ROW(i.id::text, i.name::text, i.protocol::text, i.endpoint::text,
                                                i.sensitivity_level::text, i.metadata, i.created_at, i.updated_at), 0) AS h,
                       to_jsonb(i) - 'source_id' AS j
                FROM sark_migration.resource_image i$q$,
  held_ids    => sark_migration.validation_held_servers_sql(),
  left_only   => 'not_in_image',
  right_only  => 'missing_in_v2',
  differs     => 'differs');

-- capabilities (migrated, not quarantined, nor their server) vs capability_image.
SELECT sark_migration.validation_define_diff_view(
  view_name   => 'validation_capability_mismatches',
  requires    => ARRAY['public.capabilities', 'public.mcp_tools', 'sark_migration.capability_image',
                       'sark_migration.quarantine', 'sark_migration.row_hash(anyelement,bigint)'],
  description => 'Migrated capabilities rows (metadata._v1, not quarantined, nor their server) that differ from '
                 'capability_image (the mapping of their v1 tool), and capability_image rows missing from '
                 'capabilities. left_image: the capabilities row, right_image: the expected one.',
  left_rows   => $q$SELECT c.id::text AS id,
                       sark_migration.row_hash(ROW(c.id::text, c.resource_id::text, c.name::text, c.description::text,
                                                c.input_schema, c.output_schema, c.sensitivity_level::text, c.metadata), 0) AS h,
                       to_jsonb(c) AS j
                FROM public.capabilities c
                WHERE sark_migration.is_migrated('capabilities', c.id, c.metadata)$q$,
  left_held   => $q$SELECT c.id::text AS id,
                       sark_migration.row_hash(ROW(c.id::text, c.resource_id::text, c.name::text, c.description::text,
                                                c.input_schema, c.output_schema, c.sensitivity_level::text, c.metadata), 0) AS h
                FROM public.capabilities c
                WHERE (c.id = ANY (ARRAY(SELECT q.source_id::text FROM sark_migration.quarantine q
                                          WHERE q.source_table = 'mcp_tools'))
                       OR c.resource_id = ANY (ARRAY(SELECT q.source_id::text FROM sark_migration.quarantine q
                                                      WHERE q.source_table = 'mcp_servers')))
                  AND sark_migration.is_migrated('capabilities', c.id, c.metadata)$q$,
  -- capability_image leaves the quarantine out itself: nothing to subtract on the right.
  right_rows  => $q$SELECT i.id::text AS id,
                       sark_migration.row_hash(ROW(i.id::text, i.resource_id::text, i.name::text, i.description::text,
                                                i.input_schema, i.output_schema, i.sensitivity_level::text, i.metadata), 0) AS h,
                       to_jsonb(i) - '{source_id,server_source_id}'::text[] AS j
                FROM sark_migration.capability_image i$q$,
  held_ids    => sark_migration.validation_held_tools_sql(),
  left_only   => 'not_in_image',
  right_only  => 'missing_in_v2',
  differs     => 'differs');

-- v1_servers vs v1_servers_rebuilt (the inverse), both without quarantined servers. The rebuilt
-- view has the same columns and types as v1_servers, so the whole rows hash alike when equal.
-- (A rebuilt row of a quarantined server, i.e. a v2 row copied before the quarantine, is not
-- subtracted in the first pass: it only makes its bucket be compared row by row.)
SELECT sark_migration.validation_define_diff_view(
  view_name   => 'validation_server_roundtrip_mismatches',
  requires    => ARRAY['public.mcp_servers', 'sark_migration.v1_servers', 'sark_migration.v1_servers_rebuilt',
                       'sark_migration.quarantine', 'sark_migration.row_hash(anyelement,bigint)'],
  description => '(v1_servers EXCEPT v1_servers_rebuilt) and the reverse, by id, without quarantined servers. '
                 'left_image: the v1 row, right_image: the row rebuilt from v2.',
  left_rows   => $q$SELECT s.id::text AS id, sark_migration.row_hash(s, 0) AS h, to_jsonb(s) AS j
                FROM sark_migration.v1_servers s$q$,
  left_held   => $q$SELECT s.id::text AS id, sark_migration.row_hash(s, 0) AS h
                FROM sark_migration.v1_servers s
                WHERE s.id = ANY (ARRAY(SELECT q.source_id FROM sark_migration.quarantine q
                                         WHERE q.source_table = 'mcp_servers'))$q$,
  right_rows  => $q$SELECT b.id::text AS id, sark_migration.row_hash(b, 0) AS h, to_jsonb(b) AS j
                FROM sark_migration.v1_servers_rebuilt b$q$,
  held_ids    => sark_migration.validation_held_servers_sql(),
  left_only   => 'not_rebuilt',
  right_only  => 'not_in_v1',
  differs     => 'differs');

-- v1_tools vs v1_tools_rebuilt, both without quarantined tools and tools of quarantined servers.
SELECT sark_migration.validation_define_diff_view(
  view_name   => 'validation_tool_roundtrip_mismatches',
  requires    => ARRAY['public.mcp_tools', 'public.capabilities', 'sark_migration.v1_tools',
                       'sark_migration.v1_tools_rebuilt', 'sark_migration.quarantine',
                       'sark_migration.row_hash(anyelement,bigint)'],
  description => '(v1_tools EXCEPT v1_tools_rebuilt) and the reverse, by id, without quarantined tools and tools '
                 'of quarantined servers. left_image: the v1 row, right_image: the row rebuilt from v2.',
  left_rows   => $q$SELECT t.id::text AS id, sark_migration.row_hash(t, 0) AS h, to_jsonb(t) AS j
                FROM sark_migration.v1_tools t$q$,
  left_held   => $q$SELECT t.id::text AS id, sark_migration.row_hash(t, 0) AS h
                FROM sark_migration.v1_tools t
                WHERE t.id = ANY (ARRAY(SELECT q.source_id FROM sark_migration.quarantine q
                                         WHERE q.source_table = 'mcp_tools'))
                   OR t.server_id = ANY (ARRAY(SELECT q.source_id FROM sark_migration.quarantine q
                                                WHERE q.source_table = 'mcp_servers'))$q$,
  right_rows  => $q$SELECT b.id::text AS id, sark_migration.row_hash(b, 0) AS h, to_jsonb(b) AS j
                FROM sark_migration.v1_tools_rebuilt b$q$,
  held_ids    => sark_migration.validation_held_tools_sql(),
  left_only   => 'not_rebuilt',
  right_only  => 'not_in_v1',
  differs     => 'differs');

-- ---------------------------------------------------------------------------------------------
-- The family view. Each mismatch view is evaluated once (MATERIALIZED: normally empty). Its SQL is
-- a function of the two round trip sources, so that validate --full (007) can evaluate the round
-- trips once for this family and for the key checks (002) together.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION sark_migration.validation_fidelity_checks_sql(server_roundtrip text, tool_roundtrip text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $function$
  SELECT replace(replace($body$
  WITH rm AS MATERIALIZED (
    -- "not_in_image" rows whose v1 server is gone belong to fidelity.v1_source_gone instead.
    SELECT m.* FROM sark_migration.validation_resource_mismatches m
    LEFT JOIN public.mcp_servers s ON s.id = sark_migration.validation_uuid(m.id)
    WHERE m.problem <> 'not_in_image' OR s.id IS NOT NULL
  ), cm AS MATERIALIZED (
    SELECT m.* FROM sark_migration.validation_capability_mismatches m
    LEFT JOIN public.mcp_tools t ON t.id = sark_migration.validation_uuid(m.id)
    WHERE m.problem <> 'not_in_image' OR t.id IS NOT NULL
  ), sm AS MATERIALIZED (
    {{server_roundtrip}}
  ), tm AS MATERIALIZED (
    {{tool_roundtrip}}
  )
  -- fidelity.resources ---------------------------------------------------------------------------
  SELECT 'fidelity.resources'::text AS check_name,
         'error'::text AS severity,
         k.n = 0 AS passed,
         CASE WHEN k.n = 0 THEN
           'Every migrated resources row equals the mapping of its v1 server (resource_image), compared as whole rows, and every mappable v1 server has one.'
         ELSE format('%s resources rows do not equal the mapping of their v1 server: %s differ, %s are missing from v2, '
                     '%s no longer map from v1 as it is now. details.rows names the first 20 with the differing '
                     'fields (v2 value and expected value). If v1 changed after the copy, run `sark-migrate data '
                     '--execute` to re-copy them; if someone edited v2, the re-copy restores the v1 value, so decide '
                     'which is right first.', k.n, k.differs, k.missing, k.unmappable)
         END AS message,
         jsonb_build_object(
           'mismatched', k.n, 'differs', k.differs, 'missing_in_v2', k.missing, 'not_in_image', k.unmappable,
           'rows', CASE WHEN k.n > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('id', x.id, 'problem', x.problem)
                              || CASE WHEN x.problem = 'differs' THEN (
                                   SELECT jsonb_build_object('fields', d -> 'fields', 'v2', d -> 'actual',
                                                             'expected_from_v1', d -> 'expected')
                                   FROM sark_migration.validation_field_diff(x.left_image, x.right_image) AS d)
                                 ELSE '{}'::jsonb END
                              ORDER BY x.id)
             FROM (SELECT * FROM rm ORDER BY id LIMIT 20) x) ELSE '[]'::jsonb END,
           'investigate',
             'SELECT id, problem, sark_migration.validation_field_diff(left_image, right_image) '
             || 'FROM sark_migration.validation_resource_mismatches ORDER BY id;') AS details
  FROM (SELECT count(*) AS n,
               count(*) FILTER (WHERE problem = 'differs') AS differs,
               count(*) FILTER (WHERE problem = 'missing_in_v2') AS missing,
               count(*) FILTER (WHERE problem = 'not_in_image') AS unmappable
        FROM rm) k
  -- fidelity.capabilities ------------------------------------------------------------------------
  UNION ALL
  SELECT 'fidelity.capabilities', 'error',
         k.n = 0,
         CASE WHEN k.n = 0 THEN
           'Every migrated capabilities row equals the mapping of its v1 tool (capability_image), compared as whole rows, and every mappable v1 tool has one.'
         ELSE format('%s capabilities rows do not equal the mapping of their v1 tool: %s differ, %s are missing from v2, '
                     '%s no longer map from v1 as it is now. details.rows names the first 20 with the differing '
                     'fields (v2 value and expected value). If v1 changed after the copy, run `sark-migrate data '
                     '--execute` to re-copy them; if someone edited v2, the re-copy restores the v1 value, so decide '
                     'which is right first.', k.n, k.differs, k.missing, k.unmappable)
         END,
         jsonb_build_object(
           'mismatched', k.n, 'differs', k.differs, 'missing_in_v2', k.missing, 'not_in_image', k.unmappable,
           'rows', CASE WHEN k.n > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('id', x.id, 'problem', x.problem)
                              || CASE WHEN x.problem = 'differs' THEN (
                                   SELECT jsonb_build_object('fields', d -> 'fields', 'v2', d -> 'actual',
                                                             'expected_from_v1', d -> 'expected')
                                   FROM sark_migration.validation_field_diff(x.left_image, x.right_image) AS d)
                                 ELSE '{}'::jsonb END
                              ORDER BY x.id)
             FROM (SELECT * FROM cm ORDER BY id LIMIT 20) x) ELSE '[]'::jsonb END,
           'investigate',
             'SELECT id, problem, sark_migration.validation_field_diff(left_image, right_image) '
             || 'FROM sark_migration.validation_capability_mismatches ORDER BY id;')
  FROM (SELECT count(*) AS n,
               count(*) FILTER (WHERE problem = 'differs') AS differs,
               count(*) FILTER (WHERE problem = 'missing_in_v2') AS missing,
               count(*) FILTER (WHERE problem = 'not_in_image') AS unmappable
        FROM cm) k
  -- fidelity.servers_roundtrip -------------------------------------------------------------------
  UNION ALL
  SELECT 'fidelity.servers_roundtrip', 'error',
         k.n = 0,
         CASE WHEN k.n = 0 THEN
           'The inverse mapping rebuilds every migrated v1 server exactly from resources alone (v1_servers EXCEPT v1_servers_rebuilt is empty, both ways).'
         ELSE format('%s v1 servers are not rebuilt exactly from v2 (%s differ, %s have no migrated v2 row): '
                     'sark_migration.v1_servers_rebuilt does not give the v1 row back, so a value was lost or changed. '
                     'details.rows lists the first 20 with the differing v1 columns. If v1 changed after the copy, '
                     'run `sark-migrate data --execute`; a row that still differs after that is a mapping defect.',
                     k.n, k.differs, k.missing)
         END,
         jsonb_build_object(
           'mismatched', k.n, 'differs', k.differs, 'not_rebuilt', k.missing,
           'rows', CASE WHEN k.n > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('id', x.id, 'problem', x.problem)
                              || CASE WHEN x.problem = 'differs' THEN (
                                   SELECT jsonb_build_object('fields', d -> 'fields', 'v1', d -> 'actual',
                                                             'rebuilt_from_v2', d -> 'expected')
                                   FROM sark_migration.validation_field_diff(x.left_image, x.right_image) AS d)
                                 ELSE '{}'::jsonb END
                              ORDER BY x.id)
             FROM (SELECT * FROM sm WHERE problem <> 'not_in_v1' ORDER BY id LIMIT 20) x) ELSE '[]'::jsonb END,
           'investigate',
             'SELECT id, problem, sark_migration.validation_field_diff(left_image, right_image) '
             || 'FROM sark_migration.validation_server_roundtrip_mismatches ORDER BY id;')
  FROM (SELECT count(*) AS n,
               count(*) FILTER (WHERE problem = 'differs') AS differs,
               count(*) FILTER (WHERE problem = 'not_rebuilt') AS missing
        FROM sm WHERE problem <> 'not_in_v1') k
  -- fidelity.tools_roundtrip ---------------------------------------------------------------------
  UNION ALL
  SELECT 'fidelity.tools_roundtrip', 'error',
         k.n = 0,
         CASE WHEN k.n = 0 THEN
           'The inverse mapping rebuilds every migrated v1 tool exactly from capabilities alone (v1_tools EXCEPT v1_tools_rebuilt is empty, both ways).'
         ELSE format('%s v1 tools are not rebuilt exactly from v2 (%s differ, %s have no migrated v2 row): '
                     'sark_migration.v1_tools_rebuilt does not give the v1 row back, so a value was lost or changed. '
                     'details.rows lists the first 20 with the differing v1 columns. If v1 changed after the copy, '
                     'run `sark-migrate data --execute`; a row that still differs after that is a mapping defect.',
                     k.n, k.differs, k.missing)
         END,
         jsonb_build_object(
           'mismatched', k.n, 'differs', k.differs, 'not_rebuilt', k.missing,
           'rows', CASE WHEN k.n > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('id', x.id, 'problem', x.problem)
                              || CASE WHEN x.problem = 'differs' THEN (
                                   SELECT jsonb_build_object('fields', d -> 'fields', 'v1', d -> 'actual',
                                                             'rebuilt_from_v2', d -> 'expected')
                                   FROM sark_migration.validation_field_diff(x.left_image, x.right_image) AS d)
                                 ELSE '{}'::jsonb END
                              ORDER BY x.id)
             FROM (SELECT * FROM tm WHERE problem <> 'not_in_v1' ORDER BY id LIMIT 20) x) ELSE '[]'::jsonb END,
           'investigate',
             'SELECT id, problem, sark_migration.validation_field_diff(left_image, right_image) '
             || 'FROM sark_migration.validation_tool_roundtrip_mismatches ORDER BY id;')
  FROM (SELECT count(*) AS n,
               count(*) FILTER (WHERE problem = 'differs') AS differs,
               count(*) FILTER (WHERE problem = 'not_rebuilt') AS missing
        FROM tm WHERE problem <> 'not_in_v1') k
  -- fidelity.v1_source_gone ----------------------------------------------------------------------
  UNION ALL
  SELECT 'fidelity.v1_source_gone', 'error',
         k.servers + k.tools = 0,
         CASE WHEN k.servers + k.tools = 0 THEN
           'Every v2 row with _v1 provenance still has its v1 row.'
         ELSE format('%s resources and %s capabilities carry _v1 provenance, but their v1 row no longer exists '
                     '(deleted from v1 after the copy). `sark-migrate data --execute` removes them; if deleting '
                     'the v1 rows was the mistake, restore them from the backup instead.', k.servers, k.tools)
         END,
         jsonb_build_object(
           'resources', k.servers, 'capabilities', k.tools,
           'resource_ids', COALESCE((SELECT jsonb_agg(id ORDER BY id)
                                     FROM (SELECT id FROM sm WHERE problem = 'not_in_v1' ORDER BY id LIMIT 20) x), '[]'::jsonb),
           'capability_ids', COALESCE((SELECT jsonb_agg(id ORDER BY id)
                                       FROM (SELECT id FROM tm WHERE problem = 'not_in_v1' ORDER BY id LIMIT 20) x), '[]'::jsonb))
  FROM (SELECT (SELECT count(*) FROM sm WHERE problem = 'not_in_v1') AS servers,
               (SELECT count(*) FROM tm WHERE problem = 'not_in_v1') AS tools) k
$body$, '{{server_roundtrip}}', server_roundtrip), '{{tool_roundtrip}}', tool_roundtrip)
$function$;
COMMENT ON FUNCTION sark_migration.validation_fidelity_checks_sql(text, text) IS
  'SQL of the fidelity family over two sources of round trip mismatch rows (id, problem, left_image, right_image).';

SELECT sark_migration.validation_define_view(
  'check_fidelity',
  ARRAY['public.resources', 'public.capabilities', 'public.mcp_servers', 'public.mcp_tools',
        'sark_migration.validation_resource_mismatches', 'sark_migration.validation_capability_mismatches',
        'sark_migration.validation_server_roundtrip_mismatches', 'sark_migration.validation_tool_roundtrip_mismatches',
        'sark_migration.validation_uuid(text)', 'sark_migration.row_hash(anyelement,bigint)'],
  sark_migration.validation_fidelity_checks_sql('SELECT * FROM sark_migration.validation_server_roundtrip_mismatches',
                                                'SELECT * FROM sark_migration.validation_tool_roundtrip_mismatches'),
  'Validation, fidelity family (--full): migrated rows equal the mapping of their v1 row, the inverse '
  'mapping rebuilds v1 exactly, and no migrated row outlived its v1 row.',
  'fidelity.prerequisites');
