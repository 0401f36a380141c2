-- 003_mapping.sql
--
-- What:     THE v1 -> v2 mapping, defined once. Everything that writes or compares v2 rows
--           (copy, dry-run plan, validation, zero-downtime sync) reads these views:
--             sark_migration.resource_map    every mcp_servers row that CAN be a resources row
--             sark_migration.capability_map  every mcp_tools row that CAN be a capabilities row
--             sark_migration.resource_image   resource_map minus the quarantine ledger
--             sark_migration.capability_image capability_map minus the quarantine ledger
--           Each exposes exactly the v2 table's columns plus source_id (the v1 primary key),
--           so `WHERE source_id = ANY($1)` or a keyset range uses the v1 primary-key index; the
--           capability views also server_source_id (the v1 key of the referenced resource).
--
--           metadata = extra_metadata's keys (when it is an object)
--                   || { the core v1 fields, ALWAYS present (JSON null where SQL NULL),
--                        "_v1": {"source": <v1 table>,
--                              "extra_metadata_collisions": {key: original}  -- only if extra_metadata
--                                                         -- had a core key or "_v1"
--                              "extra_metadata": <original>}} -- only if it is not an object
--           `||` keeps the right-hand value, so a core field can never be overwritten by an
--           extra_metadata key, and metadata is always an object. metadata @> {"_v1": {"source":
--           <v1 table>}} (with a uuid id) marks the rows this migration wrote: rollback and
--           delete_vanished only ever touch such rows. (A "_v1" key coming from extra_metadata
--           never carries "source": it is moved under _v1.extra_metadata_collisions.)
--           Timestamps inside metadata are UTC text, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"', whatever
--           the session TimeZone (so re-runs compare equal and microseconds survive).
--           Enum values (transport, status, sensitivity_level) are lower-case in v2 whatever the
--           case of the v1 labels ('HTTP' in a model-built database): SARK's v2 code reads
--           'http' | 'stdio' | 'sse'. The inverse mapping (005) writes the v1 labels back.
-- Requires: 001, 002; the v2 tables are not referenced here.
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE).

