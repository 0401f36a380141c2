-- 007_federation: federation and cost tracking (SARK revision `007_federation`):
-- federation_nodes, cost_tracking, principal_budgets, the federation columns of
-- audit_events, five new auditeventtype values, and the materialized view
-- mv_daily_cost_summary with the unique index that REFRESH ... CONCURRENTLY needs.
--
-- Requires: 006_protocol_adapters (the view joins capabilities and resources),
-- 004_audit_events (audit_events, auditeventtype), PostgreSQL 12 or later
-- (ALTER TYPE ... ADD VALUE inside a transaction).
-- Runs in one transaction (node-pg-migrate wraps Up and Down, each together with
-- its pgmigrations row).
--
-- Differences from SARK's own revision, on purpose:
--   * mv_daily_cost_summary buckets by UTC day, (timestamp AT TIME ZONE 'UTC')::date,
--     instead of DATE(timestamptz), whose answer depends on the TimeZone of the
--     session that happens to refresh the view.
--   * ux_mv_daily_cost_summary: without a unique index the runbook's daily
--     REFRESH MATERIALIZED VIEW CONCURRENTLY fails.
--   * resource_protocol of audit_events is indexed too. Every index SARK's 006
--     and 007 create exists under SARK's own name, so that SARK's Alembic
--     downgrade(), which drops them by name, runs on a database this tool
--     stamped 007_federation: ix_audit_events_capability / _correlation (built
--     concurrently after the migration, sql/optimize/indexes/013, 014),
--     ix_principal_budgets_principal (the same column as the primary key) and
--     ix_mv_daily_cost_summary_date / _principal (next to the unique index).
--   * no TimescaleDB hypertable for cost_tracking (a primary key on id alone is
--     refused by create_hypertable(); the table stays plain everywhere).
-- Lock note: audit_events only gets new nullable columns here (ACCESS EXCLUSIVE for
-- an instant, no rewrite); its indexes are built concurrently afterwards (below).

-- Up Migration

-- ---------------------------------------------------------------------------
-- federation_nodes
-- ---------------------------------------------------------------------------
CREATE TABLE federation_nodes (
    id uuid NOT NULL,
    node_id varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    endpoint varchar(500) NOT NULL,
    trust_anchor_cert text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    trusted_since timestamptz NOT NULL DEFAULT now(),
    rate_limit_per_hour integer DEFAULT 10000,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT federation_nodes_pkey PRIMARY KEY (id)
);
-- The unique index is what makes node_id UNIQUE (ON CONFLICT (node_id) and
-- foreign keys work with it); a separate constraint would be a second copy.
CREATE UNIQUE INDEX ix_federation_nodes_node_id ON federation_nodes (node_id);
CREATE INDEX ix_federation_nodes_enabled ON federation_nodes (enabled)
    WHERE enabled = true;

COMMENT ON TABLE federation_nodes IS
    'v2: peer SARK nodes of other organisations trusted for cross-org governance.';
COMMENT ON COLUMN federation_nodes.id IS 'Surrogate key.';
COMMENT ON COLUMN federation_nodes.node_id IS
    'The peer''s own node identifier; unique (ix_federation_nodes_node_id).';
COMMENT ON COLUMN federation_nodes.name IS 'Display name of the peer.';
COMMENT ON COLUMN federation_nodes.endpoint IS 'Base URL of the peer''s federation API.';
COMMENT ON COLUMN federation_nodes.trust_anchor_cert IS
    'PEM certificate that anchors trust in the peer (mTLS).';
COMMENT ON COLUMN federation_nodes.enabled IS
    'false revokes the peer without deleting its history; lookups use the partial index ix_federation_nodes_enabled.';
COMMENT ON COLUMN federation_nodes.trusted_since IS 'When trust was established.';
COMMENT ON COLUMN federation_nodes.rate_limit_per_hour IS
    'Maximum cross-org requests per hour accepted from the peer; NULL means no limit.';
