-- 004_precreated_v2_tables.sql: v2 tables SARK's application created before any migration.
--
-- SARK's newer application runs create_all() at start-up, so a v1 database it has started on once
-- already holds EMPTY resources, capabilities, federation_nodes, cost_tracking, principal_budgets,
-- with the models' columns but not 006/007's constraints, indexes, audit columns or view, and
-- with index names of their own (sark-schema.md). Migration 006 refuses to meet an existing
-- table. `schema up` takes such tables over instead, when, and only when, every one of them is
-- empty and has exactly the columns and types 006/007 define (003): it records each table's owner
-- and privileges (and those of its sequences), drops them, lets 006/007 create them, and gives
-- the new ones the recorded owner and privileges back. A table with rows, or of another shape, is
-- refused with the exact difference; nothing is dropped then.
--   sark_migration.precreated_v2_tables()           what is there and what stands in the way (read-only)
--   sark_migration.take_over_precreated_v2_tables() records and drops (refuses on any problem)
--   sark_migration.restore_taken_over_v2_tables()   after 006/007: owners and privileges back
--   sark_migration.taken_over_v2_tables             the record ("schema up took these over")
-- Requires: 001, 003. Runs in one transaction; idempotent.

CREATE TABLE IF NOT EXISTS sark_migration.taken_over_v2_tables (
  table_name   text        PRIMARY KEY,
  owner        text        NOT NULL,
  privileges   jsonb       NOT NULL,
  sequences    jsonb       NOT NULL DEFAULT '[]',
  columns      jsonb       NOT NULL,
  taken_at     timestamptz NOT NULL DEFAULT now(),
  restored_at  timestamptz,
  note         text
);
COMMENT ON TABLE sark_migration.taken_over_v2_tables IS
  'v2 tables that existed, empty, before migration 006 (created by SARK''s application) and that schema up '
  'dropped and re-created through 006/007: their owner, privileges and sequences'' privileges, restored after.';

CREATE OR REPLACE FUNCTION sark_migration.precreated_v2_tables()
RETURNS TABLE (table_name text, has_rows boolean, problems text[])
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT e.relname::text AS relname, c.oid AS relid, c.relkind
      FROM sark_migration.validation_expected_relations e
      JOIN pg_catalog.pg_class c ON c.relname = e.relname AND c.relnamespace = 'public'::regnamespace
     WHERE e.relkind = 'r'
     ORDER BY e.relname
  LOOP
    table_name := t.relname;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM public.%I)', t.relname) INTO has_rows;
    problems := ARRAY(
      SELECT p FROM (
        SELECT format('%s is a %s, not a table', t.relname, t.relkind) AS p WHERE t.relkind NOT IN ('r', 'p')
        UNION ALL
        SELECT format('%s holds rows: only an empty table is taken over', t.relname) WHERE has_rows
        UNION ALL
        SELECT format('%s.%s is missing', t.relname, x.column_name)
          FROM sark_migration.validation_expected_columns x
         WHERE x.table_name = t.relname
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = t.relid AND a.attname = x.column_name AND NOT a.attisdropped)
        UNION ALL
        SELECT format('%s.%s is %s, 006/007 make it %s', t.relname, a.attname, format_type(a.atttypid, a.atttypmod), x.column_type)
          FROM pg_catalog.pg_attribute a
          JOIN sark_migration.validation_expected_columns x ON x.table_name = t.relname AND x.column_name = a.attname
         WHERE a.attrelid = t.relid AND NOT a.attisdropped AND a.attnum > 0
           AND format_type(a.atttypid, a.atttypmod) <> x.column_type
        UNION ALL
        SELECT format('%s.%s (%s) is not a column of 006/007', t.relname, a.attname, format_type(a.atttypid, a.atttypmod))
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = t.relid AND NOT a.attisdropped AND a.attnum > 0
           AND NOT EXISTS (SELECT 1 FROM sark_migration.validation_expected_columns x
                            WHERE x.table_name = t.relname AND x.column_name = a.attname)
        UNION ALL
        SELECT format('%s is read by the view %s', t.relname, r.ev_class::regclass)
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
          JOIN pg_catalog.pg_class v ON v.oid = r.ev_class
         WHERE d.refobjid = t.relid AND d.classid = 'pg_rewrite'::regclass AND r.ev_class <> t.relid
           AND v.relnamespace <> 'sark_migration'::regnamespace     -- the tool's own views are re-created
        UNION ALL
        SELECT format('%s is referenced by the foreign key %s of %s', t.relname, con.conname, con.conrelid::regclass)
          FROM pg_catalog.pg_constraint con
         WHERE con.contype = 'f' AND con.confrelid = t.relid
           AND con.conrelid NOT IN (SELECT c2.oid FROM pg_catalog.pg_class c2
                                     JOIN sark_migration.validation_expected_relations e2 ON e2.relname = c2.relname
                                    WHERE c2.relnamespace = 'public'::regnamespace)
      ) x);
    RETURN NEXT;
  END LOOP;
END
$$;
COMMENT ON FUNCTION sark_migration.precreated_v2_tables() IS
  'The v2 tables of 006/007 that exist already (before 006 ran), whether they hold rows, and what keeps schema up '
  'from taking them over: rows, a missing or extra column, another type, a view or foreign key outside them.';

CREATE OR REPLACE FUNCTION sark_migration.take_over_precreated_v2_tables()
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
  blocked text;
  names   text[];
  v       record;
