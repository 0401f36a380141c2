-- 003_table_sizes.sql
--
-- What:     the ten largest tables of the database, with their indexes and TOAST (runbook,
--           Pre-Migration Checklist 2: "Check table sizes"). All schemas but the system ones,
--           not only public, so a large table in another schema is not missed.
-- Requires: nothing (sizes need no privilege on the table). Up to ten rows.
-- Runs:     a plain SELECT; writes nothing.

SELECT n.nspname::text                                   AS schema_name,
       c.relname::text                                   AS table_name,
       pg_total_relation_size(c.oid)                     AS total_bytes,
       pg_size_pretty(pg_total_relation_size(c.oid))     AS total_size,
       pg_relation_size(c.oid)                           AS table_bytes,
       pg_indexes_size(c.oid)                            AS index_bytes,
       -- reltuples is the planner's estimate (-1: never analyzed on PostgreSQL 14+); exact
       -- counts of the SARK tables are in 009_row_counts.sql.
       CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated_rows
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
ORDER BY pg_total_relation_size(c.oid) DESC, n.nspname, c.relname
LIMIT 10;
