-- 006_protocol_adapters: the protocol-agnostic v2 tables resources and
-- capabilities (SARK revision `006_protocol_adapters`), empty.
--
-- Requires: the v1 schema at 005_gateway_audit (order only: nothing here
-- references a v1 table).
-- Runs in one transaction (node-pg-migrate wraps Up and Down, each together with
-- its pgmigrations row).
--
-- Differences from SARK's own revision, on purpose:
--   * no data copy. Copying mcp_servers/mcp_tools is its own phase (keyset
--     batches, re-runnable, validated); doing it here would hold one long
--     transaction over both v1 tables and break on the schema drift of the
--     field (parameters vs parameters_schema).
--   * CHECK constraints on sensitivity_level, protocol and the shape of
--     metadata: these columns are plain varchar/jsonb, so without checks a typo
--     ('hgih') or a JSON array in metadata would be stored silently and only
--     surface as wrong authorization decisions later.
-- A database where SARK's Alembic already created these tables is adopted "as
-- at 007" instead of running this file; hence no IF NOT EXISTS: meeting an
-- existing resources table here means the wrong path was taken, and that must
-- fail rather than skip.

-- Up Migration

CREATE TABLE resources (
    id varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    protocol varchar(50) NOT NULL,
    endpoint varchar(1000) NOT NULL,
    sensitivity_level varchar(20) NOT NULL DEFAULT 'medium',
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT resources_pkey PRIMARY KEY (id),
    CONSTRAINT resources_protocol_check
        CHECK (protocol IN ('mcp', 'http', 'grpc', 'graphql')),
    CONSTRAINT resources_sensitivity_level_check
        CHECK (sensitivity_level IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT resources_metadata_is_object
        CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX ix_resources_protocol ON resources (protocol);
CREATE INDEX ix_resources_sensitivity ON resources (sensitivity_level);
CREATE INDEX ix_resources_name ON resources (name);
CREATE INDEX ix_resources_metadata_gin ON resources USING gin (metadata);

COMMENT ON TABLE resources IS
    'v2: a governed resource of any protocol (an MCP server, an HTTP API, a gRPC service, a GraphQL endpoint). Replaces mcp_servers; a migrated MCP server keeps its uuid as id.';
COMMENT ON COLUMN resources.id IS
    'Resource id as text: the mcp_servers.id uuid for migrated MCP servers, any unique string for native v2 resources.';
COMMENT ON COLUMN resources.name IS 'Display name.';
COMMENT ON COLUMN resources.protocol IS
    'Protocol adapter that governs the resource: mcp, http, grpc or graphql (resources_protocol_check).';
COMMENT ON COLUMN resources.endpoint IS
    'Where the resource is reached: a URL, or for MCP stdio servers the command line.';
COMMENT ON COLUMN resources.sensitivity_level IS
    'low, medium, high or critical (resources_sensitivity_level_check). Text, so it sorts alphabetically: order by severity with an explicit CASE, not by this column.';
COMMENT ON COLUMN resources.metadata IS
    'Protocol-specific attributes as a JSON object (resources_metadata_is_object); for migrated MCP servers every v1 column not mapped above, read at the top level (metadata->>''status'').';
COMMENT ON COLUMN resources.created_at IS 'Creation time; for migrated servers the v1 created_at.';
COMMENT ON COLUMN resources.updated_at IS 'Last change; for migrated servers the v1 updated_at.';

CREATE TABLE capabilities (
    id varchar(255) NOT NULL,
    resource_id varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    description text,
    input_schema jsonb NOT NULL DEFAULT '{}',
    output_schema jsonb NOT NULL DEFAULT '{}',
    sensitivity_level varchar(20) NOT NULL DEFAULT 'medium',
    metadata jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT capabilities_pkey PRIMARY KEY (id),
    CONSTRAINT capabilities_resource_id_fkey FOREIGN KEY (resource_id)
        REFERENCES resources (id) ON DELETE CASCADE,
    CONSTRAINT capabilities_sensitivity_level_check
        CHECK (sensitivity_level IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT capabilities_metadata_is_object
        CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX ix_capabilities_resource ON capabilities (resource_id);
CREATE INDEX ix_capabilities_name ON capabilities (name);
CREATE INDEX ix_capabilities_sensitivity ON capabilities (sensitivity_level);
CREATE INDEX ix_capabilities_metadata_gin ON capabilities USING gin (metadata);

COMMENT ON TABLE capabilities IS
    'v2: an operation a resource offers (an MCP tool, an HTTP endpoint, a gRPC method, a GraphQL field). Replaces mcp_tools; a migrated MCP tool keeps its uuid as id.';
COMMENT ON COLUMN capabilities.id IS
    'Capability id as text: the mcp_tools.id uuid for migrated MCP tools, any unique string for native v2 capabilities.';
COMMENT ON COLUMN capabilities.resource_id IS
    'Owning resource; deleting the resource deletes its capabilities.';
COMMENT ON COLUMN capabilities.name IS 'Name as the protocol exposes it (the MCP tool name).';
COMMENT ON COLUMN capabilities.description IS 'Free-text description.';
COMMENT ON COLUMN capabilities.input_schema IS
    'Schema of the input (JSON Schema for MCP: the v1 tool parameters / parameters_schema).';
COMMENT ON COLUMN capabilities.output_schema IS
    'Schema of the output; {} where the protocol does not declare one (all migrated MCP tools).';
COMMENT ON COLUMN capabilities.sensitivity_level IS
    'low, medium, high or critical (capabilities_sensitivity_level_check). Text, so it sorts alphabetically: order by severity with an explicit CASE.';
COMMENT ON COLUMN capabilities.metadata IS
    'Protocol-specific attributes as a JSON object (capabilities_metadata_is_object); for migrated MCP tools requires_approval, signature, invocation_count, last_invoked, created_at, updated_at and the v1 extra_metadata.';

-- Down Migration

-- Indexes, constraints and comments go with their tables. 007_federation's
-- materialized view reads both tables, so it must be reverted first (the
-- migration order guarantees that).
DROP TABLE capabilities;
DROP TABLE resources;
