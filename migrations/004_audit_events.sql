-- 004_audit_events: the SARK v1 audit_events table and its enum types, as
-- Alembic revision `004_audit_events` creates them.
--
-- Requires: 003_policies (order only; audit_events has no foreign keys).
-- Runs in one transaction (node-pg-migrate wraps Up and Down, each together with
-- its pgmigrations row).
--
-- Baseline only (see 001_initial). The Alembic revision also tries to turn
-- audit_events into a TimescaleDB hypertable when that extension is installed;
-- the baseline leaves it a plain table: with a primary key on id alone,
-- create_hypertable() refuses the table anyway, and test databases must not
-- depend on which extensions happen to be installed.
-- auditeventtype gains five values in 007_federation; those cannot be removed
-- again (see there), which is why nothing here may assume the enum is exactly
-- the twelve v1 labels after a round trip.

-- Up Migration

CREATE TYPE auditeventtype AS ENUM (
    'server_registered', 'server_updated', 'server_decommissioned', 'tool_invoked',
    'authorization_allowed', 'authorization_denied', 'policy_created', 'policy_updated',
    'policy_activated', 'user_login', 'user_logout', 'security_violation'
);
CREATE TYPE severitylevel AS ENUM ('low', 'medium', 'high', 'critical');

CREATE TABLE audit_events (
    id uuid NOT NULL,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    event_type auditeventtype NOT NULL,
    severity severitylevel NOT NULL DEFAULT 'low',
    user_id uuid,
    user_email varchar(255),
    server_id uuid,
    tool_name varchar(255),
    decision varchar(20),
    policy_id uuid,
    ip_address varchar(45),
    user_agent varchar(500),
    request_id varchar(100),
    details jsonb NOT NULL DEFAULT '{}',
    siem_forwarded timestamptz,
    CONSTRAINT audit_events_pkey PRIMARY KEY (id)
);
CREATE INDEX ix_audit_events_timestamp ON audit_events ("timestamp");
CREATE INDEX ix_audit_events_event_type ON audit_events (event_type);
CREATE INDEX ix_audit_events_user_id ON audit_events (user_id);
CREATE INDEX ix_audit_events_server_id ON audit_events (server_id);
CREATE INDEX ix_audit_events_tool_name ON audit_events (tool_name);
CREATE INDEX ix_audit_events_request_id ON audit_events (request_id);

-- Down Migration

DROP TABLE audit_events;

DROP TYPE severitylevel;
DROP TYPE auditeventtype;
