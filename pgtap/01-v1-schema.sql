-- 01-v1-schema: the SARK v1.x baseline (migrations 001_initial .. 005_gateway_audit).
--
-- Run with: pg_prove -d <db> pgtap/01-v1-schema.sql
-- Requires: the pgtap extension to be installable; a database at v1: built by
-- 001..005 (before `schema up`), or brought back by `schema down --to
-- 005_gateway_audit`. Both must pass: this suite is the proof that a revert
-- left nothing of 006/007 behind. The one tolerated trace is the five
-- auditeventtype values 007 adds, which PostgreSQL cannot drop.
-- Runs in one transaction that is rolled back (the behaviour tests insert rows).
-- Checks the baseline as these migrations build it (mcp_tools.parameters_schema,
-- jsonb columns, the out-of-band performance indexes), not the model-built
-- variant of test/fixtures/model_v1.sql.

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;

SELECT plan(248);

-- ===========================================================================
-- Tables: every v1 table, and none of v2
-- ===========================================================================
SELECT has_table('public', t, format('v1 table %s exists', t))
FROM unnest(ARRAY['users', 'teams', 'user_teams', 'mcp_servers', 'mcp_tools', 'api_keys',
                  'policies', 'policy_versions', 'audit_events', 'gateway_audit_events']) AS t;

SELECT hasnt_table('public', t, format('v2 table %s does not exist', t))
FROM unnest(ARRAY['resources', 'capabilities', 'federation_nodes', 'cost_tracking',
                  'principal_budgets']) AS t;
SELECT hasnt_materialized_view('public', 'mv_daily_cost_summary',
    'v2 materialized view mv_daily_cost_summary does not exist');
SELECT hasnt_sequence('public', 'cost_tracking_id_seq', 'v2 sequence cost_tracking_id_seq does not exist');

