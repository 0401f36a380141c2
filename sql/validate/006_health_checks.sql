-- 006_health_checks.sql
--
-- What:     the health family, sark_migration.check_health, from the catalog and the statistics
--           views only (no table scan):
--             health.table_sizes             row estimates and sizes of the v1 and v2 tables (info,
--                                            always passes: the figures are in details)
--             health.mv_daily_cost_summary   the cost view is populated, so REFRESH ... CONCURRENTLY
--                                            works                                        (warning)
--             health.invalid_indexes         no INVALID index anywhere in schema public, named in
--                                            migrations or not (e.g. from `optimize`)     (warning)
--             health.statistics              resources and capabilities have planner statistics
--                                            since they were filled (runbook: "Slow Query
--                                            Performance After Migration")               (warning)
-- Requires: 000. Works on any database.
-- Runs:     in a transaction; idempotent.

CREATE OR REPLACE VIEW sark_migration.check_health AS
WITH rel AS (
  SELECT t.relname, c.oid, c.reltuples, c.relpages
  FROM unnest(ARRAY['mcp_servers', 'mcp_tools', 'resources', 'capabilities', 'cost_tracking',
                    'federation_nodes', 'principal_budgets', 'audit_events']) WITH ORDINALITY AS t(relname, ord)
  LEFT JOIN pg_catalog.pg_class c
         ON c.relname = t.relname AND c.relkind IN ('r', 'p')
        AND c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public')
)
-- health.table_sizes ---------------------------------------------------------------------------
SELECT 'health.table_sizes'::text AS check_name,
       'info'::text AS severity,
       true AS passed,
       'Table sizes: ' || string_agg(format('%s %s rows (%s)', relname,
                                            CASE WHEN reltuples < 0 THEN 'unknown' ELSE to_char(reltuples, 'FM999,999,999,990') END,
                                            pg_size_pretty(pg_total_relation_size(oid))), ', ' ORDER BY relname)
         || ' (row counts are planner estimates).' AS message,
       jsonb_build_object(
         'database_bytes', pg_database_size(current_database()),
         'tables', COALESCE(jsonb_object_agg(relname, jsonb_build_object(
                     'rows_estimate', CASE WHEN reltuples < 0 THEN NULL ELSE reltuples::bigint END,
                     'total_bytes', pg_total_relation_size(oid),
                     'size', pg_size_pretty(pg_total_relation_size(oid)))), '{}'::jsonb)) AS details
FROM rel
WHERE oid IS NOT NULL
-- health.mv_daily_cost_summary -----------------------------------------------------------------
UNION ALL
SELECT 'health.mv_daily_cost_summary', 'warning',
       COALESCE(m.ispopulated, false),
       CASE
         WHEN m.matviewname IS NULL THEN
           'mv_daily_cost_summary does not exist (see schema.view.mv_daily_cost_summary): cost reports have no summary.'
         WHEN NOT m.ispopulated THEN
           'mv_daily_cost_summary has never been populated (REFRESH ... WITH NO DATA or created WITH NO DATA): reading it '
           'fails and REFRESH ... CONCURRENTLY refuses it. Populate it once: REFRESH MATERIALIZED VIEW mv_daily_cost_summary; '
           'then the daily REFRESH MATERIALIZED VIEW CONCURRENTLY works.'
         ELSE 'mv_daily_cost_summary is populated.'
       END,
       jsonb_build_object('exists', m.matviewname IS NOT NULL, 'populated', m.ispopulated)
FROM (SELECT 1) one
LEFT JOIN pg_catalog.pg_matviews m ON m.schemaname = 'public' AND m.matviewname = 'mv_daily_cost_summary'
-- health.invalid_indexes -----------------------------------------------------------------------
UNION ALL
SELECT 'health.invalid_indexes', 'warning',
       count(i.indexrelid) = 0,
       CASE WHEN count(i.indexrelid) = 0 THEN 'No index in schema public is INVALID.'
       ELSE format('%s indexes in schema public are INVALID (%s): a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY '
                   'failed or is still running. They cost writes and serve no query. For each: DROP INDEX CONCURRENTLY '
                   'public.<name>; then build it again concurrently.',
                   count(i.indexrelid), string_agg(ic.relname::text, ', ' ORDER BY ic.relname))
       END,
       jsonb_build_object('invalid', COALESCE(jsonb_agg(jsonb_build_object(
                            'index', ic.relname, 'table', i.indrelid::regclass::text,
                            'definition', pg_get_indexdef(i.indexrelid)) ORDER BY ic.relname)
                            FILTER (WHERE i.indexrelid IS NOT NULL), '[]'::jsonb))
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE NOT (i.indisvalid AND i.indisready)
  AND ic.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public')
-- health.statistics ----------------------------------------------------------------------------
UNION ALL
SELECT 'health.statistics', 'warning',
       count(*) FILTER (WHERE stale) = 0,
       CASE WHEN count(*) FILTER (WHERE stale) = 0 THEN 'resources and capabilities have planner statistics.'
       ELSE format('%s have rows but no planner statistics since they were filled, so v2 queries may get bad plans. '
                   'Run ANALYZE %s; (autovacuum will too, eventually).',
                   string_agg(relname, ' and ' ORDER BY relname) FILTER (WHERE stale),
                   string_agg(format('public.%I', relname), ', ' ORDER BY relname) FILTER (WHERE stale))
       END,
       jsonb_build_object('tables', COALESCE(jsonb_object_agg(relname, jsonb_build_object(
                            'reltuples', reltuples, 'relpages', relpages, 'needs_analyze', stale)), '{}'::jsonb))
FROM (
  -- reltuples < 0: never analyzed (PostgreSQL 14+); 0 while the table has pages: analyzed empty.
  SELECT relname, reltuples, relpages,
         (reltuples < 0 OR reltuples = 0) AND pg_relation_size(oid) > 0 AS stale
  FROM rel
  WHERE relname IN ('resources', 'capabilities') AND oid IS NOT NULL
) s;
COMMENT ON VIEW sark_migration.check_health IS
  'Validation, health family: table sizes (info), mv_daily_cost_summary populated, no INVALID index, planner '
  'statistics on resources/capabilities (warnings). Catalog and statistics reads only.';
