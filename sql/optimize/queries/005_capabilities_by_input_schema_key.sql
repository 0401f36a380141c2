-- 005_capabilities_by_input_schema_key.sql: a page of the capabilities whose input schema
-- declares a given parameter (here: calendar_event_id), by id (keyset).
--
-- Pattern:   Capabilities by input schema key
-- Target:    none in the runbook
-- Expects:   ix_capabilities_input_properties_gin, capabilities_pkey
-- Shape:     for a key many capabilities declare, the planner walks the primary key and stops
--            after 50 matches (about 50 / share-of-capabilities rows): measured at 1,000,000
--            capabilities, key on 2.9 % of them, 3.8-13 ms. For a rare or absent key it answers
--            from ix_capabilities_input_properties_gin instead: 0.07 ms, where the walk took
--            18 s. Ordering by name instead walks the name index alphabetically, where the
--            matching names can all come last (1.3 s measured for `dry_run`).
--            Next page: add `AND c.id > '<last id>'`.
-- Runs:      read-only; one SELECT without parameters (psql -f, or optimize --benchmark).
SELECT c.id, c.name, c.resource_id, c.sensitivity_level
FROM capabilities c
WHERE c.input_schema -> 'properties' ? 'calendar_event_id'
ORDER BY c.id
LIMIT 50;