-- ===========================================================================
-- Columns: exact sets (audit_events proves 007's columns are gone again)
-- ===========================================================================
SELECT columns_are('public', 'users', ARRAY[
    'id', 'email', 'full_name', 'hashed_password', 'is_active', 'is_admin', 'role',
    'extra_metadata', 'created_at', 'updated_at'], 'users has exactly the v1 columns');
SELECT columns_are('public', 'teams', ARRAY[
    'id', 'name', 'description', 'extra_metadata', 'created_at', 'updated_at'],
    'teams has exactly the v1 columns');
SELECT columns_are('public', 'user_teams', ARRAY['user_id', 'team_id'],
    'user_teams has exactly the v1 columns');
SELECT columns_are('public', 'mcp_servers', ARRAY[
    'id', 'name', 'description', 'transport', 'endpoint', 'command', 'mcp_version',
    'capabilities', 'sensitivity_level', 'signature', 'status', 'health_endpoint',
    'last_health_check', 'owner_id', 'team_id', 'consul_id', 'tags', 'extra_metadata',
    'created_at', 'updated_at'], 'mcp_servers has exactly the v1 columns');
SELECT columns_are('public', 'mcp_tools', ARRAY[
    'id', 'server_id', 'name', 'description', 'parameters_schema', 'sensitivity_level',
    'requires_approval', 'signature', 'extra_metadata', 'created_at', 'updated_at'],
    'mcp_tools has exactly the revision-001 columns (parameters_schema, no invocation_count / last_invoked)');
SELECT columns_are('public', 'api_keys', ARRAY[
    'id', 'user_id', 'team_id', 'name', 'description', 'key_prefix', 'key_hash', 'scopes',
    'rate_limit', 'is_active', 'expires_at', 'last_used_at', 'last_used_ip', 'usage_count',
    'created_at', 'updated_at', 'revoked_at', 'revoked_by'], 'api_keys has exactly the v1 columns');
SELECT columns_are('public', 'policies', ARRAY[
    'id', 'name', 'description', 'policy_type', 'status', 'current_version_id',
    'created_at', 'updated_at'], 'policies has exactly the v1 columns');
SELECT columns_are('public', 'policy_versions', ARRAY[
    'id', 'policy_id', 'version', 'content', 'is_active', 'tested', 'created_by',
    'created_at', 'notes'], 'policy_versions has exactly the v1 columns');
SELECT columns_are('public', 'audit_events', ARRAY[
    'id', 'timestamp', 'event_type', 'severity', 'user_id', 'user_email', 'server_id',
    'tool_name', 'decision', 'policy_id', 'ip_address', 'user_agent', 'request_id',
    'details', 'siem_forwarded'], 'audit_events has exactly the v1 columns (no federation columns)');
SELECT columns_are('public', 'gateway_audit_events', ARRAY[
    'id', 'event_type', 'user_id', 'agent_id', 'server_name', 'tool_name', 'decision',
    'reason', 'timestamp', 'gateway_request_id', 'metadata', 'created_at'],
    'gateway_audit_events has exactly the v1 columns');

-- ===========================================================================
-- Column types
-- ===========================================================================
SELECT col_type_is('public', t, c, ty, format('%s.%s is %s', t, c, ty))
FROM (VALUES
    ('users', 'id', 'uuid'),
    ('users', 'email', 'character varying(255)'),
    ('users', 'role', 'character varying(50)'),
    ('users', 'extra_metadata', 'jsonb'),
    ('users', 'created_at', 'timestamp with time zone'),
    ('teams', 'description', 'character varying(1000)'),
    ('mcp_servers', 'id', 'uuid'),
    ('mcp_servers', 'name', 'character varying(255)'),
    ('mcp_servers', 'description', 'character varying(1000)'),
    ('mcp_servers', 'transport', 'transporttype'),
    ('mcp_servers', 'endpoint', 'character varying(500)'),
    ('mcp_servers', 'command', 'character varying(500)'),
    ('mcp_servers', 'mcp_version', 'character varying(20)'),
    ('mcp_servers', 'capabilities', 'jsonb'),
    ('mcp_servers', 'sensitivity_level', 'sensitivitylevel'),
    ('mcp_servers', 'signature', 'character varying(1000)'),
    ('mcp_servers', 'status', 'serverstatus'),
    ('mcp_servers', 'health_endpoint', 'character varying(500)'),
    ('mcp_servers', 'last_health_check', 'timestamp with time zone'),
    ('mcp_servers', 'owner_id', 'uuid'),
    ('mcp_servers', 'team_id', 'uuid'),
    ('mcp_servers', 'consul_id', 'character varying(255)'),
    ('mcp_servers', 'tags', 'jsonb'),
    ('mcp_servers', 'extra_metadata', 'jsonb'),
    ('mcp_servers', 'created_at', 'timestamp with time zone'),
    ('mcp_servers', 'updated_at', 'timestamp with time zone'),
    ('mcp_tools', 'id', 'uuid'),
    ('mcp_tools', 'server_id', 'uuid'),
    ('mcp_tools', 'name', 'character varying(255)'),
    ('mcp_tools', 'description', 'text'),
    ('mcp_tools', 'parameters_schema', 'jsonb'),
    ('mcp_tools', 'sensitivity_level', 'sensitivitylevel'),
    ('mcp_tools', 'requires_approval', 'boolean'),
    ('mcp_tools', 'signature', 'character varying(1000)'),
    ('mcp_tools', 'extra_metadata', 'jsonb'),
    ('mcp_tools', 'created_at', 'timestamp with time zone'),
    ('mcp_tools', 'updated_at', 'timestamp with time zone'),
    ('api_keys', 'key_prefix', 'character varying(16)'),
    ('api_keys', 'scopes', 'character varying[]'),
    ('api_keys', 'rate_limit', 'integer'),
    ('api_keys', 'expires_at', 'timestamp without time zone'),
    ('api_keys', 'last_used_ip', 'character varying(45)'),
    ('api_keys', 'created_at', 'timestamp without time zone'),
    ('policies', 'policy_type', 'policytype'),
    ('policies', 'status', 'policystatus'),
    ('policies', 'current_version_id', 'uuid'),
    ('policy_versions', 'version', 'integer'),
    ('policy_versions', 'content', 'text'),
    ('audit_events', 'timestamp', 'timestamp with time zone'),
    ('audit_events', 'event_type', 'auditeventtype'),
    ('audit_events', 'severity', 'severitylevel'),
    ('audit_events', 'decision', 'character varying(20)'),
    ('audit_events', 'request_id', 'character varying(100)'),
    ('audit_events', 'details', 'jsonb'),
    ('audit_events', 'siem_forwarded', 'timestamp with time zone'),
    ('gateway_audit_events', 'id', 'character varying'),
    ('gateway_audit_events', 'decision', 'character varying(10)'),
    ('gateway_audit_events', 'timestamp', 'timestamp without time zone'),
    ('gateway_audit_events', 'metadata', 'jsonb'),
    ('gateway_audit_events', 'created_at', 'timestamp without time zone')
) AS v(t, c, ty);

-- ===========================================================================
-- Nullability of the columns the v1 -> v2 copy depends on
-- ===========================================================================
SELECT col_not_null('public', t, c, format('%s.%s is NOT NULL', t, c))
FROM (VALUES
    ('mcp_servers', 'name'), ('mcp_servers', 'transport'), ('mcp_servers', 'mcp_version'),
    ('mcp_servers', 'capabilities'), ('mcp_servers', 'sensitivity_level'),
    ('mcp_servers', 'status'), ('mcp_servers', 'tags'), ('mcp_servers', 'extra_metadata'),
    ('mcp_servers', 'created_at'), ('mcp_servers', 'updated_at'),
    ('mcp_tools', 'server_id'), ('mcp_tools', 'name'), ('mcp_tools', 'parameters_schema'),
    ('mcp_tools', 'sensitivity_level'), ('mcp_tools', 'requires_approval'),
    ('mcp_tools', 'extra_metadata'), ('mcp_tools', 'created_at'), ('mcp_tools', 'updated_at'),
    ('audit_events', 'timestamp'), ('audit_events', 'event_type'), ('audit_events', 'details')
) AS v(t, c);

SELECT col_is_null('public', t, c, format('%s.%s is nullable', t, c))
FROM (VALUES
    -- endpoint and command are both nullable: a server may have neither
    ('mcp_servers', 'endpoint'), ('mcp_servers', 'command'), ('mcp_servers', 'description'),
    ('mcp_servers', 'owner_id'), ('mcp_servers', 'team_id'), ('mcp_servers', 'consul_id'),
    ('mcp_tools', 'description'), ('mcp_tools', 'signature'),
    ('gateway_audit_events', 'metadata')
) AS v(t, c);

-- ===========================================================================
-- Defaults
-- ===========================================================================
SELECT col_default_is('public', t, c, d, format('%s.%s defaults to %s', t, c, d))
FROM (VALUES
    ('users', 'is_active', 'true'),
    ('users', 'is_admin', 'false'),
    ('users', 'role', 'developer'),
    ('users', 'extra_metadata', '{}'),
    ('users', 'created_at', 'now()'),
    ('teams', 'extra_metadata', '{}'),
    ('mcp_servers', 'mcp_version', '2025-06-18'),
    ('mcp_servers', 'capabilities', '[]'),
    ('mcp_servers', 'sensitivity_level', 'medium'),
    ('mcp_servers', 'status', 'registered'),
    ('mcp_servers', 'tags', '[]'),
    ('mcp_servers', 'extra_metadata', '{}'),
    ('mcp_servers', 'created_at', 'now()'),
    ('mcp_servers', 'updated_at', 'now()'),
    ('mcp_tools', 'parameters_schema', '{}'),
    ('mcp_tools', 'sensitivity_level', 'medium'),
    ('mcp_tools', 'requires_approval', 'false'),
    ('mcp_tools', 'extra_metadata', '{}'),
    ('mcp_tools', 'created_at', 'now()'),
    ('mcp_tools', 'updated_at', 'now()'),
    ('api_keys', 'scopes', '{}'),
    ('api_keys', 'rate_limit', '1000'),
    ('api_keys', 'is_active', 'true'),
    ('api_keys', 'usage_count', '0'),
    ('api_keys', 'created_at', 'now()'),
    ('policies', 'policy_type', 'authorization'),
    ('policies', 'status', 'draft'),
    ('policy_versions', 'is_active', 'false'),
    ('policy_versions', 'tested', 'false'),
    ('audit_events', 'timestamp', 'now()'),
    ('audit_events', 'severity', 'low'),
    ('audit_events', 'details', '{}'),
    ('gateway_audit_events', 'metadata', '{}'),
    ('gateway_audit_events', 'created_at', 'now()')
) AS v(t, c, d);

SELECT col_hasnt_default('public', t, c, format('%s.%s has no default', t, c))
FROM (VALUES ('users', 'id'), ('mcp_servers', 'id'), ('mcp_servers', 'transport'),
             ('mcp_tools', 'id'), ('audit_events', 'id'), ('audit_events', 'event_type'),
             ('gateway_audit_events', 'timestamp')) AS v(t, c);

-- ===========================================================================
-- Enum types
-- ===========================================================================
SELECT enum_has_labels('public', 'transporttype', ARRAY['http', 'stdio', 'sse'],
    'transporttype labels');
SELECT enum_has_labels('public', 'sensitivitylevel', ARRAY['low', 'medium', 'high', 'critical'],
    'sensitivitylevel labels');
SELECT enum_has_labels('public', 'serverstatus',
    ARRAY['registered', 'active', 'inactive', 'unhealthy', 'decommissioned'],
    'serverstatus labels');
SELECT enum_has_labels('public', 'policytype',
    ARRAY['authorization', 'validation', 'transformation', 'audit'], 'policytype labels');
SELECT enum_has_labels('public', 'policystatus',
    ARRAY['draft', 'active', 'inactive', 'deprecated'], 'policystatus labels');
SELECT enum_has_labels('public', 'severitylevel', ARRAY['low', 'medium', 'high', 'critical'],
    'severitylevel labels');
-- auditeventtype: exact equality would fail after `schema down`, because the
-- five values 007 adds cannot be dropped. Pin the v1 labels and their order,
-- and allow nothing beyond those five.
SELECT is(
    (SELECT (array_agg(enumlabel::text ORDER BY enumsortorder))[1:12]
       FROM pg_enum WHERE enumtypid = to_regtype('public.auditeventtype')),
    ARRAY['server_registered', 'server_updated', 'server_decommissioned', 'tool_invoked',
          'authorization_allowed', 'authorization_denied', 'policy_created', 'policy_updated',
          'policy_activated', 'user_login', 'user_logout', 'security_violation'],
    'auditeventtype starts with the twelve v1 labels in order');
SELECT is_empty(
    $$ SELECT enumlabel FROM pg_enum WHERE enumtypid = to_regtype('public.auditeventtype')
       EXCEPT
       SELECT unnest(ARRAY['server_registered', 'server_updated', 'server_decommissioned',
                           'tool_invoked', 'authorization_allowed', 'authorization_denied',
                           'policy_created', 'policy_updated', 'policy_activated',
                           'user_login', 'user_logout', 'security_violation',
                           'cross_org_request', 'cross_org_authorization', 'cost_limit_exceeded',
                           'federation_node_trusted', 'federation_node_revoked']) $$,
    'auditeventtype has no labels besides the v1 ones and the five irremovable v2 ones');

-- ===========================================================================
-- Keys and constraints
-- ===========================================================================
SELECT col_is_pk('public', t, c, format('%s.%s is the primary key', t, c))
FROM (VALUES ('users', 'id'), ('teams', 'id'), ('mcp_servers', 'id'), ('mcp_tools', 'id'),
             ('api_keys', 'id'), ('policies', 'id'), ('policy_versions', 'id'),
             ('audit_events', 'id'), ('gateway_audit_events', 'id')) AS v(t, c);
SELECT col_is_pk('public', 'user_teams', ARRAY['user_id', 'team_id'],
    'user_teams has the primary key (user_id, team_id)');

SELECT fk_ok('public', t, c, 'public', rt, rc, format('%s.%s references %s.%s', t, c, rt, rc))
FROM (VALUES
    ('user_teams', 'user_id', 'users', 'id'),
    ('user_teams', 'team_id', 'teams', 'id'),
    ('mcp_servers', 'owner_id', 'users', 'id'),
    ('mcp_servers', 'team_id', 'teams', 'id'),
    ('mcp_tools', 'server_id', 'mcp_servers', 'id'),
    ('policies', 'current_version_id', 'policy_versions', 'id'),
    ('policy_versions', 'policy_id', 'policies', 'id'),
    ('policy_versions', 'created_by', 'users', 'id')
) AS v(t, c, rt, rc);

-- Every constraint by its field name, with the ON DELETE action of each FK
-- (confdeltype: c = CASCADE, n = SET NULL).
SELECT bag_eq(
    $$ SELECT conrelid::regclass::text, conname::text, contype::text,
              nullif(confdeltype, ' ')::text
         FROM pg_constraint
        WHERE contype <> 'n'  -- NOT NULL: PostgreSQL 18 lists it here too; checked per column
          AND conrelid IN (SELECT oid FROM pg_class
                            WHERE relnamespace = 'public'::regnamespace
                              AND relname IN ('users', 'teams', 'user_teams', 'mcp_servers',
                                              'mcp_tools', 'api_keys', 'policies',
                                              'policy_versions', 'audit_events',
                                              'gateway_audit_events')) $$,
    $$ VALUES
        ('users', 'users_pkey', 'p', NULL),
        ('users', 'users_email_key', 'u', NULL),
        ('teams', 'teams_pkey', 'p', NULL),
        ('teams', 'teams_name_key', 'u', NULL),
        ('user_teams', 'user_teams_pkey', 'p', NULL),
        ('user_teams', 'user_teams_user_id_fkey', 'f', 'c'),
        ('user_teams', 'user_teams_team_id_fkey', 'f', 'c'),
        ('mcp_servers', 'mcp_servers_pkey', 'p', NULL),
        ('mcp_servers', 'mcp_servers_consul_id_key', 'u', NULL),
        ('mcp_servers', 'mcp_servers_owner_id_fkey', 'f', 'n'),
        ('mcp_servers', 'mcp_servers_team_id_fkey', 'f', 'n'),
        ('mcp_tools', 'mcp_tools_pkey', 'p', NULL),
        ('mcp_tools', 'mcp_tools_server_id_fkey', 'f', 'c'),
        ('api_keys', 'api_keys_pkey', 'p', NULL),
        ('api_keys', 'api_keys_key_prefix_key', 'u', NULL),
        ('policies', 'policies_pkey', 'p', NULL),
        ('policies', 'policies_name_key', 'u', NULL),
        ('policies', 'fk_policies_current_version', 'f', 'n'),
        ('policy_versions', 'policy_versions_pkey', 'p', NULL),
        ('policy_versions', 'policy_versions_policy_id_fkey', 'f', 'c'),
        ('policy_versions', 'policy_versions_created_by_fkey', 'f', 'n'),
        ('audit_events', 'audit_events_pkey', 'p', NULL),
        ('gateway_audit_events', 'gateway_audit_events_pkey', 'p', NULL) $$,
    'the v1 tables have exactly the field-named constraints and ON DELETE actions'
);

-- ===========================================================================
-- Indexes
-- ===========================================================================
SELECT has_index('public', t, i, cols, format('index %s on %s (%s)', i, t, array_to_string(cols, ', ')))
FROM (VALUES
    ('users', 'ix_users_email', ARRAY['email']),
    ('teams', 'ix_teams_name', ARRAY['name']),
    ('user_teams', 'ix_user_teams_user_id', ARRAY['user_id']),
    ('user_teams', 'ix_user_teams_team_id', ARRAY['team_id']),
    ('mcp_servers', 'ix_mcp_servers_name', ARRAY['name']),
    ('mcp_servers', 'ix_mcp_servers_owner_id', ARRAY['owner_id']),
    ('mcp_servers', 'ix_mcp_servers_team_id', ARRAY['team_id']),
    ('mcp_servers', 'ix_mcp_servers_consul_id', ARRAY['consul_id']),
    ('mcp_tools', 'ix_mcp_tools_server_id', ARRAY['server_id']),
    ('mcp_tools', 'ix_mcp_tools_name', ARRAY['name']),
    ('api_keys', 'ix_api_keys_user_id', ARRAY['user_id']),
    ('api_keys', 'ix_api_keys_team_id', ARRAY['team_id']),
    ('api_keys', 'ix_api_keys_key_prefix', ARRAY['key_prefix']),
    ('api_keys', 'ix_api_keys_is_active', ARRAY['is_active']),
    ('api_keys', 'ix_api_keys_expires_at', ARRAY['expires_at']),
    ('policies', 'ix_policies_name', ARRAY['name']),
    ('policy_versions', 'ix_policy_versions_policy_id', ARRAY['policy_id']),
    ('policy_versions', 'ix_policy_versions_version', ARRAY['policy_id', 'version']),
    ('audit_events', 'ix_audit_events_timestamp', ARRAY['"timestamp"']),
    ('audit_events', 'ix_audit_events_event_type', ARRAY['event_type']),
    ('audit_events', 'ix_audit_events_user_id', ARRAY['user_id']),
    ('audit_events', 'ix_audit_events_server_id', ARRAY['server_id']),
    ('audit_events', 'ix_audit_events_tool_name', ARRAY['tool_name']),
    ('audit_events', 'ix_audit_events_request_id', ARRAY['request_id']),
    ('gateway_audit_events', 'ix_gateway_audit_user_id', ARRAY['user_id']),
    ('gateway_audit_events', 'ix_gateway_audit_timestamp', ARRAY['"timestamp"']),
    ('gateway_audit_events', 'ix_gateway_audit_decision', ARRAY['decision']),
    ('gateway_audit_events', 'ix_gateway_audit_event_type', ARRAY['event_type']),
    ('gateway_audit_events', 'ix_gateway_audit_server_name', ARRAY['server_name']),
    ('gateway_audit_events', 'ix_gateway_audit_tool_name', ARRAY['tool_name']),
    ('gateway_audit_events', 'ix_gateway_audit_request_id', ARRAY['gateway_request_id'])
) AS v(t, i, cols);

SELECT index_is_unique('public', t, i, format('%s is unique', i))
FROM (VALUES ('users', 'ix_users_email'), ('teams', 'ix_teams_name'),
             ('mcp_servers', 'ix_mcp_servers_consul_id'), ('api_keys', 'ix_api_keys_key_prefix'),
             ('policies', 'ix_policies_name'),
             ('policy_versions', 'ix_policy_versions_version')) AS v(t, i);

-- The out-of-band performance indexes: partial predicates and DESC keys are
-- part of what they are, so compare the whole definition.
SELECT is(pg_get_indexdef(to_regclass('public.' || i)), def, format('%s is %s', i, def))
FROM (VALUES
    ('idx_mcp_servers_status',
     'CREATE INDEX idx_mcp_servers_status ON public.mcp_servers USING btree (status) WHERE (status <> ''decommissioned''::serverstatus)'),
    ('idx_mcp_servers_status_created',
     'CREATE INDEX idx_mcp_servers_status_created ON public.mcp_servers USING btree (status, created_at DESC)'),
    ('idx_mcp_tools_server_sensitivity',
     'CREATE INDEX idx_mcp_tools_server_sensitivity ON public.mcp_tools USING btree (server_id, sensitivity_level)'),
    ('idx_audit_events_type_time',
     'CREATE INDEX idx_audit_events_type_time ON public.audit_events USING btree (event_type, "timestamp" DESC)'),
    ('idx_api_keys_active',
     'CREATE INDEX idx_api_keys_active ON public.api_keys USING btree (is_active, created_at DESC) WHERE (is_active = true)'),
    ('idx_api_keys_user',
     'CREATE INDEX idx_api_keys_user ON public.api_keys USING btree (user_id, created_at DESC)'),
    ('idx_api_keys_prefix',
     'CREATE INDEX idx_api_keys_prefix ON public.api_keys USING btree (key_prefix) WHERE (is_active = true)'),
    ('idx_users_email',
     'CREATE INDEX idx_users_email ON public.users USING btree (email) WHERE (is_active = true)'),
    ('idx_users_role',
     'CREATE INDEX idx_users_role ON public.users USING btree (role)')
) AS v(i, def);

-- Exact index sets: a revert that leaves an index behind fails here.
SELECT indexes_are('public', t, idx, format('%s has exactly its v1 indexes', t))
FROM (VALUES
    ('users', ARRAY['users_pkey', 'users_email_key', 'ix_users_email',
                    'idx_users_email', 'idx_users_role']),
    ('teams', ARRAY['teams_pkey', 'teams_name_key', 'ix_teams_name']),
    ('user_teams', ARRAY['user_teams_pkey', 'ix_user_teams_user_id', 'ix_user_teams_team_id']),
    ('mcp_servers', ARRAY['mcp_servers_pkey', 'mcp_servers_consul_id_key', 'ix_mcp_servers_name',
                          'ix_mcp_servers_owner_id', 'ix_mcp_servers_team_id',
                          'ix_mcp_servers_consul_id', 'idx_mcp_servers_status',
                          'idx_mcp_servers_status_created']),
    ('mcp_tools', ARRAY['mcp_tools_pkey', 'ix_mcp_tools_server_id', 'ix_mcp_tools_name',
                        'idx_mcp_tools_server_sensitivity']),
    ('api_keys', ARRAY['api_keys_pkey', 'api_keys_key_prefix_key', 'ix_api_keys_user_id',
                       'ix_api_keys_team_id', 'ix_api_keys_key_prefix', 'ix_api_keys_is_active',
                       'ix_api_keys_expires_at', 'idx_api_keys_active', 'idx_api_keys_user',
                       'idx_api_keys_prefix']),
    ('policies', ARRAY['policies_pkey', 'policies_name_key', 'ix_policies_name']),
    ('policy_versions', ARRAY['policy_versions_pkey', 'ix_policy_versions_policy_id',
                              'ix_policy_versions_version']),
    ('audit_events', ARRAY['audit_events_pkey', 'ix_audit_events_timestamp',
                           'ix_audit_events_event_type', 'ix_audit_events_user_id',
                           'ix_audit_events_server_id', 'ix_audit_events_tool_name',
                           'ix_audit_events_request_id', 'idx_audit_events_type_time']),
    ('gateway_audit_events', ARRAY['gateway_audit_events_pkey', 'ix_gateway_audit_user_id',
                                   'ix_gateway_audit_timestamp', 'ix_gateway_audit_decision',
                                   'ix_gateway_audit_event_type', 'ix_gateway_audit_server_name',
                                   'ix_gateway_audit_tool_name', 'ix_gateway_audit_request_id'])
) AS v(t, idx);

-- ===========================================================================
-- Behaviour: the ON DELETE actions the copy and the rollback rely on
-- ===========================================================================
SELECT lives_ok(
    $$ INSERT INTO users (id, email, full_name, hashed_password)
       VALUES ('00000000-0000-4000-8000-0000000000a1', 'pgtap@example.test', 'pgTAP', 'x');
       INSERT INTO mcp_servers (id, name, transport, owner_id, consul_id)
       VALUES ('00000000-0000-4000-8000-0000000000b1', 'pgtap server', 'stdio',
               '00000000-0000-4000-8000-0000000000a1', 'pgtap-consul-1');
       INSERT INTO mcp_tools (id, server_id, name)
       VALUES ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000b1',
               'pgtap tool') $$,
    'v1 accepts a server with neither endpoint nor command, and a tool on it');
