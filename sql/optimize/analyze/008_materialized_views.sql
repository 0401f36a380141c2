-- 008_materialized_views.sql: the materialized views of schema public: populated or not, size,
-- and whether REFRESH MATERIALIZED VIEW CONCURRENTLY can run on them (it needs a unique index
-- on plain columns, without a WHERE clause, and a populated view).
-- Requires: nothing. Read-only.
SELECT c.relname                              AS view_name,
       c.relispopulated                       AS populated,
       pg_total_relation_size(c.oid)          AS total_bytes,
       EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid
                  AND i.indexprs IS NULL AND i.indpred IS NULL) AS has_unique_index,
       c.relispopulated AND EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid
                  AND i.indexprs IS NULL AND i.indpred IS NULL) AS can_refresh_concurrently
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'm'
ORDER BY c.relname;
