-- 001_seed_cost_tracking.sql: schema sark_bench and sark_bench.seed_cost_tracking(), which fills
-- the v2 cost_tracking ledger with realistic synthetic rows, set-based, for `bench` and tests.
--
-- Requires: the v2 tables (migrations 006-007) with capabilities already copied; principals are
-- the ids of public.users when it has rows, else synthetic 'principal-<n>' ids.
-- Safe to run any number of times (CREATE SCHEMA IF NOT EXISTS, CREATE OR REPLACE FUNCTION);
-- creates no tables. Each call is one transaction (one function call). Never install on production.
--
-- Shape of the data, chosen so the cost query patterns and mv_daily_cost_summary see what a
-- live ledger looks like:
--   * every row references a real capabilities row and that row's resource_id;
--   * usage is skewed (a few capabilities and principals carry most calls: rank = n * u^2);
--   * timestamps are spread uniformly over the `days` before `anchor` and the rows are inserted
--     in timestamp order, so id ascends with time as in an append-only ledger;
--   * actual_cost is estimated_cost +/- 20 %, NULL for 2 % of rows (cost not yet known).
-- Deterministic for a given (capabilities, users, anchor): values come from hashint8extended(),
-- never random().

CREATE SCHEMA IF NOT EXISTS sark_bench;
COMMENT ON SCHEMA sark_bench IS
  'sark-migrate bench: synthetic v2 data (cost_tracking) for benchmarks and tests. Never install on production.';

CREATE OR REPLACE FUNCTION sark_bench.h(x bigint, salt bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT hashint8extended(x, salt) & 9223372036854775807 $$;
COMMENT ON FUNCTION sark_bench.h(bigint, bigint) IS
  'Deterministic non-negative 63-bit hash of (x, salt).';

CREATE OR REPLACE FUNCTION sark_bench.seed_cost_tracking(
  n_rows bigint DEFAULT 1000000,
  days integer DEFAULT 30,
  anchor timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
-- Two hash joins of n_rows against the numbered capabilities/principals and one sort by time.
SET jit = off
SET work_mem = '256MB'
AS $fn$
DECLARE
  v_caps       bigint;
  v_principals bigint;
  v_span_us    bigint;
  v_n          bigint;
BEGIN
  IF n_rows IS NULL OR n_rows < 0 OR days IS NULL OR days < 1 THEN
    RAISE EXCEPTION 'sark_bench.seed_cost_tracking: n_rows must be >= 0 and days >= 1 (got %, %)', n_rows, days;
  END IF;
  SELECT count(*) INTO v_caps FROM public.capabilities;
  IF v_caps = 0 THEN
    RAISE EXCEPTION 'sark_bench.seed_cost_tracking: public.capabilities is empty; copy v1 to v2 first';
  END IF;
  SELECT count(*) INTO v_principals FROM public.users;
  v_span_us := days::bigint * 86400000000;

  INSERT INTO public.cost_tracking ("timestamp", principal_id, resource_id, capability_id,
                                    estimated_cost, actual_cost, metadata)
  SELECT x.ts, coalesce(p.principal_id, 'principal-' || x.principal_n::text), c.resource_id, c.id,
         x.est,
         CASE WHEN x.h3 % 50 = 0 THEN NULL ELSE round(x.est * (0.8 + (x.h3 % 401) / 1000.0), 4) END,
         jsonb_build_object(
           'model', ('{gpt-4o,gpt-4o-mini,claude-3-5-sonnet,claude-3-haiku,llama-3-70b}'::text[])[1 + x.h4 % 5],
           'tokens_in', x.h4 % 8000,
           'tokens_out', x.h3 % 2000)
    FROM (SELECT g.i,
                 anchor - ((sark_bench.h(g.i, 1) % v_span_us) * interval '1 microsecond') AS ts,
                 -- skew: rank = n * u^2 with u uniform in [0, 1)
                 1 + floor(v_caps * power((sark_bench.h(g.i, 2) % 1000000) / 1000000.0, 2))::bigint AS cap_n,
                 1 + floor(greatest(v_principals, 500) * power((sark_bench.h(g.i, 3) % 1000000) / 1000000.0, 2))::bigint AS principal_n,
                 round(0.0005 + (sark_bench.h(g.i, 4) % 20000) / 10000.0, 4) AS est,
                 sark_bench.h(g.i, 5) AS h3,
                 sark_bench.h(g.i, 6) AS h4
            FROM generate_series(1, n_rows) AS g(i)
          OFFSET 0) x
    JOIN (SELECT row_number() OVER (ORDER BY cap.id COLLATE "C") AS n, cap.id, cap.resource_id
            FROM public.capabilities cap) c ON c.n = x.cap_n
    LEFT JOIN (SELECT row_number() OVER (ORDER BY u.id) AS n, u.id::text AS principal_id
                 FROM public.users u) p ON p.n = x.principal_n
   ORDER BY x.ts;
  GET DIAGNOSTICS v_n = ROW_COUNT;

  ANALYZE public.cost_tracking;
  RETURN v_n;
END
$fn$;

COMMENT ON FUNCTION sark_bench.seed_cost_tracking(bigint, integer, timestamptz) IS
$c$Appends n_rows synthetic cost_tracking rows spread over the `days` before `anchor`, each for a real
capability and its resource, charged to the users (or synthetic principals when there are none), with
skewed usage; rows are inserted in time order. Ends with ANALYZE cost_tracking. Returns rows added.
Refresh mv_daily_cost_summary afterwards.$c$;