COMMENT ON COLUMN federation_nodes.metadata IS 'Further peer attributes (JSON object).';
COMMENT ON COLUMN federation_nodes.created_at IS 'Row creation time.';
COMMENT ON COLUMN federation_nodes.updated_at IS 'Last change of the row.';

-- ---------------------------------------------------------------------------
-- cost_tracking
-- ---------------------------------------------------------------------------
-- No foreign keys to principals/resources/capabilities on purpose: cost rows
-- are an append-only ledger that must outlive the things they were charged for.
CREATE TABLE cost_tracking (
    id bigserial NOT NULL,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    principal_id varchar(255) NOT NULL,
    resource_id varchar(255) NOT NULL,
    capability_id varchar(255) NOT NULL,
    estimated_cost numeric(10,4),
    actual_cost numeric(10,4),
    metadata jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT cost_tracking_pkey PRIMARY KEY (id)
);
CREATE INDEX ix_cost_tracking_timestamp ON cost_tracking ("timestamp");
CREATE INDEX ix_cost_tracking_principal ON cost_tracking (principal_id);
CREATE INDEX ix_cost_tracking_resource ON cost_tracking (resource_id);
CREATE INDEX ix_cost_tracking_capability ON cost_tracking (capability_id);

COMMENT ON TABLE cost_tracking IS
    'v2: one row per costed invocation (append-only ledger; summarised per UTC day in mv_daily_cost_summary).';
COMMENT ON COLUMN cost_tracking.id IS 'Surrogate key, ascending in insertion order.';
COMMENT ON COLUMN cost_tracking."timestamp" IS 'When the invocation happened.';
COMMENT ON COLUMN cost_tracking.principal_id IS
    'Who was charged (matches principal_budgets.principal_id; not a foreign key).';
COMMENT ON COLUMN cost_tracking.resource_id IS 'resources.id invoked (not a foreign key).';
COMMENT ON COLUMN cost_tracking.capability_id IS 'capabilities.id invoked (not a foreign key).';
COMMENT ON COLUMN cost_tracking.estimated_cost IS 'Cost estimated before the call, in the principal''s budget currency.';
COMMENT ON COLUMN cost_tracking.actual_cost IS 'Cost actually incurred; NULL until known.';
COMMENT ON COLUMN cost_tracking.metadata IS 'Further cost attributes (JSON object).';

-- ---------------------------------------------------------------------------
-- principal_budgets
-- ---------------------------------------------------------------------------
CREATE TABLE principal_budgets (
    principal_id varchar(255) NOT NULL,
    daily_budget numeric(10,2),
    monthly_budget numeric(10,2),
    daily_spent numeric(10,4) NOT NULL DEFAULT 0,
    monthly_spent numeric(10,4) NOT NULL DEFAULT 0,
    last_daily_reset timestamptz,
    last_monthly_reset timestamptz,
    currency varchar(3) NOT NULL DEFAULT 'USD',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT principal_budgets_pkey PRIMARY KEY (principal_id)
);
-- The primary key already indexes principal_id; SARK's 007 adds this one all the same, and its
-- downgrade drops it by name.
CREATE INDEX ix_principal_budgets_principal ON principal_budgets (principal_id);

COMMENT ON TABLE principal_budgets IS 'v2: spending limits and running totals per principal.';
COMMENT ON COLUMN principal_budgets.principal_id IS 'The principal the budget belongs to.';
COMMENT ON COLUMN principal_budgets.daily_budget IS 'Daily limit; NULL means unlimited.';
COMMENT ON COLUMN principal_budgets.monthly_budget IS 'Monthly limit; NULL means unlimited.';
COMMENT ON COLUMN principal_budgets.daily_spent IS 'Spent since last_daily_reset.';
COMMENT ON COLUMN principal_budgets.monthly_spent IS 'Spent since last_monthly_reset.';
COMMENT ON COLUMN principal_budgets.last_daily_reset IS 'When daily_spent was last set back to 0.';
COMMENT ON COLUMN principal_budgets.last_monthly_reset IS 'When monthly_spent was last set back to 0.';
COMMENT ON COLUMN principal_budgets.currency IS 'ISO 4217 currency code of all amounts in the row.';
COMMENT ON COLUMN principal_budgets.created_at IS 'Row creation time.';
COMMENT ON COLUMN principal_budgets.updated_at IS 'Last change of the row.';

