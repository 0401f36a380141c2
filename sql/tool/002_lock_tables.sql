-- 002_lock_tables.sql: sark_migration.lock_tables(tables, mode), LOCK TABLE for several tables
-- that never waits while it holds one of them.
--
-- Why:      `LOCK TABLE a, b` takes a, then waits for b while holding a. An application
--           transaction that holds b and then writes a closes a cycle, and the deadlock detector
--           cancels whichever waiter checks first: sometimes the application's transaction. Here
--           the first table is waited for (bounded by lock_timeout) while the session holds none
--           of them, and every other is taken NOWAIT, so this session never waits while holding
--           one: it cannot be part of a deadlock, and it never holds the first table longer than
--           it takes to find the others busy. Busy: SQLSTATE 55P03, like a lock timeout; the
--           runner retries the whole transaction with backoff (a DBA re-runs the file).
-- Requires: 001 (schema sark_migration).
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE).
CREATE OR REPLACE FUNCTION sark_migration.lock_tables(tables regclass[], mode text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  i int;
BEGIN
  IF upper(mode) NOT IN ('SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE') THEN
    RAISE EXCEPTION 'lock_tables: unsupported lock mode %', mode USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR i IN 1 .. coalesce(array_length(tables, 1), 0) LOOP
    EXECUTE format('LOCK TABLE %s IN %s MODE%s', tables[i], upper(mode), CASE WHEN i > 1 THEN ' NOWAIT' END);
  END LOOP;
END
$$;
COMMENT ON FUNCTION sark_migration.lock_tables(regclass[], text) IS
  'LOCK TABLE tables[1] (waiting, under lock_timeout), then the others NOWAIT: never waits while holding a lock, so never deadlocks with the application. 55P03 when busy: retry.';
