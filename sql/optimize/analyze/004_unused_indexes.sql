-- 004_unused_indexes.sql: indexes of schema public never scanned since the statistics were last
-- reset, that enforce nothing (not primary key, unique or exclusion). Candidates for removal
-- only if that window covers a full business cycle (see stats_reset) and the index is not
-- required by the schema (sark-migrate keeps every index the migrations define).
-- Requires: nothing. Read-only.
SELECT s.relname                       AS table_name,
       s.indexrelname                  AS index_name,
       pg_relation_size(s.indexrelid)  AS index_bytes,
       s.idx_scan                      AS scans,
       d.stats_reset                   AS stats_since,
       pg_get_indexdef(s.indexrelid)   AS definition
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
CROSS JOIN (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) d
WHERE s.schemaname = 'public'
  AND s.idx_scan = 0
  AND NOT i.indisunique AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = s.indexrelid)
ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname;
