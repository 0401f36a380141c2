-- 000_validation_helpers.sql
--
-- What:     the helpers the validation views are built with:
--             sark_migration.validation_define_view(...)  creates a view only when everything it
--               reads exists, and otherwise a stand-in with the same columns (for a check view:
--               one failing check that says what is missing and what to run);
--             sark_migration.validation_define_diff_view(...)  generates the view that compares two
--               row sets by whole-row hash (bucketed, parallel; see its comment), with the SQL of
--               the held (quarantined) ids from validation_held_servers_sql / _tools_sql();
--             sark_migration.validation_field_diff(actual, expected)  names the fields in which two
--               row images differ (one level deep into JSON objects: metadata.status);
--             sark_migration.validation_uuid(text)  a v2 id as the uuid of its v1 row.
--           Every check view has the columns
--             check_name text, severity text ('info'|'warning'|'error'|'critical'),
--             passed boolean, message text, details jsonb
--           and returns one row per check, passing or not (see 010_validation_views.sql).
-- Requires: schema sark_migration (sql/tool/001).
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE).

CREATE SCHEMA IF NOT EXISTS sark_migration;

-- Why a guard at all: a view cannot be created over a table that does not exist, and validation
-- must still answer on a database where Phase 1 has not run (or where the v1 tables are gone).
CREATE OR REPLACE FUNCTION sark_migration.validation_define_view(
  view_name       text,
  requires        text[],
  body            text,
  description     text,
  stub_check_name text DEFAULT NULL,
  stub_body       text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
  missing text[];
  hints   text[];
  ddl     text;
BEGIN
  -- 'schema.relation' is looked up with to_regclass, 'name(args)' with to_regprocedure.
  SELECT array_agg(r ORDER BY r) INTO missing
  FROM unnest(requires) AS r
  WHERE CASE WHEN strpos(r, '(') > 0 THEN to_regprocedure(r) IS NULL ELSE to_regclass(r) IS NULL END;

  IF missing IS NULL THEN
    ddl := body;
  ELSIF stub_body IS NOT NULL THEN
    ddl := stub_body;
  ELSIF stub_check_name IS NULL THEN
    RETURN false;
  ELSE
    -- Missing tables explain the missing definitions built on them: name the tables only.
    IF EXISTS (SELECT 1 FROM unnest(missing) AS m WHERE m LIKE 'public.%') THEN
      missing := ARRAY(SELECT m FROM unnest(missing) AS m WHERE m LIKE 'public.%' ORDER BY m);
    END IF;
    SELECT array_agg(DISTINCT h ORDER BY h) INTO hints
    FROM unnest(missing) AS m,
         LATERAL (SELECT CASE
           WHEN m IN ('public.mcp_servers', 'public.mcp_tools')
             THEN 'the v1 tables are gone (after decommission there is nothing left to compare with)'
           WHEN m LIKE 'public.%' THEN 'run `sark-migrate schema up` (Phase 1) first'
           WHEN strpos(m, '(') > 0 THEN 'this check needs PostgreSQL 14 or later'
           ELSE 'install the sark-migrate definitions (`sark-migrate data --dry-run` shows whether they install)'
         END) AS x(h);
    ddl := format(
      $stub$SELECT %L::text AS check_name, 'error'::text AS severity, false AS passed, %L::text AS message, %L::jsonb AS details$stub$,
      stub_check_name,
      format('These checks cannot run: %s %s missing; %s.',
             array_to_string(missing, ', '),
             CASE WHEN cardinality(missing) = 1 THEN 'is' ELSE 'are' END,
             array_to_string(hints, '; ')),
      jsonb_build_object('missing', to_jsonb(missing)));
  END IF;

  BEGIN
    EXECUTE format('CREATE OR REPLACE VIEW sark_migration.%I AS %s', view_name, ddl);
  EXCEPTION WHEN invalid_table_definition OR datatype_mismatch OR feature_not_supported THEN
    -- The column list changed since an earlier install: replace the view (its dependants are
    -- re-created by the files that follow, 010 last).
    EXECUTE format('DROP VIEW IF EXISTS sark_migration.%I CASCADE', view_name);
    EXECUTE format('CREATE VIEW sark_migration.%I AS %s', view_name, ddl);
  END;
  EXECUTE format('COMMENT ON VIEW sark_migration.%I IS %L', view_name,
                 description || CASE WHEN missing IS NULL THEN ''
                                     ELSE ' (Stand-in: ' || array_to_string(missing, ', ') || ' missing when it was installed.)' END);
  RETURN missing IS NULL;
END
$$;
COMMENT ON FUNCTION sark_migration.validation_define_view(text, text[], text, text, text, text) IS
  'Creates view sark_migration.<view_name> from body when every relation/function in requires exists; '
  'otherwise from stub_body, or (stub_check_name given) as a one-row failing check saying what is missing, '
  'or not at all. Returns true when the real view was created.';

-- A 64-bit hash of a whole row, the one primitive the fidelity checks compare rows with.
-- hash_record_extended exists from PostgreSQL 14; on 13 the row's text form is hashed instead
-- (same 64-bit guarantee, a little slower). Plain SQL with one expression: inlined, no call cost.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    EXECUTE $f$CREATE OR REPLACE FUNCTION sark_migration.row_hash(r anyelement, seed bigint) RETURNS bigint
               LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT hash_record_extended(r, seed)'$f$;
  ELSE
    EXECUTE $f$CREATE OR REPLACE FUNCTION sark_migration.row_hash(r anyelement, seed bigint) RETURNS bigint
               LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT hashtextextended(r::text, seed)'$f$;
  END IF;
END
$$;
COMMENT ON FUNCTION sark_migration.row_hash(anyelement, bigint) IS
  'A 64-bit hash of a whole row (hash_record_extended on PostgreSQL 14+, of its text form on 13).';

-- The comparison every big check is built on. Two row sets, each given as a query returning
-- (id text, h bigint, j jsonb): h a hash of the whole row (hash_record_extended), j the row as JSON
-- (computed only for the rows that differ, for the report). The generated view returns the ids
-- whose row differs -- only on the left, only on the right, or on both sides with another hash --
-- with both images (left_image, right_image; NULL on the side where the row is missing). Rows
-- whose id is "held" (quarantined, see held_ids) are left out on both sides.
--
-- Why not a plain FULL JOIN on id: a full join of 1,000,000 x 1,000,000 rows runs in one process.
-- Instead each side is hashed once, by parallel workers, and the hashes are summed per bucket of
-- the id (65536 buckets); only buckets whose count or sum differ are compared row by row, with
-- the bucket test (a bit string lookup) applied as a filter of the scan, before any expensive
-- expression of the row is computed. When nothing differs, the second pass reads nothing at all.
--
-- Why held rows are subtracted instead of filtered out: an anti-join of a million rows with a
-- (nearly) empty quarantine is planned as a nested loop that rescans the quarantine for every row,
-- which costs more than hashing the row. So the first pass takes every row (left_rows,
-- right_rows) and subtracts the held ones (left_held, right_held: the same rows, found through the
-- quarantine and an index); held rows left on a side (e.g. a v2 row copied before its v1 row was
-- quarantined) only make their bucket be compared row by row, where held_ids removes them.
-- A difference goes unnoticed only if 64-bit row hashes collide.
-- Dropped first: its parameter names changed while it was written, which CREATE OR REPLACE refuses;
-- nothing depends on it (the views it generated do not).
DROP FUNCTION IF EXISTS sark_migration.validation_define_diff_view(text, text[], text, text, text, text, text, text);
DROP FUNCTION IF EXISTS sark_migration.validation_define_diff_view(text, text[], text, text, text, text, text, text, text, text, text);
CREATE FUNCTION sark_migration.validation_define_diff_view(
  view_name   text,
  requires    text[],
  description text,
  left_rows   text,
  right_rows  text,
  held_ids    text,
  left_only   text,
  right_only  text,
  differs     text,
  left_held   text DEFAULT NULL,
  right_held  text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
  none CONSTANT text := 'SELECT NULL::text AS id, NULL::bigint AS h WHERE false';
BEGIN
  RETURN sark_migration.validation_define_view(view_name, requires, format($body$
  WITH l AS (
    SELECT u.bucket, sum(u.n) AS n, sum(u.s) AS s
    FROM (SELECT hashtext(x.id) & 65535 AS bucket, count(*) AS n, sum(x.h) AS s FROM (%1$s) x GROUP BY 1
          UNION ALL
          SELECT hashtext(x.id) & 65535, -count(*), -sum(x.h) FROM (%2$s) x GROUP BY 1) u
    GROUP BY u.bucket
  ), r AS (
    SELECT u.bucket, sum(u.n) AS n, sum(u.s) AS s
    FROM (SELECT hashtext(x.id) & 65535 AS bucket, count(*) AS n, sum(x.h) AS s FROM (%3$s) x GROUP BY 1
          UNION ALL
          SELECT hashtext(x.id) & 65535, -count(*), -sum(x.h) FROM (%4$s) x GROUP BY 1) u
    GROUP BY u.bucket
  ), bad AS (
    SELECT COALESCE(l.bucket, r.bucket) AS bucket
    FROM l FULL JOIN r ON r.bucket = l.bucket
    WHERE COALESCE(l.n, 0) <> COALESCE(r.n, 0) OR COALESCE(l.s, 0) <> COALESCE(r.s, 0)
  ), bad_bits AS (
    -- The bad buckets as a bit string: the test below is then a plain filter of the scan,
    -- evaluated before the row's hash and image are computed (a join would come after them).
    SELECT string_agg(CASE WHEN bad.bucket IS NULL THEN '0' ELSE '1' END, '' ORDER BY g.n)::varbit AS bits
    FROM generate_series(0, 65535) AS g(n) LEFT JOIN bad ON bad.bucket = g.n
  )
  SELECT COALESCE(a.id, b.id) AS id,
         CASE WHEN b.id IS NULL THEN %6$L WHEN a.id IS NULL THEN %7$L ELSE %8$L END::text AS problem,
         a.j AS left_image,
         b.j AS right_image
  FROM (SELECT x.id, x.h, x.j FROM (%1$s) x
        WHERE EXISTS (SELECT 1 FROM bad)
          AND get_bit((SELECT bits FROM bad_bits), hashtext(x.id) & 65535) = 1
          AND NOT EXISTS (SELECT 1 FROM (%5$s) held WHERE held.id = x.id)) a
  FULL JOIN
       (SELECT x.id, x.h, x.j FROM (%3$s) x
        WHERE EXISTS (SELECT 1 FROM bad)
          AND get_bit((SELECT bits FROM bad_bits), hashtext(x.id) & 65535) = 1
          AND NOT EXISTS (SELECT 1 FROM (%5$s) held WHERE held.id = x.id)) b
    ON b.id = a.id
  WHERE a.id IS NULL OR b.id IS NULL OR a.h <> b.h
  $body$, left_rows, COALESCE(left_held, none), right_rows, COALESCE(right_held, none), held_ids,
          left_only, right_only, differs),
  description || ' Columns: id, problem (' || left_only || ' | ' || right_only || ' | ' || differs
              || '), left_image, right_image (the two rows as JSON).');
END
$$;
COMMENT ON FUNCTION sark_migration.validation_define_diff_view(text, text[], text, text, text, text, text, text, text, text, text) IS
  'Creates a view listing the ids whose whole row differs between two row sets, each a query returning '
  '(id text, h bigint = row hash, j jsonb = row image), held rows (held_ids) left out; compared by bucketed '
  'hash sums first (held rows subtracted: left_held, right_held), row by row only in buckets that differ.';

-- The held ids, as the copy leaves them out: quarantined servers, and quarantined tools plus the
-- tools (v1) and capabilities (v2) of quarantined servers. Indexed lookups from the (small)
-- quarantine ledger: mcp_tools.server_id (ix_mcp_tools_server_id), capabilities.resource_id.
CREATE OR REPLACE FUNCTION sark_migration.validation_held_servers_sql()
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT $q$SELECT q.source_id::text AS id FROM sark_migration.quarantine q WHERE q.source_table = 'mcp_servers'$q$
$$;
CREATE OR REPLACE FUNCTION sark_migration.validation_held_tools_sql()
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT $q$SELECT q.source_id::text AS id FROM sark_migration.quarantine q WHERE q.source_table = 'mcp_tools'
     UNION ALL
     SELECT t.id::text FROM public.mcp_tools t
      WHERE t.server_id = ANY (ARRAY(SELECT q.source_id FROM sark_migration.quarantine q WHERE q.source_table = 'mcp_servers'))
     UNION ALL
     SELECT c.id::text FROM public.capabilities c
      WHERE c.resource_id = ANY (ARRAY(SELECT q.source_id::text FROM sark_migration.quarantine q WHERE q.source_table = 'mcp_servers'))$q$
$$;
COMMENT ON FUNCTION sark_migration.validation_held_servers_sql() IS
  'SQL text of the held server ids (quarantined servers), for validation_define_diff_view.';
COMMENT ON FUNCTION sark_migration.validation_held_tools_sql() IS
  'SQL text of the held tool ids (quarantined tools, tools and capabilities of quarantined servers), for validation_define_diff_view.';

-- Only ever called for the first few offending rows of a failing check, never per scanned row.
CREATE OR REPLACE FUNCTION sark_migration.validation_field_diff(actual jsonb, expected jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  WITH top AS (
    SELECT k.key, actual -> k.key AS a, expected -> k.key AS e
    FROM (SELECT jsonb_object_keys(COALESCE(actual, '{}'::jsonb))
          UNION
          SELECT jsonb_object_keys(COALESCE(expected, '{}'::jsonb))) AS k(key)
    WHERE (actual -> k.key) IS DISTINCT FROM (expected -> k.key)
  ), both_objects AS (
    SELECT * FROM top WHERE jsonb_typeof(a) = 'object' AND jsonb_typeof(e) = 'object'
  ), field AS (
    SELECT t.key || '.' || k.key AS name, t.a -> k.key AS a, t.e -> k.key AS e
    FROM both_objects t,
         LATERAL (SELECT jsonb_object_keys(t.a) UNION SELECT jsonb_object_keys(t.e)) AS k(key)
    WHERE (t.a -> k.key) IS DISTINCT FROM (t.e -> k.key)
    UNION ALL
    SELECT t.key, t.a, t.e
    FROM top t
    WHERE t.key NOT IN (SELECT key FROM both_objects)
  ), clipped AS (
    -- Large values (a JSON Schema, a long description) are shown as their first 200 characters.
    SELECT name,
           CASE WHEN octet_length(a::text) <= 200 THEN a
                WHEN jsonb_typeof(a) = 'string' THEN to_jsonb(left(a #>> '{}', 200) || '…')
                ELSE to_jsonb(left(a::text, 200) || '…') END AS a,
           CASE WHEN octet_length(e::text) <= 200 THEN e
                WHEN jsonb_typeof(e) = 'string' THEN to_jsonb(left(e #>> '{}', 200) || '…')
                ELSE to_jsonb(left(e::text, 200) || '…') END AS e
    FROM field
  )
  SELECT jsonb_build_object(
           'fields',   COALESCE(jsonb_agg(name ORDER BY name), '[]'::jsonb),
           'actual',   COALESCE(jsonb_object_agg(name, COALESCE(a, 'null'::jsonb)), '{}'::jsonb),
           'expected', COALESCE(jsonb_object_agg(name, COALESCE(e, 'null'::jsonb)), '{}'::jsonb))
  FROM clipped
$$;
COMMENT ON FUNCTION sark_migration.validation_field_diff(jsonb, jsonb) IS
  'The fields in which two row images (to_jsonb of a row) differ, one level deep into objects '
  '(metadata.status), with both values (clipped to 200 characters): {fields, actual, expected}.';

-- A v2 id as the uuid of its v1 row, NULL when it is not one: lets a lookup of a few ids use the
-- v1 primary key instead of comparing text with every v1 row.
CREATE OR REPLACE FUNCTION sark_migration.validation_uuid(id text)
RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN id::uuid END
$$;
COMMENT ON FUNCTION sark_migration.validation_uuid(text) IS
  'The text as a uuid when it is one in the canonical form (as migrated ids are), else NULL.';
