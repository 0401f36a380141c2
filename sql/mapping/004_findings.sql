-- 004_findings.sql
--
-- What:     the dirty-data findings, as views that return one row per finding per v1 row
--           (source_id NULL for findings about the schema):
--             sark_migration.findings(finding, severity, action, source_table, source_id, message)
--           action: 'quarantine' = the row is held back (refresh_quarantine() copies these rows
--           into sark_migration.quarantine and the copy skips them); 'migrate' = migrates
--           losslessly, worth a warning; 'note' = information.
--           severity uses the report's scale: info | warning | error.
--           The quarantine classes alone are in findings_servers_quarantine and
--           findings_tools_quarantine, which is all refresh_quarantine() evaluates.
--           Checks that depend on the schema variant (json columns, column widths) are generated
--           from the catalog into sark_migration.findings_variant by the DO block below.
-- Requires: 001 .. 003. The v2 tables are optional (findings_v2 is empty without them), so
--           preflight can scan a v1-only database.
-- Runs:     in a transaction; idempotent. Read-only views: evaluating them writes nothing.

-- First duplicated object key anywhere in a json value, as a path ('a', 'a.b', 'list[2].k');
-- NULL when there is none. jsonb keeps only the last of duplicate keys, silently.
CREATE OR REPLACE FUNCTION sark_migration.json_duplicate_key(value json)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  dup  text;
  k    text;
  v    json;
  i    int := 0;
BEGIN
  -- A value jsonb cannot hold (\u0000, ...) cannot be read by the json functions either: it is
  -- reported as json_not_convertible instead.
  IF strpos(value::text, '\u') > 0 AND sark_migration.json_to_jsonb(value) IS NULL THEN
    RETURN NULL;
  END IF;
  IF json_typeof(value) = 'object' THEN
    SELECT key INTO dup FROM json_object_keys(value) AS key GROUP BY key HAVING count(*) > 1 LIMIT 1;
    IF dup IS NOT NULL THEN
      RETURN dup;
    END IF;
    FOR k, v IN SELECT e.key, e.value FROM json_each(value) AS e
                 WHERE json_typeof(e.value) IN ('object', 'array') LOOP
      dup := sark_migration.json_duplicate_key(v);
      IF dup IS NOT NULL THEN
        RETURN k || '.' || dup;
      END IF;
    END LOOP;
  ELSIF json_typeof(value) = 'array' THEN
    FOR v IN SELECT e FROM json_array_elements(value) AS e LOOP
      IF json_typeof(v) IN ('object', 'array') THEN
        dup := sark_migration.json_duplicate_key(v);
        IF dup IS NOT NULL THEN
          RETURN format('[%s].%s', i, dup);
        END IF;
      END IF;
      i := i + 1;
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION sark_migration.json_duplicate_key(json) IS
  'Path of the first duplicated object key in a json value (any depth), or NULL. Used for json (not jsonb) v1 columns.';

-- Variant-dependent checks, generated from the catalog. Always exists (empty when not needed).
DO $generate$
DECLARE
  branches text[] := '{}';
  c        record;
  lim      record;
