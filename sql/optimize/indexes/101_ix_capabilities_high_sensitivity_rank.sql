-- 101_ix_capabilities_high_sensitivity_rank.sql: partial expression index that serves the
-- severity-ordered page of high-sensitivity capabilities (critical first, then high).
--
-- Kind:      recommended
-- Table:     capabilities
-- Index:     ix_capabilities_high_sensitivity_rank
-- Used by:   004_high_sensitivity_capabilities
-- Why:       sensitivity_level is varchar, so ORDER BY sensitivity_level DESC sorts the alphabet
--            (medium, low, high, critical). The pattern orders by an explicit severity rank;
--            ix_capabilities_sensitivity cannot deliver that order, so without this index every
--            page reads all high/critical rows and sorts them.
-- Measured:  100,000 servers / 1,000,000 capabilities (300,000 high or critical): without it the
--            pattern ran 500-725 ms (Parallel Seq Scan on capabilities + external merge sort,
--            ~154,000 buffers); with it 1.1-1.4 ms (Index Scan, 50 index rows, ~250 buffers).
--            Build 1 s concurrently, 24 MB; only high/critical rows are indexed (partial), so
--            writes of low/medium capabilities do not maintain it.
-- Keep in step: the CASE below must stay textually equal to the ORDER BY of
--            sql/optimize/queries/004_high_sensitivity_capabilities.sql, or the planner cannot
--            match them.
-- Runs:      outside any transaction, alone (CREATE INDEX CONCURRENTLY refuses a transaction
--            block); never blocks writes (SHARE UPDATE EXCLUSIVE). A failed concurrent build
--            leaves an INVALID index: `sark-migrate optimize --optimize` drops it concurrently
--            and builds it again. Idempotent (IF NOT EXISTS).
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_capabilities_high_sensitivity_rank
    ON capabilities ((CASE sensitivity_level WHEN 'critical' THEN 4 WHEN 'high' THEN 3
                                             WHEN 'medium' THEN 2 WHEN 'low' THEN 1 END) DESC,
                     name, id)
    WHERE sensitivity_level IN ('high', 'critical');
