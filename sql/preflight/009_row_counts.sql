-- 009_row_counts.sql
--
-- What:     exact row counts of the v1 and v2 tables (runbook, Pre-Migration Checklist 3: "Save
--           counts for later comparison"); `sark-migrate preflight --save-counts FILE` saves this
--           row as JSON. NULL: the table does not exist, or the current role may not read it.
--           Counts are exact (count(*)), so on very large tables this reads them in full.
-- Requires: nothing; a table that is absent or unreadable is NULL, never an error (the count is
--           run through query_to_xml only when the table exists and is readable). One row.
-- Runs:     a plain SELECT; writes nothing.

WITH t AS (
  SELECT to_regclass('public.mcp_servers')  AS mcp_servers,
         to_regclass('public.mcp_tools')    AS mcp_tools,
         to_regclass('public.resources')    AS resources,
         to_regclass('public.capabilities') AS capabilities
),
ok AS (
  SELECT coalesce(has_table_privilege(t.mcp_servers, 'SELECT'), false)  AS mcp_servers,
         coalesce(has_table_privilege(t.mcp_tools, 'SELECT'), false)    AS mcp_tools,
         coalesce(has_table_privilege(t.resources, 'SELECT'), false)    AS resources,
         coalesce(has_table_privilege(t.capabilities, 'SELECT'), false) AS capabilities
  FROM t
)
SELECT CASE WHEN ok.mcp_servers THEN (xpath('/row/n/text()',
         query_to_xml('SELECT count(*) AS n FROM public.mcp_servers', false, true, '')))[1]::text::bigint END
         AS v1_servers,
       CASE WHEN ok.mcp_tools THEN (xpath('/row/n/text()',
         query_to_xml('SELECT count(*) AS n FROM public.mcp_tools', false, true, '')))[1]::text::bigint END
         AS v1_tools,
       CASE WHEN ok.resources THEN (xpath('/row/n/text()',
         query_to_xml('SELECT count(*) AS n FROM public.resources', false, true, '')))[1]::text::bigint END
         AS v2_resources,
       CASE WHEN ok.resources THEN (xpath('/row/n/text()',
         query_to_xml($q$SELECT count(*) AS n FROM public.resources WHERE protocol = 'mcp'$q$, false, true, '')))[1]::text::bigint END
         AS v2_mcp_resources,
       CASE WHEN ok.capabilities THEN (xpath('/row/n/text()',
         query_to_xml('SELECT count(*) AS n FROM public.capabilities', false, true, '')))[1]::text::bigint END
         AS v2_capabilities,
       CASE WHEN ok.capabilities AND ok.resources THEN (xpath('/row/n/text()',
         query_to_xml($q$SELECT count(*) AS n FROM public.capabilities c JOIN public.resources r ON r.id = c.resource_id
                          WHERE r.protocol = 'mcp'$q$, false, true, '')))[1]::text::bigint END
         AS v2_mcp_capabilities
FROM ok;
