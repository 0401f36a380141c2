-- 005_long_transactions.sql
--
-- What:     the transactions that would make the migration wait, or make the application wait
--           behind the migration's DDL: sessions whose transaction is older than the threshold
--           (any state), every session idle in transaction (it holds its locks while doing
--           nothing), and prepared transactions (they hold locks until COMMIT/ROLLBACK PREPARED,
--           even across restarts). holds_v1_lock says whether it holds a lock on mcp_servers or
--           mcp_tools, which `schema up`, `sync --enable` and `decommission` need briefly.
--           This session is left out.
-- Threshold: the custom setting sark.long_transaction_threshold, default 1 minute:
--             SET sark.long_transaction_threshold = '30s';   -- then run this file
--           or  PGOPTIONS='-c sark.long_transaction_threshold=30s' psql -X -f ...
-- Requires: nothing; without superuser or pg_read_all_stats, other roles' sessions show no
--           state, xact_start or query and cannot be judged (004 counts them as not_visible).
-- Runs:     a plain SELECT; writes nothing. One row per session, longest first.

WITH settings AS (
  SELECT coalesce(nullif(current_setting('sark.long_transaction_threshold', true), ''), '1min')::interval
           AS threshold
),
v1 AS (
  SELECT c.oid FROM pg_catalog.pg_class c
  WHERE c.oid IN (to_regclass('public.mcp_servers'), to_regclass('public.mcp_tools'))
)
SELECT CASE WHEN a.state LIKE 'idle in transaction%' THEN 'idle_in_transaction'
            ELSE 'long_transaction' END                                    AS kind,
       a.pid,
       a.usename::text                                                     AS usename,
       a.application_name,
       host(a.client_addr)                                                 AS client_addr,
       a.state,
       a.xact_start,
       round(extract(epoch FROM now() - a.xact_start)::numeric, 1)::float8 AS duration_seconds,
       round(extract(epoch FROM now() - a.state_change)::numeric, 1)::float8 AS in_state_seconds,
       a.wait_event_type,
       a.wait_event,
       EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                WHERE l.pid = a.pid AND l.granted AND l.relation IN (SELECT oid FROM v1)) AS holds_v1_lock,
       left(regexp_replace(a.query, '\s+', ' ', 'g'), 80)                  AS query
FROM pg_catalog.pg_stat_activity a, settings s
WHERE a.datname = current_database()
  AND a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid()
  AND a.xact_start IS NOT NULL
  AND (a.xact_start < now() - s.threshold OR a.state LIKE 'idle in transaction%')
UNION ALL
SELECT 'prepared_transaction',
       NULL,
       p.owner::text,
       NULL,
       NULL,
       'prepared',
       p.prepared,
       round(extract(epoch FROM now() - p.prepared)::numeric, 1)::float8,
       round(extract(epoch FROM now() - p.prepared)::numeric, 1)::float8,
       NULL,
       NULL,
       EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                WHERE l.pid IS NULL AND l.virtualtransaction = '-1/' || p.transaction::text
                  AND l.relation IN (SELECT oid FROM v1)),
       left('gid ' || p.gid, 80)
FROM pg_catalog.pg_prepared_xacts p
WHERE p.database = current_database()
ORDER BY duration_seconds DESC NULLS LAST;
