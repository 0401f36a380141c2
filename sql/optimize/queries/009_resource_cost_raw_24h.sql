-- 009_resource_cost_raw_24h.sql: the 20 most expensive resources of the last 24 hours, straight
-- from the cost_tracking ledger, each with its protocol and its most expensive capability.
--
-- Pattern:   Resource cost analysis, raw ledger (rolling 24 h)
-- Target:    none in the runbook (the reference for 008, which reads the materialized view)
-- Expects:   ix_cost_tracking_timestamp, ix_cost_tracking_resource, resources_pkey, capabilities_pkey
-- Shape:     a time range of ix_cost_tracking_timestamp (~3 % of the ledger), aggregated per
--            resource; then, for the 20 winners only, their capability breakdown (LATERAL) and
--            names. Measured at 1,000,000 cost rows: 30-110 ms, dominated by aggregating
--            ~33,000 rows into ~27,000 groups, which no index removes. A (resource_id,
--            timestamp) index cut the LATERAL part from 6 ms to 0.6 ms warm (36 -> 30 ms in
--            total) and was not kept: one more index on an append-only ledger for a pattern
--            that 008 serves from the view.
-- Runs:      read-only; one SELECT without parameters (psql -f, or optimize --benchmark).
SELECT top.resource_id, r.name AS resource_name, r.protocol, top.invocations, top.total_cost,
       c.name AS top_capability, tc.cost AS top_capability_cost
FROM (SELECT ct.resource_id, count(*) AS invocations, sum(ct.actual_cost) AS total_cost
        FROM cost_tracking ct
       WHERE ct."timestamp" >= now() - interval '24 hours'
       GROUP BY ct.resource_id
       ORDER BY total_cost DESC NULLS LAST, ct.resource_id
       LIMIT 20) top
LEFT JOIN resources r ON r.id = top.resource_id
LEFT JOIN LATERAL (
       SELECT ct2.capability_id, sum(ct2.actual_cost) AS cost
         FROM cost_tracking ct2
        WHERE ct2.resource_id = top.resource_id
          AND ct2."timestamp" >= now() - interval '24 hours'
        GROUP BY ct2.capability_id
        ORDER BY cost DESC NULLS LAST, ct2.capability_id
        LIMIT 1) tc ON true
LEFT JOIN capabilities c ON c.id = tc.capability_id
ORDER BY top.total_cost DESC NULLS LAST, top.resource_id;
