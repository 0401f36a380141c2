-- 003_reverse_functions.sql
--
-- What:     reverse sync, v2 -> v1, for the cutover (the v2 application writes, the v1 application
--           may still write too, and a rollback to v1 must lose nothing). Triggers are created by
--           103_enable_reverse_sync.sql. Functions:
--             sark_migration.reverse_image_servers(ids text[])  the mcp_servers rows the resources
--             sark_migration.reverse_image_tools(ids text[])     rows with these ids stand for, in the
--                                                                shape of v1_servers / v1_tools:
--               * migrated rows (metadata._v1): THE inverse mapping, v1_servers_rebuilt /
--                 v1_tools_rebuilt, restricted to these ids (the view's own text, read from the
--                 catalog, with its FROM item filtered by primary key so it is an index probe);
--               * v2-native MCP rows (no _v1): core keys read from metadata where present, v1's
--                 column defaults where not; transport from metadata.transport, else inferred from
--                 the endpoint (a URL: http, or sse when it ends in /sse; otherwise a stdio
--                 command) and recorded in reverse_inferred.
--             sark_migration.reverse_upsert_servers(ids)   INSERT INTO mcp_servers / mcp_tools ...
--             sark_migration.reverse_upsert_tools(ids)     ON CONFLICT (id) DO UPDATE WHERE changed,
--                                                          written for THIS database's variant
--                                                          (parameters / parameters_schema, json /
--                                                          jsonb, invocation columns or not); values
--                                                          longer than the v1 column are recorded in
--                                                          reverse_unrepresentable instead
--             sark_migration.reverse_apply_resources(ids text[])    "make v1 agree with v2 for these
--             sark_migration.reverse_apply_capabilities(ids text[])  ids": delete, classify, upsert
--             sark_migration.reverse_delete_vanished()     after a TRUNCATE of v2: the v1 rows whose
--                                                          v2 row is gone go too (held ones stay)
--             sark_migration.reverse_sync()                trigger function
--           What v1 cannot represent (non-MCP resources, ids that are not uuids, capabilities of such
--           resources, a non-empty output_schema, enum values v1 does not know, values too long, or
--           anything else v1 refuses) is recorded in reverse_unrepresentable, never dropped silently.
-- Requires: the mapping (001 .. 009) including v1_servers_rebuilt / v1_tools_rebuilt; 001, 002 of
--           this folder; the v1 AND v2 tables (without them this file prints a notice and creates
--           nothing variant-dependent: re-run it after schema up).
-- Runs:     in a transaction; idempotent. The DO block generates the functions from the catalog, so
--           re-run this file after any v1 DDL change (as for the mapping's 002).

DO $generate$
DECLARE
  saved_path  text := current_setting('search_path');
  t           record;
  c           record;
  viewdef     text;
  from_item   text;
  migrated    text;
  native_sel  text;
  out_cols    text;
  expr        text;
  dflt        text;
  labels      text;
  ins_cols    text;
  ins_vals    text;
  set_list    text;
  cmp_old     text;
  cmp_new     text;
  too_long    text;
  long_detail text;
  native_from text;
  extra_cte   text;
  stamp_back  text;
BEGIN
  IF to_regclass('public.mcp_servers') IS NULL OR to_regclass('public.mcp_tools') IS NULL
     OR to_regclass('public.resources') IS NULL OR to_regclass('public.capabilities') IS NULL
     OR to_regclass('sark_migration.v1_servers_rebuilt') IS NULL
     OR to_regclass('sark_migration.v1_tools_rebuilt') IS NULL THEN
    RAISE NOTICE 'sark_migration: the reverse sync needs the v1 and v2 tables and the inverse mapping; '
                 'nothing generated (re-run 003 after schema up and the mapping)';
    RETURN;
  END IF;
  -- Every name in generated text is schema-qualified (pg_get_viewdef and format_type qualify what
  -- search_path does not show).
  PERFORM set_config('search_path', 'pg_catalog', true);

  FOR t IN
    SELECT * FROM (VALUES
      ('servers', 'v1_servers', 'v1_servers_rebuilt', 'resources', 'r', 'mcp_servers'),
      ('tools',   'v1_tools',   'v1_tools_rebuilt',   'capabilities', 'c', 'mcp_tools')
    ) AS v(kind, normalized, rebuilt, v2_table, alias, v1_table)
  LOOP
    -- The inverse mapping of the migrated rows, restricted to "ids" by primary key.
    viewdef := rtrim(btrim(pg_get_viewdef(('sark_migration.' || t.rebuilt)::regclass)), ';');
    from_item := format('FROM public.%s %s', t.v2_table, t.alias);
    native_from := format('(SELECT * FROM public.%s WHERE id = ANY (ids)) %s', t.v2_table, t.alias);
    IF (length(viewdef) - length(replace(viewdef, from_item, ''))) / length(from_item) = 1 THEN
      migrated := replace(viewdef, from_item, 'FROM ' || native_from);
    ELSE
      RAISE NOTICE 'sark_migration: % has an unexpected shape; the reverse sync reads it by a cast id (no index)', t.rebuilt;
      migrated := format('SELECT * FROM sark_migration.%I b WHERE b.id::text = ANY (ids)', t.rebuilt);
    END IF;

    -- The v2-native rows, column by column in the normalized v1 shape.
    native_sel := NULL;
    out_cols := NULL;
    FOR c IN
      SELECT a.attname::text AS name, format_type(a.atttypid, NULL) AS type, a.atttypid AS typid,
             (SELECT pg_get_expr(d.adbin, d.adrelid)
                FROM pg_attribute va
                JOIN pg_attrdef d ON d.adrelid = va.attrelid AND d.adnum = va.attnum
               WHERE va.attrelid = ('public.' || t.v1_table)::regclass AND NOT va.attisdropped
                 AND va.attname = CASE WHEN a.attname = 'parameters'
                                       THEN (SELECT tools_parameters_column FROM sark_migration.v1_variant)
                                       ELSE a.attname END) AS default_expr
      FROM pg_attribute a
      WHERE a.attrelid = ('sark_migration.' || t.normalized)::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum
    LOOP
      dflt := CASE WHEN c.default_expr IS NULL THEN 'NULL'
                   WHEN c.typid = 'jsonb'::regtype THEN format('(%s)::jsonb', c.default_expr)
                   ELSE format('(%s)::text', c.default_expr) END;
      IF t.kind = 'servers' THEN
        expr := CASE c.name
          WHEN 'id'                THEN 'sark_migration.v1_id(r.id)'
          WHEN 'name'              THEN 'r.name'
          WHEN 'transport'         THEN 'x.transport'
          WHEN 'endpoint'          THEN $e$CASE WHEN x.transport = 'stdio' THEN r.metadata ->> 'endpoint' ELSE r.endpoint END$e$
          WHEN 'command'           THEN $e$CASE WHEN x.transport = 'stdio' THEN r.endpoint ELSE r.metadata ->> 'command' END$e$
          WHEN 'sensitivity_level' THEN 'r.sensitivity_level'
          WHEN 'extra_metadata'    THEN $e$r.metadata - sark_migration.core_keys('mcp_servers')$e$
          WHEN 'created_at'        THEN 'r.created_at'
          WHEN 'updated_at'        THEN 'r.updated_at'
          ELSE CASE WHEN c.typid = 'jsonb'::regtype
                    THEN format($e$COALESCE(NULLIF(r.metadata -> %L, 'null'::jsonb), %s)$e$, c.name, dflt)
                    ELSE format($e$COALESCE(r.metadata ->> %L, %s)$e$, c.name, dflt) END
        END;
      ELSE
        expr := CASE c.name
          WHEN 'id'                THEN 'sark_migration.v1_id(c.id)'
          WHEN 'server_id'         THEN 'sark_migration.v1_id(c.resource_id)'
          WHEN 'name'              THEN 'c.name'
          WHEN 'description'       THEN 'c.description'
          WHEN 'parameters'        THEN 'c.input_schema'
          WHEN 'sensitivity_level' THEN 'c.sensitivity_level'
          -- an output_schema travels under the reserved "_v2" key (mcp_tools has no column for it)
          WHEN 'extra_metadata'    THEN $e$(c.metadata - sark_migration.core_keys('mcp_tools'))
                || CASE WHEN c.output_schema IS DISTINCT FROM '{}'::jsonb
                        THEN jsonb_build_object('_v2', jsonb_build_object('output_schema', c.output_schema))
                        ELSE '{}'::jsonb END$e$
          -- v2 capabilities have no timestamps: metadata's, else the v1 row's, else now.
          WHEN 'created_at'        THEN $e$COALESCE((c.metadata ->> 'created_at')::timestamptz, e.created_at, now())$e$
          WHEN 'updated_at'        THEN $e$COALESCE((c.metadata ->> 'updated_at')::timestamptz, e.updated_at, now())$e$
          ELSE CASE WHEN c.typid = 'jsonb'::regtype
                    THEN format($e$COALESCE(NULLIF(c.metadata -> %L, 'null'::jsonb), %s)$e$, c.name, dflt)
                    ELSE format($e$COALESCE(c.metadata ->> %L, %s)$e$, c.name, dflt) END
        END;
      END IF;
      IF (SELECT typtype FROM pg_type WHERE oid = c.typid) = 'e' THEN
        expr := sark_migration.v1_label_sql(c.typid, expr);   -- lower-case in v2, v1's own label here
      END IF;
      native_sel := concat_ws(E',\n       ', native_sel, format('(%s)::%s AS %I', expr, c.type, c.name));
      out_cols := concat_ws(', ', out_cols, format('%I %s', c.name, c.type));
    END LOOP;

    IF t.kind = 'servers' THEN
      SELECT format('%L::text[]', array_agg(lower(e.enumlabel) ORDER BY e.enumsortorder)) INTO labels
        FROM pg_enum e
       WHERE e.enumtypid = (SELECT a.atttypid FROM pg_attribute a
                             WHERE a.attrelid = 'public.mcp_servers'::regclass AND a.attname = 'transport');
      native_sel := format(
        E'SELECT %s\nFROM %s\nCROSS JOIN LATERAL (SELECT CASE\n'
        '    WHEN lower(r.metadata ->> ''transport'') = ANY (%s) THEN lower(r.metadata ->> ''transport'')\n'
        '    WHEN r.endpoint ~* ''^https?://.*/sse/?$'' AND ''sse'' = ANY (%s) THEN ''sse''\n'
        '    WHEN r.endpoint ~* ''^[a-z][a-z0-9+.-]*://'' THEN ''http''\n'
        '    ELSE ''stdio'' END AS transport) x\n'
        'WHERE NOT sark_migration.is_migrated(''resources'', r.id, r.metadata) AND r.protocol = ''mcp''',
        native_sel, native_from, labels, labels);
    ELSE
      native_sel := format(
        E'SELECT %s\nFROM %s\nLEFT JOIN LATERAL (SELECT v.created_at, v.updated_at FROM public.mcp_tools v\n'
        '                    WHERE v.id = sark_migration.v1_id(c.id)) e ON true\n'
        'WHERE NOT sark_migration.is_migrated(''capabilities'', c.id, c.metadata)',
        native_sel, native_from);
    END IF;

    EXECUTE format('DROP FUNCTION IF EXISTS sark_migration.%I(text[]) CASCADE', 'reverse_image_' || t.kind);
    EXECUTE format(E'CREATE FUNCTION sark_migration.%I(ids text[])\nRETURNS TABLE (%s)\nLANGUAGE sql STABLE\nAS %L',
                   'reverse_image_' || t.kind, out_cols, migrated || E'\nUNION ALL\n' || native_sel);
    EXECUTE format('COMMENT ON FUNCTION sark_migration.%I(text[]) IS %L', 'reverse_image_' || t.kind,
      format('The public.%s rows these %s ids stand for, as sark_migration.%s rows: migrated rows through '
             '%s (the inverse mapping), v2-native MCP rows from their metadata. Generated by '
             'sql/sync/003_reverse_functions.sql for this database''s v1 variant.',
             t.v1_table, t.v2_table, t.normalized, t.rebuilt));

    -- The writer, for the actual v1 columns of this database.
    ins_cols := NULL; ins_vals := NULL; set_list := NULL; cmp_old := NULL; cmp_new := NULL;
    too_long := NULL; long_detail := NULL;
    FOR c IN
      SELECT n.attname::text AS name, a.attname::text AS actual, a.atttypid AS typid,
             format_type(a.atttypid, a.atttypmod) AS actual_type,
             CASE WHEN a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND a.atttypmod > 4
                  THEN a.atttypmod - 4 END AS max_len
      FROM pg_attribute n
      JOIN pg_attribute a
        ON a.attrelid = ('public.' || t.v1_table)::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname = CASE WHEN n.attname = 'parameters'
                            THEN (SELECT tools_parameters_column FROM sark_migration.v1_variant)
                            ELSE n.attname END
      WHERE n.attrelid = ('sark_migration.' || t.normalized)::regclass AND n.attnum > 0 AND NOT n.attisdropped
      ORDER BY n.attnum
    LOOP
      ins_cols := concat_ws(', ', ins_cols, quote_ident(c.actual));
      ins_vals := concat_ws(', ', ins_vals,
                            CASE WHEN c.typid = 'json'::regtype THEN format('p.%I::json', c.name)
                                 ELSE format('p.%I', c.name) END);
      IF c.actual = 'updated_at' THEN
        -- Every change the reverse sync applies moves v1's updated_at on (v1 readers sort and sync
        -- by it): the v2 row's own time when the v2 application moved it, else now. cmp_old and
        -- cmp_new hold every other column at this point (updated_at is the last one).
        set_list := concat_ws(E',\n        ', set_list,
          format('%1$I = CASE WHEN (%2$s) IS DISTINCT FROM (%3$s) THEN greatest(EXCLUDED.%1$I, now()) ELSE EXCLUDED.%1$I END',
                 c.actual, cmp_old, cmp_new));
      ELSIF c.actual <> 'id' THEN
        set_list := concat_ws(E',\n        ', set_list, format('%1$I = EXCLUDED.%1$I', c.actual));
      END IF;
      IF c.actual <> 'id' THEN
        cmp_old := concat_ws(', ', cmp_old, CASE WHEN c.typid = 'json'::regtype
                                                THEN format('t.%I::jsonb', c.actual) ELSE format('t.%I', c.actual) END);
        cmp_new := concat_ws(', ', cmp_new, CASE WHEN c.typid = 'json'::regtype
                                                THEN format('EXCLUDED.%I::jsonb', c.actual) ELSE format('EXCLUDED.%I', c.actual) END);
      END IF;
      IF c.max_len IS NOT NULL THEN
        too_long := concat_ws(' OR ', too_long, format('COALESCE(char_length(p.%I) > %s, false)', c.name, c.max_len));
        long_detail := concat_ws(', ', long_detail,
          format('CASE WHEN char_length(p.%I) > %s THEN format(%L, char_length(p.%I)) END',
                 c.name, c.max_len, t.v1_table || '.' || c.actual || ' would be %s characters, v1 holds ' || c.max_len,
                 c.name));
      END IF;
    END LOOP;
    too_long := COALESCE(too_long, 'false');
    long_detail := COALESCE(long_detail, 'NULL');

    extra_cte := '';
    IF t.kind = 'servers' THEN
      -- transport the row did not carry: written with the inferred value, and recorded as such
      extra_cte := format($x$,
inferred AS (
  INSERT INTO sark_migration.reverse_inferred AS i (target_table, id, column_name, value, reason)
  SELECT 'resources', p.id::text, 'transport', p.transport::text,
         'metadata.transport is absent; inferred from the form of resources.endpoint'
  FROM p JOIN public.resources r ON r.id = p.id::text
  WHERE NOT sark_migration.is_migrated('resources', r.id, r.metadata) AND r.metadata ->> 'transport' IS NULL AND NOT (%s)
  ON CONFLICT (target_table, id, column_name) DO UPDATE
    SET value = EXCLUDED.value, reason = EXCLUDED.reason, recorded_at = clock_timestamp()
)$x$, too_long);
    END IF;

    -- v2 gets the time v1 got where the reverse sync moved it on, so both sides stay equal (the
    -- fidelity checks compare them): resources.updated_at, or a migrated capability's
    -- metadata.updated_at (a native capability keeps none; its v1 row keeps its own).
    stamp_back := CASE t.kind
      WHEN 'servers' THEN $x$,
