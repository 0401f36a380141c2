-- 02-v2-schema: the v2.0 schema after `schema up` (migrations 006_protocol_adapters
-- and 007_federation on top of the v1 baseline).
--
-- Run with: pg_prove -d <db> pgtap/02-v2-schema.sql
-- Requires: the pgtap extension to be installable; a database at 007_federation.
-- Runs in one transaction that is rolled back: the behaviour tests insert rows
-- and refresh the view, none of which survives.
-- Structure first (tables, columns, types, defaults, keys, indexes, constraints,
-- comments), then behaviour (the checks refuse bad rows, the cascade, the view).

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;

SELECT plan(236);

-- Nothing below may depend on the session's time zone except where a test sets
-- one on purpose.
SET LOCAL TimeZone = 'UTC';

-- ===========================================================================
-- Tables and view
-- ===========================================================================
SELECT has_table('public', t, format('v2 table %s exists', t))
FROM unnest(ARRAY['resources', 'capabilities', 'federation_nodes',
                  'cost_tracking', 'principal_budgets']) AS t;

-- v1 and v2 coexist after schema up: the v1 tables are still there.
SELECT has_table('public', t, format('v1 table %s is still there', t))
FROM unnest(ARRAY['mcp_servers', 'mcp_tools', 'audit_events']) AS t;

SELECT has_materialized_view('public', 'mv_daily_cost_summary',
    'materialized view mv_daily_cost_summary exists');
SELECT ok(
    (SELECT ispopulated FROM pg_matviews
      WHERE schemaname = 'public' AND matviewname = 'mv_daily_cost_summary'),
    'mv_daily_cost_summary is populated (REFRESH ... CONCURRENTLY refuses an unpopulated view)');

-- ===========================================================================
-- Columns: exact sets
-- ===========================================================================
SELECT columns_are('public', 'resources', ARRAY[
    'id', 'name', 'protocol', 'endpoint', 'sensitivity_level', 'metadata',
    'created_at', 'updated_at'], 'resources has exactly the v2 columns');
SELECT columns_are('public', 'capabilities', ARRAY[
    'id', 'resource_id', 'name', 'description', 'input_schema', 'output_schema',
    'sensitivity_level', 'metadata'], 'capabilities has exactly the v2 columns');
SELECT columns_are('public', 'federation_nodes', ARRAY[
    'id', 'node_id', 'name', 'endpoint', 'trust_anchor_cert', 'enabled',
    'trusted_since', 'rate_limit_per_hour', 'metadata', 'created_at', 'updated_at'],
    'federation_nodes has exactly the v2 columns');
SELECT columns_are('public', 'cost_tracking', ARRAY[
    'id', 'timestamp', 'principal_id', 'resource_id', 'capability_id',
    'estimated_cost', 'actual_cost', 'metadata'], 'cost_tracking has exactly the v2 columns');
SELECT columns_are('public', 'principal_budgets', ARRAY[
    'principal_id', 'daily_budget', 'monthly_budget', 'daily_spent', 'monthly_spent',
    'last_daily_reset', 'last_monthly_reset', 'currency', 'created_at', 'updated_at'],
    'principal_budgets has exactly the v2 columns');
SELECT columns_are('public', 'audit_events', ARRAY[
    'id', 'timestamp', 'event_type', 'severity', 'user_id', 'user_email', 'server_id',
    'tool_name', 'decision', 'policy_id', 'ip_address', 'user_agent', 'request_id',
    'details', 'siem_forwarded',
    'principal_org', 'resource_protocol', 'capability_id', 'correlation_id',
    'source_node', 'target_node', 'estimated_cost', 'actual_cost'],
    'audit_events has the v1 columns plus the eight federation columns');
SELECT columns_are('public', 'mv_daily_cost_summary', ARRAY[
    'date', 'principal_id', 'protocol', 'invocation_count', 'total_cost', 'avg_cost',
    'min_cost', 'max_cost'], 'mv_daily_cost_summary has exactly the documented columns');