SELECT results_eq(
    $$ SELECT status::text, sensitivity_level::text, capabilities, tags, extra_metadata, mcp_version::text
         FROM mcp_servers WHERE id = '00000000-0000-4000-8000-0000000000b1' $$,
    $$ VALUES ('registered', 'medium', '[]'::jsonb, '[]'::jsonb, '{}'::jsonb, '2025-06-18') $$,
    'mcp_servers defaults fill a minimal row');
SELECT throws_ok(
    $$ INSERT INTO mcp_servers (id, name, transport, consul_id)
       VALUES ('00000000-0000-4000-8000-0000000000b2', 'dup', 'http', 'pgtap-consul-1') $$,
    '23505', NULL, 'consul_id is unique');
SELECT lives_ok(
    $$ DELETE FROM users WHERE id = '00000000-0000-4000-8000-0000000000a1' $$,
    'deleting the owner of a server works');
SELECT is(
    (SELECT owner_id FROM mcp_servers WHERE id = '00000000-0000-4000-8000-0000000000b1'), NULL,
    'deleting a user sets mcp_servers.owner_id to NULL (ON DELETE SET NULL)');
SELECT lives_ok(
    $$ DELETE FROM mcp_servers WHERE id = '00000000-0000-4000-8000-0000000000b1' $$,
    'deleting a server with tools works');
SELECT is(
    (SELECT count(*)::int FROM mcp_tools WHERE server_id = '00000000-0000-4000-8000-0000000000b1'), 0,
    'deleting a server deletes its tools (ON DELETE CASCADE)');

SELECT * FROM finish();
ROLLBACK;