BEGIN
  -- json (not jsonb) columns: duplicate keys, and values jsonb cannot hold.
  FOR c IN SELECT table_name, column_name FROM sark_migration.v1_columns
            WHERE type_oid = 'json'::regtype ORDER BY table_name, attnum LOOP
    branches := branches || format($b$
SELECT 'json_duplicate_keys'::text, 'error'::text, 'quarantine'::text, %1$L::text, x.id,
       format('%1$s %%s: json column %2$s has the key %%L twice (path %%s); jsonb keeps only the last '
              'value, so migrating it would silently drop data. Fix: rewrite %1$s.%2$s of this row '
              'without the duplicate (decide which value is right), then run data --execute again.',
              x.id, split_part(sark_migration.json_duplicate_key(x.%2$I), '.', -1)
                    , sark_migration.json_duplicate_key(x.%2$I))
FROM public.%1$I x
WHERE x.%2$I::text ~ ':.*:'
  AND sark_migration.json_duplicate_key(x.%2$I) IS NOT NULL$b$, c.table_name, c.column_name);
    branches := branches || format($b$
SELECT 'json_not_convertible'::text, 'error'::text, 'quarantine'::text, %1$L::text, x.id,
       format('%1$s %%s: json column %2$s holds a value jsonb cannot store (a \u0000 escape, an unpaired '
              'surrogate or a number out of numeric range). Fix: correct %1$s.%2$s of this row, then run '
              'data --execute again.', x.id)
FROM public.%1$I x
WHERE (strpos(x.%2$I::text, '\u') > 0 OR x.%2$I::text ~ '[eE][-+]?[0-9]{5}')
  AND sark_migration.json_to_jsonb(x.%2$I) IS NULL$b$, c.table_name, c.column_name);
  END LOOP;

  -- Values longer than the v2 column they go to. Only generated where the v1 column can hold
  -- more than the v2 column (not the case for the reference schemas: 255 -> 255, 500 -> 1000).
  FOR lim IN
    SELECT m.v1_table, m.v1_column, m.v2_table, m.v2_column, m.condition,
           v2a.atttypmod - 4 AS v2_len,
           CASE WHEN v1a.atttypmod > 4 THEN v1a.atttypmod - 4 END AS v1_len
    FROM (VALUES ('mcp_servers', 'name',     'resources',    'name',     'true'),
                 ('mcp_servers', 'command',  'resources',    'endpoint', $$lower(x.transport::text) = 'stdio'$$),
                 ('mcp_servers', 'endpoint', 'resources',    'endpoint', $$lower(x.transport::text) <> 'stdio'$$),
                 ('mcp_tools',   'name',     'capabilities', 'name',     'true'))
         AS m(v1_table, v1_column, v2_table, v2_column, condition)
    JOIN pg_catalog.pg_attribute v1a ON v1a.attrelid = to_regclass('public.' || m.v1_table)
                                    AND v1a.attname = m.v1_column AND NOT v1a.attisdropped
    JOIN pg_catalog.pg_attribute v2a ON v2a.attrelid = to_regclass('public.' || m.v2_table)
                                    AND v2a.attname = m.v2_column AND NOT v2a.attisdropped
    WHERE v2a.atttypmod > 4
      AND (v1a.atttypmod <= 4 OR v1a.atttypmod > v2a.atttypmod)
  LOOP
    branches := branches || format($b$
SELECT 'value_too_long'::text, 'error'::text, 'quarantine'::text, %1$L::text, x.id,
       format('%1$s %%s: %2$s is %%s characters, longer than v2 %3$s.%4$s (varchar(%5$s)), which would '
              'refuse it. Fix: shorten %1$s.%2$s of this row, then run data --execute again.',
              x.id, char_length(x.%2$I))
FROM public.%1$I x
WHERE %6$s AND char_length(x.%2$I) > %5$s$b$,
      lim.v1_table, lim.v1_column, lim.v2_table, lim.v2_column, lim.v2_len, lim.condition);
  END LOOP;

  IF cardinality(branches) = 0 THEN
    branches := ARRAY[$b$
SELECT NULL::text, NULL::text, NULL::text, NULL::text, NULL::uuid, NULL::text WHERE false$b$];
  END IF;

  EXECUTE 'CREATE OR REPLACE VIEW sark_migration.findings_variant '
          '(finding, severity, action, source_table, source_id, message) AS '
          || array_to_string(branches, E'\nUNION ALL');
END
$generate$;
COMMENT ON VIEW sark_migration.findings_variant IS
  'Quarantine findings that depend on the schema variant (json_duplicate_keys, json_not_convertible, '
  'value_too_long); generated from the catalog by 004_findings.sql.';