-- ===========================================================================
-- Column types and nullability (every column 006/007 add)
-- ===========================================================================
SELECT col_type_is('public', t, c, ty, format('%s.%s is %s', t, c, ty))
FROM (VALUES
    ('resources', 'id', 'character varying(255)'),
    ('resources', 'name', 'character varying(255)'),
    ('resources', 'protocol', 'character varying(50)'),
    ('resources', 'endpoint', 'character varying(1000)'),
    ('resources', 'sensitivity_level', 'character varying(20)'),
    ('resources', 'metadata', 'jsonb'),
    ('resources', 'created_at', 'timestamp with time zone'),
    ('resources', 'updated_at', 'timestamp with time zone'),
    ('capabilities', 'id', 'character varying(255)'),
    ('capabilities', 'resource_id', 'character varying(255)'),
    ('capabilities', 'name', 'character varying(255)'),
    ('capabilities', 'description', 'text'),
    ('capabilities', 'input_schema', 'jsonb'),
    ('capabilities', 'output_schema', 'jsonb'),
    ('capabilities', 'sensitivity_level', 'character varying(20)'),
    ('capabilities', 'metadata', 'jsonb'),
    ('federation_nodes', 'id', 'uuid'),
    ('federation_nodes', 'node_id', 'character varying(255)'),
    ('federation_nodes', 'name', 'character varying(255)'),
    ('federation_nodes', 'endpoint', 'character varying(500)'),
    ('federation_nodes', 'trust_anchor_cert', 'text'),
    ('federation_nodes', 'enabled', 'boolean'),
    ('federation_nodes', 'trusted_since', 'timestamp with time zone'),
    ('federation_nodes', 'rate_limit_per_hour', 'integer'),
    ('federation_nodes', 'metadata', 'jsonb'),
    ('federation_nodes', 'created_at', 'timestamp with time zone'),
    ('federation_nodes', 'updated_at', 'timestamp with time zone'),
    ('cost_tracking', 'id', 'bigint'),
    ('cost_tracking', 'timestamp', 'timestamp with time zone'),
    ('cost_tracking', 'principal_id', 'character varying(255)'),
    ('cost_tracking', 'resource_id', 'character varying(255)'),
    ('cost_tracking', 'capability_id', 'character varying(255)'),
    ('cost_tracking', 'estimated_cost', 'numeric(10,4)'),
    ('cost_tracking', 'actual_cost', 'numeric(10,4)'),
    ('cost_tracking', 'metadata', 'jsonb'),
    ('principal_budgets', 'principal_id', 'character varying(255)'),
    ('principal_budgets', 'daily_budget', 'numeric(10,2)'),
    ('principal_budgets', 'monthly_budget', 'numeric(10,2)'),
    ('principal_budgets', 'daily_spent', 'numeric(10,4)'),
    ('principal_budgets', 'monthly_spent', 'numeric(10,4)'),
    ('principal_budgets', 'last_daily_reset', 'timestamp with time zone'),
    ('principal_budgets', 'last_monthly_reset', 'timestamp with time zone'),
    ('principal_budgets', 'currency', 'character varying(3)'),
    ('principal_budgets', 'created_at', 'timestamp with time zone'),
    ('principal_budgets', 'updated_at', 'timestamp with time zone'),
    ('audit_events', 'principal_org', 'character varying(255)'),
    ('audit_events', 'resource_protocol', 'character varying(50)'),
    ('audit_events', 'capability_id', 'character varying(255)'),
    ('audit_events', 'correlation_id', 'character varying(100)'),
    ('audit_events', 'source_node', 'character varying(255)'),
    ('audit_events', 'target_node', 'character varying(255)'),
    ('audit_events', 'estimated_cost', 'numeric(10,4)'),
    ('audit_events', 'actual_cost', 'numeric(10,4)'),
    ('mv_daily_cost_summary', 'date', 'date'),
    ('mv_daily_cost_summary', 'principal_id', 'character varying(255)'),
    ('mv_daily_cost_summary', 'protocol', 'character varying(50)'),
    ('mv_daily_cost_summary', 'invocation_count', 'bigint'),
    ('mv_daily_cost_summary', 'total_cost', 'numeric'),
    ('mv_daily_cost_summary', 'avg_cost', 'numeric'),
    ('mv_daily_cost_summary', 'min_cost', 'numeric'),
    ('mv_daily_cost_summary', 'max_cost', 'numeric')
) AS v(t, c, ty);

