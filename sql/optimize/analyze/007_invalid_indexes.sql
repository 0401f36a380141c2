-- 007_invalid_indexes.sql: indexes of schema public that exist but are not usable: INVALID
-- (a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY that failed or was cancelled) or not
-- ready, with the session still building it, if any. An INVALID index answers no query but is
-- still maintained by every write; the repair is DROP INDEX CONCURRENTLY, then build it again
-- (`sark-migrate optimize --optimize` does both for the indexes it defines).
-- Requires: nothing. Read-only.
SELECT t.relname                        AS table_name,
       c.relname                        AS index_name,
       i.indisvalid                     AS valid,
       i.indisready                     AS ready,
       i.indislive                      AS live,
       pg_relation_size(c.oid)          AS index_bytes,
       p.pid                            AS building_pid,
       p.phase                          AS building_phase,
       pg_get_indexdef(c.oid)           AS definition
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_progress_create_index p ON p.index_relid = i.indexrelid
WHERE n.nspname = 'public'
  AND NOT (i.indisvalid AND i.indisready AND i.indislive)
ORDER BY t.relname, c.relname;