-- ---------------------------------------------------------------------------------------------
-- Quarantine classes: the rows the copy must not write.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE VIEW sark_migration.findings_servers_quarantine AS
SELECT 'no_endpoint'::text AS finding, 'error'::text AS severity, 'quarantine'::text AS action,
       'mcp_servers'::text AS source_table, s.id AS source_id,
       format('Server %s (%L, transport %s) has neither a command nor an endpoint (both NULL or blank); v2 '
              'resources.endpoint is NOT NULL, so there is nothing to migrate it to. Fix: set mcp_servers.%s of this server '
              '(or delete the server if it is unused), then run data --execute again.',
              s.id, left(s.name, 80), s.transport,
              CASE WHEN lower(s.transport::text) = 'stdio' THEN 'command' ELSE 'endpoint' END) AS message
FROM sark_migration.v1_servers s
WHERE COALESCE(btrim(s.command, E' \t\r\n'), '') = ''
  AND COALESCE(btrim(s.endpoint, E' \t\r\n'), '') = ''
UNION ALL
SELECT 'endpoint_transport_mismatch', 'error', 'quarantine', 'mcp_servers', s.id,
       CASE WHEN lower(s.transport::text) = 'stdio' THEN
         format('Server %s (%L) has transport stdio but no command, only the endpoint %L; a stdio '
                'server''s v2 endpoint is its command, and the migration does not guess. Fix: set '
                'mcp_servers.command, or set transport to http/sse if %L is the server''s URL.',
                s.id, left(s.name, 80), left(s.endpoint, 200), left(s.endpoint, 200))
       ELSE
         format('Server %s (%L) has transport %s but no endpoint, only the command %L; an %s server''s '
                'v2 endpoint is its URL, and the migration does not guess. Fix: set mcp_servers.endpoint, '
                'or set transport to stdio if %L is how the server is started.',
                s.id, left(s.name, 80), s.transport, left(s.command, 200), s.transport, left(s.command, 200))
       END
FROM sark_migration.v1_servers s
WHERE CASE WHEN lower(s.transport::text) = 'stdio'
           THEN COALESCE(btrim(s.command,  E' \t\r\n'), '') = '' AND COALESCE(btrim(s.endpoint, E' \t\r\n'), '') <> ''
           ELSE COALESCE(btrim(s.endpoint, E' \t\r\n'), '') = '' AND COALESCE(btrim(s.command,  E' \t\r\n'), '') <> ''
      END
UNION ALL
SELECT 'missing_required_value', 'error', 'quarantine', 'mcp_servers', s.id,
       format('Server %s (%L): %s NULL, but v1 declares NOT NULL and the v2 row needs a value (for JSON '
              'columns, SQL NULL and JSON null would become indistinguishable). Fix: set the value(s) on '
              'the v1 row (e.g. ''[]'' for tags/capabilities, ''{}'' for extra_metadata), then run '
              'data --execute again.',
              s.id, left(s.name, 80),
              concat_ws(', ',
                CASE WHEN s.name IS NULL THEN 'name' END,
                CASE WHEN s.sensitivity_level IS NULL THEN 'sensitivity_level' END,
                CASE WHEN s.created_at IS NULL THEN 'created_at' END,
                CASE WHEN s.updated_at IS NULL THEN 'updated_at' END,
                CASE WHEN s.capabilities IS NULL THEN 'capabilities' END,
                CASE WHEN s.tags IS NULL THEN 'tags' END,
                CASE WHEN s.extra_metadata IS NULL THEN 'extra_metadata' END)
              || CASE WHEN (s.name IS NULL)::int + (s.sensitivity_level IS NULL)::int + (s.created_at IS NULL)::int
                         + (s.updated_at IS NULL)::int + (s.capabilities IS NULL)::int + (s.tags IS NULL)::int
                         + (s.extra_metadata IS NULL)::int > 1 THEN ' are' ELSE ' is' END)
FROM sark_migration.v1_servers s
WHERE s.name IS NULL OR s.sensitivity_level IS NULL OR s.created_at IS NULL OR s.updated_at IS NULL
   OR ((s.capabilities IS NULL OR s.tags IS NULL OR s.extra_metadata IS NULL)
       -- a json value jsonb cannot hold is NULL in v1_servers: that is json_not_convertible
       AND NOT EXISTS (SELECT 1 FROM sark_migration.findings_variant fv
                        WHERE fv.finding = 'json_not_convertible' AND fv.source_id = s.id))