SELECT col_not_null('public', t, c, format('%s.%s is NOT NULL', t, c))
FROM (VALUES
    ('resources', 'id'), ('resources', 'name'), ('resources', 'protocol'),
    ('resources', 'endpoint'), ('resources', 'sensitivity_level'), ('resources', 'metadata'),
    ('resources', 'created_at'), ('resources', 'updated_at'),
    ('capabilities', 'id'), ('capabilities', 'resource_id'), ('capabilities', 'name'),
    ('capabilities', 'input_schema'), ('capabilities', 'output_schema'),
    ('capabilities', 'sensitivity_level'), ('capabilities', 'metadata'),
    ('federation_nodes', 'id'), ('federation_nodes', 'node_id'), ('federation_nodes', 'name'),
    ('federation_nodes', 'endpoint'), ('federation_nodes', 'trust_anchor_cert'),
    ('federation_nodes', 'enabled'), ('federation_nodes', 'trusted_since'),
    ('federation_nodes', 'metadata'), ('federation_nodes', 'created_at'),
    ('federation_nodes', 'updated_at'),
    ('cost_tracking', 'id'), ('cost_tracking', 'timestamp'), ('cost_tracking', 'principal_id'),
    ('cost_tracking', 'resource_id'), ('cost_tracking', 'capability_id'),
    ('cost_tracking', 'metadata'),
    ('principal_budgets', 'principal_id'), ('principal_budgets', 'daily_spent'),
    ('principal_budgets', 'monthly_spent'), ('principal_budgets', 'currency'),
    ('principal_budgets', 'created_at'), ('principal_budgets', 'updated_at')
) AS v(t, c);

SELECT col_is_null('public', t, c, format('%s.%s is nullable', t, c))
FROM (VALUES
    ('capabilities', 'description'),
    ('federation_nodes', 'rate_limit_per_hour'),
    ('cost_tracking', 'estimated_cost'), ('cost_tracking', 'actual_cost'),
    ('principal_budgets', 'daily_budget'), ('principal_budgets', 'monthly_budget'),
    ('principal_budgets', 'last_daily_reset'), ('principal_budgets', 'last_monthly_reset'),
    -- existing audit rows get NULL: the new columns must not be NOT NULL
    ('audit_events', 'principal_org'), ('audit_events', 'resource_protocol'),
    ('audit_events', 'capability_id'), ('audit_events', 'correlation_id'),
    ('audit_events', 'source_node'), ('audit_events', 'target_node'),
    ('audit_events', 'estimated_cost'), ('audit_events', 'actual_cost')
) AS v(t, c);

-- ===========================================================================
-- Defaults
-- ===========================================================================
SELECT col_default_is('public', t, c, d, format('%s.%s defaults to %s', t, c, d))
FROM (VALUES
    ('resources', 'sensitivity_level', 'medium'),
    ('resources', 'metadata', '{}'),
    ('resources', 'created_at', 'now()'),
    ('resources', 'updated_at', 'now()'),
    ('capabilities', 'input_schema', '{}'),
    ('capabilities', 'output_schema', '{}'),
    ('capabilities', 'sensitivity_level', 'medium'),
    ('capabilities', 'metadata', '{}'),
    ('federation_nodes', 'enabled', 'true'),
    ('federation_nodes', 'trusted_since', 'now()'),
    ('federation_nodes', 'rate_limit_per_hour', '10000'),
    ('federation_nodes', 'metadata', '{}'),
    ('federation_nodes', 'created_at', 'now()'),
    ('federation_nodes', 'updated_at', 'now()'),
    ('cost_tracking', 'id', 'nextval(''cost_tracking_id_seq''::regclass)'),
    ('cost_tracking', 'timestamp', 'now()'),
    ('cost_tracking', 'metadata', '{}'),
    ('principal_budgets', 'daily_spent', '0'),
    ('principal_budgets', 'monthly_spent', '0'),
    ('principal_budgets', 'currency', 'USD'),
    ('principal_budgets', 'created_at', 'now()'),
    ('principal_budgets', 'updated_at', 'now()')
) AS v(t, c, d);

