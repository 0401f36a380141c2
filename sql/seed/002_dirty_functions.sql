-- 002_dirty_functions.sql: sark_seed.seed_dirty(), which adds the awkward rows real SARK v1
-- databases carry (servers without endpoint, metadata that collides with core keys or is not an
-- object, 2 MB JSON, quotes / emoji / RTL / 255-character names, orphaned tools, ...), a few rows
-- of each, so the migration and its validation are tested against them.
--
-- Requires: 001_seed_functions.sql (schema sark_seed, anchor()). Calling seed_dirty() requires the
-- v1 tables in search_path, either variant (see 001); it does not need seed_v1() to have run.
-- Safe to run any number of times (CREATE OR REPLACE FUNCTION). Creates no tables.
--
-- !! SCHEMA CHANGE: the orphan_tool case drops the foreign key mcp_tools -> mcp_servers, inserts
-- !! tools whose server does not exist, and adds the same constraint back as NOT VALID (the state
-- !! a real database is in after someone did exactly that). pg_constraint.convalidated is then
-- !! false for it, and ALTER TABLE mcp_tools VALIDATE CONSTRAINT fails until the orphans are gone.
-- !! Use seed_dirty() only on throwaway databases.

CREATE OR REPLACE FUNCTION sark_seed.uuid_for_name(ns text, name text)
RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT md5('sark-seed/' || ns || '/' || name)::uuid $$;
COMMENT ON FUNCTION sark_seed.uuid_for_name(text, text) IS
  'Deterministic id of a named seeded row: md5(''sark-seed/<ns>/<name>'') read as a uuid (dirty rows use ns dirty/mcp_servers, dirty/mcp_tools, dirty/missing_server).';

-- The dirty servers. JSON columns are returned as JSON *text* so that values jsonb cannot hold
-- (json_only = true) can still be written into json columns of the model variant.
CREATE OR REPLACE FUNCTION sark_seed.dirty_server_rows()
RETURNS TABLE (name text, transport text, endpoint text, command text, description text,
               capabilities text, tags text, extra_metadata text, sensitivity_level text,
               status text, json_only boolean)
