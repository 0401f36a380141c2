-- 10-mapping: the invariants of the v1 -> v2 data mapping (sql/mapping, sql/data), checked inside the database.
--
-- Run with: pg_prove -d <db> pgtap/10-mapping.sql
-- Requires: the pgtap extension to be installable; a MIGRATED database: sql/mapping 001..008
-- installed and the data pipeline run (capture, refresh_quarantine, both copies, delete_vanished)
-- over whatever v1 data it holds, clean or dirty, either v1 schema variant. Nothing is seeded here:
-- the suite checks the database as it is, so it can be pointed at a real migrated database too.
-- Runs in one transaction that is rolled back: the re-run of the copy and the TimeZone games below
-- leave nothing behind (a correct database makes them write nothing anyway).
-- Structure first, then the invariants, then behaviour (re-runs write nothing, in any TimeZone).

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;

SELECT plan(59);

-- ===========================================================================
-- Structure
-- ===========================================================================
SELECT has_schema('sark_migration', 'schema sark_migration exists');

SELECT has_table('sark_migration', t, format('ledger sark_migration.%s exists', t))
FROM unnest(ARRAY['quarantine', 'preexisting_rows', 'copy_progress', 'runs']) AS t;

SELECT has_view('sark_migration', v, format('view sark_migration.%s exists', v))
FROM unnest(ARRAY['v1_servers', 'v1_tools', 'v1_variant', 'resource_image', 'capability_image',
                  'findings', 'v1_servers_rebuilt', 'v1_tools_rebuilt', 'plan', 'rollback_plan']) AS v;

SELECT is(
  ARRAY(SELECT attname::text FROM pg_attribute
         WHERE attrelid = 'sark_migration.resource_image'::regclass AND attnum > 0 ORDER BY attnum),
  ARRAY(SELECT attname::text FROM pg_attribute
         WHERE attrelid = 'public.resources'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum)
    || 'source_id'::text,
  'resource_image has exactly the columns of resources, plus source_id');

SELECT is(
  ARRAY(SELECT attname::text FROM pg_attribute
         WHERE attrelid = 'sark_migration.capability_image'::regclass AND attnum > 0 ORDER BY attnum),
  ARRAY(SELECT attname::text FROM pg_attribute
         WHERE attrelid = 'public.capabilities'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum)
    || ARRAY['source_id', 'server_source_id'],
  'capability_image has exactly the columns of capabilities, plus source_id and server_source_id');

SELECT is(
  ARRAY(SELECT (attname, format_type(atttypid, NULL))::text FROM pg_attribute
         WHERE attrelid = 'sark_migration.v1_servers_rebuilt'::regclass AND attnum > 0 ORDER BY attnum),
  ARRAY(SELECT (attname, format_type(atttypid, NULL))::text FROM pg_attribute
         WHERE attrelid = 'sark_migration.v1_servers'::regclass AND attnum > 0 ORDER BY attnum),
  'v1_servers_rebuilt has the columns of v1_servers, in order, with their types');

SELECT is(
  ARRAY(SELECT (attname, format_type(atttypid, NULL))::text FROM pg_attribute
         WHERE attrelid = 'sark_migration.v1_tools_rebuilt'::regclass AND attnum > 0 ORDER BY attnum),
  ARRAY(SELECT (attname, format_type(atttypid, NULL))::text FROM pg_attribute
         WHERE attrelid = 'sark_migration.v1_tools'::regclass AND attnum > 0 ORDER BY attnum),
  'v1_tools_rebuilt has the columns of v1_tools, in order, with their types');

-- The mapping is written once and inlined: no per-row call of the helpers in the plan, and a
-- filter on source_id reaches the v1 primary key (what the zero-downtime sync relies on).
CREATE FUNCTION pg_temp.plan_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || query INTO p;
  RETURN p::text;
END $$;

SELECT ok(pg_temp.plan_of('SELECT * FROM sark_migration.capability_image') !~ 'merge_extra|provenance|utc_text|core_keys',
  'capability_image inlines merge_extra / provenance / utc_text (no per-row SQL function call)');
-- The tools of quarantined servers are left out by the tool's server_id: parsing the uuid back out
-- of resource_id (v1_id) cost 3 us a row, a fifth of capability_image in validate --full.
SELECT ok(pg_temp.plan_of('SELECT * FROM sark_migration.capability_image') !~ 'name_uuid|decode',
  'capability_image leaves out the tools of quarantined servers without parsing resource_id (no v1_id per row)');