SELECT col_hasnt_default('public', t, c, format('%s.%s has no default', t, c))
FROM (VALUES
    ('resources', 'id'), ('capabilities', 'id'), ('federation_nodes', 'id'),
    ('audit_events', 'principal_org'), ('audit_events', 'estimated_cost')
) AS v(t, c);

-- ===========================================================================
-- Keys and constraints
-- ===========================================================================
SELECT col_is_pk('public', 'resources', 'id', 'resources.id is the primary key');
SELECT col_is_pk('public', 'capabilities', 'id', 'capabilities.id is the primary key');
SELECT col_is_pk('public', 'federation_nodes', 'id', 'federation_nodes.id is the primary key');
SELECT col_is_pk('public', 'cost_tracking', 'id', 'cost_tracking.id is the primary key');
SELECT col_is_pk('public', 'principal_budgets', 'principal_id',
    'principal_budgets.principal_id is the primary key');
SELECT has_sequence('public', 'cost_tracking_id_seq', 'cost_tracking.id is a bigserial');

SELECT fk_ok('public', 'capabilities', 'resource_id', 'public', 'resources', 'id',
    'capabilities.resource_id references resources.id');

-- The exact constraint set, by name: other checks of the tool look them up.
SELECT bag_eq(
    $$ SELECT conrelid::regclass::text, conname::text, contype::text
         FROM pg_constraint
        WHERE contype <> 'n'  -- NOT NULL: PostgreSQL 18 lists it here too; checked per column
          AND conrelid IN (SELECT oid FROM pg_class
                            WHERE relnamespace = 'public'::regnamespace
                              AND relname IN ('resources', 'capabilities', 'federation_nodes',
                                              'cost_tracking', 'principal_budgets')) $$,
    $$ VALUES
        ('resources', 'resources_pkey', 'p'),
        ('resources', 'resources_protocol_check', 'c'),
        ('resources', 'resources_sensitivity_level_check', 'c'),
        ('resources', 'resources_metadata_is_object', 'c'),
        ('capabilities', 'capabilities_pkey', 'p'),
        ('capabilities', 'capabilities_resource_id_fkey', 'f'),
        ('capabilities', 'capabilities_sensitivity_level_check', 'c'),
        ('capabilities', 'capabilities_metadata_is_object', 'c'),
        ('federation_nodes', 'federation_nodes_pkey', 'p'),
        ('cost_tracking', 'cost_tracking_pkey', 'p'),
        ('principal_budgets', 'principal_budgets_pkey', 'p') $$,
    'the v2 tables have exactly the named constraints'
);

SELECT is(
    (SELECT confdeltype::text FROM pg_constraint WHERE conname = 'capabilities_resource_id_fkey'),
    'c', 'capabilities_resource_id_fkey is ON DELETE CASCADE');

SELECT col_has_check('public', 'resources', 'protocol', 'resources.protocol has a CHECK');
SELECT col_has_check('public', 'resources', 'sensitivity_level',
    'resources.sensitivity_level has a CHECK');
SELECT col_has_check('public', 'resources', 'metadata', 'resources.metadata has a CHECK');
SELECT col_has_check('public', 'capabilities', 'sensitivity_level',
    'capabilities.sensitivity_level has a CHECK');
SELECT col_has_check('public', 'capabilities', 'metadata', 'capabilities.metadata has a CHECK');

