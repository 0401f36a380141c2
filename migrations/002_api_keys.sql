-- 002_api_keys: the SARK v1 api_keys table, as Alembic revision `002_api_keys`
-- creates it.
--
-- Requires: 001_initial.
-- Runs in one transaction (node-pg-migrate wraps Up and Down, each together with
-- its pgmigrations row).
--
-- Baseline only (see 001_initial). Unlike the rest of v1, api_keys uses
-- timestamp WITHOUT time zone and has no foreign keys (user_id, team_id and
-- revoked_by are bare uuids): that is how the field databases look, so the
-- baseline keeps it rather than "fixing" it.

-- Up Migration

CREATE TABLE api_keys (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    team_id uuid,
    name varchar(255) NOT NULL,
    description text,
    key_prefix varchar(16) NOT NULL,
    key_hash varchar(255) NOT NULL,
    scopes varchar[] NOT NULL DEFAULT '{}',
    rate_limit integer NOT NULL DEFAULT 1000,
    is_active boolean NOT NULL DEFAULT true,
    expires_at timestamp,
    last_used_at timestamp,
    last_used_ip varchar(45),
    usage_count integer NOT NULL DEFAULT 0,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now(),
    revoked_at timestamp,
    revoked_by uuid,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_key_prefix_key UNIQUE (key_prefix)
);
-- Alembic writes these two column comments; kept so \d+ matches the field.
COMMENT ON COLUMN api_keys.scopes IS 'List of permission scopes (e.g., ''server:read'', ''server:write'')';
COMMENT ON COLUMN api_keys.rate_limit IS 'Maximum requests per minute';

CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);
CREATE INDEX ix_api_keys_team_id ON api_keys (team_id);
CREATE UNIQUE INDEX ix_api_keys_key_prefix ON api_keys (key_prefix);
CREATE INDEX ix_api_keys_is_active ON api_keys (is_active);
CREATE INDEX ix_api_keys_expires_at ON api_keys (expires_at);

-- Down Migration

DROP TABLE api_keys;
