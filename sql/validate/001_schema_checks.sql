-- 001_schema_checks.sql
--
-- What:     the schema family, sark_migration.check_schema: every v2 table and the materialized
--           view, their columns with types and nullability, the named constraints, every named
--           index (valid, with its definition), and the two schema ledgers agreeing.
--             schema.table.<t> | schema.view.mv_daily_cost_summary | schema.columns.<t>
--             schema.constraint.<name> | schema.index.<name> | schema.ledgers
--           The expected catalog is sql/tool/003_expected_v2_schema.sql, written out from
--           migrations/006 and 007 (change them together). An INVALID index -- what a failed
--           CREATE INDEX CONCURRENTLY leaves behind -- is not used by any query, so it counts as
--           missing.
-- Requires: 000; sql/tool/003. Nothing else: on a database without the v2 schema every check fails with a
--           message instead of an error.
-- Runs:     in a transaction; idempotent. Reads only the catalog (and the two ledger tables).

-- The expected catalog (validation_expected_relations, _columns, _constraints, _indexes) is
-- defined in sql/tool/003_expected_v2_schema.sql: `schema up` reads it too.

-- The ledgers are read directly, so this check exists only where both tables do (a stand-in says
-- "run schema up" otherwise). Its own view: query_to_xml() could read them without the
-- dependency, but it is PARALLEL UNSAFE and would serialize every other check it is unioned with.
SELECT sark_migration.validation_define_view(
  'validation_ledger_check',
  ARRAY['public.pgmigrations', 'public.alembic_version'],
  $view$
  WITH l AS (
    SELECT (SELECT name FROM public.pgmigrations ORDER BY run_on DESC, id DESC LIMIT 1) AS newest,
           (SELECT count(*) FROM public.alembic_version) AS alembic_rows,
           (SELECT string_agg(version_num, ', ' ORDER BY version_num) FROM public.alembic_version) AS alembic,
           '007_federation'::text AS expected
  )
  SELECT 'schema.ledgers'::text AS check_name,
         'error'::text AS severity,
         (l.newest IS NOT NULL AND l.alembic_rows = 1 AND l.newest = l.alembic AND l.newest >= l.expected) AS passed,
         CASE
           WHEN l.newest IS NULL THEN
             'The node-pg-migrate ledger public.pgmigrations is empty: run `sark-migrate schema up`, which adopts the database and records its migrations.'
           WHEN l.alembic_rows <> 1 OR l.newest IS DISTINCT FROM l.alembic THEN
             format('The schema ledgers disagree: the newest migration in pgmigrations is %s, alembic_version says %s. '
                    'Run `sark-migrate schema up`, which sets alembic_version to the newest applied migration '
                    '(SARK''s own Alembic reads it to find head).',
                    l.newest, COALESCE(l.alembic, 'nothing'))
           WHEN l.newest < l.expected THEN
             format('The schema is at %s, not at %s: run `sark-migrate schema up`.', l.newest, l.expected)
           ELSE format('Both schema ledgers are at %s.', l.newest)
         END AS message,
         jsonb_build_object('pgmigrations_newest', l.newest, 'alembic_version', l.alembic,
                            'alembic_version_rows', l.alembic_rows, 'expected_at_least', l.expected) AS details
  FROM l
  $view$,
  'The schema.ledgers check: node-pg-migrate''s newest migration equals alembic_version, at 007 or later.',
  'schema.ledgers');

CREATE OR REPLACE VIEW sark_migration.check_schema AS
-- Tables and the materialized view ---------------------------------------------------------------
SELECT CASE e.relkind WHEN 'm' THEN 'schema.view.' ELSE 'schema.table.' END || e.relname AS check_name,
       'error'::text AS severity,
       (c.relkind IS NOT DISTINCT FROM e.relkind) AS passed,
       CASE
         WHEN c.oid IS NULL THEN
           format('%s public.%I is missing: run `sark-migrate schema up` (Phase 1).',
                  CASE e.relkind WHEN 'm' THEN 'Materialized view' ELSE 'Table' END, e.relname)
         WHEN c.relkind <> e.relkind THEN
           format('public.%I exists but is not a %s (relkind %s): the schema was not built by migrations 006/007. '
                  'Rename it out of the way and run `sark-migrate schema up`.',
                  e.relname, CASE e.relkind WHEN 'm' THEN 'materialized view' ELSE 'table' END, c.relkind)
         ELSE format('%s public.%I exists.', CASE e.relkind WHEN 'm' THEN 'Materialized view' ELSE 'Table' END, e.relname)
       END AS message,
       jsonb_build_object('relation', 'public.' || e.relname, 'expected_relkind', e.relkind::text,
                          'actual_relkind', c.relkind::text) AS details
