-- 006_capabilities_per_protocol.sql: how many capabilities each protocol offers, and how many
-- of them are high or critical.
--
-- Pattern:   Capabilities per protocol
-- Target:    none in the runbook (a whole-table aggregate, for reports rather than requests)
-- Expects:   none (it reads every capability and filters nothing: a sequential scan is right)
-- Shape:     parallel hash join of capabilities and resources, aggregated per protocol.
--            Measured at 1,000,000 capabilities: 0.5-0.8 s. Dashboards that need it often
--            should read a summary refreshed periodically, not run this per request.
-- Runs:      read-only; one SELECT without parameters (psql -f, or optimize --benchmark).
SELECT r.protocol,
       count(*) AS capabilities,
       count(*) FILTER (WHERE c.sensitivity_level IN ('high', 'critical')) AS high_or_critical
FROM capabilities c
JOIN resources r ON r.id = c.resource_id
GROUP BY r.protocol
ORDER BY r.protocol;
