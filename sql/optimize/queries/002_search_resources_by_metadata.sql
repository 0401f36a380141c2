-- 002_search_resources_by_metadata.sql: resources whose metadata contains a JSON fragment
-- (GIN containment): every SSE server currently reported unhealthy, most recently checked first.
--
-- Pattern:   Search resources by metadata
-- Target:    100 ms (runbook "Expected Performance Metrics"; goal here: p95 <= 10 ms)
-- Expects:   ix_resources_metadata_gin
-- Shape:     `metadata @> {...}` is answered by the GIN index (bitmap), the matches (about 1 %
--            of resources) are sorted on a value only the row has. Measured at 100,000
--            resources: 1,016 matches, 2.9 ms warm with the jsonb_ops GIN of migration 006; a
--            second, jsonb_path_ops GIN was not needed. Ordering such a search by an indexed
--            column (name) instead lets the planner walk that index and filter row by row,
--            which is 10x slower for selective fragments.
-- Runs:      read-only; one SELECT without parameters (psql -f, or optimize --benchmark).
SELECT r.id, r.name, r.endpoint, r.metadata ->> 'last_health_check' AS last_health_check
FROM resources r
WHERE r.metadata @> '{"status": "unhealthy", "transport": "sse"}'
ORDER BY r.metadata ->> 'last_health_check' DESC NULLS LAST, r.id
LIMIT 100;
