-- 003_index_bloat.sql: estimated bloat of every B-tree index of schema public.
--
-- Estimate: the leaf pages the entries need (reltuples of the index x (8-byte index tuple
-- header + the average width of the key and INCLUDE columns from pg_stats, MAXALIGNed) + a
-- 4-byte line pointer, at the 90 % leaf fillfactor), against the pages the index has. B-tree
-- deduplication (PostgreSQL 13+) packs repeated keys far tighter than this, so a low-cardinality
-- index can show 0 even when bloated; expression columns and non-B-tree indexes (GIN) cannot be
-- estimated this way and show NULL (their size is in 001). Rebuild with
-- REINDEX INDEX CONCURRENTLY, which never blocks writes.
-- Requires: nothing. Read-only.
WITH i AS (
  SELECT ic.oid, ic.relname AS index_name, tc.relname AS table_name, ic.reltuples,
         current_setting('block_size')::numeric AS bs,
         -- every indexed column a plain column (no expression: attnum 0)
         bool_and(k.attnum > 0) AS plain,
         sum(s.avg_width) AS key_width,
         count(s.avg_width) = count(*) AS have_stats
    FROM pg_index x
    JOIN pg_class ic ON ic.oid = x.indexrelid
    JOIN pg_class tc ON tc.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
    CROSS JOIN LATERAL unnest(x.indkey::int2[]) AS k(attnum)
    LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = tc.relname AND s.attname = a.attname
   WHERE n.nspname = 'public'
   GROUP BY ic.oid, ic.relname, tc.relname, ic.reltuples
)
SELECT i.table_name,
       i.index_name,
       pg_relation_size(i.oid) AS index_bytes,
       CASE WHEN i.plain AND i.have_stats AND i.reltuples >= 0 THEN
         greatest(0, pg_relation_size(i.oid)
                     - (1 + ceil(i.reltuples * (8 + ceil(i.key_width / 8.0) * 8 + 4) / ((i.bs - 24 - 16) * 0.9))) * i.bs)::bigint
       END AS bloat_bytes,
       CASE WHEN i.plain AND i.have_stats AND i.reltuples >= 0 AND pg_relation_size(i.oid) > 0 THEN
         round(greatest(0, 1 - (1 + ceil(i.reltuples * (8 + ceil(i.key_width / 8.0) * 8 + 4) / ((i.bs - 24 - 16) * 0.9))) * i.bs
                              / pg_relation_size(i.oid))::numeric, 3)
       END AS bloat_ratio
FROM i
ORDER BY pg_relation_size(i.oid) DESC, i.index_name;