LANGUAGE sql IMMUTABLE
AS $fn$
  VALUES
  -- no_endpoint: neither command nor endpoint (v2 resources.endpoint is NOT NULL)
  ('dirty-no_endpoint-1', 'http',  NULL, NULL, 'HTTP server registered before endpoint was required.',
   '["tools"]', '["env:prod"]', '{"region": "us-east-1"}', 'medium', 'active', false),
  ('dirty-no_endpoint-2', 'stdio', NULL, NULL, 'stdio server whose command was never filled in.',
   '["tools"]', '["env:staging"]', '{"region": "eu-west-1"}', 'low', 'registered', false),
  ('dirty-no_endpoint-3', 'sse',   NULL, NULL, NULL,
   '[]', '[]', '{}', 'high', 'inactive', false),
  -- blank_endpoint: endpoint / command present but empty or whitespace
  ('dirty-blank_endpoint-1', 'http',  '', NULL, 'Endpoint is an empty string.',
   '["tools"]', '["env:dev"]', '{}', 'low', 'active', false),
  ('dirty-blank_endpoint-2', 'stdio', NULL, '   ', 'Command is three spaces.',
   '["tools"]', '["env:dev"]', '{}', 'low', 'active', false),
  -- wrong_endpoint: the value sits in the other transport's column
  ('dirty-wrong_endpoint-1', 'stdio', 'https://wrong-endpoint-1.example.com/mcp', NULL, 'stdio server with only an endpoint.',
   '["tools"]', '["env:prod"]', '{}', 'medium', 'active', false),
  ('dirty-wrong_endpoint-2', 'http',  NULL, 'npx -y @acme/wrong-endpoint-2-mcp', 'http server with only a command.',
   '["tools"]', '["env:prod"]', '{}', 'medium', 'active', false),
  ('dirty-wrong_endpoint-3', 'sse',   NULL, '/opt/mcp/bin/wrong-endpoint-3 --sse', 'sse server with only a command.',
   '["tools"]', '["env:prod"]', '{}', 'medium', 'unhealthy', false),
  -- metadata_collision: extra_metadata keys equal to core v1 keys / the reserved "_v1"
  ('dirty-metadata_collision-1', 'http', 'https://metadata-collision-1.example.com/mcp', NULL, 'The real description.',
   '["tools"]', '["env:prod"]',
   '{"status": "deleted", "transport": "grpc", "endpoint": "https://shadow.example.com/mcp", "tags": ["shadow"], '
   '"name": "shadow-name", "description": "shadow description", "_v1": {"status": "forged"}, "region": "us-east-1"}',
   'high', 'active', false),
  ('dirty-metadata_collision-2', 'stdio', NULL, 'uvx metadata-collision-2-mcp', 'Collides with the remaining mapped keys.',
   '["tools","prompts"]', '["env:prod"]',
   '{"command": "rm -rf /", "capabilities": "all", "owner_id": "not-a-uuid", "team_id": null, "consul_id": 42, '
   '"mcp_version": "0.0.1", "health_endpoint": "http://shadow/health", "last_health_check": "yesterday", '
   '"signature": "forged", "sensitivity_level": "low", "id": "shadow-id", "created_at": "1970-01-01", '
   '"updated_at": "1970-01-01", "_v1": "reserved key as a string"}',
   'critical', 'active', false),
  ('dirty-metadata_collision-3', 'sse', 'https://metadata-collision-3.example.com/sse', NULL, NULL,
   '["resources"]', '[]', '{"_v1": {}, "STATUS": "case differs", "status ": "trailing space"}',
   'medium', 'decommissioned', false),
  -- extra_metadata_not_object
  ('dirty-extra_metadata_not_object-1', 'http', 'https://emno-1.example.com/mcp', NULL, 'extra_metadata is an array.',
   '["tools"]', '[]', '[{"region": "us-east-1"}, "legacy", 3]', 'low', 'active', false),
  ('dirty-extra_metadata_not_object-2', 'http', 'https://emno-2.example.com/mcp', NULL, 'extra_metadata is a string.',
   '["tools"]', '[]', '"region=us-east-1;owner=ops"', 'low', 'active', false),
  ('dirty-extra_metadata_not_object-3', 'stdio', NULL, 'python -m emno3', 'extra_metadata is a number.',
   '["tools"]', '[]', '42', 'low', 'active', false),
  ('dirty-extra_metadata_not_object-4', 'stdio', NULL, 'python -m emno4', 'extra_metadata is JSON null.',
   '["tools"]', '[]', 'null', 'low', 'active', false),
  ('dirty-extra_metadata_not_object-5', 'sse', 'https://emno-5.example.com/sse', NULL, 'extra_metadata is a boolean.',
   '["tools"]', '[]', 'true', 'low', 'active', false),
  -- tags_wrong_type / capabilities_wrong_type
  ('dirty-tags_wrong_type-1', 'http', 'https://tags-wrong-type-1.example.com/mcp', NULL, 'tags is an object.',
   '["tools"]', '{"env": "prod", "team": "payments"}', '{}', 'medium', 'active', false),
  ('dirty-tags_wrong_type-2', 'http', 'https://tags-wrong-type-2.example.com/mcp', NULL, 'tags is a string.',
   '["tools"]', '"env:prod,team:payments"', '{}', 'medium', 'active', false),
  ('dirty-capabilities_wrong_type-1', 'http', 'https://caps-wrong-type-1.example.com/mcp', NULL, 'capabilities is an object.',
   '{"tools": true, "prompts": false, "resources": {"subscribe": true}}', '[]', '{}', 'medium', 'active', false),
  ('dirty-capabilities_wrong_type-2', 'stdio', NULL, 'npx caps-wrong-type-2', 'capabilities is a string.',
   '"tools,prompts"', '[]', '{}', 'medium', 'active', false),
  -- large_json: ~2 MB extra_metadata (its tool carries ~1 MB parameters)
  ('dirty-large_json-1', 'http', 'https://large-json-1.example.com/mcp', NULL, 'extra_metadata is about 2 MB.',
   '["tools","resources"]', '["env:prod"]',
   (SELECT jsonb_build_object('region', 'us-east-1', 'inventory_snapshot',
             jsonb_agg(jsonb_build_object('host', 'node-' || g::text || '.cluster.example.com',
                                          'fingerprint', md5('fp/' || g::text) || md5('fp2/' || g::text),
                                          'labels', jsonb_build_object('rack', 'r' || (g % 40)::text, 'zone', 'z' || (g % 3)::text),
                                          'note', repeat(chr(97 + g % 26), 40))
                       ORDER BY g))::text
      FROM generate_series(1, 9600) AS g),
   'medium', 'active', false),
  -- awkward_text: quotes, backslashes, newlines, tabs, emoji, CJK, RTL; 255-character name
  ('dirty-awkward_text-1 O''Brien''s "quoted" \back\slash\ %s %% _ ;--', 'http',
   'https://awkward-text-1.example.com/mcp', NULL,
   E'Line one\nLine two\r\nTab\there, a single \' and a double " quote, a backslash \\ and \\n literally.',
   '["tools"]', '["env:prod", "team:o''brien", "quote:\"x\""]',
   '{"note": "line1\nline2\ttab \"q\" \\\\ back", "": "empty key", "日本語キー": "値", "emoji": "🚀"}',
   'medium', 'active', false),
  ('dirty-awkward_text-2 数据服务 خادم البيانات ‮RTL-override‬ 👨‍👩‍👧 🇯🇵 é​zero-width', 'stdio', NULL,
   'python -m awkward_text_2 --greeting "héllo wörld" --label ''数据''',
   E'CJK 漢字かなカナ한국어, Arabic مرحبا بالعالم, Hebrew שלום עולם, emoji 🧑🏽‍💻🔥, combining é (e + U+0301).',
   '["tools"]', '["lang:日本語", "lang:עברית"]', '{"owner": "José Müller-Łukasiewicz", "rtl": "עברית"}',
   'high', 'active', false),
  ((SELECT rpad('dirty-awkward_text-3 ', 255, 'データ🚀é')), 'http', 'https://awkward-text-3.example.com/mcp', NULL,
   (SELECT rpad('Exactly one thousand characters, multibyte: ', 1000, '漢字かな ✓ ')),
   '["tools"]', '[]', '{}', 'low', 'active', false),
  -- host server for the tool_parameters_not_object tools (the server itself is clean)
  ('dirty-tool_parameters_not_object-1', 'http', 'https://tpno-1.example.com/mcp', NULL, 'Host of tools with non-object parameters.',
   '["tools"]', '["env:prod"]', '{}', 'medium', 'active', false),
  -- json only (skipped where mcp_servers.extra_metadata is jsonb, which cannot hold them):
  -- a \u0000 escape (casting to jsonb fails) and duplicate keys (jsonb keeps the last one)
  ('dirty-json_nul_escape-1', 'http', 'https://json-nul-escape-1.example.com/mcp', NULL, 'extra_metadata holds \u0000.',
   '["tools"]', '[]', '{"region": "us-east-1", "note": "nul\u0000byte"}', 'medium', 'active', true),
  ('dirty-json_duplicate_keys-1', 'http', 'https://json-duplicate-keys-1.example.com/mcp', NULL, 'extra_metadata repeats keys.',
   '["tools"]', '[]', '{"region": "us-east-1", "region": "eu-west-1", "owner": "a", "owner": "b"}', 'medium', 'active', true)