-- ===========================================================================
-- Indexes
-- ===========================================================================
SELECT has_index('public', t, i, cols, format('index %s on %s (%s)', i, t, array_to_string(cols, ', ')))
FROM (VALUES
    ('resources', 'ix_resources_protocol', ARRAY['protocol']),
    ('resources', 'ix_resources_sensitivity', ARRAY['sensitivity_level']),
    ('resources', 'ix_resources_name', ARRAY['name']),
    ('resources', 'ix_resources_metadata_gin', ARRAY['metadata']),
    ('capabilities', 'ix_capabilities_resource', ARRAY['resource_id']),
    ('capabilities', 'ix_capabilities_name', ARRAY['name']),
    ('capabilities', 'ix_capabilities_sensitivity', ARRAY['sensitivity_level']),
    ('capabilities', 'ix_capabilities_metadata_gin', ARRAY['metadata']),
    ('federation_nodes', 'ix_federation_nodes_node_id', ARRAY['node_id']),
    ('federation_nodes', 'ix_federation_nodes_enabled', ARRAY['enabled']),
    ('cost_tracking', 'ix_cost_tracking_timestamp', ARRAY['"timestamp"']),
    ('cost_tracking', 'ix_cost_tracking_principal', ARRAY['principal_id']),
    ('cost_tracking', 'ix_cost_tracking_resource', ARRAY['resource_id']),
    ('cost_tracking', 'ix_cost_tracking_capability', ARRAY['capability_id']),
    ('audit_events', 'ix_audit_events_principal_org', ARRAY['principal_org']),
    ('audit_events', 'ix_audit_events_resource_protocol', ARRAY['resource_protocol']),
    ('audit_events', 'ix_audit_events_capability', ARRAY['capability_id']),
    ('audit_events', 'ix_audit_events_correlation', ARRAY['correlation_id']),
    ('audit_events', 'ix_audit_events_source_node', ARRAY['source_node']),
    ('audit_events', 'ix_audit_events_target_node', ARRAY['target_node']),
    ('principal_budgets', 'ix_principal_budgets_principal', ARRAY['principal_id']),
    ('mv_daily_cost_summary', 'ux_mv_daily_cost_summary', ARRAY['date', 'principal_id', 'protocol']),
    ('mv_daily_cost_summary', 'ix_mv_daily_cost_summary_date', ARRAY['date']),
    ('mv_daily_cost_summary', 'ix_mv_daily_cost_summary_principal', ARRAY['principal_id'])
) AS v(t, i, cols);

-- Exact index sets: no stray or duplicate index on the new relations. The indexes
-- `optimize --optimize` builds (sql/optimize/indexes/1xx, also built by the copy)
-- belong to the set where they exist, so the suite holds before the copy, after
-- it and after optimize alike.
SELECT indexes_are('public', 'resources', ARRAY[
    'resources_pkey', 'ix_resources_protocol', 'ix_resources_sensitivity',
    'ix_resources_name', 'ix_resources_metadata_gin'], 'resources has exactly its indexes');
SELECT indexes_are('public', 'capabilities', ARRAY[
    'capabilities_pkey', 'ix_capabilities_resource', 'ix_capabilities_name',
    'ix_capabilities_sensitivity', 'ix_capabilities_metadata_gin']::name[]
    || ARRAY(SELECT indexname FROM pg_indexes
              WHERE schemaname = 'public' AND tablename = 'capabilities'
                AND indexname IN ('ix_capabilities_high_sensitivity_rank',
                                  'ix_capabilities_input_properties_gin')),
    'capabilities has exactly its indexes (and optimize''s, where built)');
SELECT indexes_are('public', 'federation_nodes', ARRAY[
    'federation_nodes_pkey', 'ix_federation_nodes_node_id', 'ix_federation_nodes_enabled'],
    'federation_nodes has exactly its indexes');
SELECT indexes_are('public', 'cost_tracking', ARRAY[
    'cost_tracking_pkey', 'ix_cost_tracking_timestamp', 'ix_cost_tracking_principal',
    'ix_cost_tracking_resource', 'ix_cost_tracking_capability'],
    'cost_tracking has exactly its indexes');
SELECT indexes_are('public', 'principal_budgets', ARRAY['principal_budgets_pkey', 'ix_principal_budgets_principal'],
    'principal_budgets has its primary key and SARK''s ix_principal_budgets_principal');
