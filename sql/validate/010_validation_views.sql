-- 010_validation_views.sql
--
-- What:     the validation modes, one view each, the union of their families:
--             sark_migration.validation_quick          schema + counts + relationships (cheap: every deploy)
--             sark_migration.validation_full           every family, fidelity included
--             sark_migration.validation_schema         schema
--             sark_migration.validation_data           counts + fidelity + business rules
--             sark_migration.validation_relationships  relationships
--           `sark-migrate validate --<mode>` reads exactly these views, so a DBA gets the CLI's
--           answers from psql:
--             SELECT * FROM sark_migration.validation_full WHERE NOT passed;
--           Every row is a check (check_name, severity, passed, message, details); a failing row
--           with severity error or critical fails the validation, warnings and info do not.
--           Each view reads sark_migration.evaluate_checks(mode), which carries the settings the
--           checks are written for, so a plain psql session costs what the CLI does: no JIT (at
--           20,000 servers it compiled 11,000 functions and took 40-66 s instead of 5-10 s), no
--           sort of a million wide rows (hashed aggregation in parallel workers instead), and
--           work_mem for the hash tables.
-- Requires: 000 .. 007 (each family view exists, as the real checks or as a stand-in).
-- Runs:     in a transaction; idempotent. DROP + CREATE: an earlier version may have had other
--           columns, and nothing but these views depends on them.

-- The views first: they depend on the function, whose row type a later version may change.
DROP VIEW IF EXISTS sark_migration.validation_quick;
DROP VIEW IF EXISTS sark_migration.validation_full;
DROP VIEW IF EXISTS sark_migration.validation_schema;
DROP VIEW IF EXISTS sark_migration.validation_data;
DROP VIEW IF EXISTS sark_migration.validation_relationships;
DROP FUNCTION IF EXISTS sark_migration.evaluate_checks(text);

-- The union of the families a mode reads. A family whose mode does not match is cut off by a
-- one-time filter on the constant, so it is never executed.
CREATE FUNCTION sark_migration.evaluate_checks(mode text)
RETURNS TABLE (check_name text, severity text, passed boolean, message text, details jsonb)
LANGUAGE plpgsql
STABLE
SET jit = off
SET enable_sort = off
SET work_mem = '64MB'
AS $$
BEGIN
  IF mode NOT IN ('full', 'quick', 'schema', 'data', 'relationships') THEN
    RAISE EXCEPTION 'unknown validation mode %', mode
      USING HINT = 'One of full, quick, schema, data, relationships.';
  END IF;
  RETURN QUERY
            SELECT * FROM sark_migration.check_schema            WHERE mode IN ('full', 'quick', 'schema')
  -- --quick compares the keys (002); --full and --data read them from the round trips (007)
  UNION ALL SELECT * FROM sark_migration.check_keys              WHERE mode = 'quick'
  UNION ALL SELECT * FROM sark_migration.check_fidelity_and_keys WHERE mode = 'full'
  UNION ALL SELECT * FROM sark_migration.check_fidelity_and_keys f WHERE mode = 'data' AND f.check_name NOT LIKE 'relationships.%'
  UNION ALL SELECT * FROM sark_migration.check_references        WHERE mode IN ('full', 'quick')
  UNION ALL SELECT * FROM sark_migration.check_relationships     WHERE mode = 'relationships'
  UNION ALL SELECT * FROM sark_migration.check_business_rules    WHERE mode IN ('full', 'data')
  UNION ALL SELECT * FROM sark_migration.check_health            WHERE mode = 'full';
END
$$;
COMMENT ON FUNCTION sark_migration.evaluate_checks(text) IS
  'The checks of one validation mode, evaluated with the settings they are written for (no JIT, no sort, work_mem 64MB); read through the validation_<mode> views.';

CREATE VIEW sark_migration.validation_quick AS
SELECT * FROM sark_migration.evaluate_checks('quick');
COMMENT ON VIEW sark_migration.validation_quick IS
  'validate --quick: schema, counts and relationships checks (no fidelity), cheap enough for every deploy.';

CREATE VIEW sark_migration.validation_full AS
SELECT * FROM sark_migration.evaluate_checks('full');
COMMENT ON VIEW sark_migration.validation_full IS
  'validate --full (the default): every check, including fidelity (migrated values equal the mapping of v1, '
  'and the inverse mapping rebuilds v1 exactly).';

CREATE VIEW sark_migration.validation_schema AS
SELECT * FROM sark_migration.evaluate_checks('schema');
COMMENT ON VIEW sark_migration.validation_schema IS
  'validate --schema: v2 tables, columns, constraints, indexes (INVALID counts as missing) and ledgers.';

CREATE VIEW sark_migration.validation_data AS
SELECT * FROM sark_migration.evaluate_checks('data');
COMMENT ON VIEW sark_migration.validation_data IS
  'validate --data: counts, fidelity and business rules.';

CREATE VIEW sark_migration.validation_relationships AS
SELECT * FROM sark_migration.evaluate_checks('relationships');
COMMENT ON VIEW sark_migration.validation_relationships IS
  'validate --relationships: orphaned capabilities, capabilities under the wrong resource, cost_tracking references.';