FROM sark_migration.validation_expected_relations e
LEFT JOIN pg_catalog.pg_class c
       ON c.relname = e.relname
      AND c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public')
-- Columns, one check per table --------------------------------------------------------------------
UNION ALL
SELECT 'schema.columns.' || x.table_name,
       'error',
       x.table_exists AND x.missing IS NULL AND x.wrong_type IS NULL AND x.wrong_null IS NULL,
       CASE
         WHEN NOT x.table_exists THEN
           format('public.%I is missing, so none of its %s expected columns are there: run `sark-migrate schema up`.',
                  x.table_name, x.expected)
         WHEN x.missing IS NULL AND x.wrong_type IS NULL AND x.wrong_null IS NULL THEN
           format('public.%I has the %s expected columns with the expected types.', x.table_name, x.expected)
         ELSE
           format('public.%I does not match migrations 006/007: %s. If the schema is not at 007 yet (schema.ledgers), '
                  'run `sark-migrate schema up`; otherwise revert the manual change (details shows the expected '
                  'types) and run `sark-migrate validate --schema` again.',
                  x.table_name,
                  concat_ws('; ',
                    'missing ' || (SELECT string_agg(m, ', ') FROM jsonb_array_elements_text(x.missing) AS m),
                    'wrong type ' || (SELECT string_agg(format('%s is %s, expected %s', w ->> 'column', w ->> 'actual', w ->> 'expected'), ', ')
                                        FROM jsonb_array_elements(x.wrong_type) AS w),
                    'wrong nullability ' || (SELECT string_agg(format('%s is %s', w ->> 'column',
                                                 CASE WHEN (w ->> 'expected_not_null')::boolean THEN 'nullable, expected NOT NULL'
                                                      ELSE 'NOT NULL, expected nullable' END), ', ')
                                               FROM jsonb_array_elements(x.wrong_null) AS w)))
       END,
       jsonb_build_object('table', 'public.' || x.table_name,
                          'missing', COALESCE(x.missing, '[]'::jsonb),
                          'wrong_type', COALESCE(x.wrong_type, '[]'::jsonb),
                          'wrong_nullability', COALESCE(x.wrong_null, '[]'::jsonb))
FROM (
  SELECT e.table_name,
         count(*) AS expected,
         bool_or(to_regclass(format('public.%I', e.table_name)) IS NOT NULL) AS table_exists,
         jsonb_agg(e.column_name ORDER BY e.ordinal) FILTER (WHERE a.attname IS NULL) AS missing,
         jsonb_agg(jsonb_build_object('column', e.column_name, 'expected', e.column_type,
                                      'actual', format_type(a.atttypid, a.atttypmod)) ORDER BY e.ordinal)
           FILTER (WHERE a.attname IS NOT NULL AND format_type(a.atttypid, a.atttypmod) <> e.column_type) AS wrong_type,
         jsonb_agg(jsonb_build_object('column', e.column_name, 'expected_not_null', e.not_null,
                                      'actual_not_null', a.attnotnull) ORDER BY e.ordinal)
           FILTER (WHERE a.attname IS NOT NULL AND a.attnotnull <> e.not_null) AS wrong_null
  FROM sark_migration.validation_expected_columns e
  LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid = to_regclass(format('public.%I', e.table_name))
        AND a.attname = e.column_name
        AND a.attnum > 0
        AND NOT a.attisdropped
  GROUP BY e.table_name
) x
-- Named constraints -------------------------------------------------------------------------------
UNION ALL
SELECT 'schema.constraint.' || e.constraint_name,
       'error',
       k.oid IS NOT NULL AND k.contype = e.contype AND k.convalidated
         AND (e.contype <> 'f' OR (k.confrelid = to_regclass(format('public.%I', e.references_table))
                                   AND k.confdeltype = e.on_delete)),
       CASE
         WHEN to_regclass(format('public.%I', e.table_name)) IS NULL THEN
           format('Constraint %s cannot exist: table public.%I is missing (run `sark-migrate schema up`).',
                  e.constraint_name, e.table_name)
         WHEN k.oid IS NULL THEN
           format('Constraint %s on public.%I is missing. Restore it: ALTER TABLE public.%I ADD CONSTRAINT %I %s; '
                  '(adding it checks every row; the rules.* checks list rows that would violate it).',
                  e.constraint_name, e.table_name, e.table_name, e.constraint_name, e.definition)
         WHEN k.contype <> e.contype OR (e.contype = 'f' AND (k.confrelid <> to_regclass(format('public.%I', e.references_table))
                                                              OR k.confdeltype <> e.on_delete)) THEN
           format('Constraint %s on public.%I is defined as %s, expected %s. Drop it and add it as expected: '
                  'ALTER TABLE public.%I DROP CONSTRAINT %I, ADD CONSTRAINT %I %s;',
                  e.constraint_name, e.table_name, pg_get_constraintdef(k.oid), e.definition,
                  e.table_name, e.constraint_name, e.constraint_name, e.definition)
         WHEN NOT k.convalidated THEN
           format('Constraint %s on public.%I is NOT VALID: rows written before it was added were never checked. '
                  'Validate it (takes only a SHARE UPDATE EXCLUSIVE lock): ALTER TABLE public.%I VALIDATE CONSTRAINT %I;',
                  e.constraint_name, e.table_name, e.table_name, e.constraint_name)
         ELSE format('Constraint %s on public.%I is present and validated.', e.constraint_name, e.table_name)
       END,
       jsonb_build_object('table', 'public.' || e.table_name, 'constraint', e.constraint_name,
                          'expected', e.definition,
                          'actual', CASE WHEN k.oid IS NOT NULL THEN pg_get_constraintdef(k.oid) END,
                          'validated', k.convalidated)
