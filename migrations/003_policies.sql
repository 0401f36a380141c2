-- 003_policies: the SARK v1 policy tables (policies, policy_versions) and their
-- enum types, as Alembic revision `003_policies` creates them.
--
-- Requires: 001_initial (policy_versions.created_by references users).
-- Runs in one transaction (node-pg-migrate wraps Up and Down, each together with
-- its pgmigrations row).
--
-- Baseline only (see 001_initial). policies and policy_versions reference each
-- other, so policies.current_version_id gets its foreign key once
-- policy_versions exists, under the explicit name Alembic gave it.
-- "unique (policy_id, version)" is a unique index in the field, not a
-- constraint, and stays one here.

-- Up Migration

CREATE TYPE policytype AS ENUM ('authorization', 'validation', 'transformation', 'audit');
CREATE TYPE policystatus AS ENUM ('draft', 'active', 'inactive', 'deprecated');

CREATE TABLE policies (
    id uuid NOT NULL,
    name varchar(255) NOT NULL,
    description varchar(1000),
    policy_type policytype NOT NULL DEFAULT 'authorization',
    status policystatus NOT NULL DEFAULT 'draft',
    current_version_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT policies_pkey PRIMARY KEY (id),
    CONSTRAINT policies_name_key UNIQUE (name)
);
CREATE UNIQUE INDEX ix_policies_name ON policies (name);

CREATE TABLE policy_versions (
    id uuid NOT NULL,
    policy_id uuid NOT NULL,
    version integer NOT NULL,
    content text NOT NULL,
    is_active boolean NOT NULL DEFAULT false,
    tested boolean NOT NULL DEFAULT false,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    notes text,
    CONSTRAINT policy_versions_pkey PRIMARY KEY (id),
    CONSTRAINT policy_versions_policy_id_fkey FOREIGN KEY (policy_id) REFERENCES policies (id) ON DELETE CASCADE,
    CONSTRAINT policy_versions_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX ix_policy_versions_policy_id ON policy_versions (policy_id);
CREATE UNIQUE INDEX ix_policy_versions_version ON policy_versions (policy_id, version);

ALTER TABLE policies
    ADD CONSTRAINT fk_policies_current_version FOREIGN KEY (current_version_id)
    REFERENCES policy_versions (id) ON DELETE SET NULL;

-- Down Migration

-- The cross-reference has to go before either table can.
ALTER TABLE policies DROP CONSTRAINT fk_policies_current_version;
DROP TABLE policy_versions;
DROP TABLE policies;

DROP TYPE policystatus;
DROP TYPE policytype;