SELECT ok(pg_temp.plan_of('SELECT * FROM sark_migration.resource_image') !~ 'merge_extra|provenance|utc_text|core_keys',
  'resource_image inlines merge_extra / provenance / utc_text (no per-row SQL function call)');

SET LOCAL enable_seqscan = off;
SELECT ok(pg_temp.plan_of($q$SELECT * FROM sark_migration.resource_image
                             WHERE source_id = ANY ('{00000000-0000-0000-0000-000000000001}'::uuid[])$q$)
          ~ '"Node Type": "Index (Only )?Scan"[^{}]*"Relation Name": "mcp_servers"',
  'resource_image filtered on source_id can use the mcp_servers primary key');
SELECT ok(pg_temp.plan_of($q$SELECT * FROM sark_migration.capability_image
                             WHERE source_id = ANY ('{00000000-0000-0000-0000-000000000001}'::uuid[])$q$)
          ~ '"Node Type": "Index (Only )?Scan"[^{}]*"Relation Name": "mcp_tools"',
  'capability_image filtered on source_id can use the mcp_tools primary key');
RESET enable_seqscan;

-- ===========================================================================
-- The database is migrated (otherwise everything below is vacuous)
-- ===========================================================================
SELECT ok((SELECT count(*) FROM sark_migration.resource_image) = 0
          OR EXISTS (SELECT 1 FROM public.resources r
                      WHERE r.metadata @> '{"_v1": {"source": "mcp_servers"}}'),
  'the data copy has run (a v1 server that maps has a migrated resource)');

-- ===========================================================================
-- Lossless: v1 == rebuilt(v2), both ways, over the rows that are not quarantined
-- ===========================================================================
SELECT is_empty($q$
  SELECT s.* FROM sark_migration.v1_servers s
   WHERE NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                      WHERE q.source_table = 'mcp_servers' AND q.source_id = s.id)
  EXCEPT
  SELECT * FROM sark_migration.v1_servers_rebuilt $q$,
  'every non-quarantined mcp_servers row is rebuilt exactly from resources (v1 EXCEPT rebuilt is empty)');

SELECT is_empty($q$
  SELECT b.* FROM sark_migration.v1_servers_rebuilt b
   WHERE NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                      WHERE q.source_table = 'mcp_servers' AND q.source_id = b.id)
  EXCEPT
  SELECT * FROM sark_migration.v1_servers $q$,
  'every migrated resource rebuilds a v1 row that exists as such (rebuilt EXCEPT v1 is empty)');

SELECT is_empty($q$
  SELECT t.* FROM sark_migration.v1_tools t
   WHERE NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                      WHERE q.source_table = 'mcp_tools' AND q.source_id = t.id)
  EXCEPT
  SELECT * FROM sark_migration.v1_tools_rebuilt $q$,
  'every non-quarantined mcp_tools row is rebuilt exactly from capabilities (v1 EXCEPT rebuilt is empty)');

SELECT is_empty($q$
  SELECT b.* FROM sark_migration.v1_tools_rebuilt b
   WHERE NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                      WHERE q.source_table = 'mcp_tools' AND q.source_id = b.id)
  EXCEPT
  SELECT * FROM sark_migration.v1_tools $q$,
  'every migrated capability rebuilds a v1 row that exists as such (rebuilt EXCEPT v1 is empty)');

SELECT is_empty('SELECT * FROM sark_migration.inverse_differences',
  'sark_migration.inverse_differences is empty');

-- ===========================================================================
-- Complete: every v1 row is migrated or quarantined with a reason; nothing vanishes
-- ===========================================================================
SELECT is_empty($q$
  SELECT i.source_id FROM sark_migration.resource_image i
   WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = i.id) $q$,
  'every non-quarantined mcp_servers row that maps has its resources row');

SELECT is_empty($q$
  SELECT i.source_id FROM sark_migration.capability_image i
   WHERE NOT EXISTS (SELECT 1 FROM public.capabilities c WHERE c.id = i.id) $q$,
  'every non-quarantined mcp_tools row that maps has its capabilities row');

SELECT is_empty($q$
  SELECT s.id FROM public.mcp_servers s
   WHERE NOT EXISTS (SELECT 1 FROM sark_migration.resource_image i WHERE i.source_id = s.id)
     AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                      WHERE q.source_table = 'mcp_servers' AND q.source_id = s.id) $q$,
  'no mcp_servers row is left out without a quarantine entry');

