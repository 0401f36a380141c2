-- 003_expected_v2_schema.sql: the v2 schema as migrations/006_protocol_adapters.sql and
-- 007_federation.sql create it, written out as data (change them together):
--   sark_migration.validation_expected_relations    tables and the materialized view
--   sark_migration.validation_expected_columns      columns, types (format_type spelling), NOT NULL
--   sark_migration.validation_expected_constraints  named constraints
--   sark_migration.validation_expected_indexes      named indexes
-- Read by the schema checks of validate (sql/validate/001) and by `schema up`, which compares v2
-- tables SARK's application created before any migration with it (004).
-- Requires: 001. Runs in one transaction; idempotent (CREATE OR REPLACE).

CREATE OR REPLACE VIEW sark_migration.validation_expected_relations AS
SELECT *
FROM (VALUES
  ('resources',             'r'::"char"),
  ('capabilities',          'r'),
  ('federation_nodes',      'r'),
  ('cost_tracking',         'r'),
  ('principal_budgets',     'r'),
  ('mv_daily_cost_summary', 'm')
) AS e(relname, relkind);
COMMENT ON VIEW sark_migration.validation_expected_relations IS
  'The v2 relations migrations 006/007 create (relkind r = table, m = materialized view).';

-- format_type() spelling, as \d shows it.
CREATE OR REPLACE VIEW sark_migration.validation_expected_columns AS
SELECT *
FROM (VALUES
  ('resources',              1, 'id',                  'character varying(255)',   true),
  ('resources',              2, 'name',                'character varying(255)',   true),
  ('resources',              3, 'protocol',            'character varying(50)',    true),
  ('resources',              4, 'endpoint',            'character varying(1000)',  true),
  ('resources',              5, 'sensitivity_level',   'character varying(20)',    true),
  ('resources',              6, 'metadata',            'jsonb',                    true),
  ('resources',              7, 'created_at',          'timestamp with time zone', true),
  ('resources',              8, 'updated_at',          'timestamp with time zone', true),
  ('capabilities',           1, 'id',                  'character varying(255)',   true),
  ('capabilities',           2, 'resource_id',         'character varying(255)',   true),
  ('capabilities',           3, 'name',                'character varying(255)',   true),
  ('capabilities',           4, 'description',         'text',                     false),
  ('capabilities',           5, 'input_schema',        'jsonb',                    true),
  ('capabilities',           6, 'output_schema',       'jsonb',                    true),
  ('capabilities',           7, 'sensitivity_level',   'character varying(20)',    true),
  ('capabilities',           8, 'metadata',            'jsonb',                    true),
  ('federation_nodes',       1, 'id',                  'uuid',                     true),
  ('federation_nodes',       2, 'node_id',             'character varying(255)',   true),
  ('federation_nodes',       3, 'name',                'character varying(255)',   true),
  ('federation_nodes',       4, 'endpoint',            'character varying(500)',   true),
  ('federation_nodes',       5, 'trust_anchor_cert',   'text',                     true),
  ('federation_nodes',       6, 'enabled',             'boolean',                  true),
  ('federation_nodes',       7, 'trusted_since',       'timestamp with time zone', true),
  ('federation_nodes',       8, 'rate_limit_per_hour', 'integer',                  false),
  ('federation_nodes',       9, 'metadata',            'jsonb',                    true),
  ('federation_nodes',      10, 'created_at',          'timestamp with time zone', true),
  ('federation_nodes',      11, 'updated_at',          'timestamp with time zone', true),
  ('cost_tracking',          1, 'id',                  'bigint',                   true),
  ('cost_tracking',          2, 'timestamp',           'timestamp with time zone', true),
  ('cost_tracking',          3, 'principal_id',        'character varying(255)',   true),
  ('cost_tracking',          4, 'resource_id',         'character varying(255)',   true),
  ('cost_tracking',          5, 'capability_id',       'character varying(255)',   true),
  ('cost_tracking',          6, 'estimated_cost',      'numeric(10,4)',            false),
  ('cost_tracking',          7, 'actual_cost',         'numeric(10,4)',            false),
  ('cost_tracking',          8, 'metadata',            'jsonb',                    true),
  ('principal_budgets',      1, 'principal_id',        'character varying(255)',   true),
  ('principal_budgets',      2, 'daily_budget',        'numeric(10,2)',            false),
  ('principal_budgets',      3, 'monthly_budget',      'numeric(10,2)',            false),
  ('principal_budgets',      4, 'daily_spent',         'numeric(10,4)',            true),
  ('principal_budgets',      5, 'monthly_spent',       'numeric(10,4)',            true),
  ('principal_budgets',      6, 'last_daily_reset',    'timestamp with time zone', false),
  ('principal_budgets',      7, 'last_monthly_reset',  'timestamp with time zone', false),
  ('principal_budgets',      8, 'currency',            'character varying(3)',     true),
  ('principal_budgets',      9, 'created_at',          'timestamp with time zone', true),
  ('principal_budgets',     10, 'updated_at',          'timestamp with time zone', true),
  -- 007 adds these to the v1 table audit_events (its v1 columns are v1's business).
  ('audit_events',          16, 'principal_org',       'character varying(255)',   false),
  ('audit_events',          17, 'resource_protocol',   'character varying(50)',    false),
  ('audit_events',          18, 'capability_id',       'character varying(255)',   false),
  ('audit_events',          19, 'correlation_id',      'character varying(100)',   false),
  ('audit_events',          20, 'source_node',         'character varying(255)',   false),
  ('audit_events',          21, 'target_node',         'character varying(255)',   false),
  ('audit_events',          22, 'estimated_cost',      'numeric(10,4)',            false),
  ('audit_events',          23, 'actual_cost',         'numeric(10,4)',            false),
  ('mv_daily_cost_summary',  1, 'date',                'date',                     false),
  ('mv_daily_cost_summary',  2, 'principal_id',        'character varying(255)',   false),
  ('mv_daily_cost_summary',  3, 'protocol',            'character varying(50)',    false),
  ('mv_daily_cost_summary',  4, 'invocation_count',    'bigint',                   false),
  ('mv_daily_cost_summary',  5, 'total_cost',          'numeric',                  false),
  ('mv_daily_cost_summary',  6, 'avg_cost',            'numeric',                  false),
  ('mv_daily_cost_summary',  7, 'min_cost',            'numeric',                  false),
  ('mv_daily_cost_summary',  8, 'max_cost',            'numeric',                  false)
) AS e(table_name, ordinal, column_name, column_type, not_null);
COMMENT ON VIEW sark_migration.validation_expected_columns IS
  'Every column migrations 006/007 create (audit_events: only the ones 007 adds), with its type as '
  'format_type() spells it and whether it is NOT NULL.';

-- definition = what restores the constraint (ALTER TABLE <t> ADD CONSTRAINT <name> <definition>).
CREATE OR REPLACE VIEW sark_migration.validation_expected_constraints AS
SELECT *
FROM (VALUES
  ('resources',         'resources_pkey',                       'p'::"char", 'PRIMARY KEY (id)', NULL::text, NULL::"char"),
  ('resources',         'resources_protocol_check',             'c', $$CHECK (protocol IN ('mcp', 'http', 'grpc', 'graphql'))$$, NULL, NULL),
  ('resources',         'resources_sensitivity_level_check',    'c', $$CHECK (sensitivity_level IN ('low', 'medium', 'high', 'critical'))$$, NULL, NULL),
  ('resources',         'resources_metadata_is_object',         'c', $$CHECK (jsonb_typeof(metadata) = 'object')$$, NULL, NULL),
  ('capabilities',      'capabilities_pkey',                    'p', 'PRIMARY KEY (id)', NULL, NULL),
  ('capabilities',      'capabilities_resource_id_fkey',        'f', 'FOREIGN KEY (resource_id) REFERENCES resources (id) ON DELETE CASCADE', 'resources', 'c'),
  ('capabilities',      'capabilities_sensitivity_level_check', 'c', $$CHECK (sensitivity_level IN ('low', 'medium', 'high', 'critical'))$$, NULL, NULL),
  ('capabilities',      'capabilities_metadata_is_object',      'c', $$CHECK (jsonb_typeof(metadata) = 'object')$$, NULL, NULL),
  ('federation_nodes',  'federation_nodes_pkey',                'p', 'PRIMARY KEY (id)', NULL, NULL),
  ('cost_tracking',     'cost_tracking_pkey',                   'p', 'PRIMARY KEY (id)', NULL, NULL),
  ('principal_budgets', 'principal_budgets_pkey',               'p', 'PRIMARY KEY (principal_id)', NULL, NULL)
) AS e(table_name, constraint_name, contype, definition, references_table, on_delete);
COMMENT ON VIEW sark_migration.validation_expected_constraints IS
  'The named constraints of migrations 006/007: type (p primary key, f foreign key, c check), the '
  'definition that restores it, and for the foreign key its target and ON DELETE action (c = CASCADE).';

-- definition = pg_get_indexdef() after "USING", which is also what rebuilds it.
CREATE OR REPLACE VIEW sark_migration.validation_expected_indexes AS
SELECT *
FROM (VALUES
  ('resources',             'ix_resources_protocol',             'btree (protocol)',                        false),
  ('resources',             'ix_resources_sensitivity',          'btree (sensitivity_level)',               false),
  ('resources',             'ix_resources_name',                 'btree (name)',                            false),
  ('resources',             'ix_resources_metadata_gin',         'gin (metadata)',                          false),
  ('capabilities',          'ix_capabilities_resource',          'btree (resource_id)',                     false),
  ('capabilities',          'ix_capabilities_name',              'btree (name)',                            false),
  ('capabilities',          'ix_capabilities_sensitivity',       'btree (sensitivity_level)',               false),
  ('capabilities',          'ix_capabilities_metadata_gin',      'gin (metadata)',                          false),
  ('federation_nodes',      'ix_federation_nodes_node_id',       'btree (node_id)',                         true),
  ('federation_nodes',      'ix_federation_nodes_enabled',       'btree (enabled) WHERE (enabled = true)',  false),
  ('cost_tracking',         'ix_cost_tracking_timestamp',        'btree ("timestamp")',                     false),
  ('cost_tracking',         'ix_cost_tracking_principal',        'btree (principal_id)',                    false),
  ('cost_tracking',         'ix_cost_tracking_resource',         'btree (resource_id)',                     false),
  ('cost_tracking',         'ix_cost_tracking_capability',       'btree (capability_id)',                   false),
  ('audit_events',          'ix_audit_events_principal_org',     'btree (principal_org)',                   false),
  ('audit_events',          'ix_audit_events_resource_protocol', 'btree (resource_protocol)',               false),
  ('audit_events',          'ix_audit_events_capability',        'btree (capability_id)',                   false),
  ('audit_events',          'ix_audit_events_correlation',       'btree (correlation_id)',                  false),
  ('audit_events',          'ix_audit_events_source_node',       'btree (source_node)',                     false),
  ('audit_events',          'ix_audit_events_target_node',       'btree (target_node)',                     false),
  ('principal_budgets',     'ix_principal_budgets_principal',    'btree (principal_id)',                    false),
  ('mv_daily_cost_summary', 'ux_mv_daily_cost_summary',          'btree (date, principal_id, protocol)',    true),
  ('mv_daily_cost_summary', 'ix_mv_daily_cost_summary_date',     'btree (date)',                            false),
  ('mv_daily_cost_summary', 'ix_mv_daily_cost_summary_principal', 'btree (principal_id)',                   false)
) AS e(table_name, index_name, definition, is_unique);
COMMENT ON VIEW sark_migration.validation_expected_indexes IS
  'Every named index of migrations 006/007 (primary keys are checked as constraints), with its '
  'definition as pg_get_indexdef() prints it after USING.';
