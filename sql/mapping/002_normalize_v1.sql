-- 002_normalize_v1.sql
--
-- What:     exposes the v1 tables public.mcp_servers / public.mcp_tools through two views with
--           ONE shape whatever variant the database is (Alembic 001 or the SQLAlchemy model):
--             sark_migration.v1_servers, sark_migration.v1_tools
--           * every JSON column as jsonb (json columns are converted, once per row, by json_row();
--             a json value jsonb cannot hold, e.g. "\u0000", shows as NULL here and is
--             quarantined by 004);
--           * the tools' JSON Schema column as "parameters", whichever of parameters /
--             parameters_schema exists;
--           * invocation_count / last_invoked as NULL when the columns are absent.
--           The variant itself is queryable: sark_migration.v1_variant (live catalog view).
-- Requires: 001; the v1 tables public.mcp_servers and public.mcp_tools.
-- Runs:     in a transaction; idempotent. Views are (re)generated from the catalog by a DO
--           block, so re-run this file (and the ones after it) after any v1 DDL change.
--           The views depend on the v1 columns: decommissioning v1 must drop schema
--           sark_migration first (or CASCADE).

-- The v1 columns this migration knows, in the order the normalized views expose them.
CREATE OR REPLACE VIEW sark_migration.v1_expected_columns AS
SELECT *
FROM (VALUES
  ('mcp_servers',  1, 'id',                'uuid',             true),
  ('mcp_servers',  2, 'name',              'varchar(255)',     true),
  ('mcp_servers',  3, 'description',       'varchar(1000)',    false),
  ('mcp_servers',  4, 'transport',         'transporttype',    true),
  ('mcp_servers',  5, 'endpoint',          'varchar(500)',     false),
  ('mcp_servers',  6, 'command',           'varchar(500)',     false),
  ('mcp_servers',  7, 'mcp_version',       'varchar(20)',      false),
  ('mcp_servers',  8, 'capabilities',      'jsonb',            false),
  ('mcp_servers',  9, 'sensitivity_level', 'sensitivitylevel', true),
  ('mcp_servers', 10, 'signature',         'varchar(1000)',    false),
  ('mcp_servers', 11, 'status',            'serverstatus',     false),
  ('mcp_servers', 12, 'health_endpoint',   'varchar(500)',     false),
  ('mcp_servers', 13, 'last_health_check', 'timestamptz',      false),
  ('mcp_servers', 14, 'owner_id',          'uuid',             false),
  ('mcp_servers', 15, 'team_id',           'uuid',             false),
  ('mcp_servers', 16, 'consul_id',         'varchar(255)',     false),
  ('mcp_servers', 17, 'tags',              'jsonb',            false),
  ('mcp_servers', 18, 'extra_metadata',    'jsonb',            false),
  ('mcp_servers', 19, 'created_at',        'timestamptz',      true),
  ('mcp_servers', 20, 'updated_at',        'timestamptz',      true),
  ('mcp_tools',    1, 'id',                'uuid',             true),
  ('mcp_tools',    2, 'server_id',         'uuid',             true),
  ('mcp_tools',    3, 'name',              'varchar(255)',     true),
  ('mcp_tools',    4, 'description',       'text',             false),
  ('mcp_tools',    5, 'parameters',        'jsonb',            false),
  ('mcp_tools',    6, 'sensitivity_level', 'sensitivitylevel', true),
  ('mcp_tools',    7, 'requires_approval', 'boolean',          false),
  ('mcp_tools',    8, 'signature',         'varchar(1000)',    false),
  ('mcp_tools',    9, 'invocation_count',  'integer',          false),
  ('mcp_tools',   10, 'last_invoked',      'timestamptz',      false),
  ('mcp_tools',   11, 'extra_metadata',    'jsonb',            false),
  ('mcp_tools',   12, 'created_at',        'timestamptz',      true),
  ('mcp_tools',   13, 'updated_at',        'timestamptz',      true)
) AS c(table_name, ordinal, column_name, expected_type, required);
COMMENT ON VIEW sark_migration.v1_expected_columns IS
  'The v1 columns the mapping knows, in the column order of v1_servers / v1_tools. '
  'required = the migration cannot run without it.';
