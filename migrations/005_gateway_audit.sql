-- 005_gateway_audit: the SARK v1 gateway_audit_events table, as Alembic revision
-- `005_gateway_audit` creates it, followed by the out-of-band v1 performance
-- indexes. After this file a fresh database has the v1.x schema at its head.
--
-- Requires: 004_audit_events (the performance indexes cover users, mcp_servers,
-- mcp_tools, api_keys and audit_events).
-- Runs in one transaction (node-pg-migrate wraps Up and Down, each together with
-- its pgmigrations row).
--
-- Baseline only (see 001_initial). As in 004, the optional TimescaleDB
-- hypertable conversion of the Alembic revision is left out: gateway_audit_events
-- stays a plain table.

-- Up Migration

-- id and the actor/target columns are varchar without a length in the field.
CREATE TABLE gateway_audit_events (
    id varchar NOT NULL,
    event_type varchar(50) NOT NULL,
    user_id varchar,
    agent_id varchar,
    server_name varchar,
    tool_name varchar,
    decision varchar(10) NOT NULL,
    reason text NOT NULL,
    "timestamp" timestamp NOT NULL,
    gateway_request_id varchar NOT NULL,
    metadata jsonb DEFAULT '{}',
    created_at timestamp NOT NULL DEFAULT now(),
    CONSTRAINT gateway_audit_events_pkey PRIMARY KEY (id)
);
CREATE INDEX ix_gateway_audit_user_id ON gateway_audit_events (user_id);
CREATE INDEX ix_gateway_audit_timestamp ON gateway_audit_events ("timestamp");
CREATE INDEX ix_gateway_audit_decision ON gateway_audit_events (decision);
CREATE INDEX ix_gateway_audit_event_type ON gateway_audit_events (event_type);
CREATE INDEX ix_gateway_audit_server_name ON gateway_audit_events (server_name);
CREATE INDEX ix_gateway_audit_tool_name ON gateway_audit_events (tool_name);
CREATE INDEX ix_gateway_audit_request_id ON gateway_audit_events (gateway_request_id);

-- ---------------------------------------------------------------------------
-- Out-of-band v1 performance indexes.
--
-- Not part of any Alembic revision: SARK ships them as a separate SQL file that
-- operators ran by hand, so many v1 databases in the field carry them and some
-- do not. The baseline includes them because their presence is the harder case
-- for the migration (more indexes to carry along, a partial index whose
-- predicate names an enum value). They are plain CREATE INDEX here: on a fresh
-- database there is nothing to lock, and a concurrent build cannot run inside
-- this migration's transaction anyway.
-- ---------------------------------------------------------------------------

CREATE INDEX idx_mcp_servers_status ON mcp_servers (status)
    WHERE status <> 'decommissioned';
CREATE INDEX idx_mcp_servers_status_created ON mcp_servers (status, created_at DESC);
CREATE INDEX idx_mcp_tools_server_sensitivity ON mcp_tools (server_id, sensitivity_level);
CREATE INDEX idx_audit_events_type_time ON audit_events (event_type, "timestamp" DESC);
CREATE INDEX idx_api_keys_active ON api_keys (is_active, created_at DESC)
    WHERE is_active = true;
CREATE INDEX idx_api_keys_user ON api_keys (user_id, created_at DESC);
CREATE INDEX idx_api_keys_prefix ON api_keys (key_prefix)
    WHERE is_active = true;
CREATE INDEX idx_users_email ON users (email)
    WHERE is_active = true;
CREATE INDEX idx_users_role ON users (role);

-- Down Migration

-- The performance indexes sit on tables of earlier revisions, so they are
-- dropped one by one; gateway_audit_events takes its own indexes with it.
DROP INDEX idx_users_role;
DROP INDEX idx_users_email;
DROP INDEX idx_api_keys_prefix;
DROP INDEX idx_api_keys_user;
DROP INDEX idx_api_keys_active;
DROP INDEX idx_audit_events_type_time;
DROP INDEX idx_mcp_tools_server_sensitivity;
DROP INDEX idx_mcp_servers_status_created;
DROP INDEX idx_mcp_servers_status;

DROP TABLE gateway_audit_events;