$fn$;
COMMENT ON FUNCTION sark_seed.dirty_server_rows() IS
  'The servers seed_dirty() writes, JSON columns as JSON text; the name column is the identity (id = uuid_for_name(''dirty/mcp_servers'', name)).';

CREATE OR REPLACE FUNCTION sark_seed.dirty_tool_rows()
RETURNS TABLE (name text, server_name text, orphan boolean, description text, parameters text,
               extra_metadata text, sensitivity_level text, requires_approval boolean)
LANGUAGE sql IMMUTABLE
AS $fn$
  SELECT t.name, t.server_name, t.orphan, t.description, t.parameters, t.extra_metadata,
         t.sensitivity_level, t.requires_approval
    FROM (
    -- two ordinary tools on each no_endpoint server, one on each wrong_endpoint server
    SELECT s.name || '-tool-' || k::text AS name, s.name AS server_name, false AS orphan,
           'Ordinary tool on a dirty server.' AS description,
           '{"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}' AS parameters,
           '{}' AS extra_metadata, 'medium' AS sensitivity_level, false AS requires_approval
      FROM (VALUES ('dirty-no_endpoint-1'), ('dirty-no_endpoint-2'), ('dirty-no_endpoint-3')) AS s(name)
     CROSS JOIN generate_series(1, 2) AS k
    UNION ALL
    SELECT s.name || '-tool-1', s.name, false, 'Ordinary tool on a dirty server.',
           '{"type": "object", "properties": {}}', '{}', 'low', false
      FROM (VALUES ('dirty-wrong_endpoint-1'), ('dirty-wrong_endpoint-2'), ('dirty-wrong_endpoint-3')) AS s(name)
    UNION ALL
    -- metadata_collision on a tool: keys equal to the tool columns v2 keeps in metadata
    VALUES
    ('dirty-metadata_collision-1-tool-1', 'dirty-metadata_collision-1', false, 'Tool whose metadata collides.',
     '{"type": "object", "properties": {}}',
     '{"requires_approval": "never", "signature": "forged", "invocation_count": -1, "last_invoked": "never", '
     '"created_at": "1970-01-01", "updated_at": "1970-01-01", "sensitivity_level": "low", "_v1": {"name": "x"}}',
     'critical', true),
    -- extra_metadata_not_object on tools
    ('dirty-extra_metadata_not_object-1-tool-1', 'dirty-extra_metadata_not_object-1', false, 'Tool metadata is an array.',
     '{"type": "object"}', '["a", "b"]', 'low', false),
    ('dirty-extra_metadata_not_object-4-tool-1', 'dirty-extra_metadata_not_object-4', false, 'Tool metadata is JSON null.',
     '{"type": "object"}', 'null', 'low', false),
    -- large_json: ~1 MB JSON Schema
    ('dirty-large_json-1-tool-1', 'dirty-large_json-1', false, 'Parameters schema is about 1 MB.',
     (SELECT jsonb_build_object('type', 'object', 'additionalProperties', false,
               'properties', jsonb_object_agg('field_' || lpad(g::text, 5, '0'),
                  jsonb_build_object('type', (ARRAY['string', 'integer', 'boolean', 'number'])[1 + g % 4],
                                     'description', 'Generated field ' || g::text || ' ' || md5('d/' || g::text)
                                                    || ' ' || repeat('lorem ipsum ', 6))),
               'required', jsonb_agg('field_' || lpad(g::text, 5, '0')) FILTER (WHERE g % 10 = 0))::text
        FROM generate_series(1, 5800) AS g),
     '{}', 'high', true),
    -- awkward_text tools: quotes / escapes; a 255-character multibyte name and 1000-character description
    ('dirty-awkward_text-1-tool-1 "get" \ ''it'' 🚀', 'dirty-awkward_text-1 O''Brien''s "quoted" \back\slash\ %s %% _ ;--', false,
     E'Tab\tnewline\nquote '' double " backslash \\.',
     '{"type": "object", "properties": {"q\"uote": {"type": "string", "description": "back\\\\slash \n newline"}}}',
     '{"emoji": "🧪"}', 'medium', false),
    ((SELECT rpad('dirty-awkward_text-3-tool-1 ', 255, '漢字🚀é')), (SELECT rpad('dirty-awkward_text-3 ', 255, 'データ🚀é')), false,
     (SELECT rpad('Exactly one thousand characters: ', 1000, 'データ ✓ ')),
     '{"type": "object", "properties": {}}', '{}', 'low', false),
    -- tool_parameters_not_object
    ('dirty-tool_parameters_not_object-1-tool-1', 'dirty-tool_parameters_not_object-1', false, 'parameters is an array.',
     '[{"name": "query", "type": "string", "required": true}, {"name": "limit", "type": "integer"}]', '{}', 'medium', false),
    ('dirty-tool_parameters_not_object-1-tool-2', 'dirty-tool_parameters_not_object-1', false, 'parameters is an empty array.',
     '[]', '{}', 'medium', false),
    -- orphan_tool: the server_id matches no server (needs the FK dropped, re-added NOT VALID)
    ('dirty-orphan_tool-1', 'dirty-orphan_tool-1', true, 'Tool left behind by a deleted server.',
     '{"type": "object", "properties": {}}', '{}', 'medium', false),
    ('dirty-orphan_tool-2', 'dirty-orphan_tool-1', true, 'Second tool of the same deleted server.',
     '{"type": "object", "properties": {}}', '{}', 'high', true),
    ('dirty-orphan_tool-3', 'dirty-orphan_tool-2', true, 'Tool of another deleted server.',
     '{"type": "object", "properties": {}}', '{}', 'low', false)
    ) AS t(name, server_name, orphan, description, parameters, extra_metadata, sensitivity_level, requires_approval)