UNION ALL
SELECT f.* FROM sark_migration.findings_variant f WHERE f.source_table = 'mcp_servers';
COMMENT ON VIEW sark_migration.findings_servers_quarantine IS
  'Findings that hold an mcp_servers row back from the copy (action = quarantine).';

CREATE OR REPLACE VIEW sark_migration.findings_tools_quarantine AS
SELECT 'orphan_tool'::text AS finding, 'error'::text AS severity, 'quarantine'::text AS action,
       'mcp_tools'::text AS source_table, t.id AS source_id,
       format('Tool %s (%L) references server %s, which does not exist (the mcp_tools -> mcp_servers '
              'foreign key is missing or NOT VALID); a capability needs its resource. Fix: restore the '
              'server or delete the tool, then validate the foreign key, and run data --execute again.',
              t.id, left(t.name, 80), t.server_id) AS message
FROM sark_migration.v1_tools t
WHERE NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = t.server_id)
UNION ALL
SELECT 'server_quarantined', 'error', 'quarantine', 'mcp_tools', t.id,
       format('Tool %s (%L) belongs to server %s, which is quarantined (%s); a capability cannot exist '
              'without its resource. Fix the server and this tool migrates with it.',
              t.id, left(t.name, 80), t.server_id, q.reasons)
FROM sark_migration.v1_tools t
JOIN (SELECT source_id, string_agg(DISTINCT finding, ', ') AS reasons
        FROM sark_migration.findings_servers_quarantine GROUP BY source_id) q
  ON q.source_id = t.server_id
UNION ALL
SELECT 'missing_required_value', 'error', 'quarantine', 'mcp_tools', t.id,
       format('Tool %s (%L): %s NULL, but v1 declares NOT NULL and the v2 row needs a value (for JSON '
              'columns, SQL NULL and JSON null would become indistinguishable). Fix: set the value(s) on '
              'the v1 row, then run data --execute again.',
              t.id, left(t.name, 80),
              concat_ws(', ',
                CASE WHEN t.name IS NULL THEN 'name' END,
                CASE WHEN t.sensitivity_level IS NULL THEN 'sensitivity_level' END,
                CASE WHEN t.parameters IS NULL THEN 'parameters' END,
                CASE WHEN t.extra_metadata IS NULL THEN 'extra_metadata' END)
              || CASE WHEN (t.name IS NULL)::int + (t.sensitivity_level IS NULL)::int
                         + (t.parameters IS NULL)::int + (t.extra_metadata IS NULL)::int > 1
                      THEN ' are' ELSE ' is' END)
FROM sark_migration.v1_tools t
WHERE t.name IS NULL OR t.sensitivity_level IS NULL
   OR ((t.parameters IS NULL OR t.extra_metadata IS NULL)
       -- a json value jsonb cannot hold is NULL in v1_tools: that is json_not_convertible
       AND NOT EXISTS (SELECT 1 FROM sark_migration.findings_variant fv
                        WHERE fv.finding = 'json_not_convertible' AND fv.source_id = t.id))
UNION ALL
-- v2's capabilities.input_schema must be an object: SARK's CapabilitySchema rejects anything else.
SELECT 'parameters_not_object', 'error', 'quarantine', 'mcp_tools', t.id,
       format('Tool %s (%L): parameters is a JSON %s, not a JSON Schema object, and SARK''s v2 code accepts '
              'only an object as capabilities.input_schema (its CapabilitySchema rejects the row). Fix: make '
              'it an object in v1 (an array of argument names becomes {"type": "object", "properties": '
              '{...}}), then run data --execute again.', t.id, left(t.name, 80), jsonb_typeof(t.parameters))
FROM sark_migration.v1_tools t
WHERE jsonb_typeof(t.parameters) <> 'object'
UNION ALL
SELECT f.* FROM sark_migration.findings_variant f WHERE f.source_table = 'mcp_tools';
COMMENT ON VIEW sark_migration.findings_tools_quarantine IS
  'Findings that hold an mcp_tools row back from the copy (action = quarantine), including tools '
  'whose server does not exist (orphan_tool) or is itself quarantined (server_quarantined).';

