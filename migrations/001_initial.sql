-- 001_initial: the SARK v1 core tables (users, teams, user_teams, mcp_servers,
-- mcp_tools) and their enum types, as Alembic revision `001_initial` creates them.
--
-- Requires: an empty schema `public` (nothing else of SARK's).
-- Runs in one transaction (node-pg-migrate wraps Up and Down, each together with
-- its pgmigrations row).
--
-- Baseline only: this file is never run against a real v1 database (those are
-- adopted at 005_gateway_audit instead); it exists so fresh and test databases
-- have exactly the v1 shape. Constraint and index names are the ones PostgreSQL
-- and SQLAlchemy gave them in the field, so catalog checks match real databases.
-- mcp_tools is the revision-001 variant (parameters_schema, no invocation_count /
-- last_invoked); the model-built variant is test/fixtures/model_v1.sql.
-- No IF NOT EXISTS: on a non-empty database this must fail, not half-apply.

-- Up Migration

CREATE TYPE transporttype AS ENUM ('http', 'stdio', 'sse');
CREATE TYPE sensitivitylevel AS ENUM ('low', 'medium', 'high', 'critical');
CREATE TYPE serverstatus AS ENUM ('registered', 'active', 'inactive', 'unhealthy', 'decommissioned');

CREATE TABLE users (
    id uuid NOT NULL,
    email varchar(255) NOT NULL,
    full_name varchar(255) NOT NULL,
    hashed_password varchar(255) NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    is_admin boolean NOT NULL DEFAULT false,
    role varchar(50) NOT NULL DEFAULT 'developer',
    extra_metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email)
);
-- Alembic adds a unique index next to the column's UNIQUE constraint; real
-- databases carry both, so the baseline does too.
CREATE UNIQUE INDEX ix_users_email ON users (email);

CREATE TABLE teams (
    id uuid NOT NULL,
    name varchar(255) NOT NULL,
    description varchar(1000),
    extra_metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT teams_pkey PRIMARY KEY (id),
    CONSTRAINT teams_name_key UNIQUE (name)
);
CREATE UNIQUE INDEX ix_teams_name ON teams (name);

CREATE TABLE user_teams (
    user_id uuid NOT NULL,
    team_id uuid NOT NULL,
    CONSTRAINT user_teams_pkey PRIMARY KEY (user_id, team_id),
    CONSTRAINT user_teams_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_teams_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
);
CREATE INDEX ix_user_teams_user_id ON user_teams (user_id);
CREATE INDEX ix_user_teams_team_id ON user_teams (team_id);

CREATE TABLE mcp_servers (
    id uuid NOT NULL,
    name varchar(255) NOT NULL,
    description varchar(1000),
    transport transporttype NOT NULL,
    endpoint varchar(500),
    command varchar(500),
    mcp_version varchar(20) NOT NULL DEFAULT '2025-06-18',
    capabilities jsonb NOT NULL DEFAULT '[]',
    sensitivity_level sensitivitylevel NOT NULL DEFAULT 'medium',
    signature varchar(1000),
    status serverstatus NOT NULL DEFAULT 'registered',
    health_endpoint varchar(500),
    last_health_check timestamptz,
    owner_id uuid,
    team_id uuid,
    consul_id varchar(255),
    tags jsonb NOT NULL DEFAULT '[]',
    extra_metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mcp_servers_pkey PRIMARY KEY (id),
    CONSTRAINT mcp_servers_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT mcp_servers_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL,
    CONSTRAINT mcp_servers_consul_id_key UNIQUE (consul_id)
);
CREATE INDEX ix_mcp_servers_name ON mcp_servers (name);
CREATE INDEX ix_mcp_servers_owner_id ON mcp_servers (owner_id);
CREATE INDEX ix_mcp_servers_team_id ON mcp_servers (team_id);
CREATE UNIQUE INDEX ix_mcp_servers_consul_id ON mcp_servers (consul_id);

CREATE TABLE mcp_tools (
    id uuid NOT NULL,
    server_id uuid NOT NULL,
    name varchar(255) NOT NULL,
    description text,
    parameters_schema jsonb NOT NULL DEFAULT '{}',
    sensitivity_level sensitivitylevel NOT NULL DEFAULT 'medium',
    requires_approval boolean NOT NULL DEFAULT false,
    signature varchar(1000),
    extra_metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mcp_tools_pkey PRIMARY KEY (id),
    CONSTRAINT mcp_tools_server_id_fkey FOREIGN KEY (server_id) REFERENCES mcp_servers (id) ON DELETE CASCADE
);
CREATE INDEX ix_mcp_tools_server_id ON mcp_tools (server_id);
CREATE INDEX ix_mcp_tools_name ON mcp_tools (name);

-- Down Migration

-- Indexes and constraints go with their tables; children before parents.
DROP TABLE mcp_tools;
DROP TABLE mcp_servers;
DROP TABLE user_teams;
DROP TABLE teams;
DROP TABLE users;

DROP TYPE serverstatus;
DROP TYPE sensitivitylevel;
DROP TYPE transporttype;