SELECT indexes_are('public', 'mv_daily_cost_summary',
    ARRAY['ux_mv_daily_cost_summary', 'ix_mv_daily_cost_summary_date', 'ix_mv_daily_cost_summary_principal']::name[]
    || ARRAY(SELECT indexname FROM pg_indexes
              WHERE schemaname = 'public' AND tablename = 'mv_daily_cost_summary'
                AND indexname = 'ix_mv_daily_cost_summary_day_cost'),
    'mv_daily_cost_summary has its unique index and SARK''s two (and optimize''s, where built)');
-- audit_events keeps whatever v1 indexes the database had (the out-of-band ones
-- are optional in the field), so only the indexes touching the federation
-- columns are pinned down exactly.
SELECT bag_eq(
    $$ SELECT DISTINCT i.indexrelid::regclass::text
         FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = to_regclass('public.audit_events')
          AND a.attname IN ('principal_org', 'resource_protocol', 'capability_id',
                            'correlation_id', 'source_node', 'target_node',
                            'estimated_cost', 'actual_cost') $$,
    $$ VALUES ('ix_audit_events_principal_org'), ('ix_audit_events_resource_protocol'),
              ('ix_audit_events_capability'), ('ix_audit_events_correlation'),
              ('ix_audit_events_source_node'), ('ix_audit_events_target_node') $$,
    'the audit_events federation columns have exactly their six indexes, under SARK''s names (none on the costs)');

SELECT index_is_type('public', 'resources', 'ix_resources_metadata_gin', 'gin',
    'ix_resources_metadata_gin is a GIN index');
SELECT index_is_type('public', 'capabilities', 'ix_capabilities_metadata_gin', 'gin',
    'ix_capabilities_metadata_gin is a GIN index');
SELECT index_is_unique('public', 'federation_nodes', 'ix_federation_nodes_node_id',
    'ix_federation_nodes_node_id is unique');
SELECT index_is_unique('public', 'mv_daily_cost_summary', 'ux_mv_daily_cost_summary',
    'ux_mv_daily_cost_summary is unique');
SELECT is(
    (SELECT pg_get_expr(indpred, indrelid) FROM pg_index
      WHERE indexrelid = to_regclass('public.ix_federation_nodes_enabled')),
    '(enabled = true)', 'ix_federation_nodes_enabled is partial WHERE enabled = true');
-- REFRESH ... CONCURRENTLY accepts only a plain-column, non-partial unique index.
SELECT ok(
    coalesce((SELECT indisunique AND indpred IS NULL AND indexprs IS NULL AND indimmediate
                FROM pg_index WHERE indexrelid = to_regclass('public.ux_mv_daily_cost_summary')),
             false),
    'ux_mv_daily_cost_summary is usable by REFRESH ... CONCURRENTLY');

-- ===========================================================================
-- auditeventtype
-- ===========================================================================
SELECT enum_has_labels('public', 'auditeventtype', ARRAY[
    'server_registered', 'server_updated', 'server_decommissioned', 'tool_invoked',
    'authorization_allowed', 'authorization_denied', 'policy_created', 'policy_updated',
    'policy_activated', 'user_login', 'user_logout', 'security_violation',
    'cross_org_request', 'cross_org_authorization', 'cost_limit_exceeded',
    'federation_node_trusted', 'federation_node_revoked'],
    'auditeventtype has the twelve v1 labels followed by the five v2 labels');

-- ===========================================================================
-- Comments: \d+ explains every relation and column 006/007 add
-- ===========================================================================
SELECT is_empty(
    $$ SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relname IN ('resources', 'capabilities', 'federation_nodes', 'cost_tracking',
                            'principal_budgets', 'mv_daily_cost_summary')
          AND obj_description(c.oid, 'pg_class') IS NULL $$,
    'every v2 table and the view have a comment');
SELECT is_empty(
    $$ SELECT c.relname || '.' || a.attname FROM pg_class c
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relnamespace = 'public'::regnamespace
          AND (c.relname IN ('resources', 'capabilities', 'federation_nodes', 'cost_tracking',
                             'principal_budgets', 'mv_daily_cost_summary')
               OR (c.relname = 'audit_events' AND a.attname IN (
                   'principal_org', 'resource_protocol', 'capability_id', 'correlation_id',
                   'source_node', 'target_node', 'estimated_cost', 'actual_cost')))
          AND col_description(c.oid, a.attnum) IS NULL $$,
    'every column 006/007 add has a comment');