-- Findings that read the v2 tables. Generated, so that the findings also work on a database that
-- has no v2 tables yet (preflight before schema up): then this is an empty view.
DO $generate$
BEGIN
  IF to_regclass('public.resources') IS NOT NULL AND to_regclass('public.capabilities') IS NOT NULL THEN
    EXECUTE $view$
CREATE OR REPLACE VIEW sark_migration.findings_v2 (finding, severity, action, source_table, source_id, message) AS
SELECT 'v2_row_preexisting'::text, 'warning'::text, 'migrate'::text, 'mcp_servers'::text, s.id,
       CASE WHEN EXISTS (SELECT 1 FROM sark_migration.findings_servers_quarantine q WHERE q.source_id = s.id)
       THEN format('resources row %s exists and was not written by this migration (e.g. the Alembic 006 '
                   'auto-copy), and its v1 server is quarantined: the copy leaves it as it is (it may hold '
                   'the faulty public mapping) until the v1 row is fixed; its image is saved for rollback.', r.id)
       ELSE format('resources row %s exists and was not written by this migration (e.g. the Alembic 006 '
                   'auto-copy). The copy overwrites it with the correct mapping after saving its current '
                   'image in sark_migration.preexisting_rows; rollback restores that image.', r.id)
       END
FROM public.resources r
JOIN sark_migration.v1_servers s ON r.id = s.id::text
WHERE NOT sark_migration.is_migrated('resources', r.id, r.metadata)
UNION ALL
SELECT 'v2_row_preexisting', 'warning', 'migrate', 'mcp_tools', t.id,
       CASE WHEN EXISTS (SELECT 1 FROM sark_migration.findings_tools_quarantine q WHERE q.source_id = t.id)
       THEN format('capabilities row %s exists and was not written by this migration (e.g. the Alembic 006 '
                   'auto-copy), and its v1 tool is quarantined: the copy leaves it as it is (it may hold '
                   'the faulty public mapping) until the v1 row is fixed; its image is saved for rollback.', c.id)
       ELSE format('capabilities row %s exists and was not written by this migration (e.g. the Alembic 006 '
                   'auto-copy). The copy overwrites it with the correct mapping after saving its current '
                   'image in sark_migration.preexisting_rows; rollback restores that image.', c.id)
       END
FROM public.capabilities c
JOIN sark_migration.v1_tools t ON c.id = t.id::text
WHERE NOT sark_migration.is_migrated('capabilities', c.id, c.metadata)
UNION ALL
SELECT 'stale_v2_row', 'warning', 'note', 'mcp_servers', q.source_id,
       format('resources row %s was migrated earlier, but its v1 server is now quarantined (%s); the copy '
              'leaves the v2 row as it is until the v1 row is fixed.', r.id, q.reasons)
FROM (SELECT source_id, string_agg(DISTINCT finding, ', ') AS reasons
        FROM sark_migration.findings_servers_quarantine GROUP BY source_id) q
JOIN public.resources r ON r.id = q.source_id::text
WHERE sark_migration.is_migrated('resources', r.id, r.metadata)
UNION ALL
SELECT 'stale_v2_row', 'warning', 'note', 'mcp_tools', q.source_id,
       format('capabilities row %s was migrated earlier, but its v1 tool is now quarantined (%s); the copy '
              'leaves the v2 row as it is until the v1 row is fixed.', c.id, q.reasons)
FROM (SELECT source_id, string_agg(DISTINCT finding, ', ') AS reasons
        FROM sark_migration.findings_tools_quarantine GROUP BY source_id) q
JOIN public.capabilities c ON c.id = q.source_id::text
WHERE sark_migration.is_migrated('capabilities', c.id, c.metadata)
$view$;
  ELSE
    EXECUTE $view$
CREATE OR REPLACE VIEW sark_migration.findings_v2 (finding, severity, action, source_table, source_id, message) AS
SELECT NULL::text, NULL::text, NULL::text, NULL::text, NULL::uuid, NULL::text WHERE false
$view$;
  END IF;
