-- 20-migration-invariants: after the data copy (Phase 2), on ANY migrated database, the invariants
-- the validation report promises: counts (v1 = migrated + quarantined), no orphans, and fidelity
-- both ways (v2 = the mapping of v1, and v1 = the inverse mapping of v2), written independently of
-- the validation views so that CI checks them with pg_prove alone, without Node.
--
-- Run with: pg_prove -d <db> pgtap/20-migration-invariants.sql
-- Requires: the pgtap extension to be installable; a database after `sark-migrate data --execute`,
--           which installs the sark_migration mapping objects read here (v1_servers, v1_tools,
--           resource_image, capability_image, v1_*_rebuilt, quarantine). Installs nothing itself
--           outside its transaction, which is rolled back.
-- "Held" rows are the ones the copy leaves out on purpose: quarantined v1 rows, and tools of a
-- quarantined server. Rows "migrated" are the v2 rows with _v1 provenance.

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;

SELECT plan(28);

-- ===========================================================================
-- Structure: the mapping objects the migration installed
-- ===========================================================================
SELECT has_table('sark_migration', 'quarantine', 'the quarantine ledger exists');
SELECT has_view('sark_migration', v, format('mapping view sark_migration.%s exists', v))
FROM unnest(ARRAY['v1_servers', 'v1_tools', 'resource_image', 'capability_image',
                  'v1_servers_rebuilt', 'v1_tools_rebuilt']) AS v;

-- The held sets, as temporary views (dropped with the rollback).
CREATE TEMP VIEW held_servers AS
SELECT DISTINCT q.source_id AS id
FROM sark_migration.quarantine q
WHERE q.source_table = 'mcp_servers' AND EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = q.source_id);

CREATE TEMP VIEW held_tools AS
SELECT t.id
FROM public.mcp_tools t
WHERE EXISTS (SELECT 1 FROM sark_migration.quarantine q WHERE q.source_table = 'mcp_tools' AND q.source_id = t.id)
   OR EXISTS (SELECT 1 FROM sark_migration.quarantine q WHERE q.source_table = 'mcp_servers' AND q.source_id = t.server_id);

CREATE TEMP VIEW migrated_resources AS
SELECT r.* FROM public.resources r
WHERE r.metadata -> '_v1' ->> 'source' = 'mcp_servers'
  AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                   WHERE q.source_table = 'mcp_servers' AND q.source_id::text = r.id);

CREATE TEMP VIEW migrated_capabilities AS
SELECT c.* FROM public.capabilities c
WHERE c.metadata -> '_v1' ->> 'source' = 'mcp_tools'
  AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                   WHERE (q.source_table = 'mcp_tools' AND q.source_id::text = c.id)
                      OR (q.source_table = 'mcp_servers' AND q.source_id::text = c.resource_id));

-- ===========================================================================
-- Counts: v1 = migrated + quarantined
-- ===========================================================================
SELECT is_empty(
  $$SELECT s.id FROM public.mcp_servers s
     WHERE NOT EXISTS (SELECT 1 FROM migrated_resources r WHERE r.id = s.id::text)
       AND NOT EXISTS (SELECT 1 FROM held_servers h WHERE h.id = s.id)$$,
  'every v1 server is migrated or quarantined');
SELECT is(
  (SELECT count(*) FROM public.mcp_servers),
  (SELECT count(*) FROM migrated_resources) + (SELECT count(*) FROM held_servers),
  'v1 servers = resources migrated from v1 + quarantined servers');
SELECT is_empty(
  $$SELECT t.id FROM public.mcp_tools t
     WHERE NOT EXISTS (SELECT 1 FROM migrated_capabilities c WHERE c.id = t.id::text)
       AND NOT EXISTS (SELECT 1 FROM held_tools h WHERE h.id = t.id)$$,
  'every v1 tool is migrated or held back with its reason');
SELECT is(
  (SELECT count(*) FROM public.mcp_tools),
  (SELECT count(*) FROM migrated_capabilities) + (SELECT count(*) FROM held_tools),
  'v1 tools = capabilities migrated from v1 + quarantined tools');
SELECT is_empty(
  $$SELECT r.id FROM public.resources r
     WHERE r.metadata -> '_v1' ->> 'source' = 'mcp_servers'
       AND NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id::text = r.id)$$,
  'no migrated resource outlived its v1 server');
SELECT is_empty(
  $$SELECT c.id FROM public.capabilities c
     WHERE c.metadata -> '_v1' ->> 'source' = 'mcp_tools'
       AND NOT EXISTS (SELECT 1 FROM public.mcp_tools t WHERE t.id::text = c.id)$$,
  'no migrated capability outlived its v1 tool');
