-- 004_connections.sql
--
-- What:     the client sessions connected to this database, by state (runbook, Pre-Migration
--           Checklist 2: "Check for active connections"), this session excluded. Sessions of
--           other roles show state NULL unless the current role is a superuser or a member of
--           pg_read_all_stats; they are counted under `not_visible`.
-- Requires: nothing. One row.
-- Runs:     a plain SELECT; writes nothing.

SELECT count(*)                                                          AS total,
       count(*) FILTER (WHERE a.state = 'active')                        AS active,
       count(*) FILTER (WHERE a.state = 'idle')                          AS idle,
       count(*) FILTER (WHERE a.state LIKE 'idle in transaction%')       AS idle_in_transaction,
       count(*) FILTER (WHERE a.wait_event_type = 'Lock')                AS waiting_on_lock,
       count(*) FILTER (WHERE a.state IS NULL)                           AS not_visible,
       count(*) FILTER (WHERE a.application_name = 'sark-migrate')       AS sark_migrate,
       current_setting('max_connections')::int                          AS max_connections,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity x
         WHERE x.backend_type = 'client backend')                        AS server_total
FROM pg_catalog.pg_stat_activity a
WHERE a.datname = current_database()
  AND a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid();
