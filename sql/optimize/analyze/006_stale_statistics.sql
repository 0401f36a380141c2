-- 006_stale_statistics.sql: planner statistics of the tables and materialized views of schema
-- public: when they were last gathered and how many rows changed since. Stale means holding
-- rows but having no statistics at all, or more rows changed since the last ANALYZE than 10 %
-- of the table (autovacuum's default analyze threshold; at least 50 rows). Stale statistics
-- make the planner misjudge row counts: after a bulk copy, ANALYZE before measuring anything.
-- (A database cloned from a template has statistics but no ANALYZE timestamps: not stale.)
-- Requires: nothing. Read-only.
WITH s AS (
  SELECT st.relname, st.n_live_tup, st.n_mod_since_analyze,
         greatest(st.last_analyze, st.last_autoanalyze) AS last_analyzed,
         greatest(c.reltuples, st.n_live_tup, 0) AS est_rows,
         EXISTS (SELECT 1 FROM pg_stats ps
                  WHERE ps.schemaname = st.schemaname AND ps.tablename = st.relname) AS has_stats
    FROM pg_stat_user_tables st
    JOIN pg_class c ON c.oid = st.relid
   WHERE st.schemaname = 'public'
)
SELECT s.relname                 AS table_name,
       s.est_rows::bigint        AS estimated_rows,
       s.n_mod_since_analyze     AS modified_since_analyze,
       s.last_analyzed,
       (NOT s.has_stats AND s.est_rows > 0)
         OR s.n_mod_since_analyze > greatest(50, 0.1 * s.est_rows) AS stale,
       CASE
         WHEN NOT s.has_stats AND s.est_rows > 0 THEN 'no statistics'
         WHEN s.n_mod_since_analyze > greatest(50, 0.1 * s.est_rows)
           THEN s.n_mod_since_analyze || ' rows changed since the last ANALYZE ('
                || round(100.0 * s.n_mod_since_analyze / greatest(s.est_rows, 1)) || ' % of the table)'
       END                       AS reason
FROM s
ORDER BY s.n_mod_since_analyze DESC, s.relname;
