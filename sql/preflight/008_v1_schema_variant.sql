-- 008_v1_schema_variant.sql
--
-- What:     which of the two v1 shapes found in the field this database has, straight from the
--           catalog (nothing installed):
--             Alembic revision 001     mcp_tools.parameters_schema, jsonb columns
--             SQLAlchemy create_all()  mcp_tools.parameters (+ invocation_count, last_invoked),
--                                      json columns
--           the case of the v1 enum labels: 'lower' (Alembic: 'http', 'medium') or 'upper' (the
--           models: 'HTTP', 'MEDIUM'; v2 gets the lower-case value, v1 keeps its labels),
--           and the state of the mcp_tools.server_id foreign key: 'valid', 'not_valid' (added
--           NOT VALID and never validated: existing tools may point at missing servers) or
--           'missing'. The migration handles every combination; the last two mean orphan tools
--           are possible and are looked for.
-- Requires: nothing. One row (all NULL / false when the v1 tables are absent).
-- Runs:     a plain SELECT; writes nothing.

WITH cols AS (
  SELECT c.relname::text AS table_name, a.attname::text AS column_name, a.atttypid
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  WHERE c.oid IN (to_regclass('public.mcp_servers'), to_regclass('public.mcp_tools'))
    AND a.attnum > 0 AND NOT a.attisdropped
),
fk AS (
  SELECT con.conname::text AS name, con.convalidated
  FROM pg_catalog.pg_constraint con
  JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
  WHERE con.contype = 'f'
    AND con.conrelid = to_regclass('public.mcp_tools')
    AND con.confrelid = to_regclass('public.mcp_servers')
    AND cardinality(con.conkey) = 1 AND a.attname = 'server_id'
  ORDER BY con.convalidated DESC, con.conname
  LIMIT 1
)
SELECT to_regclass('public.mcp_servers') IS NOT NULL AS mcp_servers_present,
       to_regclass('public.mcp_tools') IS NOT NULL   AS mcp_tools_present,
       CASE WHEN EXISTS (SELECT 1 FROM cols WHERE table_name = 'mcp_tools' AND column_name = 'parameters')
            THEN 'parameters'
            WHEN EXISTS (SELECT 1 FROM cols WHERE table_name = 'mcp_tools' AND column_name = 'parameters_schema')
            THEN 'parameters_schema' END             AS tools_parameters_column,
       (SELECT count(*) = 2 FROM cols WHERE table_name = 'mcp_tools'
           AND column_name IN ('parameters', 'parameters_schema')) AS tools_has_both_parameter_columns,
       (SELECT count(*) = 2 FROM cols WHERE table_name = 'mcp_tools'
           AND column_name IN ('invocation_count', 'last_invoked')) AS tools_has_invocation_columns,
       ARRAY(SELECT table_name || '.' || column_name FROM cols
              WHERE atttypid = 'json'::regtype ORDER BY 1)  AS json_columns,
       ARRAY(SELECT table_name || '.' || column_name FROM cols
              WHERE atttypid = 'jsonb'::regtype ORDER BY 1) AS jsonb_columns,
       CASE WHEN to_regclass('public.mcp_tools') IS NULL THEN NULL
            WHEN NOT EXISTS (SELECT 1 FROM fk) THEN 'missing'
            WHEN (SELECT convalidated FROM fk) THEN 'valid'
            ELSE 'not_valid' END                     AS tools_server_fk,
       (SELECT name FROM fk)                         AS tools_server_fk_name,
       (SELECT CASE WHEN bool_and(e.enumlabel = lower(e.enumlabel)) THEN 'lower'
                    WHEN bool_and(e.enumlabel = upper(e.enumlabel)) THEN 'upper'
                    ELSE 'mixed' END
          FROM pg_catalog.pg_enum e
         WHERE e.enumtypid IN (SELECT c.atttypid FROM cols c
                                 JOIN pg_catalog.pg_type t ON t.oid = c.atttypid WHERE t.typtype = 'e'))
                                                     AS enum_labels;
