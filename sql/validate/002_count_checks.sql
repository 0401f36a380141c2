-- 002_count_checks.sql
--
-- What:     the checks derived from the key comparison of v1 and v2, sark_migration.check_keys,
--           and the report's summary counts, sark_migration.validation_counts.
--             data.server_count        every v1 server is migrated (a resources row with _v1
--                                      provenance) or quarantined; no migrated resource whose
--                                      server has vanished from v1.               (error)
--             data.tool_count          the same for mcp_tools / capabilities.      (error)
--             data.quarantined_servers v1 servers held back by the quarantine.      (warning)
--             data.quarantined_tools   v1 tools held back (their own finding or their server's).
--                                                                                   (warning)
--             relationships.capability_resource_matches_v1
--                                      the capability of every migrated v1 tool points at the
--                                      resource of the tool's server.              (error)
--           sark_migration.check_counts is its data.* rows (the counts family); 003 adds the
--           relationships.* row to that family's view. Both families read the same comparison,
--           so validate --quick reads check_keys once: the tool key comparison is the dearest
--           part of both (a pass over each table, 3 s at 1,000,000 tools), and two views each
--           evaluating it cost it twice. validate --full reads the same checks from the round
--           trip comparisons instead (007), with no key pass at all.
--           v1 = migrated + quarantined + missing, by construction; the check passes when
--           missing = 0 and nothing vanished. On failure details.missing_ids names the first 20
--           v1 rows without a v2 row (the runbook's "investigate discrepancy" query, which is in
--           details.investigate) and the message says what to run.
-- Requires: 000; public.mcp_servers, mcp_tools, resources, capabilities; sark_migration.quarantine
--           (sql/mapping). Where one is missing the family is one failing check saying which.
-- Runs:     in a transaction; idempotent. Cost: one parallel pass over each table hashing the key
--           (validation_define_diff_view); the id listings run only when something is missing.

-- Which migrated keys differ, per table pair. "Held" rows (in the quarantine ledger, or, for a
-- tool, whose server is) are left out on both sides: they are counted as quarantined instead.
SELECT sark_migration.validation_define_diff_view(
  view_name   => 'validation_server_key_mismatches',
  requires    => ARRAY['public.mcp_servers', 'public.resources', 'sark_migration.quarantine'],
  description => 'v1 servers (not quarantined) without a migrated resources row, and migrated resources rows '
                 'whose v1 server is gone.',
  left_rows   => $q$SELECT s.id::text AS id, hashtextextended(s.id::text, 0) AS h,
                       jsonb_build_object('name', s.name) AS j
                FROM public.mcp_servers s$q$,
  left_held   => $q$SELECT s.id::text AS id, hashtextextended(s.id::text, 0) AS h
                FROM public.mcp_servers s
                WHERE s.id = ANY (ARRAY(SELECT q.source_id FROM sark_migration.quarantine q
                                         WHERE q.source_table = 'mcp_servers'))$q$,
  -- keyed by the v1 id: the uuid, or the one a row with an id of the v2 application's records
  right_rows  => $q$SELECT COALESCE(r.metadata -> '_v1' ->> 'v1_id', r.id) AS id,
                       hashtextextended(COALESCE(r.metadata -> '_v1' ->> 'v1_id', r.id), 0) AS h,
                       jsonb_build_object('name', r.name) AS j
                FROM public.resources r
                WHERE sark_migration.is_migrated('resources', r.id, r.metadata)$q$,
  right_held  => $q$SELECT r.id::text AS id, hashtextextended(r.id::text, 0) AS h
                FROM public.resources r
                WHERE r.id = ANY (ARRAY(SELECT q.source_id::text FROM sark_migration.quarantine q
                                         WHERE q.source_table = 'mcp_servers'))
                  AND sark_migration.is_migrated('resources', r.id, r.metadata)$q$,
  held_ids    => sark_migration.validation_held_servers_sql(),
  left_only   => 'missing_in_v2',
  right_only  => 'vanished_from_v1',
  differs     => 'differs');

-- The tool's server is part of the compared key, so a capability under another resource than its
-- tool's server shows up here too (other_resource; reported by relationships.*).
SELECT sark_migration.validation_define_diff_view(
  view_name   => 'validation_tool_key_mismatches',
  requires    => ARRAY['public.mcp_tools', 'public.capabilities', 'sark_migration.quarantine'],
  description => 'v1 tools (not quarantined, nor their server) without a migrated capabilities row, migrated '
                 'capabilities rows whose v1 tool is gone, and capabilities under another resource than their '
                 'tool''s server.',
  left_rows   => $q$SELECT t.id::text AS id, hashtextextended(t.id::text || '/' || t.server_id::text, 0) AS h,
                       jsonb_build_object('server_id', t.server_id, 'name', t.name) AS j
                FROM public.mcp_tools t$q$,
  left_held   => $q$SELECT t.id::text AS id, hashtextextended(t.id::text || '/' || t.server_id::text, 0) AS h
                FROM public.mcp_tools t
                WHERE t.id = ANY (ARRAY(SELECT q.source_id FROM sark_migration.quarantine q
                                         WHERE q.source_table = 'mcp_tools'))
                   OR t.server_id = ANY (ARRAY(SELECT q.source_id FROM sark_migration.quarantine q
                                                WHERE q.source_table = 'mcp_servers'))$q$,
  right_rows  => $q$SELECT COALESCE(c.metadata -> '_v1' ->> 'v1_id', c.id) AS id,
                       hashtextextended(COALESCE(c.metadata -> '_v1' ->> 'v1_id', c.id) || '/'
                                        || COALESCE(c.metadata -> '_v1' ->> 'server_v1_id', c.resource_id), 0) AS h,
                       jsonb_build_object('resource_id', c.resource_id, 'name', c.name) AS j
                FROM public.capabilities c
                WHERE sark_migration.is_migrated('capabilities', c.id, c.metadata)$q$,
  right_held  => $q$SELECT c.id::text AS id, hashtextextended(c.id::text || '/' || c.resource_id::text, 0) AS h
                FROM public.capabilities c
                WHERE (c.id = ANY (ARRAY(SELECT q.source_id::text FROM sark_migration.quarantine q
                                          WHERE q.source_table = 'mcp_tools'))
                       OR c.resource_id = ANY (ARRAY(SELECT q.source_id::text FROM sark_migration.quarantine q
                                                      WHERE q.source_table = 'mcp_servers')))
                  AND sark_migration.is_migrated('capabilities', c.id, c.metadata)$q$,
  held_ids    => sark_migration.validation_held_tools_sql(),
  left_only   => 'missing_in_v2',
  right_only  => 'vanished_from_v1',
  differs     => 'other_resource');

-- The checks read from the key comparison, as SQL text over two row sources with the columns of the
-- key mismatch views (id, problem, left_image, right_image): server_keys (missing_in_v2 |
-- vanished_from_v1) and tool_keys (the same, and other_resource). check_keys reads them from the key
-- mismatch views; validate --full from the round trip comparisons, which compare every column, the
-- keys included (007), so that the full validation needs no key pass of its own.
CREATE OR REPLACE FUNCTION sark_migration.validation_key_checks_sql(server_keys text, tool_keys text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $function$
  SELECT replace(replace($body$
  WITH sk AS MATERIALIZED (
    {{server_keys}}
  ), tool_keys AS MATERIALIZED (
    {{tool_keys}}
  ), tk AS (
    SELECT * FROM tool_keys WHERE problem <> 'other_resource'
  ), misplaced AS (
    -- migrated capabilities whose resource is not their v1 tool's server
    SELECT k.id, k.right_image ->> 'resource_id' AS resource_id, k.left_image ->> 'server_id' AS expected_resource_id
    FROM tool_keys k
    WHERE k.problem = 'other_resource'
  ), qs AS MATERIALIZED (    -- quarantined servers that still exist in v1
    SELECT q.source_id, string_agg(q.reason, ', ' ORDER BY q.reason) AS reasons,
           string_agg(q.detail, ' ' ORDER BY q.reason) AS detail
    FROM sark_migration.quarantine q
    WHERE q.source_table = 'mcp_servers'
      AND EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = q.source_id)
    GROUP BY q.source_id
  ), qt AS MATERIALIZED (    -- quarantined tools that still exist in v1
    SELECT q.source_id, string_agg(q.reason, ', ' ORDER BY q.reason) AS reasons,
           string_agg(q.detail, ' ' ORDER BY q.reason) AS detail
    FROM sark_migration.quarantine q
    WHERE q.source_table = 'mcp_tools'
      AND EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id = q.source_id)
    GROUP BY q.source_id
  ), held_tools AS MATERIALIZED (   -- tools the copy leaves out: their own finding or their server's
    SELECT t.id, t.id IN (SELECT source_id FROM qt) AS own
    FROM public.mcp_tools t WHERE t.id = ANY (ARRAY(SELECT source_id FROM qt))
    UNION
    SELECT t.id, t.id IN (SELECT source_id FROM qt)
    FROM public.mcp_tools t WHERE t.server_id = ANY (ARRAY(SELECT source_id FROM qs))
  ), srv AS (
    SELECT x.*, x.v1_rows - x.quarantined - x.missing AS migrated
    FROM (SELECT (SELECT count(*) FROM public.mcp_servers) AS v1_rows,
                 (SELECT count(*) FROM qs) AS quarantined,
                 (SELECT count(*) FROM sk WHERE problem = 'missing_in_v2') AS missing,
                 (SELECT count(*) FROM sk WHERE problem = 'vanished_from_v1') AS vanished,
                 (SELECT count(*) FROM qs WHERE EXISTS (
                    SELECT 1 FROM public.resources r
                     WHERE r.id = qs.source_id::text AND sark_migration.is_migrated('resources', r.id, r.metadata))) AS stale) x
  ), tls AS (
    SELECT x.*, x.v1_rows - x.quarantined - x.missing AS migrated
    FROM (SELECT (SELECT count(*) FROM public.mcp_tools) AS v1_rows,
                 (SELECT count(*) FROM held_tools) AS quarantined,
                 (SELECT count(*) FROM held_tools WHERE NOT own) AS held_by_server_only,
                 (SELECT count(*) FROM tk WHERE problem = 'missing_in_v2') AS missing,
                 (SELECT count(*) FROM tk WHERE problem = 'vanished_from_v1') AS vanished,
                 (SELECT count(*) FROM held_tools h WHERE EXISTS (
                    SELECT 1 FROM public.capabilities c
                     WHERE c.id = h.id::text AND sark_migration.is_migrated('capabilities', c.id, c.metadata))) AS stale) x
  )
  -- data.server_count ----------------------------------------------------------------------------
  SELECT 'data.server_count'::text AS check_name,
         'error'::text AS severity,
         (srv.missing = 0 AND srv.vanished = 0) AS passed,
         CASE WHEN srv.missing = 0 AND srv.vanished = 0 THEN
           format('%s v1 servers = %s migrated to resources + %s quarantined.', srv.v1_rows, srv.migrated, srv.quarantined)
         ELSE concat_ws(' ',
           format('Server count mismatch: %s v1 servers, %s migrated to resources + %s quarantined.',
                  srv.v1_rows, srv.migrated, srv.quarantined),
           CASE WHEN srv.missing > 0 THEN
             format('%s v1 servers have no resources row (first ids in details.missing_ids; the full list: details.investigate).', srv.missing) END,
           CASE WHEN srv.vanished > 0 THEN
             format('%s resources rows were migrated from servers no longer in v1 (details.vanished_ids).', srv.vanished) END,
           'Run `sark-migrate data --execute` (idempotent: copies what is missing, removes what vanished), then validate again.')
         END AS message,
         jsonb_build_object(
           'v1_servers', srv.v1_rows, 'v2_resources_from_v1', srv.migrated + srv.vanished + srv.stale,
           'migrated', srv.migrated, 'quarantined', srv.quarantined, 'missing', srv.missing,
           'vanished', srv.vanished, 'stale_v2_rows_of_quarantined', srv.stale,
           'missing_ids', COALESCE((
             SELECT jsonb_agg(jsonb_build_object('id', k.id, 'name', k.left_image ->> 'name') ORDER BY k.id)
             FROM (SELECT * FROM sk WHERE problem = 'missing_in_v2' ORDER BY id LIMIT 20) k), '[]'::jsonb),
           'vanished_ids', COALESCE((
             SELECT jsonb_agg(id ORDER BY id)
             FROM (SELECT id FROM sk WHERE problem = 'vanished_from_v1' ORDER BY id LIMIT 20) k), '[]'::jsonb),
           'investigate',
             'SELECT s.id, s.name FROM mcp_servers s WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.id = s.id::text '
             || 'AND sark_migration.is_migrated(''resources'', r.id, r.metadata)) AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q WHERE '
             || 'q.source_table = ''mcp_servers'' AND q.source_id = s.id) ORDER BY s.id;') AS details
  FROM srv
  -- data.tool_count ------------------------------------------------------------------------------
  UNION ALL
  SELECT 'data.tool_count', 'error',
         (tls.missing = 0 AND tls.vanished = 0),
         CASE WHEN tls.missing = 0 AND tls.vanished = 0 THEN
           format('%s v1 tools = %s migrated to capabilities + %s quarantined.', tls.v1_rows, tls.migrated, tls.quarantined)
         ELSE concat_ws(' ',
           format('Tool count mismatch: %s v1 tools, %s migrated to capabilities + %s quarantined.',
                  tls.v1_rows, tls.migrated, tls.quarantined),
           CASE WHEN tls.missing > 0 THEN
             format('%s v1 tools have no capabilities row (first ids in details.missing_ids; the full list: details.investigate).', tls.missing) END,
           CASE WHEN tls.vanished > 0 THEN
             format('%s capabilities rows were migrated from tools no longer in v1 (details.vanished_ids).', tls.vanished) END,
           'Run `sark-migrate data --execute` (idempotent: copies what is missing, removes what vanished), then validate again.')
         END,
         jsonb_build_object(
           'v1_tools', tls.v1_rows, 'v2_capabilities_from_v1', tls.migrated + tls.vanished + tls.stale,
           'migrated', tls.migrated, 'quarantined', tls.quarantined, 'missing', tls.missing,
           'vanished', tls.vanished, 'stale_v2_rows_of_quarantined', tls.stale,
           'missing_ids', COALESCE((
             SELECT jsonb_agg(jsonb_build_object('id', k.id, 'server_id', k.left_image ->> 'server_id',
                                                 'name', k.left_image ->> 'name') ORDER BY k.id)
             FROM (SELECT * FROM tk WHERE problem = 'missing_in_v2' ORDER BY id LIMIT 20) k), '[]'::jsonb),
           'vanished_ids', COALESCE((
             SELECT jsonb_agg(id ORDER BY id)
             FROM (SELECT id FROM tk WHERE problem = 'vanished_from_v1' ORDER BY id LIMIT 20) k), '[]'::jsonb),
           'investigate',
             'SELECT t.id, t.server_id, t.name FROM mcp_tools t WHERE NOT EXISTS (SELECT 1 FROM capabilities c '
             || 'WHERE c.id = t.id::text AND sark_migration.is_migrated(''capabilities'', c.id, c.metadata)) AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q '
             || 'WHERE (q.source_table, q.source_id) IN ((''mcp_tools'', t.id), (''mcp_servers'', t.server_id))) ORDER BY t.id;')
  FROM tls
  -- data.quarantined_servers ---------------------------------------------------------------------
  UNION ALL
  SELECT 'data.quarantined_servers', 'warning',
         srv.quarantined = 0,
         CASE WHEN srv.quarantined = 0 THEN 'No v1 server is held back in quarantine.'
         ELSE format('%s v1 servers are held back in quarantine and are not in v2 (%s). List them: SELECT source_id, '
                     'reason, detail FROM sark_migration.quarantine WHERE source_table = ''mcp_servers''; fix each '
                     'v1 row as its detail says, then run `sark-migrate data --execute`.',
                     srv.quarantined,
                     (SELECT string_agg(format('%s %s', r.reason, r.n), ', ' ORDER BY r.n DESC, r.reason)
                      FROM (SELECT q.reason, count(*) AS n FROM sark_migration.quarantine q JOIN qs USING (source_id)
                            WHERE q.source_table = 'mcp_servers' GROUP BY q.reason) r))
         END,
         jsonb_build_object(
           'quarantined', srv.quarantined,
           'stale_v2_rows', srv.stale,
           'by_reason', COALESCE((SELECT jsonb_object_agg(r.reason, r.n)
                                  FROM (SELECT q.reason, count(*) AS n FROM sark_migration.quarantine q JOIN qs USING (source_id)
                                        WHERE q.source_table = 'mcp_servers' GROUP BY q.reason) r), '{}'::jsonb),
           'rows', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', x.source_id, 'reasons', x.reasons, 'detail', x.detail)
                                              ORDER BY x.source_id)
                             FROM (SELECT * FROM qs ORDER BY source_id LIMIT 20) x), '[]'::jsonb))
  FROM srv
  -- data.quarantined_tools -----------------------------------------------------------------------
  UNION ALL
  SELECT 'data.quarantined_tools', 'warning',
         tls.quarantined = 0,
         CASE WHEN tls.quarantined = 0 THEN 'No v1 tool is held back in quarantine.'
         ELSE format('%s v1 tools are held back in quarantine and are not in v2 (%s). List them: SELECT source_id, '
                     'reason, detail FROM sark_migration.quarantine WHERE source_table = ''mcp_tools''; fix each '
                     'v1 row (or its server) as the detail says, then run `sark-migrate data --execute`.',
                     tls.quarantined,
                     concat_ws(', ',
                       (SELECT string_agg(format('%s %s', r.reason, r.n), ', ' ORDER BY r.n DESC, r.reason)
                        FROM (SELECT q.reason, count(*) AS n FROM sark_migration.quarantine q JOIN qt USING (source_id)
                              WHERE q.source_table = 'mcp_tools' GROUP BY q.reason) r),
                       CASE WHEN tls.held_by_server_only > 0
                            THEN format('%s only because their server is quarantined', tls.held_by_server_only) END))
         END,
         jsonb_build_object(
           'quarantined', tls.quarantined,
           'held_because_server_quarantined_only', tls.held_by_server_only,
           'stale_v2_rows', tls.stale,
           'by_reason', COALESCE((SELECT jsonb_object_agg(r.reason, r.n)
                                  FROM (SELECT q.reason, count(*) AS n FROM sark_migration.quarantine q JOIN qt USING (source_id)
                                        WHERE q.source_table = 'mcp_tools' GROUP BY q.reason) r), '{}'::jsonb),
           'rows', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', x.source_id, 'reasons', x.reasons, 'detail', x.detail)
                                              ORDER BY x.source_id)
                             FROM (SELECT * FROM qt ORDER BY source_id LIMIT 20) x), '[]'::jsonb))
  FROM tls
  -- relationships.capability_resource_matches_v1 --------------------------------------------------
  UNION ALL
  SELECT 'relationships.capability_resource_matches_v1', 'error',
         m.n = 0,
         CASE WHEN m.n = 0 THEN 'The capability of every migrated v1 tool belongs to the resource of the tool''s server.'
         ELSE format('%s capabilities of v1 tools belong to another resource than the tool''s server (the v2 row was '
                     'changed after the copy, or the tool moved to another server in v1 since). Run `sark-migrate data '
                     '--execute` to re-copy them from v1 (if the v2 change was intended, change v1 first).', m.n)
         END,
         jsonb_build_object(
           'mismatched', m.n,
           'rows', CASE WHEN m.n > 0 THEN (
             SELECT jsonb_agg(jsonb_build_object('id', x.id, 'resource_id', x.resource_id,
                                                 'expected_resource_id', x.expected_resource_id) ORDER BY x.id)
             FROM (SELECT * FROM misplaced ORDER BY id LIMIT 20) x) ELSE '[]'::jsonb END)
  FROM (SELECT count(*) AS n FROM misplaced) m
