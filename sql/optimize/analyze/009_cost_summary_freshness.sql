-- 009_cost_summary_freshness.sql: is mv_daily_cost_summary behind the cost_tracking ledger?
-- Compares the newest UTC day in the view with the newest UTC day in the ledger (both read
-- through an index: ux_mv_daily_cost_summary, ix_cost_tracking_timestamp). Behind means cost
-- patterns that read the view (sql/optimize/queries/008) miss recent spend until
-- REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_cost_summary.
-- Requires: the v2 schema (migration 007). Read-only.
SELECT v.view_last_day,
       l.ledger_last_day,
       l.ledger_last_day IS NOT NULL AND (v.view_last_day IS NULL OR v.view_last_day < l.ledger_last_day) AS behind
FROM (SELECT max("date") AS view_last_day FROM mv_daily_cost_summary) v
CROSS JOIN (SELECT (max("timestamp") AT TIME ZONE 'UTC')::date AS ledger_last_day FROM cost_tracking) l;