COMMENT ON COLUMN sark_migration.v1_expected_columns.table_name IS 'mcp_servers or mcp_tools';
COMMENT ON COLUMN sark_migration.v1_expected_columns.ordinal IS 'position in the normalized view';
COMMENT ON COLUMN sark_migration.v1_expected_columns.column_name IS 'column name in the normalized view';
COMMENT ON COLUMN sark_migration.v1_expected_columns.expected_type IS 'type per the SARK v1 schema (the type used when the column is absent)';
COMMENT ON COLUMN sark_migration.v1_expected_columns.required IS 'true: without it the migration refuses to run';

-- The actual v1 columns, live from the catalog.
CREATE OR REPLACE VIEW sark_migration.v1_columns AS
SELECT c.relname::text                       AS table_name,
       a.attnum                              AS attnum,
       a.attname::text                       AS column_name,
       format_type(a.atttypid, a.atttypmod)  AS column_type,
       a.atttypid::regtype                   AS type_oid,
       a.attnotnull                          AS not_null
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
WHERE n.nspname = 'public'
  AND c.relname IN ('mcp_servers', 'mcp_tools')
  AND c.relkind IN ('r', 'p')
  AND a.attnum > 0
  AND NOT a.attisdropped;
COMMENT ON VIEW sark_migration.v1_columns IS 'Columns of public.mcp_servers / public.mcp_tools as the catalog has them now.';
COMMENT ON COLUMN sark_migration.v1_columns.table_name IS 'mcp_servers or mcp_tools';
COMMENT ON COLUMN sark_migration.v1_columns.attnum IS 'column number';
COMMENT ON COLUMN sark_migration.v1_columns.column_name IS 'column name';
COMMENT ON COLUMN sark_migration.v1_columns.column_type IS 'declared type, e.g. character varying(255)';
COMMENT ON COLUMN sark_migration.v1_columns.type_oid IS 'type, for comparisons (json vs jsonb)';
COMMENT ON COLUMN sark_migration.v1_columns.not_null IS 'NOT NULL constraint present';

