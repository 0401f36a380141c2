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
--           On a large database run it as the CLI does, for the plans the checks are written for
--           (hashed aggregation in parallel workers, no sort of a million wide rows):
--             BEGIN; SET LOCAL enable_sort = off; SET LOCAL work_mem = '64MB'; SET LOCAL jit = off;
--             SELECT * FROM sark_migration.validation_full WHERE NOT passed; COMMIT;
-- Requires: 000 .. 006 (each family view exists, as the real checks or as a stand-in).
-- Runs:     in a transaction; idempotent. DROP + CREATE: an earlier version may have had other
--           columns, and nothing but these views depends on them.

DROP VIEW IF EXISTS sark_migration.validation_quick;
CREATE VIEW sark_migration.validation_quick AS
SELECT * FROM sark_migration.check_schema
UNION ALL SELECT * FROM sark_migration.check_counts
UNION ALL SELECT * FROM sark_migration.check_relationships;
COMMENT ON VIEW sark_migration.validation_quick IS
  'validate --quick: schema, counts and relationships checks (no fidelity), cheap enough for every deploy.';

DROP VIEW IF EXISTS sark_migration.validation_full;
CREATE VIEW sark_migration.validation_full AS
SELECT * FROM sark_migration.check_schema
UNION ALL SELECT * FROM sark_migration.check_counts
UNION ALL SELECT * FROM sark_migration.check_relationships
UNION ALL SELECT * FROM sark_migration.check_fidelity
UNION ALL SELECT * FROM sark_migration.check_business_rules
UNION ALL SELECT * FROM sark_migration.check_health;
COMMENT ON VIEW sark_migration.validation_full IS
  'validate --full (the default): every check, including fidelity (migrated values equal the mapping of v1, '
  'and the inverse mapping rebuilds v1 exactly).';

DROP VIEW IF EXISTS sark_migration.validation_schema;
CREATE VIEW sark_migration.validation_schema AS
SELECT * FROM sark_migration.check_schema;
COMMENT ON VIEW sark_migration.validation_schema IS
  'validate --schema: v2 tables, columns, constraints, indexes (INVALID counts as missing) and ledgers.';

DROP VIEW IF EXISTS sark_migration.validation_data;
CREATE VIEW sark_migration.validation_data AS
SELECT * FROM sark_migration.check_counts
UNION ALL SELECT * FROM sark_migration.check_fidelity
UNION ALL SELECT * FROM sark_migration.check_business_rules;
COMMENT ON VIEW sark_migration.validation_data IS
  'validate --data: counts, fidelity and business rules.';

DROP VIEW IF EXISTS sark_migration.validation_relationships;
CREATE VIEW sark_migration.validation_relationships AS
SELECT * FROM sark_migration.check_relationships;
COMMENT ON VIEW sark_migration.validation_relationships IS
  'validate --relationships: orphaned capabilities, capabilities under the wrong resource, cost_tracking references.';
