-- 002_seed_principal_budgets.sql: sark_bench.seed_principal_budgets(), a daily and monthly
-- budget for every principal that appears in cost_tracking, so cost patterns that compare
-- spend with budgets (sql/optimize/queries/008) see realistic rows.
--
-- Requires: 001_seed_cost_tracking.sql (schema sark_bench, sark_bench.h) and the v2 tables.
-- Safe to run any number of times (CREATE OR REPLACE FUNCTION); the function itself only adds
-- budgets for principals that have none (ON CONFLICT DO NOTHING). One transaction per call.
-- Never install on production.

CREATE OR REPLACE FUNCTION sark_bench.seed_principal_budgets()
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
AS $fn$
DECLARE
  v_n bigint;
BEGIN
  -- 10 % of principals have no limit (NULL budgets), the others 5-500 a day, 25x that a month.
  INSERT INTO public.principal_budgets (principal_id, daily_budget, monthly_budget, currency)
  SELECT p.principal_id,
         CASE WHEN p.h % 10 = 0 THEN NULL ELSE 5 + (p.h % 496) END,
         CASE WHEN p.h % 10 = 0 THEN NULL ELSE 25 * (5 + (p.h % 496)) END,
         'USD'
    FROM (SELECT d.principal_id, sark_bench.h(hashtext(d.principal_id), 7) AS h
            FROM (SELECT DISTINCT principal_id FROM public.cost_tracking) d) p
  ON CONFLICT (principal_id) DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  ANALYZE public.principal_budgets;
  RETURN v_n;
END
$fn$;

COMMENT ON FUNCTION sark_bench.seed_principal_budgets() IS
  'Adds a principal_budgets row (daily 5-500, monthly 25x; 10 % unlimited) for every principal of cost_tracking that has none. Returns rows added.';