END
$generate$;
COMMENT ON VIEW sark_migration.findings_v2 IS
  'Findings about v2 rows (v2_row_preexisting, stale_v2_row); empty while the v2 tables do not exist. '
  'Generated by 004_findings.sql.';

-- ---------------------------------------------------------------------------------------------
-- Everything: schema-level notes, quarantine classes, and rows that migrate with a warning.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE VIEW sark_migration.findings AS
-- Schema level --------------------------------------------------------------------------------
SELECT 'json_columns'::text AS finding, 'info'::text AS severity, 'note'::text AS action,
       NULL::text AS source_table, NULL::uuid AS source_id,
       format('Columns %s are json, not jsonb. They are migrated as jsonb, which normalizes whitespace '
              'and key order and keeps only the last of duplicate keys; rows whose json has a duplicate '
              'key are quarantined (json_duplicate_keys), so no value is dropped silently.',
              array_to_string(v.json_columns, ', ')) AS message
FROM sark_migration.v1_variant v
WHERE cardinality(v.json_columns) > 0
UNION ALL
SELECT 'parameters_schema_variant', 'info', 'note', 'mcp_tools', NULL,
       'mcp_tools has parameters_schema (Alembic revision 001) instead of parameters (the application '
       'model); it migrates to capabilities.input_schema all the same.'
FROM sark_migration.v1_variant v
WHERE v.tools_parameters_column = 'parameters_schema'
UNION ALL
SELECT 'invocation_columns_absent', 'info', 'note', 'mcp_tools', NULL,
       'mcp_tools has no invocation_count / last_invoked (Alembic revision 001); capabilities.metadata '
       'gets invocation_count and last_invoked as null.'
FROM sark_migration.v1_variant v
WHERE NOT v.tools_has_invocation_columns
UNION ALL
SELECT 'tools_fk_missing', 'warning', 'note', 'mcp_tools', NULL,
       'mcp_tools has no foreign key to mcp_servers, so tools may reference servers that do not exist '
       '(each is an orphan_tool finding). Fix after cleaning them: ALTER TABLE mcp_tools ADD FOREIGN KEY '
       '(server_id) REFERENCES mcp_servers (id) ON DELETE CASCADE.'
FROM sark_migration.v1_variant v
WHERE v.tools_server_fk = 'missing'
UNION ALL
SELECT 'tools_fk_not_valid', 'warning', 'note', 'mcp_tools', NULL,
       format('The foreign key %s of mcp_tools to mcp_servers is NOT VALID, so existing tools may reference '
              'servers that do not exist (each is an orphan_tool finding). Fix after cleaning them: ALTER '
              'TABLE mcp_tools VALIDATE CONSTRAINT %s.', con.conname, quote_ident(con.conname))
FROM pg_catalog.pg_constraint con
WHERE con.contype = 'f' AND NOT con.convalidated
  AND con.conrelid = to_regclass('public.mcp_tools') AND con.confrelid = to_regclass('public.mcp_servers')
UNION ALL
SELECT 'unmapped_v1_column', 'error', 'note', split_part(c, '.', 1), NULL,
       format('Column %s is not part of the SARK v1 schema and is NOT migrated: its values would not reach '
              'v2. Decide where it belongs (for example fold it into extra_metadata) before migrating.', c)
FROM sark_migration.v1_variant v, unnest(v.unmapped_columns) AS c
UNION ALL
SELECT 'v1_column_missing', 'warning', 'note', split_part(c, '.', 1), NULL,
       format('Column %s does not exist in this database; the mapping treats it as NULL.', c)