$fn$;
COMMENT ON FUNCTION sark_seed.dirty_tool_rows() IS
  'The tools seed_dirty() writes; id = uuid_for_name(''dirty/mcp_tools'', name), server_id = uuid_for_name(''dirty/mcp_servers'', server_name), or (''dirty/missing_server'', server_name) for orphans.';

CREATE OR REPLACE FUNCTION sark_seed.seed_dirty()
RETURNS TABLE (dirty_case text, rows bigint)
LANGUAGE plpgsql
VOLATILE
AS $fn$
DECLARE
  v_params  text;
  v_smeta   text;
  v_counts  jsonb := '{}';
  v_rec     record;
  v_fk      record;
  v_cols    text;
  v_fknames text[] := '{}';
  v_fkdefs  text[] := '{}';
BEGIN
  IF to_regclass('mcp_servers') IS NULL OR to_regclass('mcp_tools') IS NULL THEN
    RAISE EXCEPTION 'sark_seed.seed_dirty: the v1 tables are not in search_path (%)', current_setting('search_path');
  END IF;
  v_params := CASE
    WHEN sark_seed.column_type('mcp_tools', 'parameters') IS NOT NULL THEN 'parameters'
    WHEN sark_seed.column_type('mcp_tools', 'parameters_schema') IS NOT NULL THEN 'parameters_schema'
  END;
  IF v_params IS NULL THEN
    RAISE EXCEPTION 'sark_seed.seed_dirty: mcp_tools has neither parameters nor parameters_schema';
  END IF;
  v_smeta := sark_seed.column_type('mcp_servers', 'extra_metadata');

  PERFORM pg_advisory_xact_lock(hashtext('sark_seed.seed_dirty'));

  -- Servers. JSON text is cast to each column's own type (json or jsonb).
  FOR v_rec IN EXECUTE format($q$
      INSERT INTO mcp_servers (id, name, description, transport, endpoint, command, capabilities,
                               sensitivity_level, status, tags, extra_metadata, created_at, updated_at)
      SELECT sark_seed.uuid_for_name('dirty/mcp_servers', d.name), d.name, d.description,
             d.transport::transporttype, d.endpoint, d.command, d.capabilities::%s,
             d.sensitivity_level::sensitivitylevel, d.status::serverstatus, d.tags::%s, d.extra_metadata::%s,
             sark_seed.anchor() - interval '2160 hours' + (d.ordinality * interval '1 hour 1 second'),
             sark_seed.anchor() - interval '1440 hours' + (d.ordinality * interval '1 hour')
        FROM sark_seed.dirty_server_rows() WITH ORDINALITY AS d
       WHERE NOT d.json_only OR %L = 'json'
      ON CONFLICT (id) DO NOTHING
      RETURNING split_part(name, '-', 2) AS c$q$,
      sark_seed.column_type('mcp_servers', 'capabilities'),
      sark_seed.column_type('mcp_servers', 'tags'),
      v_smeta, v_smeta)
  LOOP
    v_counts := jsonb_set(v_counts, ARRAY[v_rec.c], to_jsonb(coalesce((v_counts ->> v_rec.c)::bigint, 0) + 1));
  END LOOP;

  v_cols := format($q$
      INSERT INTO mcp_tools (id, server_id, name, description, %I, sensitivity_level, requires_approval,
                             extra_metadata, created_at, updated_at)
      SELECT sark_seed.uuid_for_name('dirty/mcp_tools', d.name),
             CASE WHEN d.orphan THEN sark_seed.uuid_for_name('dirty/missing_server', d.server_name)
                  ELSE sark_seed.uuid_for_name('dirty/mcp_servers', d.server_name) END,
             d.name, d.description, d.parameters::%s, d.sensitivity_level::sensitivitylevel,
             d.requires_approval, d.extra_metadata::%s,
             sark_seed.anchor() - interval '720 hours' + (d.ordinality * interval '1 minute'),
             sark_seed.anchor() - interval '480 hours' + (d.ordinality * interval '1 minute')
        FROM sark_seed.dirty_tool_rows() WITH ORDINALITY AS d
       WHERE d.orphan = $1
      ON CONFLICT (id) DO NOTHING
      RETURNING split_part(name, '-', 2) AS c$q$,
      v_params, sark_seed.column_type('mcp_tools', v_params),
      sark_seed.column_type('mcp_tools', 'extra_metadata'));

  -- Tools of existing (dirty) servers.
  FOR v_rec IN EXECUTE v_cols USING false LOOP
    v_counts := jsonb_set(v_counts, ARRAY[v_rec.c], to_jsonb(coalesce((v_counts ->> v_rec.c)::bigint, 0) + 1));
  END LOOP;

  -- Orphans: only when not there yet, so a second call leaves the schema alone. The foreign key
  -- is dropped, the orphans written, and the very same constraint (name, columns, ON DELETE
  -- CASCADE) added back NOT VALID: existing rows unchecked, new rows still checked.
  IF NOT EXISTS (SELECT 1 FROM mcp_tools t
                  WHERE t.id IN (SELECT sark_seed.uuid_for_name('dirty/mcp_tools', d.name)
                                   FROM sark_seed.dirty_tool_rows() d WHERE d.orphan)) THEN
    FOR v_fk IN
      SELECT c.conname, regexp_replace(pg_get_constraintdef(c.oid), '\s+NOT VALID\s*$', '') AS def
        FROM pg_catalog.pg_constraint c
       WHERE c.conrelid = to_regclass('mcp_tools') AND c.contype = 'f'
         AND c.confrelid = to_regclass('mcp_servers')
    LOOP
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', to_regclass('mcp_tools'), v_fk.conname);
      v_fknames := v_fknames || v_fk.conname::text;
      v_fkdefs  := v_fkdefs || v_fk.def;
    END LOOP;

    FOR v_rec IN EXECUTE v_cols USING true LOOP
      v_counts := jsonb_set(v_counts, ARRAY[v_rec.c], to_jsonb(coalesce((v_counts ->> v_rec.c)::bigint, 0) + 1));
    END LOOP;

    FOR i IN 1 .. coalesce(array_length(v_fknames, 1), 0) LOOP
      EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', to_regclass('mcp_tools'), v_fknames[i], v_fkdefs[i]);
      RAISE NOTICE 'sark_seed.seed_dirty: foreign key % on % re-added NOT VALID (orphan tools present)',
        v_fknames[i], to_regclass('mcp_tools');
    END LOOP;
  END IF;

  RETURN QUERY
    SELECT c.dirty_case, coalesce((v_counts ->> c.dirty_case)::bigint, 0)
      FROM unnest(ARRAY['no_endpoint', 'blank_endpoint', 'wrong_endpoint', 'metadata_collision',
                        'extra_metadata_not_object', 'tags_wrong_type', 'capabilities_wrong_type',
                        'large_json', 'awkward_text', 'orphan_tool', 'tool_parameters_not_object',
                        'json_nul_escape', 'json_duplicate_keys']) WITH ORDINALITY AS c(dirty_case, ord)
     ORDER BY c.ord;