BEGIN
  SELECT string_agg(p, '; ') INTO blocked FROM sark_migration.precreated_v2_tables() t, unnest(t.problems) p;
  IF blocked IS NOT NULL THEN
    RAISE EXCEPTION 'v2 tables exist before migration 006 and cannot be taken over: %', blocked
      USING HINT = 'Empty them (they hold no migrated data yet) or make them match migrations/006 and 007, then run schema up again.',
            ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  names := ARRAY(SELECT t.table_name FROM sark_migration.precreated_v2_tables() t);
  IF cardinality(names) = 0 THEN
    RETURN;
  END IF;
  INSERT INTO sark_migration.taken_over_v2_tables AS k (table_name, owner, privileges, sequences, columns)
  SELECT c.relname, pg_get_userbyid(c.relowner),
         COALESCE((SELECT jsonb_agg(jsonb_build_object('grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END,
                                                       'privilege', x.privilege_type, 'grantable', x.is_grantable))
                     FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner), '[]'),
         COALESCE((SELECT jsonb_agg(jsonb_build_object('sequence', s.relname,
                     'privileges', COALESCE((SELECT jsonb_agg(jsonb_build_object('grantee', CASE WHEN y.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(y.grantee)) END,
                                                                                 'privilege', y.privilege_type, 'grantable', y.is_grantable))
                                               FROM aclexplode(s.relacl) y WHERE y.grantee <> s.relowner), '[]')))
                     FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid
                    WHERE d.refobjid = c.oid AND d.classid = 'pg_class'::regclass AND s.relkind = 'S' AND d.deptype IN ('a', 'i')), '[]'),
         (SELECT jsonb_agg(jsonb_build_object('column', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull)
                           ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
  FROM pg_catalog.pg_class c
  WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY (names)
  ON CONFLICT (table_name) DO UPDATE
    SET owner = EXCLUDED.owner, privileges = EXCLUDED.privileges, sequences = EXCLUDED.sequences,
        columns = EXCLUDED.columns, taken_at = now(), restored_at = NULL, note = NULL;
  -- The tool's own views over them go (re-created by the next run that installs the definitions:
  -- their files are forgotten as installed).
  FOR v IN SELECT DISTINCT r.ev_class::regclass::text AS name
             FROM pg_catalog.pg_depend d
             JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
             JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
            WHERE d.classid = 'pg_rewrite'::regclass AND c.relnamespace = 'sark_migration'::regnamespace
              AND d.refobjid IN (SELECT x.oid FROM pg_catalog.pg_class x
                                  WHERE x.relnamespace = 'public'::regnamespace AND x.relname = ANY (names)) LOOP
    EXECUTE format('DROP VIEW IF EXISTS %s CASCADE', v.name);
  END LOOP;
  DELETE FROM sark_migration.applied_files
   WHERE path LIKE 'sql/mapping/%' OR path LIKE 'sql/validate/%' OR path ~ '^sql/sync/0';
  -- One statement: the foreign keys among them (capabilities -> resources) go with them.
  EXECUTE 'DROP TABLE ' || (SELECT string_agg(format('public.%I', n), ', ') FROM unnest(names) n);
  RETURN QUERY SELECT unnest(names);
END
$$;
COMMENT ON FUNCTION sark_migration.take_over_precreated_v2_tables() IS
  'Refuses (listing every problem) unless every pre-existing v2 table is empty and of 006/007''s shape; then '
  'records their owner and privileges in taken_over_v2_tables and drops them, for 006/007 to create. Returns them.';

CREATE OR REPLACE FUNCTION sark_migration.restore_taken_over_v2_tables()
RETURNS TABLE (table_name text, note text)
LANGUAGE plpgsql
AS $$
DECLARE
  k record;
  g jsonb;
  s jsonb;
BEGIN
  FOR k IN SELECT * FROM sark_migration.taken_over_v2_tables t
            WHERE t.restored_at IS NULL AND to_regclass('public.' || quote_ident(t.table_name)) IS NOT NULL LOOP
    table_name := k.table_name;
    note := NULL;
    FOR g IN SELECT * FROM jsonb_array_elements(k.privileges) LOOP
      EXECUTE format('GRANT %s ON public.%I TO %s%s', g ->> 'privilege', k.table_name, g ->> 'grantee',
                     CASE WHEN (g ->> 'grantable')::boolean THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    FOR s IN SELECT * FROM jsonb_array_elements(k.sequences) LOOP
      FOR g IN SELECT * FROM jsonb_array_elements(s -> 'privileges') LOOP
        IF to_regclass('public.' || quote_ident(s ->> 'sequence')) IS NOT NULL THEN
          EXECUTE format('GRANT %s ON SEQUENCE public.%I TO %s%s', g ->> 'privilege', s ->> 'sequence', g ->> 'grantee',
                         CASE WHEN (g ->> 'grantable')::boolean THEN ' WITH GRANT OPTION' ELSE '' END);
        END IF;
      END LOOP;
    END LOOP;
    IF k.owner IS DISTINCT FROM (SELECT pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c
                                   WHERE c.oid = ('public.' || quote_ident(k.table_name))::regclass) THEN
      BEGIN
        EXECUTE format('ALTER TABLE public.%I OWNER TO %I', k.table_name, k.owner);
      EXCEPTION WHEN insufficient_privilege THEN
        note := format('owner left as %s: only a member of %s (or a superuser) may give it back: ALTER TABLE public.%I OWNER TO %I',
                       current_user, k.owner, k.table_name, k.owner);
      END;
    END IF;
    UPDATE sark_migration.taken_over_v2_tables t SET restored_at = now(), note = restore_taken_over_v2_tables.note
     WHERE t.table_name = k.table_name;
    RETURN NEXT;
  END LOOP;
END
$$;
COMMENT ON FUNCTION sark_migration.restore_taken_over_v2_tables() IS
  'After 006/007 created the tables schema up took over: their recorded privileges (and those of their sequences) '
  'granted again and their owner given back (noted where this session may not). Idempotent.';