-- ===========================================================================
-- Behaviour: the checks refuse bad rows
-- ===========================================================================
SELECT lives_ok(
    $$ INSERT INTO resources (id, name, protocol, endpoint, sensitivity_level, metadata)
       VALUES ('pgtap-r1', 'billing api', 'http', 'https://billing.example/api', 'high',
               '{"owner": "finance"}') $$,
    'a well-formed resource is accepted');
SELECT lives_ok(
    $$ INSERT INTO resources (id, name, protocol, endpoint)
       VALUES ('pgtap-r-defaults', 'defaults', 'mcp', 'npx some-server') $$,
    'a resource relying on the defaults is accepted');
SELECT results_eq(
    $$ SELECT sensitivity_level::text, metadata FROM resources WHERE id = 'pgtap-r-defaults' $$,
    $$ VALUES ('medium'::text, '{}'::jsonb) $$,
    'resource defaults: sensitivity medium, metadata {}');
SELECT throws_ok(
    $$ INSERT INTO resources (id, name, protocol, endpoint, sensitivity_level)
       VALUES ('pgtap-bad1', 'x', 'http', 'https://x', 'extreme') $$,
    '23514', NULL, 'resources refuses sensitivity_level extreme');
SELECT throws_ok(
    $$ INSERT INTO resources (id, name, protocol, endpoint)
       VALUES ('pgtap-bad2', 'x', 'ftp', 'ftp://x') $$,
    '23514', NULL, 'resources refuses protocol ftp');
SELECT throws_ok(
    $$ INSERT INTO resources (id, name, protocol, endpoint, metadata)
       VALUES ('pgtap-bad3', 'x', 'http', 'https://x', '["not", "an", "object"]') $$,
    '23514', NULL, 'resources refuses array metadata');
SELECT throws_ok(
    $$ INSERT INTO resources (id, name, protocol, endpoint, metadata)
       VALUES ('pgtap-bad4', 'x', 'http', 'https://x', '"scalar"') $$,
    '23514', NULL, 'resources refuses scalar metadata');
SELECT throws_ok(
    $$ INSERT INTO resources (id, name, protocol, endpoint)
       VALUES ('pgtap-bad5', 'x', 'http', NULL) $$,
    '23502', NULL, 'resources refuses a NULL endpoint');
SELECT throws_ok(
    $$ UPDATE resources SET sensitivity_level = 'CRITICAL' WHERE id = 'pgtap-r1' $$,
    '23514', NULL, 'the sensitivity check is case-sensitive (CRITICAL is refused)');

SELECT lives_ok(
    $$ INSERT INTO capabilities (id, resource_id, name, input_schema, sensitivity_level)
       VALUES ('pgtap-c1', 'pgtap-r1', 'charge', '{"type": "object"}', 'critical') $$,
    'a well-formed capability is accepted');
SELECT throws_ok(
    $$ INSERT INTO capabilities (id, resource_id, name, sensitivity_level)
       VALUES ('pgtap-cbad1', 'pgtap-r1', 'x', 'extreme') $$,
    '23514', NULL, 'capabilities refuses sensitivity_level extreme');
SELECT throws_ok(
    $$ INSERT INTO capabilities (id, resource_id, name, metadata)
       VALUES ('pgtap-cbad2', 'pgtap-r1', 'x', '[]') $$,
    '23514', NULL, 'capabilities refuses array metadata');
SELECT throws_ok(
    $$ INSERT INTO capabilities (id, resource_id, name)
       VALUES ('pgtap-cbad3', 'pgtap-no-such-resource', 'x') $$,
    '23503', NULL, 'capabilities refuses an unknown resource_id');

SELECT lives_ok(
    $$ INSERT INTO federation_nodes (id, node_id, name, endpoint, trust_anchor_cert)
       VALUES ('00000000-0000-4000-8000-000000000001', 'node-a', 'A', 'https://a.example', 'pem') $$,
    'a federation node is accepted');