SELECT is_empty($q$
  SELECT t.id FROM public.mcp_tools t
   WHERE NOT EXISTS (SELECT 1 FROM sark_migration.capability_image i WHERE i.source_id = t.id)
     AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                      WHERE q.source_table = 'mcp_tools' AND q.source_id = t.id) $q$,
  'no mcp_tools row is left out without a quarantine entry');

SELECT is_empty($q$
  SELECT * FROM sark_migration.quarantine
   WHERE reason IS NULL OR btrim(reason) = '' OR detail IS NULL OR btrim(detail) = '' $q$,
  'every quarantined row has a reason and a readable detail');

SELECT is_empty($q$
  SELECT q.source_table, q.source_id, q.reason FROM sark_migration.quarantine q
  EXCEPT
  SELECT f.source_table, f.source_id, f.finding FROM sark_migration.findings f WHERE f.action = 'quarantine' $q$,
  'the quarantine holds no row that is no longer dirty');

SELECT is_empty($q$
  SELECT f.source_table, f.source_id, f.finding FROM sark_migration.findings f WHERE f.action = 'quarantine'
  EXCEPT
  SELECT q.source_table, q.source_id, q.reason FROM sark_migration.quarantine q $q$,
  'every quarantine finding is in the quarantine');

SELECT is_empty($q$
  SELECT i.source_id FROM sark_migration.resource_image i
    JOIN sark_migration.quarantine q ON q.source_table = 'mcp_servers' AND q.source_id = i.source_id
  UNION ALL
  SELECT i.source_id FROM sark_migration.capability_image i
    JOIN sark_migration.quarantine q ON q.source_table = 'mcp_tools' AND q.source_id = i.source_id $q$,
  'no quarantined row has an image (the copy never writes one)');

SELECT is_empty($q$
  SELECT c.id FROM public.capabilities c
   WHERE c.metadata @> '{"_v1": {"source": "mcp_tools"}}'
     AND NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = c.resource_id) $q$,
  'every migrated capability has its resource');

-- ===========================================================================
-- Metadata: always an object, core keys never overwritten, provenance on every row
-- ===========================================================================
SELECT is_empty($q$
  SELECT id FROM sark_migration.resource_image WHERE jsonb_typeof(metadata) IS DISTINCT FROM 'object'
  UNION ALL
  SELECT id FROM sark_migration.capability_image WHERE jsonb_typeof(metadata) IS DISTINCT FROM 'object' $q$,
  'metadata is always a JSON object, whatever extra_metadata is');

SELECT is_empty($q$
  SELECT s.id
  FROM sark_migration.v1_servers s
  JOIN public.resources r ON r.id = s.id::text AND r.metadata @> '{"_v1": {"source": "mcp_servers"}}'
  WHERE (r.metadata -> 'transport',   r.metadata -> 'command',     r.metadata -> 'endpoint',
         r.metadata -> 'mcp_version', r.metadata -> 'capabilities', r.metadata -> 'status',
         r.metadata -> 'health_endpoint', r.metadata -> 'owner_id', r.metadata -> 'team_id',
         r.metadata -> 'consul_id',   r.metadata -> 'tags',        r.metadata -> 'signature',
         r.metadata -> 'description', r.metadata ->> 'last_health_check')
        IS DISTINCT FROM
        (COALESCE(to_jsonb(s.transport::text), 'null'), COALESCE(to_jsonb(s.command), 'null'),
         COALESCE(to_jsonb(s.endpoint), 'null'), COALESCE(to_jsonb(s.mcp_version), 'null'),
         COALESCE(s.capabilities, 'null'), COALESCE(to_jsonb(s.status::text), 'null'),
         COALESCE(to_jsonb(s.health_endpoint), 'null'), COALESCE(to_jsonb(s.owner_id::text), 'null'),
         COALESCE(to_jsonb(s.team_id::text), 'null'), COALESCE(to_jsonb(s.consul_id), 'null'),
         COALESCE(s.tags, 'null'), COALESCE(to_jsonb(s.signature), 'null'),
         COALESCE(to_jsonb(s.description), 'null'), sark_migration.utc_text(s.last_health_check)) $q$,
  'every core key of resources.metadata holds the v1 column, never an extra_metadata value');

