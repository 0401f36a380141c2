-- 011_refresh_quarantine.sql
--
-- What:     rewrites sark_migration.quarantine from the quarantine findings (004): new dirty rows
--           are added, rows that are clean now are removed, found_at of the others is kept.
--           The copy leaves out exactly the rows held here. Prints entries added/removed and
--           the number of servers and tools held.
-- Requires: sql/mapping 001 .. 008 installed; 010 run.
-- Runs:     in a transaction, before the copy; scans mcp_servers / mcp_tools once per
--           quarantine class. Writes only sark_migration.quarantine.
SELECT * FROM sark_migration.refresh_quarantine();
