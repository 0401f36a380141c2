-- 004_sync_status.sql
--
-- What:     what a DBA (and `sync --status`, `validate`, `decommission`) reads about the sync:
--             sark_migration.sync_triggers         the sync triggers installed, per table
--             sark_migration.sync_issues           everything that keeps v1 and v2 from being equal
--                                                  right now: open sync failures (error) and rows v1
--                                                  cannot represent (warning), one row each
--             sark_migration.v1_dependents         what still depends on mcp_servers / mcp_tools,
--                                                  outside this tool's own schemas (views, foreign
--                                                  keys, functions naming them, publications):
--                                                  decommission refuses while it is not empty
--             sark_migration.retry_sync_failures() re-applies the ids of every open failure
-- Requires: 001 .. 003 of this folder.
-- Runs:     in a transaction; idempotent (CREATE OR REPLACE). Read-only views.

CREATE OR REPLACE VIEW sark_migration.sync_triggers AS
SELECT c.relname::text                                        AS table_name,
       t.tgname::text                                         AS trigger_name,
       CASE WHEN t.tgname LIKE 'sark\_sync\_forward%' THEN 'forward' ELSE 'reverse' END AS direction,
       CASE WHEN t.tgtype & 4 <> 0 THEN 'INSERT'
            WHEN t.tgtype & 8 <> 0 THEN 'DELETE'
            WHEN t.tgtype & 16 <> 0 THEN 'UPDATE'
            WHEN t.tgtype & 32 <> 0 THEN 'TRUNCATE' ELSE 'other' END AS event,
       t.tgenabled <> 'D'                                     AS enabled
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT t.tgisinternal
  AND (t.tgname LIKE 'sark\_sync\_forward%' OR t.tgname LIKE 'sark\_sync\_reverse%');
COMMENT ON VIEW sark_migration.sync_triggers IS
  'The zero-downtime sync triggers present: forward (on mcp_servers / mcp_tools) and reverse (on resources / '
  'capabilities), one per table and event.';

CREATE OR REPLACE VIEW sark_migration.sync_issues AS
SELECT 'sync_failure'::text AS kind, 'error'::text AS severity, f.direction, f.source_table,
       f.ids, f.at AS recorded_at,
       format('%s sync of %s row(s) of %s failed: %s (SQLSTATE %s). The application''s write went through; '
              'these rows are out of step until SELECT * FROM sark_migration.retry_sync_failures() '
              'applies them again.', initcap(f.direction), cardinality(f.ids), f.source_table, f.message, f.sqlstate)
         AS message
FROM sark_migration.sync_failures f
WHERE f.resolved_at IS NULL
UNION ALL
SELECT 'reverse_unrepresentable', 'warning', 'reverse', u.target_table, ARRAY[u.id], u.recorded_at,
       format('%s (%s): not written back to v1. %s', u.reason, u.target_table, u.detail)
FROM sark_migration.reverse_unrepresentable u;
COMMENT ON VIEW sark_migration.sync_issues IS
  'Why v1 and v2 may differ while the sync runs: open sync_failures (severity error) and reverse_unrepresentable '
  'rows (warning: they exist in v2 only). Empty when both sides hold the same rows.';

CREATE OR REPLACE VIEW sark_migration.v1_dependents AS
WITH v1 AS (
  SELECT c.oid, c.relname::text AS name
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relname IN ('mcp_servers', 'mcp_tools')
), ours AS (
  SELECT unnest(ARRAY['sark_migration', 'sark_seed', 'pg_catalog', 'information_schema']) AS nspname
)
-- views, materialized views and rules (pg_depend through pg_rewrite)
SELECT DISTINCT
       CASE dv.relkind WHEN 'm' THEN 'materialized view' WHEN 'v' THEN 'view' ELSE 'rule' END AS kind,
       format('%I.%I', dn.nspname, dv.relname)                                             AS object,
       v1.name                                                                            AS depends_on,
       format('DROP %s %I.%I (or stop it from reading %s)',
              CASE dv.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, dn.nspname, dv.relname, v1.name)
                                                                                          AS fix
FROM v1
JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = v1.oid
                           AND d.classid = 'pg_catalog.pg_rewrite'::regclass
JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid
JOIN pg_catalog.pg_class dv ON dv.oid = rw.ev_class
JOIN pg_catalog.pg_namespace dn ON dn.oid = dv.relnamespace
WHERE dv.oid NOT IN (SELECT oid FROM v1)
  AND dn.nspname NOT IN (SELECT nspname FROM ours)
