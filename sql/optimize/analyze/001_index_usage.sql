-- 001_index_usage.sql: every index of schema public with its size, how often it was used since
-- the statistics were last reset, whether it is valid, and its definition (largest first).
--
-- Requires: nothing (catalog and statistics views only). Read-only; runs anywhere, in or out of
-- a transaction. `optimize --analyze` reads it; so can a DBA: psql -f 001_index_usage.sql.
SELECT s.relname                         AS table_name,
       s.indexrelname                    AS index_name,
       am.amname                         AS method,
       pg_relation_size(s.indexrelid)    AS index_bytes,
       s.idx_scan                        AS scans,
       s.idx_tup_read                    AS tuples_read,
       s.idx_tup_fetch                   AS tuples_fetched,
       i.indisvalid                      AS valid,
       i.indisready                      AS ready,
       i.indisunique                     AS is_unique,
       i.indisprimary                    AS is_primary,
       pg_get_indexdef(s.indexrelid)     AS definition
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
JOIN pg_class ic ON ic.oid = s.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE s.schemaname = 'public'
ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname;