FROM sark_migration.v1_variant v, unnest(v.missing_columns) AS c
WHERE c NOT IN ('mcp_tools.invocation_count', 'mcp_tools.last_invoked')
-- Quarantine ----------------------------------------------------------------------------------
UNION ALL
SELECT * FROM sark_migration.findings_servers_quarantine
UNION ALL
SELECT * FROM sark_migration.findings_tools_quarantine
-- Migrates, with a warning ----------------------------------------------------------------------
UNION ALL
SELECT 'extra_metadata_key_collision', 'warning', 'migrate', 'mcp_servers', s.id,
       format('Server %s (%L): extra_metadata has the key(s) %s, which are core metadata keys. The core '
              'values stay at the top level of resources.metadata; the extra values are kept under '
              'metadata._v1.extra_metadata_collisions (nothing is lost). Rename the keys in v1 if the v2 '
              'application should see them.',
              s.id, left(s.name, 80),
              (SELECT string_agg(quote_ident(k), ', ' ORDER BY k) FROM jsonb_object_keys(s.extra_metadata) AS k
                WHERE k = ANY (sark_migration.core_keys('mcp_servers'))))
FROM sark_migration.v1_servers s
WHERE jsonb_typeof(s.extra_metadata) = 'object'
  AND s.extra_metadata ?| sark_migration.core_keys('mcp_servers')
UNION ALL
SELECT 'extra_metadata_key_collision', 'warning', 'migrate', 'mcp_tools', t.id,
       format('Tool %s (%L): extra_metadata has the key(s) %s, which are core metadata keys. The core '
              'values stay at the top level of capabilities.metadata; the extra values are kept under '
              'metadata._v1.extra_metadata_collisions (nothing is lost). Rename the keys in v1 if the v2 '
              'application should see them.',
              t.id, left(t.name, 80),
              (SELECT string_agg(quote_ident(k), ', ' ORDER BY k) FROM jsonb_object_keys(t.extra_metadata) AS k
                WHERE k = ANY (sark_migration.core_keys('mcp_tools'))))
FROM sark_migration.v1_tools t
WHERE jsonb_typeof(t.extra_metadata) = 'object'
  AND t.extra_metadata ?| sark_migration.core_keys('mcp_tools')
UNION ALL
SELECT 'extra_metadata_not_object', 'warning', 'migrate', 'mcp_servers', s.id,
       format('Server %s (%L): extra_metadata is a JSON %s, not an object; it is kept unchanged under '
              'resources.metadata._v1.extra_metadata, and none of it appears as top-level keys. Make it an '
              'object in v1 if the v2 application should read it.',
              s.id, left(s.name, 80), jsonb_typeof(s.extra_metadata))
FROM sark_migration.v1_servers s
WHERE jsonb_typeof(s.extra_metadata) <> 'object'
UNION ALL
SELECT 'extra_metadata_not_object', 'warning', 'migrate', 'mcp_tools', t.id,
       format('Tool %s (%L): extra_metadata is a JSON %s, not an object; it is kept unchanged under '
              'capabilities.metadata._v1.extra_metadata, and none of it appears as top-level keys. Make it '
              'an object in v1 if the v2 application should read it.',
              t.id, left(t.name, 80), jsonb_typeof(t.extra_metadata))
FROM sark_migration.v1_tools t
WHERE jsonb_typeof(t.extra_metadata) <> 'object'
UNION ALL
SELECT 'tags_not_array', 'warning', 'migrate', 'mcp_servers', s.id,
       format('Server %s (%L): tags is a JSON %s, not an array; it migrates unchanged to metadata.tags, '
              'where v2 readers expecting a list may trip. Make it an array in v1 to fix.',
              s.id, left(s.name, 80), jsonb_typeof(s.tags))
FROM sark_migration.v1_servers s
WHERE jsonb_typeof(s.tags) <> 'array'
UNION ALL
SELECT 'capabilities_not_array', 'warning', 'migrate', 'mcp_servers', s.id,
       format('Server %s (%L): capabilities is a JSON %s, not an array; it migrates unchanged to '
              'metadata.capabilities, where v2 readers expecting a list may trip. Make it an array in v1 '
              'to fix.', s.id, left(s.name, 80), jsonb_typeof(s.capabilities))
FROM sark_migration.v1_servers s
WHERE jsonb_typeof(s.capabilities) <> 'array'

UNION ALL
SELECT * FROM sark_migration.findings_v2
-- Information ------------------------------------------------------------------------------------
UNION ALL
SELECT 'large_json', 'info', 'migrate', 'mcp_servers', s.id,
       format('Server %s (%L): %s is %s of JSON; it migrates unchanged (a slow row for the copy and a '
              'large resources.metadata value).', s.id, left(s.name, 80), j.col, pg_size_pretty(j.bytes))