-- ---------------------------------------------------------------------------
-- audit_events: federation columns
-- ---------------------------------------------------------------------------
-- Nullable, no default: adding them is a catalog change, not a table rewrite.
ALTER TABLE audit_events
    ADD COLUMN principal_org varchar(255),
    ADD COLUMN resource_protocol varchar(50),
    ADD COLUMN capability_id varchar(255),
    ADD COLUMN correlation_id varchar(100),
    ADD COLUMN source_node varchar(255),
    ADD COLUMN target_node varchar(255),
    ADD COLUMN estimated_cost numeric(10,4),
    ADD COLUMN actual_cost numeric(10,4);

-- The six indexes on these columns (ix_audit_events_<column>) are NOT built here: in this
-- transaction they would hold a SHARE lock on audit_events, and every audit write would wait for
-- six scans of the whole audit log. `schema up` builds them right after this migration, CREATE
-- INDEX CONCURRENTLY, from sql/optimize/indexes/011..016 (with psql: run those files, each
-- outside a transaction).

COMMENT ON COLUMN audit_events.principal_org IS 'v2 federation: organisation of the acting principal.';
COMMENT ON COLUMN audit_events.resource_protocol IS 'v2: protocol of the resource involved (resources.protocol).';
COMMENT ON COLUMN audit_events.capability_id IS 'v2: capabilities.id involved (not a foreign key: audit rows outlive capabilities).';
COMMENT ON COLUMN audit_events.correlation_id IS 'v2 federation: id shared by the events of one cross-node request.';
COMMENT ON COLUMN audit_events.source_node IS 'v2 federation: node_id of the node the request came from.';
COMMENT ON COLUMN audit_events.target_node IS 'v2 federation: node_id of the node the request went to.';
COMMENT ON COLUMN audit_events.estimated_cost IS 'v2: estimated cost of the audited call.';
COMMENT ON COLUMN audit_events.actual_cost IS 'v2: actual cost of the audited call.';

-- ---------------------------------------------------------------------------
-- auditeventtype: federation and cost event types
-- ---------------------------------------------------------------------------
-- IF NOT EXISTS because the revert cannot remove them: after a down/up round
-- trip they are already there. They cannot be used in this same transaction,
-- and nothing here does. In the case the type's labels already have: a database
-- built by SARK's models has 'SERVER_REGISTERED' ... (the Python member names,
-- which its application writes), so it gets 'CROSS_ORG_REQUEST' ...
DO $labels$
DECLARE
  upper_case boolean := (SELECT bool_and(e.enumlabel = upper(e.enumlabel)) FROM pg_enum e
                          WHERE e.enumtypid = 'auditeventtype'::regtype);
  v text;
BEGIN
  FOREACH v IN ARRAY ARRAY['cross_org_request', 'cross_org_authorization', 'cost_limit_exceeded',
                           'federation_node_trusted', 'federation_node_revoked'] LOOP
    EXECUTE format('ALTER TYPE auditeventtype ADD VALUE IF NOT EXISTS %L',
                   CASE WHEN upper_case THEN upper(v) ELSE v END);
  END LOOP;
END
$labels$;

-- ---------------------------------------------------------------------------
-- mv_daily_cost_summary
-- ---------------------------------------------------------------------------
-- LEFT JOINs: a cost row whose capability is unknown (deleted, or from another
-- node) still counts, under protocol NULL, instead of vanishing from the totals.
-- Created WITH DATA (cheap: cost_tracking is empty) so that the first
-- REFRESH ... CONCURRENTLY already works; it refuses a never-populated view.
CREATE MATERIALIZED VIEW mv_daily_cost_summary AS
SELECT
    (ct."timestamp" AT TIME ZONE 'UTC')::date AS "date",
    ct.principal_id,
    r.protocol,
    count(*) AS invocation_count,
    sum(ct.actual_cost) AS total_cost,
    avg(ct.actual_cost) AS avg_cost,
    min(ct.actual_cost) AS min_cost,
    max(ct.actual_cost) AS max_cost