$body$, '{{server_keys}}', server_keys), '{{tool_keys}}', tool_keys)
$function$;
COMMENT ON FUNCTION sark_migration.validation_key_checks_sql(text, text) IS
  'SQL of the checks read from the key comparison (data.server_count, data.tool_count, data.quarantined_*, '
  'relationships.capability_resource_matches_v1), over two sources of (id, problem, left_image, right_image) rows.';

-- check_keys: the key comparison is evaluated once (tool_keys) and read by every check.
SELECT sark_migration.validation_define_view(
  'check_keys',
  ARRAY['public.mcp_servers', 'public.mcp_tools', 'public.resources', 'public.capabilities',
        'sark_migration.quarantine', 'sark_migration.validation_server_key_mismatches',
        'sark_migration.validation_tool_key_mismatches'],
  sark_migration.validation_key_checks_sql('SELECT * FROM sark_migration.validation_server_key_mismatches',
                                           'SELECT * FROM sark_migration.validation_tool_key_mismatches'),
  'Validation, the checks read from the key comparison of v1 and v2: every v1 server/tool is in v2 or '
  'quarantined, nothing migrated has vanished from v1 (data.server_count, data.tool_count), the quarantined rows '
  '(data.quarantined_*, warnings), every v1 tool''s capability under its server''s resource '
  '(relationships.capability_resource_matches_v1).',
  'data.prerequisites');