stamped AS (
  UPDATE public.resources r SET updated_at = w.updated_at
  FROM written w
  WHERE r.id = (sark_migration.v2_ids('resources', ARRAY[w.id]))[1] AND r.updated_at IS DISTINCT FROM w.updated_at
)$x$
      ELSE $x$,
stamped AS (
  UPDATE public.capabilities c
     SET metadata = jsonb_set(c.metadata, '{updated_at}', to_jsonb(sark_migration.utc_text(w.updated_at)))
  FROM written w
  WHERE c.id = (sark_migration.v2_ids('capabilities', ARRAY[w.id]))[1] AND c.metadata ? 'updated_at'
    AND c.metadata ->> 'updated_at' IS DISTINCT FROM sark_migration.utc_text(w.updated_at)
)$x$ END;

    EXECUTE format('DROP FUNCTION IF EXISTS sark_migration.%I(text[])', 'reverse_upsert_' || t.kind);
    EXECUTE format($fn$
CREATE FUNCTION sark_migration.%1$I(ids text[])
RETURNS bigint
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $body$
DECLARE
  written_rows bigint;
BEGIN
WITH p AS (
  SELECT * FROM sark_migration.%2$I(ids)
),
too_long AS (
  INSERT INTO sark_migration.reverse_unrepresentable AS u (target_table, id, reason, detail, row_image)
  SELECT %3$L, p.id::text, 'value_too_long',
         format('%3$s %%s: %%s; v1 cannot hold it, so v1 keeps its previous version of the row (if any).',
                p.id, concat_ws('; ', %4$s)),
         (SELECT to_jsonb(v2) FROM public.%3$I v2 WHERE v2.id = p.id::text)
  FROM p
  WHERE %5$s
  ON CONFLICT (target_table, id) DO UPDATE
    SET reason = EXCLUDED.reason, detail = EXCLUDED.detail, sqlstate = NULL,
        row_image = EXCLUDED.row_image, recorded_at = clock_timestamp()
)%6$s,
written AS (
  INSERT INTO public.%7$I AS t (%8$s)
  SELECT %9$s
  FROM p
  WHERE NOT (%5$s)
  ON CONFLICT (id) DO UPDATE
    SET %10$s
    WHERE (%11$s) IS DISTINCT FROM (%12$s)
  RETURNING t.id, t.updated_at
)%13$s
SELECT count(*) INTO written_rows FROM written;
RETURN written_rows;
END
$body$$fn$,
      'reverse_upsert_' || t.kind, 'reverse_image_' || t.kind, t.v2_table, long_detail, too_long, extra_cte,
      t.v1_table, ins_cols, ins_vals, set_list, cmp_old, cmp_new, stamp_back);
    EXECUTE format('COMMENT ON FUNCTION sark_migration.%I(text[]) IS %L', 'reverse_upsert_' || t.kind,
      format('Writes reverse_image_%s(ids) into public.%s (INSERT ... ON CONFLICT (id) DO UPDATE WHERE changed); '
             'rows with a value longer than its v1 column go to reverse_unrepresentable instead. Returns rows '
             'written. Generated for this database''s variant by sql/sync/003_reverse_functions.sql.',
             t.kind, t.v1_table));
  END LOOP;

  PERFORM set_config('search_path', saved_path, true);