FROM sark_migration.v1_servers s
CROSS JOIN LATERAL (VALUES ('capabilities', s.capabilities), ('tags', s.tags), ('extra_metadata', s.extra_metadata))
     AS v(col, val)
CROSS JOIN LATERAL (SELECT v.col, octet_length(v.val::text)::bigint AS bytes) j
WHERE pg_column_size(v.val) > 1024 AND j.bytes > 1048576
UNION ALL
SELECT 'large_json', 'info', 'migrate', 'mcp_tools', t.id,
       format('Tool %s (%L): %s is %s of JSON; it migrates unchanged (a slow row for the copy and a large '
              'capabilities value).', t.id, left(t.name, 80), j.col, pg_size_pretty(j.bytes))
FROM sark_migration.v1_tools t
CROSS JOIN LATERAL (VALUES ('parameters', t.parameters), ('extra_metadata', t.extra_metadata)) AS v(col, val)
CROSS JOIN LATERAL (SELECT v.col, octet_length(v.val::text)::bigint AS bytes) j
WHERE pg_column_size(v.val) > 1024 AND j.bytes > 1048576
UNION ALL
SELECT 'special_characters', 'info', 'migrate', 'mcp_servers', s.id,
       format('Server %s: its name or description contains quotes, backslashes, control characters (newline, '
              'tab) or non-ASCII text; they migrate byte-exact.', s.id)
FROM sark_migration.v1_servers s
WHERE s.name ~ '[''"\\[:cntrl:]]' OR octet_length(s.name) <> char_length(s.name)
   OR s.description ~ '[''"\\[:cntrl:]]' OR octet_length(s.description) <> char_length(s.description)
UNION ALL
SELECT 'special_characters', 'info', 'migrate', 'mcp_tools', t.id,
       format('Tool %s: its name or description contains quotes, backslashes, control characters (newline, '
              'tab) or non-ASCII text; they migrate byte-exact.', t.id)
FROM sark_migration.v1_tools t
WHERE t.name ~ '[''"\\[:cntrl:]]' OR octet_length(t.name) <> char_length(t.name)
   OR t.description ~ '[''"\\[:cntrl:]]' OR octet_length(t.description) <> char_length(t.description);
COMMENT ON VIEW sark_migration.findings IS
  'Every dirty-data finding, one row per finding per v1 row (source_id NULL: about the schema). '
  'action: quarantine (held back, see sark_migration.quarantine) | migrate (migrates losslessly, warning) '
  '| note. severity: info | warning | error. Read-only.';
COMMENT ON COLUMN sark_migration.findings.finding IS 'finding code, stable: scripts may match on it';
COMMENT ON COLUMN sark_migration.findings.severity IS 'info | warning | error (the validation report scale)';
COMMENT ON COLUMN sark_migration.findings.action IS 'quarantine | migrate | note';
COMMENT ON COLUMN sark_migration.findings.source_table IS 'mcp_servers | mcp_tools | NULL (whole database)';
COMMENT ON COLUMN sark_migration.findings.source_id IS 'v1 primary key of the row, NULL for schema-level findings';
COMMENT ON COLUMN sark_migration.findings.message IS 'what is wrong and how to fix it';

-- The other findings views have the columns of sark_migration.findings: same comments.
DO $comment$
DECLARE
  v record;
BEGIN
  FOR v IN SELECT c.relname AS view_name, a.attname AS column_name,
                  col_description('sark_migration.findings'::regclass, a.attnum) AS text
             FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
            WHERE c.relnamespace = 'sark_migration'::regnamespace
              AND c.relname IN ('findings_variant', 'findings_servers_quarantine', 'findings_tools_quarantine',
                                'findings_v2') LOOP
    EXECUTE format('COMMENT ON COLUMN sark_migration.%I.%I IS %L', v.view_name, v.column_name, v.text);
  END LOOP;
END
$comment$;