SELECT is_empty(
  $$SELECT c.id FROM migrated_capabilities c
     WHERE NOT EXISTS (SELECT 1 FROM migrated_resources r WHERE r.id = c.resource_id)$$,
  'every migrated capability belongs to a migrated resource');

-- ===========================================================================
-- Relationships
-- ===========================================================================
SELECT is_empty(
  $$SELECT c.id, c.resource_id FROM public.capabilities c
     WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = c.resource_id)$$,
  'no orphaned capabilities');
SELECT is_empty(
  $$SELECT t.id, t.server_id, c.resource_id FROM public.mcp_tools t
      JOIN migrated_capabilities c ON c.id = t.id::text
     WHERE c.resource_id <> t.server_id::text$$,
  'the capability of every migrated v1 tool belongs to the resource of its server');

-- ===========================================================================
-- Fidelity, forward: every migrated row equals the mapping of its v1 row
-- ===========================================================================
SELECT is_empty(
  $$SELECT id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at FROM migrated_resources
    EXCEPT
    SELECT id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at FROM sark_migration.resource_image$$,
  'every migrated resources row equals resource_image');
SELECT is_empty(
  $$SELECT id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at FROM sark_migration.resource_image
    EXCEPT
    SELECT id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at FROM migrated_resources$$,
  'every resource_image row is in resources');
SELECT is_empty(
  $$SELECT id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata FROM migrated_capabilities
    EXCEPT
    SELECT id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata FROM sark_migration.capability_image$$,
  'every migrated capabilities row equals capability_image');
SELECT is_empty(
  $$SELECT id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata FROM sark_migration.capability_image
    EXCEPT
    SELECT id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata FROM migrated_capabilities$$,
  'every capability_image row is in capabilities');

-- ===========================================================================
-- Fidelity, inverse: v1 rebuilt from v2 alone is v1, both ways
-- ===========================================================================
SELECT is_empty(
  $$SELECT * FROM sark_migration.v1_servers s WHERE s.id NOT IN (SELECT id FROM held_servers)
    EXCEPT
    SELECT * FROM sark_migration.v1_servers_rebuilt b WHERE b.id NOT IN (SELECT id FROM held_servers)$$,
  'v1_servers EXCEPT v1_servers_rebuilt is empty (nothing lost)');
SELECT is_empty(
  $$SELECT * FROM sark_migration.v1_servers_rebuilt b WHERE b.id NOT IN (SELECT id FROM held_servers)
    EXCEPT
    SELECT * FROM sark_migration.v1_servers s WHERE s.id NOT IN (SELECT id FROM held_servers)$$,
  'v1_servers_rebuilt EXCEPT v1_servers is empty (nothing changed or invented)');
SELECT is_empty(
  $$SELECT * FROM sark_migration.v1_tools t WHERE t.id NOT IN (SELECT id FROM held_tools)
    EXCEPT
    SELECT * FROM sark_migration.v1_tools_rebuilt b WHERE b.id NOT IN (SELECT id FROM held_tools)$$,
  'v1_tools EXCEPT v1_tools_rebuilt is empty (nothing lost)');
SELECT is_empty(
  $$SELECT * FROM sark_migration.v1_tools_rebuilt b WHERE b.id NOT IN (SELECT id FROM held_tools)
    EXCEPT
    SELECT * FROM sark_migration.v1_tools t WHERE t.id NOT IN (SELECT id FROM held_tools)$$,
  'v1_tools_rebuilt EXCEPT v1_tools is empty (nothing changed or invented)');

-- ===========================================================================
-- Business rules on the migrated rows
-- ===========================================================================
SELECT is_empty(
  $$SELECT id FROM migrated_resources
     WHERE NOT metadata ?& array_remove(sark_migration.core_keys('mcp_servers'), '_v1')$$,
  'every migrated resource has all core metadata keys');
SELECT is_empty(
  $$SELECT id FROM migrated_capabilities
     WHERE NOT metadata ?& array_remove(array_remove(sark_migration.core_keys('mcp_tools'), '_v1'), '_v2')$$,
  'every migrated capability has all core metadata keys');
SELECT is_empty(
  $$SELECT 'resources' AS t, id FROM public.resources WHERE jsonb_typeof(metadata) <> 'object'
    UNION ALL
    SELECT 'capabilities', id FROM public.capabilities WHERE jsonb_typeof(metadata) <> 'object'$$,
  'every metadata value is a JSON object');
SELECT is_empty(
  $$SELECT id FROM migrated_resources WHERE protocol <> 'mcp'$$,
  'every migrated resource has protocol mcp');

SELECT * FROM finish();
ROLLBACK;
