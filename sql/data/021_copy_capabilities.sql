-- 021_copy_capabilities.sql
--
-- What:     copies mcp_tools -> capabilities (sark_migration.capability_image) through
--           write_capabilities, like 020 (batches: copy_batch('capabilities', run_id, batch_size)).
-- Requires: 020 finished (capabilities reference resources).
-- Runs:     in a transaction of its own (or any).
SELECT * FROM sark_migration.copy_table('capabilities');
