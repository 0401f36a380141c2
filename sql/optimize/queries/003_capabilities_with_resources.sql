-- 003_capabilities_with_resources.sql: a page of 20 resources (by name) with all their
-- capabilities, as a catalog screen shows them.
--
-- Pattern:   List capabilities with resources
-- Target:    75 ms (runbook "Expected Performance Metrics"; goal here: p95 <= 7.5 ms)
-- Expects:   ix_resources_name, ix_capabilities_resource
-- Shape:     the page of resources comes from ix_resources_name, their capabilities from the
--            join index ix_capabilities_resource (nested loop, about 10 per resource). Measured
--            at 100,000 / 1,000,000: 1.0 ms warm, 3.7 ms cold.
-- Runs:      read-only; one SELECT without parameters (psql -f, or optimize --benchmark).
SELECT r.id AS resource_id, r.name AS resource_name, r.protocol,
       c.id AS capability_id, c.name AS capability_name, c.sensitivity_level
FROM (SELECT id, name, protocol
        FROM resources
       ORDER BY name, id
       LIMIT 20) r
JOIN capabilities c ON c.resource_id = r.id
ORDER BY r.name, r.id, c.name, c.id;