FROM sark_migration.validation_expected_constraints e
LEFT JOIN pg_catalog.pg_constraint k
       ON k.conrelid = to_regclass(format('public.%I', e.table_name))
      AND k.conname = e.constraint_name
-- Named indexes -----------------------------------------------------------------------------------
UNION ALL
SELECT 'schema.index.' || x.index_name,
       'error',
       x.found AND x.on_table AND x.valid AND x.definition_ok,
       CASE
         WHEN to_regclass(format('public.%I', x.table_name)) IS NULL THEN
           format('Index %s cannot exist: public.%I is missing (run `sark-migrate schema up`).', x.index_name, x.table_name)
         WHEN NOT x.found THEN
           format('Index %s on public.%I is missing. If the schema is not at 007 yet (schema.ledgers), run '
                  '`sark-migrate schema up`; otherwise build it without blocking writes (outside a transaction): %s',
                  x.index_name, x.table_name, x.rebuild)
         WHEN NOT x.valid THEN
           format('Index %s on public.%I is INVALID: a CREATE INDEX CONCURRENTLY failed (or is still running) and '
                  'left it unusable, so no query uses it and it counts as missing. Drop it and rebuild it concurrently '
                  '(outside a transaction): DROP INDEX CONCURRENTLY public.%I; %s',
                  x.index_name, x.table_name, x.index_name, x.rebuild)
         WHEN NOT (x.on_table AND x.definition_ok) THEN
           format('Index %s is defined as %s, expected %s on public.%I. Rebuild it concurrently: '
                  'DROP INDEX CONCURRENTLY public.%I; %s',
                  x.index_name, x.actual, x.expected, x.table_name, x.index_name, x.rebuild)
         ELSE format('Index %s on public.%I is present and valid.', x.index_name, x.table_name)
       END
       || CASE WHEN x.index_name = 'ux_mv_daily_cost_summary' AND NOT (x.found AND x.on_table AND x.valid AND x.definition_ok)
               THEN ' Without it REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_cost_summary (the daily refresh) fails.'
               ELSE '' END,
       jsonb_build_object('table', 'public.' || x.table_name, 'index', x.index_name,
                          'expected', x.expected, 'actual', x.actual, 'valid', x.valid_flag, 'ready', x.ready_flag)
FROM (
  SELECT e.table_name, e.index_name,
         i.indexrelid IS NOT NULL AS found,
         COALESCE(i.indrelid = to_regclass(format('public.%I', e.table_name)), false) AS on_table,
         COALESCE(i.indisvalid AND i.indisready, false) AS valid,
         i.indisvalid AS valid_flag,
         i.indisready AS ready_flag,
         COALESCE(regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') = e.definition
                  AND i.indisunique = e.is_unique, false) AS definition_ok,
         CASE WHEN e.is_unique THEN 'UNIQUE ' ELSE '' END || e.definition AS expected,
         CASE WHEN i.indexrelid IS NOT NULL
              THEN CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END
                   || regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '')
                   || ' ON ' || i.indrelid::regclass::text END AS actual,
         format('CREATE %sINDEX CONCURRENTLY %I ON public.%I USING %s;',
                CASE WHEN e.is_unique THEN 'UNIQUE ' ELSE '' END, e.index_name, e.table_name, e.definition) AS rebuild
  FROM sark_migration.validation_expected_indexes e
  LEFT JOIN pg_catalog.pg_class ic
         ON ic.relname = e.index_name
        AND ic.relkind = 'i'
        AND ic.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public')
  LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = ic.oid
) x
-- Ledgers -----------------------------------------------------------------------------------------
UNION ALL
SELECT * FROM sark_migration.validation_ledger_check;
COMMENT ON VIEW sark_migration.check_schema IS
  'Validation, schema family: one row per expected v2 table/view, per table''s columns, per named '
  'constraint, per named index (INVALID counts as missing), and the ledgers. Catalog reads only.';
