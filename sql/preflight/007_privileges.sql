-- 007_privileges.sql
--
-- What:     what the current role needs for each phase, and whether it has it. One row per
--           requirement: phase, requirement, object, required (false: needed later or only
--           useful), granted (NULL: cannot be judged yet), fix (the statement to run, as a
--           superuser or the object's owner).
--             preflight     pg_read_all_stats (optional: without it other roles' sessions and
--                           replication lag are invisible)
--             backup        USAGE on every schema and SELECT on every table and sequence pg_dump
--                           reads
--             schema        CREATE on schema public (the v2 tables), CREATE on the database or on
--                           schema sark_migration (the tool's bookkeeping), ownership of
--                           audit_events and type auditeventtype (007 alters them), writing
--                           alembic_version and pgmigrations
--             data          SELECT on mcp_servers/mcp_tools, INSERT/UPDATE/DELETE on
--                           resources/capabilities
--             sync          TRIGGER on mcp_servers/mcp_tools (forward) and resources/capabilities
--                           (reverse)
--             validate      SELECT on the v1 and v2 tables
--             optimize, rollback (schema down), restore, decommission: ownership of the tables
--                           they index, drop or recreate (not required before the migration)
--           A v2 table that does not exist yet will be created by `schema up` and owned by the
--           role that runs it, so its requirement is judged by CREATE on schema public.
-- Requires: nothing (has_*_privilege and pg_has_role answer for the current role; a superuser
--           has everything). PostgreSQL 13+.
-- Runs:     a plain SELECT; writes nothing.

WITH r AS (
  SELECT to_regclass('public.mcp_servers')     AS mcp_servers,
         to_regclass('public.mcp_tools')       AS mcp_tools,
         to_regclass('public.resources')       AS resources,
         to_regclass('public.capabilities')    AS capabilities,
         to_regclass('public.audit_events')    AS audit_events,
         to_regclass('public.alembic_version') AS alembic_version,
         to_regclass('public.pgmigrations')    AS pgmigrations,
         to_regtype('public.auditeventtype')   AS auditeventtype,
         to_regnamespace('sark_migration')     AS sark_migration,
         quote_ident(current_user)             AS me,
         has_schema_privilege('public', 'CREATE') AS create_public
),
-- Owner of a relation, and whether the current role has its privileges (member of the owner).
own AS (
  SELECT c.oid, c.relowner::regrole::text AS owner, pg_has_role(c.relowner, 'USAGE') AS is_owner
  FROM pg_catalog.pg_class c, r
  WHERE c.oid IN (r.mcp_servers, r.mcp_tools, r.resources, r.capabilities, r.audit_events)
),
-- Everything pg_dump reads: tables, partitioned tables, materialized views and sequences outside
-- the system schemas, and their schemas.
unreadable AS (
  SELECT array_agg(x ORDER BY x) AS objects
  FROM (
    SELECT format('%I.%I', n.nspname, c.relname) AS x
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm', 'S')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
      AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
  ) u
),
-- Per table: SELECT / write / TRIGGER, NULL when the table does not exist.
tp AS (
  SELECT t.name, t.oid,
         has_table_privilege(t.oid, 'SELECT') AS can_select,
         has_table_privilege(t.oid, 'INSERT') AND has_table_privilege(t.oid, 'UPDATE')
           AND has_table_privilege(t.oid, 'DELETE') AS can_write,
         has_table_privilege(t.oid, 'TRIGGER') AS can_trigger,
         (SELECT o.is_owner FROM own o WHERE o.oid = t.oid) AS is_owner,
         (SELECT o.owner FROM own o WHERE o.oid = t.oid) AS owner
  FROM r, LATERAL (VALUES ('mcp_servers', r.mcp_servers), ('mcp_tools', r.mcp_tools),
                          ('resources', r.resources), ('capabilities', r.capabilities)) AS t(name, oid)
),
req AS (
  -- preflight ----------------------------------------------------------------------------------
  SELECT 10 AS ord, 'preflight' AS phase, 'member of pg_read_all_stats' AS requirement,
         'pg_read_all_stats' AS object, false AS required,
         pg_has_role('pg_read_all_stats', 'USAGE') AS granted,
         format('GRANT pg_read_all_stats TO %s;', r.me) AS fix
  FROM r
  -- backup -------------------------------------------------------------------------------------
  UNION ALL
  SELECT 20, 'backup', 'USAGE on every schema and SELECT on every table and sequence pg_dump reads',
         coalesce(array_to_string(u.objects[1:5], ', ')
                  || CASE WHEN cardinality(u.objects) > 5
                          THEN format(' and %s more', cardinality(u.objects) - 5) ELSE '' END,
                  'all tables'),
         true, u.objects IS NULL,
         format('GRANT USAGE ON SCHEMA <schema> TO %1$s; GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO %1$s; '
                'GRANT SELECT ON ALL SEQUENCES IN SCHEMA <schema> TO %1$s; (for each schema listed), or run as the owner.', r.me)
  FROM r, unreadable u
  -- schema -------------------------------------------------------------------------------------
  UNION ALL
  SELECT 30, 'schema', 'CREATE on schema public (creates the v2 tables)', 'schema public', true,
         r.create_public, format('GRANT CREATE ON SCHEMA public TO %s;', r.me)
  FROM r
  UNION ALL
  SELECT 31, 'schema',
         CASE WHEN r.sark_migration IS NULL THEN 'CREATE on the database (creates schema sark_migration)'
              ELSE 'USAGE and CREATE on schema sark_migration' END,
         CASE WHEN r.sark_migration IS NULL THEN format('database %I', current_database())
              ELSE 'schema sark_migration' END,
         true,
         CASE WHEN r.sark_migration IS NULL THEN has_database_privilege(current_database(), 'CREATE')
              ELSE has_schema_privilege(r.sark_migration, 'USAGE') AND has_schema_privilege(r.sark_migration, 'CREATE') END,
         CASE WHEN r.sark_migration IS NULL THEN format('GRANT CREATE ON DATABASE %I TO %s;', current_database(), r.me)
              ELSE format('GRANT USAGE, CREATE ON SCHEMA sark_migration TO %s;', r.me) END
  FROM r
  UNION ALL
  SELECT 32, 'schema', 'ownership of audit_events and type auditeventtype (007_federation alters them)',
         'public.audit_events, public.auditeventtype', true,
         CASE WHEN r.resources IS NOT NULL AND to_regclass('public.federation_nodes') IS NOT NULL THEN true
              ELSE coalesce((SELECT o.is_owner FROM own o WHERE o.oid = r.audit_events), true)
                   AND coalesce((SELECT pg_has_role(t.typowner, 'USAGE') FROM pg_catalog.pg_type t
                                  WHERE t.oid = r.auditeventtype), true) END,
         format('GRANT %s TO %s; (membership in the owning role), or run schema up as the owner.',
                coalesce((SELECT o.owner FROM own o WHERE o.oid = r.audit_events), '<owner of audit_events>'), r.me)
  FROM r
  UNION ALL
  SELECT 33, 'schema', 'INSERT and DELETE on the ledgers alembic_version and pgmigrations',
         'public.alembic_version, public.pgmigrations', true,
         coalesce(has_table_privilege(r.alembic_version, 'INSERT') AND has_table_privilege(r.alembic_version, 'DELETE')
                  AND has_table_privilege(r.alembic_version, 'SELECT'), r.create_public)
           AND coalesce(has_table_privilege(r.pgmigrations, 'INSERT') AND has_table_privilege(r.pgmigrations, 'DELETE')
                        AND has_table_privilege(r.pgmigrations, 'SELECT'), r.create_public),
         format('GRANT SELECT, INSERT, DELETE ON public.alembic_version TO %1$s; '
                'GRANT SELECT, INSERT, DELETE ON public.pgmigrations TO %1$s; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %1$s;', r.me)
  FROM r
  -- data ---------------------------------------------------------------------------------------
  UNION ALL
  SELECT 40, 'data', 'SELECT on mcp_servers and mcp_tools', 'public.mcp_servers, public.mcp_tools', true,
         (SELECT bool_and(tp.can_select) FROM tp WHERE tp.name IN ('mcp_servers', 'mcp_tools')),
         format('GRANT SELECT ON public.mcp_servers, public.mcp_tools TO %s;', r.me)
  FROM r
  UNION ALL
  SELECT 41, 'data', 'INSERT, UPDATE and DELETE on resources and capabilities', 'public.resources, public.capabilities', true,
         (SELECT bool_and(coalesce(tp.can_write, r.create_public)) FROM tp WHERE tp.name IN ('resources', 'capabilities')),
         format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.resources, public.capabilities TO %s;', r.me)
  FROM r
  -- sync ---------------------------------------------------------------------------------------
  UNION ALL
  SELECT 50, 'sync', 'TRIGGER on mcp_servers and mcp_tools (forward sync)', 'public.mcp_servers, public.mcp_tools', true,
         (SELECT bool_and(tp.can_trigger) FROM tp WHERE tp.name IN ('mcp_servers', 'mcp_tools')),
         format('GRANT TRIGGER ON public.mcp_servers, public.mcp_tools TO %s;', r.me)
  FROM r
  UNION ALL
  SELECT 51, 'sync', 'TRIGGER on resources and capabilities (reverse sync after cutover)', 'public.resources, public.capabilities', true,
         (SELECT bool_and(coalesce(tp.can_trigger, r.create_public)) FROM tp WHERE tp.name IN ('resources', 'capabilities')),
         format('GRANT TRIGGER ON public.resources, public.capabilities TO %s;', r.me)
  FROM r
  -- validate -----------------------------------------------------------------------------------
  UNION ALL
  SELECT 60, 'validate', 'SELECT on the v1 and v2 tables', 'public.mcp_servers, mcp_tools, resources, capabilities', true,
         (SELECT bool_and(tp.can_select) FROM tp WHERE tp.name IN ('mcp_servers', 'mcp_tools'))
           AND (SELECT bool_and(coalesce(tp.can_select, r.create_public)) FROM tp WHERE tp.name IN ('resources', 'capabilities')),
         format('GRANT SELECT ON public.mcp_servers, public.mcp_tools, public.resources, public.capabilities TO %s;', r.me)
  FROM r
  -- later phases: needed, but not before the migration starts ----------------------------------
  UNION ALL
  SELECT 70, 'optimize', 'ownership of resources and capabilities (CREATE INDEX CONCURRENTLY, ANALYZE)',
         'public.resources, public.capabilities', false,
         (SELECT bool_and(coalesce(tp.is_owner, r.create_public)) FROM tp WHERE tp.name IN ('resources', 'capabilities')),
         format('GRANT %s TO %s; (membership in the owning role), or run optimize as the owner.',
                coalesce((SELECT tp.owner FROM tp WHERE tp.name = 'resources'), '<owner of resources>'), r.me)
  FROM r
  UNION ALL
  SELECT 71, 'rollback', 'ownership of resources and capabilities (schema down drops them)',
         'public.resources, public.capabilities', false,
         (SELECT bool_and(coalesce(tp.is_owner, r.create_public)) FROM tp WHERE tp.name IN ('resources', 'capabilities')),
         format('GRANT %s TO %s; (membership in the owning role), or roll back as the owner.',
                coalesce((SELECT tp.owner FROM tp WHERE tp.name = 'resources'), '<owner of resources>'), r.me)
  FROM r
  UNION ALL
  SELECT 72, 'restore', 'ownership of mcp_servers and mcp_tools (restore drops and recreates them)',
         'public.mcp_servers, public.mcp_tools', false,
         (SELECT bool_and(tp.is_owner) FROM tp WHERE tp.name IN ('mcp_servers', 'mcp_tools')),
         format('GRANT %s TO %s; (membership in the owning role), or restore as the owner.',
                coalesce((SELECT tp.owner FROM tp WHERE tp.name = 'mcp_servers'), '<owner of mcp_servers>'), r.me)
  FROM r
  UNION ALL
  SELECT 73, 'decommission', 'ownership of mcp_servers and mcp_tools (decommission drops them)',
         'public.mcp_servers, public.mcp_tools', false,
         (SELECT bool_and(tp.is_owner) FROM tp WHERE tp.name IN ('mcp_servers', 'mcp_tools')),
         format('GRANT %s TO %s; (membership in the owning role), or decommission as the owner.',
                coalesce((SELECT tp.owner FROM tp WHERE tp.name = 'mcp_servers'), '<owner of mcp_servers>'), r.me)
  FROM r
)
SELECT phase, requirement, object, required, granted, fix
FROM req
ORDER BY ord;