-- The keys of metadata that belong to the mapping, per v1 table; "_v1" is reserved, and for tools
-- "_v2": the v2 fields mcp_tools has no column for (output_schema) travel in v1's extra_metadata
-- under it when the reverse sync writes a capability back, and come back from there.
CREATE OR REPLACE FUNCTION sark_migration.core_keys(source text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE source
    WHEN 'mcp_servers' THEN ARRAY['transport', 'command', 'endpoint', 'mcp_version', 'capabilities',
                                  'status', 'health_endpoint', 'last_health_check', 'owner_id',
                                  'team_id', 'consul_id', 'tags', 'signature', 'description', '_v1']
    WHEN 'mcp_tools'   THEN ARRAY['requires_approval', 'signature', 'invocation_count',
                                  'last_invoked', 'created_at', 'updated_at', '_v1', '_v2']
  END
$$;
COMMENT ON FUNCTION sark_migration.core_keys(text) IS
  'Top-level metadata keys owned by the mapping for mcp_servers / mcp_tools, plus the reserved "_v1". '
  'An extra_metadata key in this list is a collision: kept under _v1.extra_metadata_collisions.';

-- A v2 id this migration can have written: the canonical text of a uuid (lower case, hyphens),
-- which is what uuid::text produces. Anything else is a v2-native id, whatever its metadata says.
-- The same answer as id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' (pgTAP
-- 10-mapping compares them on every kind of near miss), without the regex: it ran several times
-- per v2 row in the copy, the inverse mapping and the validation, at 2.2 us a call (40 % of
-- validate --full at 1,000,000 tools); these byte tests take 0.6 us. 36 bytes, no backslash (so
-- decode(, 'escape') is the bytes themselves), hyphens exactly at 9, 14, 19, 24, and every byte
-- one of 0-9 a-f -. One CASE, so the planner inlines it and evaluates the guard first.
CREATE OR REPLACE FUNCTION sark_migration.is_v1_id(id text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN octet_length(id) <> 36 OR strpos(id, E'\\') > 0 THEN false
              ELSE (id COLLATE "C") LIKE '________-____-____-____-____________'
                   AND octet_length(replace(id, '-', '')) = 32
                   AND btrim(decode(id, 'escape'), '\x303132333435363738396162636465662d'::bytea) = ''::bytea
         END
$$;
COMMENT ON FUNCTION sark_migration.is_v1_id(text) IS
  'true if id is the canonical text of a uuid (as the mapping writes ids); such ids are safe to cast to uuid.';

-- A name-based uuid (RFC 4122 version 3, from md5) of a text.
CREATE OR REPLACE FUNCTION sark_migration.name_uuid(name text)
RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT (substr(h, 1, 12) || '3' || substr(h, 14, 3)
          || substr('89ab', ('x' || substr(h, 17, 1))::bit(4)::int % 4 + 1, 1) || substr(h, 18))::uuid
  FROM (SELECT md5(name) AS h) x
$$;
COMMENT ON FUNCTION sark_migration.name_uuid(text) IS 'A name-based (version 3) uuid of the text, from its md5.';

-- The v1 key of a v2 id: the uuid itself, or, for an id that is not a uuid (made by the v2
-- application), a name-based uuid of it: the same v2 id always gives the same uuid, so the
-- reverse sync, a re-run and a rollback agree without asking the id map. One expression without
-- a sub-select, so that the planner inlines it: it runs for every row of the copy, the inverse
-- mapping and the validation (as a function call it cost 9 us a row: 2 s of validate --full at
-- 1,000,000 tools); name_uuid is called only for the rare id that is not a uuid.
-- Not STRICT (the planner does not inline a strict function whose body is a CASE); NULL gives NULL.
CREATE OR REPLACE FUNCTION sark_migration.v1_id(v2_id text)
RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN sark_migration.is_v1_id(v2_id) THEN v2_id::uuid
              ELSE sark_migration.name_uuid('sark-migrate:' || v2_id) END
$$;
COMMENT ON FUNCTION sark_migration.v1_id(text) IS
  'The mcp_servers / mcp_tools id of a v2 id: the uuid itself, else a name-based (version 3) uuid of the text. '
  'The way back is sark_migration.id_map.';

-- THE answer to "did this migration write this v2 row?", used by every step that may overwrite,
-- delete, roll back or reverse-sync a v2 row: its metadata carries the marker {"_v1": {"source":
-- <v1 table>}} of the mapping (below) AND its id is the canonical text of a uuid, or an id of the
-- v2 application's whose uuid (v1_id) the marker records as "v1_id" (id_map, 001). A v2-native row
-- fails it even with protocol 'mcp' or a "_v1" key of its own making (an extra_metadata "_v1"
-- never has "source": it is moved under _v1.extra_metadata_collisions). Inlined by the planner;
-- with a constant target the marker is a constant, so metadata's GIN index can answer it.
CREATE OR REPLACE FUNCTION sark_migration.is_migrated(target text, id text, metadata jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT metadata @> CASE target WHEN 'resources'    THEN '{"_v1": {"source": "mcp_servers"}}'::jsonb
                                 WHEN 'capabilities' THEN '{"_v1": {"source": "mcp_tools"}}'::jsonb END
         AND (sark_migration.is_v1_id(id)
              OR metadata -> '_v1' ->> 'v1_id' = sark_migration.v1_id(id)::text)
$$;
COMMENT ON FUNCTION sark_migration.is_migrated(text, text, jsonb) IS
  'true if the v2 row (target resources | capabilities, its id and metadata) was written by this migration: '
  'metadata @> {"_v1": {"source": <v1 table>}} and a uuid id. The one predicate copy, sync, rollback, plan and '
  'validation use.';

-- Timestamp -> JSON text, deterministic: UTC, microseconds always written. Values to_char
-- cannot render exactly (infinity, BC, year > 9999) fall back to the ISO form of the UTC
-- wall time, which utc_ts() reads back just as exactly.
CREATE OR REPLACE FUNCTION sark_migration.utc_text(ts timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE
    WHEN ts IS NULL THEN NULL
    WHEN ts >= '0001-01-01 00:00:00+00' AND ts < '10000-01-01 00:00:00+00'
      THEN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    ELSE to_jsonb(ts AT TIME ZONE 'UTC') #>> '{}'
  END
$$;
COMMENT ON FUNCTION sark_migration.utc_text(timestamptz) IS
  'Renders a timestamptz for metadata: UTC ISO 8601 with microseconds and Z, independent of TimeZone and DateStyle. Inverse: utc_ts().';

CREATE OR REPLACE FUNCTION sark_migration.utc_ts(txt text)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT txt::timestamp AT TIME ZONE 'UTC'
$$;
COMMENT ON FUNCTION sark_migration.utc_ts(text) IS 'Inverse of utc_text(): UTC wall-time text -> timestamptz.';

-- extra_metadata restricted to the given keys; only called when there is a collision.
CREATE OR REPLACE FUNCTION sark_migration.jsonb_pick(obj jsonb, keys text[])
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
  FROM jsonb_each(obj) AS e
  WHERE e.key = ANY (keys)
$$;
COMMENT ON FUNCTION sark_migration.jsonb_pick(jsonb, text[]) IS 'The members of a JSON object whose key is in keys.';

-- The "_v1" object of a migrated row: provenance, plus whatever of extra_metadata cannot sit at
-- the top level. In the common case (extra_metadata an object without reserved keys) it is the
-- constant {"source": <table>}: jsonb_object() is immutable, so the planner folds it.
CREATE OR REPLACE FUNCTION sark_migration.provenance(extra jsonb, source text)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE
    WHEN jsonb_typeof(extra) IS DISTINCT FROM 'object'
      THEN jsonb_build_object('source', source, 'extra_metadata', extra)
    WHEN extra ?| sark_migration.core_keys(source)
      THEN jsonb_build_object('source', source, 'extra_metadata_collisions',
                              sark_migration.jsonb_pick(extra, sark_migration.core_keys(source)))
    ELSE jsonb_object(ARRAY['source', source])
  END
$$;
COMMENT ON FUNCTION sark_migration.provenance(jsonb, text) IS
  'The metadata."_v1" object: {"source": v1 table}, plus extra_metadata_collisions {key: original value} '
  'when extra_metadata has core or reserved keys, or extra_metadata (the original) when it is not an object.';

-- The one place metadata is assembled: extra_metadata's keys (if it is an object), then the core
-- object, which carries every core key and "_v1" and therefore wins every collision (jsonb ||
-- keeps the right-hand value). One concatenation per row; written so that the planner inlines
-- it (a single expression using "core" once, no SET clause, STABLE like jsonb_build_object):
-- no per-row function call, see EXPLAIN VERBOSE of the image views.
CREATE OR REPLACE FUNCTION sark_migration.merge_extra(extra jsonb, core jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN jsonb_typeof(extra) = 'object' THEN extra ELSE '{}'::jsonb END || core
$$;
COMMENT ON FUNCTION sark_migration.merge_extra(jsonb, jsonb) IS
  'metadata = extra_metadata (only if an object) || core, where core holds every core key (JSON null for '
  'SQL NULL) and "_v1" = provenance(extra_metadata, source): core values are never overwritten, metadata '
  'is always an object. Inverse: the extra_metadata column of v1_servers_rebuilt / v1_tools_rebuilt.';

-- mcp_servers -> resources. The WHERE keeps out rows that cannot be inserted at all (NOT NULL
-- targets); the findings (004) name them and the quarantine holds them. No column is cast to a
-- length-limited type here: an explicit varchar(n) cast truncates silently, while the INSERT's
-- assignment cast refuses (and 004 quarantines values too long for v2 before that can happen).
CREATE OR REPLACE VIEW sark_migration.resource_map AS
SELECT COALESCE(idm.v2_id, s.id::text)                           AS id,
       s.name                                                    AS name,
       'mcp'::varchar(50)                                        AS protocol,
       CASE WHEN lower(s.transport::text) = 'stdio' THEN s.command ELSE s.endpoint END
                                                                 AS endpoint,
       lower(s.sensitivity_level::text)                          AS sensitivity_level,
       sark_migration.merge_extra(
         s.extra_metadata,
         jsonb_build_object(
           'transport',         lower(s.transport::text),
           'command',           s.command,
           'endpoint',          s.endpoint,
           'mcp_version',       s.mcp_version,
           'capabilities',      s.capabilities,
           'status',            lower(s.status::text),
           'health_endpoint',   s.health_endpoint,
           'last_health_check', sark_migration.utc_text(s.last_health_check),
           'owner_id',          s.owner_id::text,
           'team_id',           s.team_id::text,
           'consul_id',         s.consul_id,
           'tags',              s.tags,
           'signature',         s.signature,
           'description',       s.description,
           -- a row whose v2 id is not its uuid carries the uuid: is_migrated() and validation read it
           '_v1',               sark_migration.provenance(s.extra_metadata, 'mcp_servers')
                                || CASE WHEN idm.v2_id IS NOT NULL THEN jsonb_build_object('v1_id', s.id::text)
                                        ELSE '{}'::jsonb END))
                                                                 AS metadata,
       s.created_at                                              AS created_at,
       s.updated_at                                              AS updated_at,
       s.id                                                      AS source_id
FROM sark_migration.v1_servers s
LEFT JOIN sark_migration.id_map idm ON idm.target_table = 'resources' AND idm.v1_id = s.id
WHERE CASE WHEN lower(s.transport::text) = 'stdio' THEN s.command ELSE s.endpoint END IS NOT NULL
  AND s.name IS NOT NULL
  AND s.sensitivity_level IS NOT NULL
  AND s.created_at IS NOT NULL
  AND s.updated_at IS NOT NULL;
COMMENT ON VIEW sark_migration.resource_map IS
  'The resources row each mcp_servers row maps to (ignoring the quarantine). Columns = resources'' '
  'columns + source_id (mcp_servers.id). Rows that cannot satisfy resources'' NOT NULL columns are absent.';
COMMENT ON COLUMN sark_migration.resource_map.source_id IS 'mcp_servers.id: filter on it to use the v1 primary key';

-- mcp_tools -> capabilities. A tool only maps if its server maps (the v2 FK would refuse it).
CREATE OR REPLACE VIEW sark_migration.capability_map AS
SELECT COALESCE(idm.v2_id, t.id::text)                           AS id,
       COALESCE(ism.v2_id, t.server_id::text)                    AS resource_id,
       t.name                                                    AS name,
       t.description::text                                       AS description,
       t.parameters                                              AS input_schema,
       COALESCE(CASE WHEN jsonb_typeof(t.extra_metadata) = 'object' THEN t.extra_metadata -> '_v2' -> 'output_schema' END,
                '{}'::jsonb)                                     AS output_schema,
       lower(t.sensitivity_level::text)                          AS sensitivity_level,
       sark_migration.merge_extra(
         t.extra_metadata,
         jsonb_build_object(
           'requires_approval', t.requires_approval,
           'signature',         t.signature,
           'invocation_count',  t.invocation_count,
           'last_invoked',      sark_migration.utc_text(t.last_invoked),
           'created_at',        sark_migration.utc_text(t.created_at),
           'updated_at',        sark_migration.utc_text(t.updated_at),
           '_v1',               sark_migration.provenance(t.extra_metadata, 'mcp_tools')
                                || CASE WHEN idm.v2_id IS NOT NULL OR ism.v2_id IS NOT NULL
                                        THEN jsonb_build_object('v1_id', t.id::text, 'server_v1_id', t.server_id::text)
                                        ELSE '{}'::jsonb END))
                                                                 AS metadata,
       t.id                                                      AS source_id,
       t.server_id                                               AS server_source_id
FROM sark_migration.v1_tools t
LEFT JOIN sark_migration.id_map idm ON idm.target_table = 'capabilities' AND idm.v1_id = t.id
LEFT JOIN sark_migration.id_map ism ON ism.target_table = 'resources' AND ism.v1_id = t.server_id
WHERE t.name IS NOT NULL
  AND t.sensitivity_level IS NOT NULL
  AND t.parameters IS NOT NULL
  AND EXISTS (SELECT 1 FROM sark_migration.resource_map r WHERE r.source_id = t.server_id);
COMMENT ON VIEW sark_migration.capability_map IS
  'The capabilities row each mcp_tools row maps to (ignoring the quarantine). Columns = capabilities'' '
  'columns + source_id (mcp_tools.id) + server_source_id (mcp_tools.server_id). Tools whose server does not map are absent.';
COMMENT ON COLUMN sark_migration.capability_map.source_id IS 'mcp_tools.id: filter on it to use the v1 primary key';
COMMENT ON COLUMN sark_migration.capability_map.server_source_id IS 'mcp_tools.server_id: the v1 key of the resource the row references';

-- What the copy writes: the map minus the quarantine ledger (anti-joins on its primary key, with
-- the v1 keys the map carries: source_id, and server_source_id for the tool's server. Deriving the
-- server's key from resource_id instead, v1_id(resource_id), parsed a uuid back from its text for
-- every row: 3 us a row, a fifth of capability_image's cost in validate --full).
CREATE OR REPLACE VIEW sark_migration.resource_image AS
SELECT m.*
FROM sark_migration.resource_map m
WHERE NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                   WHERE q.source_table = 'mcp_servers' AND q.source_id = m.source_id);
COMMENT ON VIEW sark_migration.resource_image IS
  'resource_map minus rows held in sark_migration.quarantine: the resources rows the copy writes.';
COMMENT ON COLUMN sark_migration.resource_image.source_id IS 'mcp_servers.id';

CREATE OR REPLACE VIEW sark_migration.capability_image AS
SELECT m.*
FROM sark_migration.capability_map m
WHERE NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                   WHERE q.source_table = 'mcp_tools' AND q.source_id = m.source_id)
  AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                   WHERE q.source_table = 'mcp_servers' AND q.source_id = m.server_source_id);
COMMENT ON VIEW sark_migration.capability_image IS
  'capability_map minus tools held in sark_migration.quarantine and tools of quarantined servers: '
  'the capabilities rows the copy writes.';
COMMENT ON COLUMN sark_migration.capability_image.source_id IS 'mcp_tools.id';
COMMENT ON COLUMN sark_migration.capability_image.server_source_id IS 'mcp_tools.server_id';

-- Column comments of the four mapping views: each column is the v2 column of the same name.
DO $comment$
DECLARE
  v record;
BEGIN
  FOR v IN SELECT c.relname AS view_name, a.attname AS column_name,
                  CASE WHEN c.relname LIKE 'resource%' THEN 'resources' ELSE 'capabilities' END AS target
             FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
            WHERE c.relnamespace = 'sark_migration'::regnamespace
              AND c.relname IN ('resource_map', 'capability_map', 'resource_image', 'capability_image')
              AND a.attname NOT IN ('source_id', 'server_source_id') LOOP
    EXECUTE format('COMMENT ON COLUMN sark_migration.%I.%I IS %L', v.view_name, v.column_name,
                   format('%s.%s as the mapping computes it', v.target, v.column_name));
  END LOOP;
END
$comment$;