SELECT is_empty($q$
  SELECT t.id
  FROM sark_migration.v1_tools t
  JOIN public.capabilities c ON c.id = t.id::text AND c.metadata @> '{"_v1": {"source": "mcp_tools"}}'
  WHERE (c.metadata -> 'requires_approval', c.metadata -> 'signature', c.metadata -> 'invocation_count',
         c.metadata ->> 'last_invoked', c.metadata ->> 'created_at', c.metadata ->> 'updated_at')
        IS DISTINCT FROM
        (COALESCE(to_jsonb(t.requires_approval), 'null'), COALESCE(to_jsonb(t.signature), 'null'),
         COALESCE(to_jsonb(t.invocation_count), 'null'), sark_migration.utc_text(t.last_invoked),
         sark_migration.utc_text(t.created_at), sark_migration.utc_text(t.updated_at)) $q$,
  'every core key of capabilities.metadata holds the v1 column, never an extra_metadata value');

SELECT is_empty($q$
  SELECT s.id FROM sark_migration.v1_servers s
  JOIN public.resources r ON r.id = s.id::text AND r.metadata @> '{"_v1": {"source": "mcp_servers"}}'
  WHERE jsonb_typeof(s.extra_metadata) = 'object'
    AND s.extra_metadata ?| sark_migration.core_keys('mcp_servers')
    AND r.metadata -> '_v1' -> 'extra_metadata_collisions'
        IS DISTINCT FROM sark_migration.jsonb_pick(s.extra_metadata, sark_migration.core_keys('mcp_servers')) $q$,
  'colliding extra_metadata keys of a server are kept, with their values, under _v1.extra_metadata_collisions');

SELECT is_empty($q$
  SELECT s.id FROM sark_migration.v1_servers s
  JOIN public.resources r ON r.id = s.id::text AND r.metadata @> '{"_v1": {"source": "mcp_servers"}}'
  WHERE jsonb_typeof(s.extra_metadata) IS DISTINCT FROM 'object'
    AND r.metadata -> '_v1' -> 'extra_metadata' IS DISTINCT FROM s.extra_metadata $q$,
  'a non-object extra_metadata is kept unchanged under _v1.extra_metadata');

SELECT is_empty($q$
  SELECT id FROM sark_migration.resource_image
   WHERE NOT metadata @> '{"_v1": {"source": "mcp_servers"}}' OR protocol <> 'mcp'
  UNION ALL
  SELECT id FROM sark_migration.capability_image
   WHERE NOT metadata @> '{"_v1": {"source": "mcp_tools"}}' OR output_schema <> '{}' $q$,
  'every image carries its provenance (_v1.source), protocol mcp, output_schema {}');

SELECT is_empty($q$
  SELECT r.id FROM public.resources r JOIN sark_migration.v1_servers s ON r.id = s.id::text
   WHERE r.metadata @> '{"_v1": {"source": "mcp_servers"}}'
     AND (r.created_at, r.updated_at) IS DISTINCT FROM (s.created_at, s.updated_at) $q$,
  'created_at / updated_at of migrated resources are the v1 values');

-- ===========================================================================
-- Lanes: key ranges that cover every v1 key exactly once
-- ===========================================================================
SELECT results_eq(
  $q$SELECT count(*)::int FROM sark_migration.copy_lanes('capabilities', -1, 3)$q$,
  ARRAY[3],
  'copy_lanes plans the lanes asked for');

SELECT is_empty($q$
  SELECT l.lane FROM sark_migration.copy_lanes('capabilities', -1, 3) l
  LEFT JOIN sark_migration.copy_lanes('capabilities', -1, 3) prev ON prev.lane = l.lane - 1
  WHERE l.last_key IS DISTINCT FROM prev.range_end
     OR (l.lane = 2) <> (l.range_end IS NULL) $q$,
  'the lanes are consecutive: each starts where the one before ends, the first at the start, the last open-ended');

SELECT results_eq(
  $q$SELECT array_agg(n ORDER BY lane) FROM (
       SELECT l.lane, (SELECT count(*) FROM public.mcp_tools t
                        WHERE (l.last_key IS NULL OR t.id > l.last_key) AND (l.range_end IS NULL OR t.id <= l.range_end)) AS n
       FROM sark_migration.copy_lanes('capabilities', -1, 3) l) x$q$,
  $q$SELECT array_agg((c * k / 3 - c * (k - 1) / 3)::bigint ORDER BY k)
       FROM (SELECT count(*) AS c FROM public.mcp_tools) t, generate_series(1, 3) k$q$,
  'the lanes split the keys into equal counts (to one row)');

SELECT results_eq(
  $q$SELECT count(*)::int FROM sark_migration.copy_lanes('capabilities', -1, 5)$q$,
  ARRAY[3],
  'a run keeps the lanes it was planned with (a resumed copy asks again)');