-- Enum labels. An Alembic-built v1 database has lower-case labels ('http', 'medium'); one built
-- by SARK's models (create_all) has the Python member names ('HTTP', 'MEDIUM'), and its
-- application writes those. v2 always holds the lower-case value (the mapping folds case, 003);
-- whatever goes back into v1 (the inverse mapping 005, the reverse sync) uses the label of the
-- v1 database itself, so a rollback restores v1 exactly. Labels of one type differ by more than
-- case in practice; should two differ only by case, the lower-case one is the one written back.
CREATE OR REPLACE FUNCTION sark_migration.v1_label(typ regtype, value text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT e.enumlabel::text
  FROM pg_catalog.pg_enum e
  WHERE e.enumtypid = typ AND lower(e.enumlabel) = lower(value)
  ORDER BY e.enumlabel = lower(e.enumlabel) DESC, e.enumsortorder
  LIMIT 1
$$;
COMMENT ON FUNCTION sark_migration.v1_label(regtype, text) IS
  'The label of enum type typ that stands for value in this database, whatever the case of either '
  '(v1_label(''transporttype'', ''stdio'') is ''STDIO'' in a model-built database); NULL if none.';

-- The same as an SQL expression for generated views and functions (005, sql/sync/003): a CASE over
-- this database's labels, evaluated without a catalog lookup per row; expr itself where the labels
-- are lower-case already.
CREATE OR REPLACE FUNCTION sark_migration.v1_label_sql(typ regtype, expr text)
RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN bool_and(l.label = l.lower) THEN format('(%s)', expr)
              ELSE format('CASE lower(%s) %s ELSE (%s) END', expr,
                          string_agg(format('WHEN %L THEN %L', l.lower, l.label), ' ' ORDER BY l.lower), expr) END
  FROM (SELECT DISTINCT ON (lower(e.enumlabel)) lower(e.enumlabel) AS lower, e.enumlabel::text AS label
          FROM pg_catalog.pg_enum e
         WHERE e.enumtypid = typ
         ORDER BY lower(e.enumlabel), e.enumlabel = lower(e.enumlabel) DESC, e.enumsortorder) l
$$;
COMMENT ON FUNCTION sark_migration.v1_label_sql(regtype, text) IS
  'SQL text mapping the (lower-case) text expression expr to the label of enum typ this database uses, '
  'for generated code; v1_label() as an expression.';

-- Which v1 variant this database is. One row.
CREATE OR REPLACE VIEW sark_migration.v1_variant AS
SELECT
  CASE
    WHEN EXISTS (SELECT 1 FROM sark_migration.v1_columns
                 WHERE table_name = 'mcp_tools' AND column_name = 'parameters') THEN 'parameters'
    WHEN EXISTS (SELECT 1 FROM sark_migration.v1_columns
                 WHERE table_name = 'mcp_tools' AND column_name = 'parameters_schema') THEN 'parameters_schema'
  END AS tools_parameters_column,
  (SELECT count(*) = 2 FROM sark_migration.v1_columns
    WHERE table_name = 'mcp_tools' AND column_name IN ('invocation_count', 'last_invoked'))
    AS tools_has_invocation_columns,
  ARRAY(SELECT table_name || '.' || column_name FROM sark_migration.v1_columns
         WHERE type_oid = 'json'::regtype ORDER BY table_name, attnum)
    AS json_columns,
  COALESCE((SELECT CASE WHEN bool_or(con.convalidated) THEN 'valid' ELSE 'not_valid' END
              FROM pg_catalog.pg_constraint con
             WHERE con.contype = 'f'
               AND con.conrelid = to_regclass('public.mcp_tools')
               AND con.confrelid = to_regclass('public.mcp_servers')),
           'missing') AS tools_server_fk,
  ARRAY(SELECT a.table_name || '.' || a.column_name FROM sark_migration.v1_columns a
         WHERE NOT EXISTS (SELECT 1 FROM sark_migration.v1_expected_columns e
                            WHERE e.table_name = a.table_name AND e.column_name = a.column_name)
           AND NOT (a.table_name = 'mcp_tools' AND a.column_name = 'parameters_schema'
                    AND NOT EXISTS (SELECT 1 FROM sark_migration.v1_columns p
                                     WHERE p.table_name = 'mcp_tools' AND p.column_name = 'parameters'))
         ORDER BY a.table_name, a.attnum)
    AS unmapped_columns,
  ARRAY(SELECT e.table_name || '.' || e.column_name FROM sark_migration.v1_expected_columns e
         WHERE NOT EXISTS (SELECT 1 FROM sark_migration.v1_columns a
                            WHERE a.table_name = e.table_name
                              AND (a.column_name = e.column_name
                                   OR (e.column_name = 'parameters' AND a.column_name = 'parameters_schema')))
         ORDER BY e.table_name, e.ordinal)
    AS missing_columns,
  (SELECT CASE WHEN bool_and(e.enumlabel = lower(e.enumlabel)) THEN 'lower'
               WHEN bool_and(e.enumlabel = upper(e.enumlabel)) THEN 'upper'
               ELSE 'mixed' END
     FROM pg_catalog.pg_enum e
    WHERE e.enumtypid IN (SELECT a.type_oid FROM sark_migration.v1_columns a
                           JOIN pg_catalog.pg_type t ON t.oid = a.type_oid WHERE t.typtype = 'e'))
    AS enum_labels;
COMMENT ON VIEW sark_migration.v1_variant IS
  'The v1 schema variant found in this database (live): which tools parameter column, whether '
  'the invocation columns exist, which columns are json (not jsonb), the state of the '
  'mcp_tools -> mcp_servers FK, v1 columns the mapping does not know (NOT migrated), known '
  'columns that are absent (exposed as NULL), and the case of the enum labels.';
COMMENT ON COLUMN sark_migration.v1_variant.tools_parameters_column IS 'parameters (application model) or parameters_schema (Alembic 001)';
COMMENT ON COLUMN sark_migration.v1_variant.tools_has_invocation_columns IS 'mcp_tools has invocation_count and last_invoked';
COMMENT ON COLUMN sark_migration.v1_variant.json_columns IS 'v1 columns of type json (not jsonb), as table.column';
COMMENT ON COLUMN sark_migration.v1_variant.tools_server_fk IS 'mcp_tools -> mcp_servers foreign key: valid | not_valid | missing';
COMMENT ON COLUMN sark_migration.v1_variant.unmapped_columns IS 'v1 columns the mapping does not know: NOT migrated (finding unmapped_v1_column)';
COMMENT ON COLUMN sark_migration.v1_variant.missing_columns IS 'known v1 columns absent here: exposed as NULL';
COMMENT ON COLUMN sark_migration.v1_variant.enum_labels IS
  'labels of the v1 enum types: lower (Alembic-built: http, medium) | upper (model-built: HTTP, MEDIUM) | mixed';

-- json -> jsonb for the values a plain cast cannot take (\u0000, lone surrogates, numbers out
-- of numeric range): NULL instead of an error, so one bad row cannot abort a scan. Only called
-- for values whose text contains "\u" or a 5+ digit exponent; every other value is cast inline.
CREATE OR REPLACE FUNCTION sark_migration.json_to_jsonb(value json)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
  RETURN value::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION sark_migration.json_to_jsonb(json) IS
  'value::jsonb, or NULL when jsonb cannot represent the value (such rows are quarantined as json_not_convertible).';

-- All json columns of one row -> jsonb, in one call. The normalized view reads a json table
-- through this function in a LATERAL join, so each value is parsed once per row however often
-- the mapping refers to it (inlined expressions would repeat the conversion), and the mapping
-- helpers can still be inlined (their argument is a cheap array subscript).
CREATE OR REPLACE FUNCTION sark_migration.json_row(VARIADIC value json[])
RETURNS jsonb[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  result jsonb[] := '{}';
  t      text;
BEGIN
  FOR i IN 1 .. cardinality(value) LOOP
    t := value[i]::text;
    IF t IS NULL THEN
      result := result || NULL::jsonb;
    ELSIF strpos(t, '\u') = 0 AND t !~ '[eE][-+]?[0-9]{5}' THEN
      result := result || t::jsonb;
    ELSE
      result := result || sark_migration.json_to_jsonb(value[i]);
    END IF;
  END LOOP;
  RETURN result;
END
$$;
COMMENT ON FUNCTION sark_migration.json_row(json[]) IS
  'The given json values as jsonb (NULL where jsonb cannot hold the value), in one call per row.';

DO $generate$
DECLARE
  t          text;
  alias      text;
  select_list text;
  e          record;
  col        record;
  expr       text;
  variant    record;
  json_cols  text[];
  from_list  text;
BEGIN
  IF to_regclass('public.mcp_servers') IS NULL OR to_regclass('public.mcp_tools') IS NULL THEN
    RAISE EXCEPTION 'sark_migration: v1 tables public.mcp_servers / public.mcp_tools not found'
      USING HINT = 'Run this on the SARK database, after the v1 schema (schema up to 005).';
  END IF;

  SELECT * INTO variant FROM sark_migration.v1_variant;

  FOREACH t IN ARRAY ARRAY['mcp_servers', 'mcp_tools'] LOOP
    alias := CASE t WHEN 'mcp_servers' THEN 's' ELSE 't' END;
    select_list := NULL;
    json_cols := '{}';
    FOR e IN SELECT * FROM sark_migration.v1_expected_columns WHERE table_name = t ORDER BY ordinal LOOP
      SELECT * INTO col FROM sark_migration.v1_columns a
       WHERE a.table_name = t
         AND a.column_name = CASE WHEN t = 'mcp_tools' AND e.column_name = 'parameters'
                                  THEN variant.tools_parameters_column ELSE e.column_name END;
      IF NOT FOUND THEN
        IF e.required THEN
          RAISE EXCEPTION 'sark_migration: column %.% is missing; cannot migrate this database', t, e.column_name;
        END IF;
        -- Absent in this variant (e.g. invocation_count before the model): NULL of the known type.
        expr := format('NULL::%s', e.expected_type);
      ELSIF col.type_oid = 'json'::regtype THEN
        -- Converted once per row by json_row() in the LATERAL join below.
        json_cols := json_cols || format('%s.%I', alias, col.column_name);
        expr := format('j.v[%s]', cardinality(json_cols));
      ELSE
        expr := format('%s.%I', alias, col.column_name);
      END IF;
      select_list := concat_ws(E',\n       ', select_list, format('%s AS %I', expr, e.column_name));
    END LOOP;

    from_list := format('public.%I %s', t, alias);
    IF cardinality(json_cols) > 0 THEN
      from_list := from_list || format(E'\nCROSS JOIN LATERAL sark_migration.json_row(%s) AS j(v)',
                                       array_to_string(json_cols, ', '));
    END IF;

    BEGIN
      EXECUTE format(E'CREATE OR REPLACE VIEW sark_migration.%I AS\nSELECT %s\nFROM %s',
                     CASE t WHEN 'mcp_servers' THEN 'v1_servers' ELSE 'v1_tools' END, select_list, from_list);
    EXCEPTION WHEN invalid_table_definition OR datatype_mismatch OR feature_not_supported THEN
      -- A column changed type since the last run: views over this one are recreated by 003..008.
      EXECUTE format('DROP VIEW sark_migration.%I CASCADE',
                     CASE t WHEN 'mcp_servers' THEN 'v1_servers' ELSE 'v1_tools' END);
      EXECUTE format(E'CREATE VIEW sark_migration.%I AS\nSELECT %s\nFROM %s',
                     CASE t WHEN 'mcp_servers' THEN 'v1_servers' ELSE 'v1_tools' END, select_list, from_list);
    END;
  END LOOP;
END
$generate$;

COMMENT ON VIEW sark_migration.v1_servers IS
  'public.mcp_servers in the normalized v1 shape (JSON as jsonb, missing columns as NULL). '
  'Generated by 002_normalize_v1.sql for the variant in sark_migration.v1_variant.';
COMMENT ON VIEW sark_migration.v1_tools IS
  'public.mcp_tools in the normalized v1 shape: parameters = parameters or parameters_schema, '
  'invocation_count / last_invoked NULL when absent, JSON as jsonb. Generated by 002_normalize_v1.sql.';

DO $comment$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT e.*, CASE e.table_name WHEN 'mcp_servers' THEN 'v1_servers' ELSE 'v1_tools' END AS view_name
             FROM sark_migration.v1_expected_columns e LOOP
    EXECUTE format('COMMENT ON COLUMN sark_migration.%I.%I IS %L', c.view_name, c.column_name,
      format('%s.%s%s (JSON columns as jsonb; NULL when the column does not exist)', c.table_name,
             CASE WHEN c.column_name = 'parameters' THEN 'parameters or parameters_schema' ELSE c.column_name END,
             CASE WHEN c.required THEN ', required' ELSE '' END));
  END LOOP;
END
$comment$;
