-- 001_list_resources_by_protocol.sql: the first page of the resources of one protocol, by name.
--
-- Pattern:   List resources by protocol
-- Target:    50 ms (runbook "Expected Performance Metrics"; goal here: p95 <= 5 ms)
-- Expects:   ix_resources_name, ix_resources_protocol
-- Shape:     a list endpoint pages with a keyset (name, id) and LIMIT 50. For the dominant
--            protocol the planner walks ix_resources_name and stops after 50 matches; for a rare
--            one it takes ix_resources_protocol and sorts the few matches. Measured at 100,000
--            resources: 0.3-4.7 ms; a composite (protocol, name, id) index was not needed.
--            Next page: add `AND (r.name, r.id) > ('<last name>', '<last id>')`.
-- Runs:      read-only; one SELECT without parameters (psql -f, or optimize --benchmark).
SELECT r.id, r.name, r.protocol, r.endpoint, r.sensitivity_level
FROM resources r
WHERE r.protocol = 'mcp'
ORDER BY r.name, r.id
LIMIT 50;