-- The counts family on its own (validate --data): check_keys without the relationships row, which
-- the planner leaves unevaluated (a constant check_name fails the filter).
SELECT sark_migration.validation_define_view(
  'check_counts',
  ARRAY['sark_migration.check_keys'],
  $view$SELECT * FROM sark_migration.check_keys WHERE check_name NOT LIKE 'relationships.%'$view$,
  'Validation, counts family: every v1 server/tool is in v2 or quarantined, nothing migrated has vanished '
  'from v1 (data.server_count, data.tool_count), and the quarantined rows (data.quarantined_*, warnings).',
  'data.prerequisites');

-- The four numbers of the report's "counts" object, as the runbook's count verification query
-- defines them (v2 capabilities of MCP resources through the join, not by provenance). Each is 0
-- where its table does not exist (before schema up, after decommission): query_to_xml() runs the
-- count only then. This view is read on its own, never unioned with the checks (query_to_xml is
-- PARALLEL UNSAFE and would keep the checks from using parallel workers).
CREATE OR REPLACE VIEW sark_migration.validation_counts AS
SELECT CASE WHEN to_regclass('public.mcp_servers') IS NOT NULL THEN
         (xpath('/row/n/text()', query_to_xml(
            'SELECT count(*) AS n FROM public.mcp_servers', false, true, '')))[1]::text::bigint
       ELSE 0 END AS v1_servers,
       CASE WHEN to_regclass('public.mcp_tools') IS NOT NULL THEN
         (xpath('/row/n/text()', query_to_xml(
            'SELECT count(*) AS n FROM public.mcp_tools', false, true, '')))[1]::text::bigint
       ELSE 0 END AS v1_tools,
       CASE WHEN to_regclass('public.resources') IS NOT NULL THEN
         (xpath('/row/n/text()', query_to_xml(
            $q$SELECT count(*) AS n FROM public.resources WHERE protocol = 'mcp'$q$, false, true, '')))[1]::text::bigint
       ELSE 0 END AS v2_mcp_resources,
       CASE WHEN to_regclass('public.resources') IS NOT NULL AND to_regclass('public.capabilities') IS NOT NULL THEN
         (xpath('/row/n/text()', query_to_xml(
            $q$SELECT count(*) AS n FROM public.capabilities c
               WHERE EXISTS (SELECT 1 FROM public.resources r WHERE r.id = c.resource_id AND r.protocol = 'mcp')$q$,
            false, true, '')))[1]::text::bigint
       ELSE 0 END AS v2_mcp_capabilities;
COMMENT ON VIEW sark_migration.validation_counts IS
  'The validation report''s summary counts (runbook "count verification"): v1 servers and tools, v2 MCP '
  'resources and the capabilities of MCP resources; 0 where a table does not exist.';