END
$generate$;

-- Makes v1 agree with v2 for these resources ids. Never raises for a row v1 cannot take: records it.
CREATE OR REPLACE FUNCTION sark_migration.reverse_apply_resources(ids text[])
RETURNS TABLE (written bigint, deleted bigint, unrepresentable bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  uids    uuid[];
  ok      text[];
  one     text;
  waiting text[];
  state   text;
  msg     text;
BEGIN
  ids := ARRAY(SELECT DISTINCT k FROM unnest(ids) AS k WHERE k IS NOT NULL);
  written := 0;
  DELETE FROM sark_migration.reverse_unrepresentable u WHERE u.target_table = 'resources' AND u.id = ANY (ids);
  DELETE FROM sark_migration.reverse_inferred i WHERE i.target_table = 'resources' AND i.id = ANY (ids);

  -- Gone from v2: gone from v1 (its tools go with it, ON DELETE CASCADE), under its v1 id.
  uids := ARRAY(SELECT sark_migration.v1_id(k) FROM unnest(ids) AS k
                 WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE r.id = k));
  WITH del AS (
    DELETE FROM public.mcp_servers s WHERE s.id = ANY (uids)
    RETURNING 1
  )
  SELECT count(*) INTO deleted FROM del;

  -- What v1 cannot hold, by rule. The first rule that applies is the reason. (Rule 3 is not "did
  -- the migration write it" (is_migrated): a "_v1" key of another shape has no place in v1.)
  INSERT INTO sark_migration.reverse_unrepresentable (target_table, id, reason, detail, row_image)
  SELECT 'resources', r.id, why.reason, why.detail, to_jsonb(r)
  FROM public.resources r
  CROSS JOIN LATERAL (
    SELECT v.reason, v.detail
    FROM (VALUES
      (1, r.protocol IS DISTINCT FROM 'mcp', 'not_mcp',
       format('resources %s has protocol %L; v1 (mcp_servers) holds MCP servers only, so it exists in v2 only.',
              r.id, r.protocol)),
      (3, r.metadata ? '_v1' AND r.metadata -> '_v1' ->> 'source' IS DISTINCT FROM 'mcp_servers', 'invalid_value',
       format('resources %s: metadata._v1.source is %L, not mcp_servers.', r.id, r.metadata -> '_v1' ->> 'source')),
      (4, sark_migration.v1_label('public.sensitivitylevel', r.sensitivity_level) IS NULL, 'invalid_value',
       format('resources %s: sensitivity_level %L is not one of v1''s %s.', r.id, r.sensitivity_level,
              enum_range(NULL::public.sensitivitylevel))),
      (5, CASE WHEN r.metadata ->> 'transport' IS NULL THEN sark_migration.is_migrated('resources', r.id, r.metadata)
               ELSE sark_migration.v1_label('public.transporttype', r.metadata ->> 'transport') IS NULL END, 'invalid_value',
       format('resources %s: metadata.transport %L is not one of v1''s %s.', r.id, r.metadata ->> 'transport',
              enum_range(NULL::public.transporttype))),
      (6, r.metadata ->> 'status' IS NOT NULL
          AND sark_migration.v1_label('public.serverstatus', r.metadata ->> 'status') IS NULL, 'invalid_value',
       format('resources %s: metadata.status %L is not one of v1''s %s.', r.id, r.metadata ->> 'status',
              enum_range(NULL::public.serverstatus)))
    ) AS v(ord, hit, reason, detail)
    WHERE v.hit
    ORDER BY v.ord
    LIMIT 1
  ) why
  WHERE r.id = ANY (ids)
  ON CONFLICT (target_table, id) DO NOTHING;

  ok := ARRAY(SELECT r.id FROM public.resources r
               WHERE r.id = ANY (ids)
                 AND NOT EXISTS (SELECT 1 FROM sark_migration.reverse_unrepresentable u
                                  WHERE u.target_table = 'resources' AND u.id = r.id));
  -- An id that is not a uuid (SARK's MCP adapter: 'mcp-stdio-d7aaf3bd') goes to v1 under v1_id()
  -- of it; the map gives it back to the mapping (003), and so to the forward sync and validation.
  INSERT INTO sark_migration.id_map (target_table, v1_id, v2_id)
  SELECT 'resources', sark_migration.v1_id(k), k FROM unnest(ok) AS k WHERE NOT sark_migration.is_v1_id(k)
  ON CONFLICT DO NOTHING;
  IF cardinality(ok) > 0 THEN
    BEGIN
      written := sark_migration.reverse_upsert_servers(ok);
    EXCEPTION WHEN others THEN
      -- Set-based failed (v1 refused a value): row by row, so that only the rows v1 refuses are left out.
      written := 0;
      FOREACH one IN ARRAY ok LOOP
        BEGIN
          written := written + sark_migration.reverse_upsert_servers(ARRAY[one]);
        EXCEPTION WHEN others THEN
          GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
          INSERT INTO sark_migration.reverse_unrepresentable AS u (target_table, id, reason, detail, sqlstate, row_image)
          SELECT 'resources', r.id, 'rejected_by_v1',
                 format('resources %s: mcp_servers refused the row: %s', r.id, msg), state, to_jsonb(r)
          FROM public.resources r WHERE r.id = one
          ON CONFLICT (target_table, id) DO UPDATE
            SET reason = EXCLUDED.reason, detail = EXCLUDED.detail, sqlstate = EXCLUDED.sqlstate,
                row_image = EXCLUDED.row_image, recorded_at = clock_timestamp();
        END;
      END LOOP;
    END;
  END IF;

  -- Capabilities that could not be written because their resource was not in v1 yet.
  waiting := ARRAY(SELECT u.id FROM sark_migration.reverse_unrepresentable u
                    WHERE u.target_table = 'capabilities' AND u.reason = 'resource_not_in_v1'
                      AND u.row_image ->> 'resource_id' = ANY (ok));
  IF cardinality(waiting) > 0 THEN
    PERFORM sark_migration.reverse_apply_capabilities(waiting);
  END IF;

  SELECT count(*) INTO unrepresentable FROM sark_migration.reverse_unrepresentable u
   WHERE u.target_table = 'resources' AND u.id = ANY (ids);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.reverse_apply_resources(text[]) IS
  'Makes mcp_servers agree with resources for these ids: deletes servers whose resource is gone, records '
  'what v1 cannot represent in reverse_unrepresentable, upserts the rest (reverse_upsert_servers), then '
  'retries capabilities that were waiting for these servers. Idempotent; never raises for a row v1 refuses.';

-- Makes v1 agree with v2 for these capabilities ids.
CREATE OR REPLACE FUNCTION sark_migration.reverse_apply_capabilities(ids text[])
RETURNS TABLE (written bigint, deleted bigint, unrepresentable bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  uids    uuid[];
  ok      text[];
  one     text;
  state   text;
  msg     text;
BEGIN
  ids := ARRAY(SELECT DISTINCT k FROM unnest(ids) AS k WHERE k IS NOT NULL);
  written := 0;
  DELETE FROM sark_migration.reverse_unrepresentable u WHERE u.target_table = 'capabilities' AND u.id = ANY (ids);

  uids := ARRAY(SELECT sark_migration.v1_id(k) FROM unnest(ids) AS k
                 WHERE NOT EXISTS (SELECT 1 FROM public.capabilities c WHERE c.id = k));
  WITH del AS (
    DELETE FROM public.mcp_tools t WHERE t.id = ANY (uids)
    RETURNING 1
  )
  SELECT count(*) INTO deleted FROM del;

  INSERT INTO sark_migration.reverse_unrepresentable (target_table, id, reason, detail, row_image)
  SELECT 'capabilities', c.id, why.reason, why.detail, to_jsonb(c)
  FROM public.capabilities c
  CROSS JOIN LATERAL (
    SELECT v.reason, v.detail
    FROM (VALUES
      (3, c.metadata ? '_v1' AND c.metadata -> '_v1' ->> 'source' IS DISTINCT FROM 'mcp_tools', 'invalid_value',
       format('capabilities %s: metadata._v1.source is %L, not mcp_tools.', c.id, c.metadata -> '_v1' ->> 'source')),
      (5, sark_migration.v1_label('public.sensitivitylevel', c.sensitivity_level) IS NULL, 'invalid_value',
       format('capabilities %s: sensitivity_level %L is not one of v1''s %s.', c.id, c.sensitivity_level,
              enum_range(NULL::public.sensitivitylevel))),
      (6, NOT EXISTS (SELECT 1 FROM public.mcp_servers s WHERE s.id = sark_migration.v1_id(c.resource_id)),
       'resource_not_in_v1',
       format('capabilities %s: its resource %s is not in mcp_servers (not an MCP resource, or one v1 cannot '
              'represent: see its own entry); it is written as soon as the resource is.', c.id, c.resource_id))
    ) AS v(ord, hit, reason, detail)
    WHERE v.hit
    ORDER BY v.ord
    LIMIT 1
  ) why
  WHERE c.id = ANY (ids)
  ON CONFLICT (target_table, id) DO NOTHING;

  ok := ARRAY(SELECT c.id FROM public.capabilities c
               WHERE c.id = ANY (ids)
                 AND NOT EXISTS (SELECT 1 FROM sark_migration.reverse_unrepresentable u
                                  WHERE u.target_table = 'capabilities' AND u.id = c.id));
  INSERT INTO sark_migration.id_map (target_table, v1_id, v2_id)
  SELECT 'capabilities', sark_migration.v1_id(k), k FROM unnest(ok) AS k WHERE NOT sark_migration.is_v1_id(k)
  ON CONFLICT DO NOTHING;
  IF cardinality(ok) > 0 THEN
    BEGIN
      written := sark_migration.reverse_upsert_tools(ok);
    EXCEPTION WHEN others THEN
      written := 0;
      FOREACH one IN ARRAY ok LOOP
        BEGIN
          written := written + sark_migration.reverse_upsert_tools(ARRAY[one]);
        EXCEPTION WHEN others THEN
          GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
          INSERT INTO sark_migration.reverse_unrepresentable AS u (target_table, id, reason, detail, sqlstate, row_image)
          SELECT 'capabilities', c.id, 'rejected_by_v1',
                 format('capabilities %s: mcp_tools refused the row: %s', c.id, msg), state, to_jsonb(c)
          FROM public.capabilities c WHERE c.id = one
          ON CONFLICT (target_table, id) DO UPDATE
            SET reason = EXCLUDED.reason, detail = EXCLUDED.detail, sqlstate = EXCLUDED.sqlstate,
                row_image = EXCLUDED.row_image, recorded_at = clock_timestamp();
        END;
      END LOOP;
    END;
  END IF;

  SELECT count(*) INTO unrepresentable FROM sark_migration.reverse_unrepresentable u
   WHERE u.target_table = 'capabilities' AND u.id = ANY (ids);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION sark_migration.reverse_apply_capabilities(text[]) IS
  'Makes mcp_tools agree with capabilities for these ids: deletes tools whose capability is gone, records '
  'what v1 cannot represent, upserts the rest (reverse_upsert_tools). Idempotent; never raises for a row v1 refuses.';

-- A TRUNCATE names no rows. What it removed is every v1 row that v2 held and holds no longer: a
-- v1 row without its v2 row, unless it is one v2 never held (quarantined, or a tool of a
-- quarantined server). Tools first, then servers (their remaining tools go with them, by v1's
-- ON DELETE CASCADE). The entries recorded for v2 rows that are gone go with them.
CREATE OR REPLACE FUNCTION sark_migration.reverse_delete_vanished()
RETURNS TABLE (target_table text, deleted bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  n_tools   bigint;
  n_servers bigint;
BEGIN
  DELETE FROM public.mcp_tools t
  WHERE NOT EXISTS (SELECT 1 FROM public.capabilities c
                     WHERE c.id = COALESCE((SELECT m.v2_id FROM sark_migration.id_map m
                                             WHERE m.target_table = 'capabilities' AND m.v1_id = t.id), t.id::text))
    AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                     WHERE (q.source_table, q.source_id) IN (('mcp_tools', t.id), ('mcp_servers', t.server_id)));
  GET DIAGNOSTICS n_tools = ROW_COUNT;
  DELETE FROM public.mcp_servers s
  WHERE NOT EXISTS (SELECT 1 FROM public.resources r
                     WHERE r.id = COALESCE((SELECT m.v2_id FROM sark_migration.id_map m
                                             WHERE m.target_table = 'resources' AND m.v1_id = s.id), s.id::text))
    AND NOT EXISTS (SELECT 1 FROM sark_migration.quarantine q
                     WHERE q.source_table = 'mcp_servers' AND q.source_id = s.id);
  GET DIAGNOSTICS n_servers = ROW_COUNT;
  DELETE FROM sark_migration.reverse_unrepresentable u
  WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE u.target_table = 'resources' AND r.id = u.id)
    AND NOT EXISTS (SELECT 1 FROM public.capabilities c WHERE u.target_table = 'capabilities' AND c.id = u.id);
  DELETE FROM sark_migration.reverse_inferred i
  WHERE NOT EXISTS (SELECT 1 FROM public.resources r WHERE i.target_table = 'resources' AND r.id = i.id);
  RETURN QUERY VALUES ('mcp_tools'::text, n_tools), ('mcp_servers'::text, n_servers);
END
$$;
COMMENT ON FUNCTION sark_migration.reverse_delete_vanished() IS
  'After a TRUNCATE of resources / capabilities: deletes the v1 rows whose v2 row is gone (tools, then servers), '
  'except rows v2 never held (quarantined, or tools of quarantined servers). Idempotent.';

-- The trigger function of the reverse sync: AFTER INSERT / UPDATE / DELETE / TRUNCATE ... FOR EACH STATEMENT on
-- resources and capabilities, with the transition tables new_rows / old_rows. lock_timeout 1s, as
-- forward_sync(): a v2 write never waits longer than that because of the sync.
CREATE OR REPLACE FUNCTION sark_migration.reverse_sync()
RETURNS trigger
LANGUAGE plpgsql
SET lock_timeout = '1s'
AS $$
DECLARE
  ids   text[];
  state text;
  msg   text;
  det   text;
  ctx   text;
BEGIN
  IF current_setting('sark_migration.sync_origin', true) IN ('forward', 'reverse') THEN
    RETURN NULL;                                  -- written by the forward sync (no echo), or by this
  END IF;                                         -- sync itself (the updated_at it stamps back)
  IF TG_OP = 'TRUNCATE' THEN
    ids := '{}';                                  -- no transition table: see reverse_delete_vanished()
  ELSIF TG_OP = 'INSERT' THEN
    SELECT array_agg(n.id) INTO ids FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(o.id) INTO ids FROM old_rows o;
  ELSE
    SELECT array_agg(x.id) INTO ids FROM (SELECT n.id FROM new_rows n UNION SELECT o.id FROM old_rows o) x;
  END IF;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;

  PERFORM set_config('sark_migration.sync_origin', 'reverse', true);
  BEGIN
    IF TG_OP = 'TRUNCATE' THEN
      PERFORM sark_migration.reverse_delete_vanished();
    ELSIF TG_TABLE_NAME = 'resources' THEN
      PERFORM sark_migration.reverse_apply_resources(ids);
    ELSE
      PERFORM sark_migration.reverse_apply_capabilities(ids);
    END IF;
  EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            ctx = PG_EXCEPTION_CONTEXT;
    PERFORM sark_migration.record_sync_failure('reverse', TG_TABLE_NAME, ids, state, msg, det, ctx);
  END;
  PERFORM set_config('sark_migration.sync_origin', '', true);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION sark_migration.reverse_sync() IS
  'Statement-level AFTER trigger on resources / capabilities (sark_sync_reverse_*): writes the changed rows '
  'back to mcp_servers / mcp_tools (reverse_apply_*); after a TRUNCATE, deletes the v1 rows whose v2 row it '
  'removed (reverse_delete_vanished). Never fails the v2 write: a failure is recorded in '
  'sync_failures. Skips writes made by the forward sync (sync_origin = forward).';