SELECT results_eq(
  $q$SELECT count(*)::int || '/' || count(DISTINCT range_end)::int FROM sark_migration.copy_lanes('resources', -2, 64)$q$,
  ARRAY['64/63'],
  'the most lanes there can be (64, on the 300 seeded servers), each with a range of its own');

SELECT results_eq(
  $q$SELECT sum(inserted + updated)::bigint || '/' || sum(unchanged)::bigint
       FROM generate_series(0, 2) AS lane, sark_migration.copy_batch('capabilities', -1, NULL, lane)$q$,
  $q$SELECT '0/' || count(*) FROM sark_migration.capability_image$q$,
  'copying lane by lane writes nothing on a migrated database and examines every image once');

SELECT throws_ok(
  $q$SELECT * FROM sark_migration.copy_batch('capabilities', -3, NULL, 1)$q$,
  'P0001', 'sark_migration: run -3 of the capabilities copy has no lane 1',
  'copy_batch refuses a lane that was never planned');

-- ===========================================================================
-- Behaviour: a re-run writes nothing, in any session TimeZone / DateStyle
-- ===========================================================================
SELECT results_eq(
  $q$SELECT inserted + updated FROM sark_migration.copy_resources()$q$,
  ARRAY[0::bigint],
  're-running copy_resources writes no row');

SELECT results_eq(
  $q$SELECT inserted + updated FROM sark_migration.copy_capabilities()$q$,
  ARRAY[0::bigint],
  're-running copy_capabilities writes no row');

SET LOCAL TimeZone = 'Pacific/Chatham';
SET LOCAL DateStyle = 'SQL, DMY';
SELECT is_empty($q$
  SELECT i.id FROM sark_migration.resource_image i JOIN public.resources r ON r.id = i.id
   WHERE r.metadata IS DISTINCT FROM i.metadata
  UNION ALL
  SELECT i.id FROM sark_migration.capability_image i JOIN public.capabilities c ON c.id = i.id
   WHERE c.metadata IS DISTINCT FROM i.metadata $q$,
  'the images do not depend on the session TimeZone or DateStyle (UTC text in metadata)');

SELECT results_eq(
  $q$SELECT sum(inserted + updated)::bigint FROM (SELECT * FROM sark_migration.copy_resources()
                                         UNION ALL SELECT * FROM sark_migration.copy_capabilities()) x$q$,
  ARRAY[0::bigint],
  'a re-run in another TimeZone / DateStyle writes no row either');

SELECT is_empty($q$
  SELECT s.* FROM sark_migration.v1_servers s
   WHERE NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                      WHERE q.source_table = 'mcp_servers' AND q.source_id = s.id)
  EXCEPT
  SELECT * FROM sark_migration.v1_servers_rebuilt $q$,
  'the inverse mapping is exact in another TimeZone / DateStyle too');

-- is_v1_id tests bytes instead of running a regex (003): the same answer as the regex on canonical
-- uuids and on every near miss: each position replaced by a character of another class, removed,
-- or doubled; upper case, braces, NULL, empty, multibyte and backslash escapes.
SELECT is_empty($q$
  WITH base(u) AS (SELECT gen_random_uuid()::text FROM generate_series(1, 20)
                   UNION ALL VALUES ('00000000-0000-0000-0000-000000000000'), ('ffffffff-ffff-ffff-ffff-ffffffffffff')),
       chars(c) AS (SELECT unnest(ARRAY['0', '9', 'a', 'f', 'g', 'z', 'A', 'F', '-', '_', '%', ' ', '{', '}',
                                        E'\\', E'\\\\', 'é', '€', E'\t', '/', ':', '`', '@', '[']))
  SELECT x FROM (
    SELECT u AS x FROM base
    UNION ALL SELECT upper(u) FROM base
    UNION ALL SELECT '{' || u || '}' FROM base
    UNION ALL SELECT replace(u, '-', '') FROM base
    UNION ALL SELECT overlay(u PLACING c FROM p FOR 1) FROM base, chars, generate_series(1, 36) p
    UNION ALL SELECT overlay(u PLACING '' FROM p FOR 1) || c FROM base, chars, generate_series(1, 36) p
    UNION ALL SELECT overlay(u PLACING c FROM p FOR 0) FROM base, chars, generate_series(1, 37) p
    UNION ALL VALUES (NULL), (''), ('--------' || repeat('-', 28))
  ) t
  WHERE sark_migration.is_v1_id(x) IS DISTINCT FROM (x ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') $q$,
  'is_v1_id answers as the canonical-uuid regex does, on uuids and every near miss');

SELECT * FROM finish();
ROLLBACK;
