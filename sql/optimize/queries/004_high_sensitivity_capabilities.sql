-- 004_high_sensitivity_capabilities.sql: the first page of high-sensitivity capabilities,
-- critical first, then high, with their resource.
--
-- Pattern:   High sensitivity capabilities
-- Target:    60 ms (runbook "Expected Performance Metrics"; goal here: p95 <= 6 ms)
-- Expects:   ix_capabilities_high_sensitivity_rank
-- Shape:     severity order comes from an explicit rank (critical 4 > high 3 > medium 2 >
--            low 1), never from `sensitivity_level DESC`, which sorts the alphabet (medium,
--            low, high, critical). The CASE must stay textually equal to the one of
--            sql/optimize/indexes/101_ix_capabilities_high_sensitivity_rank.sql: the index
--            then delivers rows already in order and the page stops after 50. Without it:
--            500-725 ms (seq scan + sort of 300,000 rows); with it: 1.1-1.4 ms.
-- Runs:      read-only; one SELECT without parameters (psql -f, or optimize --benchmark).
SELECT c.id, c.name, c.sensitivity_level,
       r.id AS resource_id, r.name AS resource_name, r.protocol
FROM capabilities c
JOIN resources r ON r.id = c.resource_id
WHERE c.sensitivity_level IN ('high', 'critical')
ORDER BY CASE c.sensitivity_level WHEN 'critical' THEN 4 WHEN 'high' THEN 3
                                  WHEN 'medium' THEN 2 WHEN 'low' THEN 1 END DESC,
         c.name, c.id
LIMIT 50;
