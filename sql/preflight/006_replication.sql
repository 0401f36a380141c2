-- 006_replication.sql
--
-- What:     replication lag, where there is replication. One row per:
--             replica       a standby streaming from this server (pg_stat_replication), with
--                           its replay lag in time and in bytes of WAL not yet replayed;
--             standby       this server itself, when it is a standby: how long ago the last
--                           replayed transaction committed on the primary (the migration must
--                           run on the primary; preflight refuses a standby);
--             slot          a replication slot that is not active: it retains WAL without
--                           limit, and the copy writes a lot of WAL.
--           No rows: no replicas, no slots, not a standby.
-- Requires: nothing; the lag columns of pg_stat_replication are NULL unless the current role is
--           a superuser or a member of pg_read_all_stats. PostgreSQL 13+ (wal_status).
-- Runs:     a plain SELECT; writes nothing. WAL positions are only read on a primary (a standby
--           has no current WAL insert position to compare with).

SELECT 'replica'::text                                                   AS kind,
       r.application_name                                                AS name,
       host(r.client_addr)                                               AS client_addr,
       r.state,
       r.sync_state,
       NULL::text                                                        AS wal_status,
       extract(epoch FROM r.replay_lag)::float8                          AS lag_seconds,
       CASE WHEN NOT pg_is_in_recovery() AND r.replay_lsn IS NOT NULL
            THEN pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint END AS lag_bytes
FROM pg_catalog.pg_stat_replication r
UNION ALL
SELECT 'standby',
       current_setting('cluster_name'),
       NULL,
       CASE WHEN pg_last_wal_receive_lsn() IS NULL THEN 'not receiving' ELSE 'streaming' END,
       NULL,
       NULL,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint
WHERE pg_is_in_recovery()
UNION ALL
SELECT 'slot',
       s.slot_name::text,
       NULL,
       'inactive',
       NULL,
       s.wal_status,
       NULL,
       CASE WHEN NOT pg_is_in_recovery() AND s.restart_lsn IS NOT NULL
            THEN pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint END
FROM pg_catalog.pg_replication_slots s
WHERE NOT s.active
ORDER BY 1, 2;
