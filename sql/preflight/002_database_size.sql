-- 002_database_size.sql
--
-- What:     the size of the current database (runbook, Pre-Migration Checklist 2: "Check
--           database size"). The copy roughly doubles the size of the v1 data while v1 and v2
--           both exist, so compare this with the free space on the server's volume.
-- Requires: CONNECT on the database (everyone has it by default). One row.
-- Runs:     a plain SELECT; writes nothing.

SELECT current_database()                                  AS database,
       pg_database_size(current_database())                AS size_bytes,
       pg_size_pretty(pg_database_size(current_database())) AS size;
