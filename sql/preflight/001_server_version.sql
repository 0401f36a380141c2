-- 001_server_version.sql
--
-- What:     the server this is: version, whether sark-migrate supports it (PostgreSQL 13 to 18),
--           whether it is a read-only standby (the migration must run on the primary), and who
--           is asking (the role every privilege check in 007 is about).
-- Requires: nothing. One row.
-- Runs:     a plain SELECT; writes nothing. psql -X -f sql/preflight/001_server_version.sql

SELECT current_setting('server_version')                                   AS server_version,
       current_setting('server_version_num')::int                          AS server_version_num,
       current_setting('server_version_num')::int / 10000                  AS major,
       current_setting('server_version_num')::int BETWEEN 130000 AND 189999 AS supported,
       pg_is_in_recovery()                                                 AS in_recovery,
       current_database()                                                  AS database,
       current_user::text                                                  AS current_user,
       (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS is_superuser,
       version()                                                           AS version;