END
$fn$;
COMMENT ON FUNCTION sark_seed.seed_dirty() IS
$c$Adds a few awkward v1 rows per case and returns the rows (servers + tools) this call added per case;
idempotent (deterministic ids, ON CONFLICT DO NOTHING): a second call adds nothing.
Every row's name starts with dirty-<case>-<N> (tools: dirty-<case>-<N>-tool-<M>), so
split_part(name, '-', 2) is the case. Cases:
  no_endpoint                 http, stdio, sse servers with neither command nor endpoint; 2 tools each
  blank_endpoint              endpoint '' (http), command '   ' (stdio)
  wrong_endpoint              stdio with only an endpoint; http and sse with only a command; 1 tool each
  metadata_collision          extra_metadata with keys status, transport, endpoint, tags, name, description,
                              "_v1" and every other mapped v1 key; a tool whose metadata has the tool keys
  extra_metadata_not_object   extra_metadata a JSON array, string, number, null (JSON, not SQL), boolean;
                              tools with array / null metadata
  tags_wrong_type             tags an object, a string
  capabilities_wrong_type     capabilities an object, a string
  large_json                  server extra_metadata ~2 MB, its tool's parameters ~1 MB
  awkward_text                quotes, backslashes, %, newlines, tabs, emoji, CJK, RTL, zero-width; a tool name of
                              exactly 255 (multibyte) characters and description of exactly 1000
  orphan_tool                 3 tools whose server_id matches no server
  tool_parameters_not_object  tools whose parameters is a JSON array (host server itself clean)
  json_nul_escape             only when mcp_servers.extra_metadata is json: a \u0000 escape jsonb cannot hold
  json_duplicate_keys         only when mcp_servers.extra_metadata is json: repeated keys
SCHEMA CHANGE: orphan_tool drops the mcp_tools -> mcp_servers foreign key and re-adds it NOT VALID.$c$;