UNION ALL
-- foreign keys of other tables that reference a v1 table
SELECT 'foreign key', format('%I on %s', con.conname, con.conrelid::regclass), v1.name,
       format('ALTER TABLE %s DROP CONSTRAINT %I', con.conrelid::regclass, con.conname)
FROM v1
JOIN pg_catalog.pg_constraint con ON con.contype = 'f' AND con.confrelid = v1.oid
WHERE con.conrelid NOT IN (SELECT oid FROM v1)
UNION ALL
-- functions outside this tool's schemas that name a v1 table (SQL-standard bodies are in pg_depend,
-- other bodies are text: searched by name), except trigger functions of the v1 tables themselves,
-- which go with them
SELECT DISTINCT 'function', p.oid::regprocedure::text, v1.name,
       format('DROP FUNCTION %s (or stop it from using %s)', p.oid::regprocedure, v1.name)
FROM v1
JOIN pg_catalog.pg_proc p ON p.prosrc ~ ('\m' || v1.name || '\M')
                           OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                       WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
                                         AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = v1.oid)
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
WHERE pn.nspname NOT IN (SELECT nspname FROM ours)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg
                   WHERE tg.tgfoid = p.oid AND tg.tgrelid IN (SELECT oid FROM v1))
UNION ALL
-- logical replication
SELECT 'publication', pub.pubname::text, v1.name,
       format('ALTER PUBLICATION %I DROP TABLE public.%I', pub.pubname, v1.name)
FROM v1
JOIN pg_catalog.pg_publication_rel pr ON pr.prrelid = v1.oid
JOIN pg_catalog.pg_publication pub ON pub.oid = pr.prpubid;
COMMENT ON VIEW sark_migration.v1_dependents IS
  'Objects outside sark_migration / sark_seed that still depend on public.mcp_servers or public.mcp_tools: views, '
  'foreign keys, functions naming them, publications, each with a fix. Decommission refuses while this is not empty.';

CREATE OR REPLACE FUNCTION sark_migration.retry_sync_failures()
RETURNS TABLE (failure_id bigint, direction text, source_table text, row_count integer, resolved boolean, message text)
LANGUAGE plpgsql
AS $$
DECLARE
  f     record;
  state text;
  msg   text;
  what  text;
BEGIN
  FOR f IN SELECT * FROM sark_migration.sync_failures s WHERE s.resolved_at IS NULL ORDER BY s.id LOOP
    failure_id := f.id; direction := f.direction; source_table := f.source_table; row_count := cardinality(f.ids);
    -- the writes of a retry are the sync's own: the other direction must not echo them
    PERFORM set_config('sark_migration.sync_origin', f.direction, true);
    BEGIN
      -- no ids: the failure of a TRUNCATE's sync (forward_sync() in 002, reverse_sync() in 003)
      what := CASE WHEN cardinality(f.ids) = 0 THEN f.direction || '/truncate' ELSE f.direction || '/' || f.source_table END;
      CASE what
        WHEN 'forward/truncate'     THEN PERFORM sark_migration.delete_vanished();
        WHEN 'reverse/truncate'     THEN PERFORM sark_migration.reverse_delete_vanished();
        WHEN 'forward/mcp_servers'  THEN PERFORM sark_migration.apply_resources(f.ids::uuid[]);
        WHEN 'forward/mcp_tools'    THEN PERFORM sark_migration.apply_capabilities(f.ids::uuid[]);
        WHEN 'reverse/resources'    THEN PERFORM sark_migration.reverse_apply_resources(f.ids);
        WHEN 'reverse/capabilities' THEN PERFORM sark_migration.reverse_apply_capabilities(f.ids);
      END CASE;
      UPDATE sark_migration.sync_failures s SET resolved_at = clock_timestamp() WHERE s.id = f.id;
      resolved := true;
      message := 'applied again';
    EXCEPTION WHEN others THEN
      GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      resolved := false;
      message := format('still failing: %s (SQLSTATE %s)', msg, state);
    END;
    PERFORM set_config('sark_migration.sync_origin', '', true);
    RETURN NEXT;
  END LOOP;
END
$$;
COMMENT ON FUNCTION sark_migration.retry_sync_failures() IS
  'Re-applies the ids of every open sync failure in its direction (apply_* / reverse_apply_*, which are '
  'idempotent and read the current rows) and marks the ones that succeed resolved. Returns one row per failure.';
