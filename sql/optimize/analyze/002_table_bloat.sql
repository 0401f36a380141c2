-- 002_table_bloat.sql: estimated heap bloat of every table and materialized view of schema
-- public, and its dead tuples.
--
-- Estimate: the pages the live rows need, from the planner statistics (reltuples, the average
-- stored width of each column in pg_stats, a 24-byte tuple header, a 4-byte line pointer and
-- the table's fillfactor), against the pages the table has. NULL until the table has been
-- ANALYZEd. An estimate, good to +-20 %: act on large ratios of large tables, not on details.
-- Requires: nothing. Read-only.
WITH t AS (
  SELECT c.oid, c.relname, c.relkind, c.reltuples, c.relpages,
         current_setting('block_size')::numeric AS bs,
         coalesce((SELECT substring(o FROM 'fillfactor=([0-9]+)')::numeric
                     FROM unnest(c.reloptions) AS o WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor,
         (SELECT sum(s.avg_width) FROM pg_stats s
           WHERE s.schemaname = 'public' AND s.tablename = c.relname) AS data_width
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm')
), e AS (
  SELECT t.*,
         -- tuple header (23 bytes, MAXALIGNed to 24) + data, MAXALIGNed, + line pointer
         (24 + ceil(t.data_width / 8.0) * 8 + 4) AS row_bytes
    FROM t
)
SELECT e.relname                                     AS table_name,
       CASE e.relkind WHEN 'm' THEN 'materialized view' ELSE 'table' END AS kind,
       pg_relation_size(e.oid)                       AS table_bytes,
       e.reltuples::bigint                           AS estimated_rows,
       st.n_live_tup                                 AS live_tuples,
       st.n_dead_tup                                 AS dead_tuples,
       CASE WHEN e.data_width IS NULL OR e.reltuples < 0 THEN NULL
            ELSE greatest(0, pg_relation_size(e.oid)
                             - ceil(e.reltuples * e.row_bytes / ((e.bs - 24) * e.fillfactor / 100)) * e.bs)::bigint
       END                                           AS bloat_bytes,
       CASE WHEN e.data_width IS NULL OR e.reltuples < 0 OR pg_relation_size(e.oid) = 0 THEN NULL
            ELSE round(greatest(0, 1 - ceil(e.reltuples * e.row_bytes / ((e.bs - 24) * e.fillfactor / 100)) * e.bs
                                     / pg_relation_size(e.oid))::numeric, 3)
       END                                           AS bloat_ratio,
       greatest(st.last_vacuum, st.last_autovacuum)  AS last_vacuum
FROM e
LEFT JOIN pg_stat_user_tables st ON st.relid = e.oid
ORDER BY pg_relation_size(e.oid) DESC, e.relname;