FROM cost_tracking ct
LEFT JOIN capabilities c ON c.id = ct.capability_id
LEFT JOIN resources r ON r.id = c.resource_id
GROUP BY (ct."timestamp" AT TIME ZONE 'UTC')::date, ct.principal_id, r.protocol
WITH DATA;

-- One row per group by construction. NULL protocols are distinct for a unique
-- index, which is harmless: GROUP BY already folds them into one row, and
-- REFRESH ... CONCURRENTLY only needs a plain-column, non-partial unique index.
CREATE UNIQUE INDEX ux_mv_daily_cost_summary
    ON mv_daily_cost_summary ("date", principal_id, protocol);

-- SARK's own two indexes on the view, by its names (its downgrade drops them).
CREATE INDEX ix_mv_daily_cost_summary_date ON mv_daily_cost_summary ("date");
CREATE INDEX ix_mv_daily_cost_summary_principal ON mv_daily_cost_summary (principal_id);

COMMENT ON MATERIALIZED VIEW mv_daily_cost_summary IS
    'v2: cost_tracking summarised per UTC day, principal and protocol. Refresh daily with REFRESH MATERIALIZED VIEW CONCURRENTLY (uses ux_mv_daily_cost_summary).';
COMMENT ON COLUMN mv_daily_cost_summary."date" IS
    'UTC calendar day of cost_tracking.timestamp (independent of the session TimeZone).';
COMMENT ON COLUMN mv_daily_cost_summary.principal_id IS 'cost_tracking.principal_id.';
COMMENT ON COLUMN mv_daily_cost_summary.protocol IS
    'resources.protocol reached through capabilities; NULL when the capability is unknown.';
COMMENT ON COLUMN mv_daily_cost_summary.invocation_count IS 'Number of cost_tracking rows in the group.';
COMMENT ON COLUMN mv_daily_cost_summary.total_cost IS 'Sum of actual_cost (NULL costs ignored).';
COMMENT ON COLUMN mv_daily_cost_summary.avg_cost IS 'Average actual_cost (NULL costs ignored).';
COMMENT ON COLUMN mv_daily_cost_summary.min_cost IS 'Smallest actual_cost.';
COMMENT ON COLUMN mv_daily_cost_summary.max_cost IS 'Largest actual_cost.';

-- Down Migration

-- Reverse order of the up section. The one thing not reverted: the five
-- auditeventtype values. PostgreSQL cannot drop a value from an enum type (the
-- only way is recreating the type and rewriting every column that uses it), so
-- they stay, unused and harmless; the up section re-adds them with
-- IF NOT EXISTS. Everything else returns audit_events to its v1 shape.
DROP MATERIALIZED VIEW mv_daily_cost_summary;

DROP INDEX IF EXISTS ix_audit_events_target_node;
DROP INDEX IF EXISTS ix_audit_events_source_node;
DROP INDEX IF EXISTS ix_audit_events_correlation;
DROP INDEX IF EXISTS ix_audit_events_capability;
DROP INDEX IF EXISTS ix_audit_events_correlation_id;  -- their names before SARK's were adopted
DROP INDEX IF EXISTS ix_audit_events_capability_id;
DROP INDEX IF EXISTS ix_audit_events_resource_protocol;
DROP INDEX IF EXISTS ix_audit_events_principal_org;

ALTER TABLE audit_events
    DROP COLUMN actual_cost,
    DROP COLUMN estimated_cost,
    DROP COLUMN target_node,
    DROP COLUMN source_node,
    DROP COLUMN correlation_id,
    DROP COLUMN capability_id,
    DROP COLUMN resource_protocol,
    DROP COLUMN principal_org;

DROP TABLE principal_budgets;
DROP TABLE cost_tracking;
DROP TABLE federation_nodes;