SELECT throws_ok(
    $$ INSERT INTO federation_nodes (id, node_id, name, endpoint, trust_anchor_cert)
       VALUES ('00000000-0000-4000-8000-000000000002', 'node-a', 'A again', 'https://a2.example', 'pem') $$,
    '23505', NULL, 'federation_nodes refuses a duplicate node_id');

SELECT lives_ok(
    $$ INSERT INTO audit_events (id, event_type, principal_org, source_node, estimated_cost)
       VALUES ('00000000-0000-4000-8000-0000000000a1', 'cross_org_request', 'org-b', 'node-a', 0.0125) $$,
    'audit_events takes a v2 event type and the federation columns');

-- ===========================================================================
-- Behaviour: cascade
-- ===========================================================================
SELECT lives_ok($$ DELETE FROM resources WHERE id = 'pgtap-r-defaults' $$,
    'a resource without capabilities can be deleted');
SELECT is(
    (SELECT count(*)::int FROM capabilities WHERE id = 'pgtap-c1'), 1,
    'the capability of pgtap-r1 exists before the delete');

-- ===========================================================================
-- Behaviour: mv_daily_cost_summary (UTC days, concurrent refresh)
-- ===========================================================================
-- A session in Los Angeles: 2024-01-02 03:00 UTC is still January 1st there,
-- so DATE(timestamp) would split these two rows over two days.
SET LOCAL TimeZone = 'America/Los_Angeles';
INSERT INTO cost_tracking ("timestamp", principal_id, resource_id, capability_id, estimated_cost, actual_cost)
VALUES ('2024-01-02 03:00:00+00', 'pgtap-p1', 'pgtap-r1', 'pgtap-c1', 1.0000, 1.5000),
       ('2024-01-02 20:00:00+00', 'pgtap-p1', 'pgtap-r1', 'pgtap-c1', 2.0000, 2.5000),
       ('2024-01-02 10:00:00+00', 'pgtap-p1', 'pgtap-gone', 'pgtap-gone', NULL, 0.2500);

SELECT lives_ok('REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_cost_summary',
    'REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_cost_summary works');
SELECT results_eq(
    $$ SELECT "date", principal_id::text, protocol::text, invocation_count, total_cost,
              avg_cost, min_cost, max_cost
         FROM mv_daily_cost_summary WHERE principal_id = 'pgtap-p1'
        ORDER BY protocol NULLS LAST $$,
    $$ VALUES ('2024-01-02'::date, 'pgtap-p1', 'http', 2::bigint, 4.0000::numeric,
               2.0000::numeric, 1.5000::numeric, 2.5000::numeric),
              ('2024-01-02'::date, 'pgtap-p1', NULL, 1::bigint, 0.2500::numeric,
               0.2500::numeric, 0.2500::numeric, 0.2500::numeric) $$,
    'the view sums per UTC day whatever the session time zone; unknown capabilities count under protocol NULL');
-- A second concurrent refresh diffs against existing rows, including the
-- NULL-protocol group.
INSERT INTO cost_tracking ("timestamp", principal_id, resource_id, capability_id, actual_cost)
VALUES ('2024-01-03 00:00:00+00', 'pgtap-p1', 'pgtap-r1', 'pgtap-c1', 1.0000);
SELECT lives_ok('REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_cost_summary',
    'a second concurrent refresh works with existing and NULL-protocol rows');
SELECT is(
    (SELECT count(*)::int FROM mv_daily_cost_summary WHERE principal_id = 'pgtap-p1'), 3,
    'the second refresh added the new day and kept the others');
SET LOCAL TimeZone = 'UTC';

-- Cascade last: it removes the capability the view joined through.
SELECT lives_ok($$ DELETE FROM resources WHERE id = 'pgtap-r1' $$,
    'a resource with capabilities can be deleted');
SELECT is(
    (SELECT count(*)::int FROM capabilities WHERE resource_id = 'pgtap-r1'), 0,
    'deleting a resource deletes its capabilities (ON DELETE CASCADE)');

SELECT * FROM finish();
ROLLBACK;
