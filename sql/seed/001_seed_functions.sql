-- 001_seed_functions.sql: schema sark_seed and sark_seed.seed_v1(), which fills a SARK v1
-- database with realistic, deterministic synthetic data, set-based.
--
-- Requires: nothing to install (helpers only reference built-ins); calling seed_v1() requires the
-- v1 tables (migrations 001-005) in the caller's search_path, in either field variant:
--   * Alembic 001:  mcp_tools.parameters_schema, no invocation_count / last_invoked, jsonb columns;
--   * SQLAlchemy model: mcp_tools.parameters + invocation_count + last_invoked, and json (not
--     jsonb) for mcp_servers.capabilities/tags/extra_metadata, mcp_tools.extra_metadata and
--     audit_events.details.
-- seed_v1() reads the catalog and adapts; json columns receive valid JSON text.
-- Safe to run any number of times (CREATE SCHEMA IF NOT EXISTS, CREATE OR REPLACE FUNCTION).
-- Creates no tables. Each seed_v1() call is one transaction (one function call).
--
-- Determinism: every value is derived from the row's number through hashint8extended() (a
-- fixed, platform-independent hash PostgreSQL also uses for hash partitioning) or md5(); nothing
-- calls random() or now(). Timestamps count back from the fixed anchor sark_seed.anchor().
-- Two calls with the same arguments on databases in the same state produce identical rows, in any
-- session TimeZone (intervals are counted in hours and microseconds, never in days or months).

CREATE SCHEMA IF NOT EXISTS sark_seed;
COMMENT ON SCHEMA sark_seed IS
  'sark-migrate: synthetic SARK v1 data for tests, demos and benchmarks (seed_v1, seed_dirty). Never install on production.';

-- ---------------------------------------------------------------------------------------------
-- Small deterministic helpers. Plain LANGUAGE sql expressions, so the planner inlines them into
-- the set-based INSERTs (no per-row function call overhead). Numbers are concatenated as n::text,
-- never as text || bigint: that operator (anytextcat) is only STABLE, and an IMMUTABLE function
-- whose body is less than immutable is not inlined, which costs a second per million rows.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION sark_seed.h(x bigint, salt bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT hashint8extended(x, salt) & 9223372036854775807 $$;
COMMENT ON FUNCTION sark_seed.h(bigint, bigint) IS
  'Deterministic non-negative 63-bit hash of (x, salt); every seeded value is derived from it or md5.';

CREATE OR REPLACE FUNCTION sark_seed.uuid_for(ns text, n bigint)
RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT md5('sark-seed/' || ns || '/' || n::text)::uuid $$;
COMMENT ON FUNCTION sark_seed.uuid_for(text, bigint) IS
  'Deterministic id of seeded row number n in namespace ns: md5(''sark-seed/<ns>/<n>'') read as a uuid.';

CREATE OR REPLACE FUNCTION sark_seed.uuid_for(ns text, a bigint, b bigint)
RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT md5('sark-seed/' || ns || '/' || a::text || '/' || b::text)::uuid $$;
COMMENT ON FUNCTION sark_seed.uuid_for(text, bigint, bigint) IS
  'Deterministic id of a seeded child row: md5(''sark-seed/<ns>/<a>/<b>'') read as a uuid (a = parent number or run tag, b = ordinal).';

CREATE OR REPLACE FUNCTION sark_seed.anchor()
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT timestamptz '2026-11-01 00:00:00+00' $$;
COMMENT ON FUNCTION sark_seed.anchor() IS
  'The fixed "now" of seeded data: created_at values lie in the two years before it, nothing after it.';

CREATE OR REPLACE FUNCTION sark_seed.server_name(n bigint)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ('{billing,payments,search,inventory,crm,analytics,docs,github,jira,slack,kubernetes,postgres,'
          's3,vault,calendar,email,hr,ticketing,observability,ledger,catalog,identity,pricing,shipping}'::text[])
           [1 + sark_seed.h(n, 1) % 24]
      || '-'
      || ('{api,gateway,connector,bridge,tools,agent,proxy,service,adapter,worker}'::text[])
           [1 + sark_seed.h(n, 2) % 10]
      || '-' || n::text
$$;
COMMENT ON FUNCTION sark_seed.server_name(bigint) IS
  'Name of seeded server number n, e.g. billing-connector-42; the trailing number is n, which seed_v1 reads back to append.';

CREATE OR REPLACE FUNCTION sark_seed.server_age_us(n bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT sark_seed.h(n, 20) % 63072000000000 $$;
COMMENT ON FUNCTION sark_seed.server_age_us(bigint) IS
  'Microseconds between seeded server n''s created_at and sark_seed.anchor() (uniform over 730 days).';

CREATE OR REPLACE FUNCTION sark_seed.server_status(n bigint)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ('{active,registered,inactive,unhealthy,decommissioned}'::text[])
           [1 + width_bucket(sark_seed.h(n, 3) % 100, '{70,80,88,95}'::bigint[])]
$$;
COMMENT ON FUNCTION sark_seed.server_status(bigint) IS
  'serverstatus label of seeded server n: active 70%, registered 10%, inactive 8%, unhealthy 7%, decommissioned 5%.';

CREATE OR REPLACE FUNCTION sark_seed.tool_name(n bigint, k bigint)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ('{get,list,search,create,update,delete,sync,export,validate,summarize,approve,run}'::text[])
           [1 + sark_seed.h(n, k * 64 + 1) % 12]
      || '_'
      || ('{invoice,customer,order,ticket,document,repository,issue,deployment,secret,user,report,'
          'payment,shipment,contract,metric,alert,query,file,calendar_event,message}'::text[])
           [1 + sark_seed.h(n, k * 64 + 2) % 20]
      || '_' || k::text
$$;
COMMENT ON FUNCTION sark_seed.tool_name(bigint, bigint) IS
  'Name of tool k of seeded server n, verb_noun_k (unique per server because of k).';

CREATE OR REPLACE FUNCTION sark_seed.team_name(r bigint, i bigint)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ('{platform,payments,search,data,identity,growth,infra,security,mobile,web,ml,finance,'
          'support,devex,sre,billing,analytics,integrations,compliance,core}'::text[])[1 + (i - 1) % 20]
      || '-' || i::text || CASE WHEN r = 1 THEN '' ELSE '-r' || r::text END
$$;
COMMENT ON FUNCTION sark_seed.team_name(bigint, bigint) IS
  'Name of team i of the seed run tagged r (r = 1: platform-1, later runs: platform-1-r<r>).';

CREATE OR REPLACE FUNCTION sark_seed.user_email(r bigint, i bigint)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT lower(('{Maria,James,Wei,Aisha,Lukas,Sofia,Mateo,Yuki,Olivia,Noah,Priya,Omar,Emma,Liam,'
                'Chloe,Ivan,Fatima,Diego,Hannah,Kenji,Amara,Lars,Zoe,Rahul}'::text[])[1 + sark_seed.h(i, r * 8 + 1) % 24])
      || '.'
      || lower(('{Garcia,Smith,Chen,Khan,Muller,Rossi,Silva,Tanaka,Brown,Nguyen,Patel,Haddad,Johansson,'
                'Kowalski,Dubois,Petrov,Okafor,Lopez,Schmidt,Sato,Mensah,Nielsen,Wright,Gupta}'::text[])[1 + sark_seed.h(i, r * 8 + 2) % 24])
      || '.' || i::text
      || CASE WHEN r = 1 THEN '' ELSE '+r' || r::text END
      || '@' || ('{example.com,example.org,example.net}'::text[])[1 + sark_seed.h(i, r * 8 + 3) % 3]
$$;
COMMENT ON FUNCTION sark_seed.user_email(bigint, bigint) IS
  'Email of user i of the seed run tagged r, e.g. maria.chen.17@example.com (later runs add +r<r>); unique per (r, i).';

CREATE OR REPLACE FUNCTION sark_seed.column_type(tbl text, col text)
RETURNS text LANGUAGE sql STABLE
AS $$
  SELECT format_type(a.atttypid, a.atttypmod)
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = to_regclass(tbl) AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped
$$;
COMMENT ON FUNCTION sark_seed.column_type(text, text) IS
  'Declared type of column col of table tbl (resolved through search_path), NULL if absent; used to detect the schema variant.';

-- ---------------------------------------------------------------------------------------------
-- seed_v1
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION sark_seed.seed_v1(
  servers int,
  tools_per_server int DEFAULT 10,
  audit_events_per_server int DEFAULT 2)
RETURNS TABLE (table_name text, rows bigint)
LANGUAGE plpgsql
VOLATILE
-- JIT compilation of the 1M-row INSERT ... SELECT costs more than it saves (measured).
SET jit = off
AS $fn$
DECLARE
  v_r       bigint;           -- run tag = number of this run's first server
  v_users   int;
  v_teams   int;
  v_keys    int;
  v_gw      int;
  v_n       bigint;
  v_params  text;             -- parameters | parameters_schema
  v_ptype   text;             -- its type (json | jsonb)
  v_has_inv boolean;          -- invocation_count and last_invoked exist
  v_sql     text;
BEGIN
  IF servers IS NULL OR servers < 1 THEN
    RAISE EXCEPTION 'sark_seed.seed_v1: servers must be >= 1 (got %)', servers;
  END IF;
  IF tools_per_server IS NULL OR tools_per_server < 0 OR audit_events_per_server IS NULL
     OR audit_events_per_server < 0 THEN
    RAISE EXCEPTION 'sark_seed.seed_v1: tools_per_server and audit_events_per_server must be >= 0';
  END IF;
  IF to_regclass('mcp_servers') IS NULL OR to_regclass('mcp_tools') IS NULL
     OR to_regclass('gateway_audit_events') IS NULL THEN
    RAISE EXCEPTION 'sark_seed.seed_v1: the v1 tables (migrations 001-005) are not in search_path (%)',
      current_setting('search_path');
  END IF;

  -- Schema variant.
  v_params := CASE
    WHEN sark_seed.column_type('mcp_tools', 'parameters') IS NOT NULL THEN 'parameters'
    WHEN sark_seed.column_type('mcp_tools', 'parameters_schema') IS NOT NULL THEN 'parameters_schema'
  END;
  IF v_params IS NULL THEN
    RAISE EXCEPTION 'sark_seed.seed_v1: mcp_tools has neither parameters nor parameters_schema';
  END IF;
  v_ptype := sark_seed.column_type('mcp_tools', v_params);
  IF v_ptype NOT IN ('json', 'jsonb') THEN
    RAISE EXCEPTION 'sark_seed.seed_v1: mcp_tools.% is %, expected json or jsonb', v_params, v_ptype;
  END IF;
  v_has_inv := sark_seed.column_type('mcp_tools', 'invocation_count') IS NOT NULL
           AND sark_seed.column_type('mcp_tools', 'last_invoked') IS NOT NULL;

  -- Two concurrent calls would pick the same run tag: serialise them.
  PERFORM pg_advisory_xact_lock(hashtext('sark_seed.seed_v1'));

  -- Appendability: servers are numbered 1, 2, 3, ... across calls. This call continues after the
  -- highest number already present, counting only rows whose id proves they are seeded servers
  -- (id = uuid_for('mcp_servers', n) for the n at the end of the name), so real and dirty rows
  -- are ignored and servers, tools and audit events of two calls never collide. The first number
  -- doubles as the run tag r that keys this call's users, teams, keys, policies and gateway
  -- events; those inserts say ON CONFLICT DO NOTHING because a tag recurs only when the newest
  -- seeded servers were deleted, and then the rows already there are simply reused.
  SELECT coalesce(max(x.n), 0) + 1 INTO v_r
    FROM (SELECT s.id, substring(s.name from '-([0-9]{1,15})$')::bigint AS n
            FROM mcp_servers s
           WHERE s.name ~ '-[0-9]{1,15}$') x
   WHERE x.id = sark_seed.uuid_for('mcp_servers', x.n);

  v_users := greatest(5, servers / 20);
  v_teams := greatest(3, servers / 50);
  v_keys  := least(65535, greatest(3, v_users / 10));
  v_gw    := greatest(10, servers / 20);

  -- users ------------------------------------------------------------------------------------
  INSERT INTO users (id, email, full_name, hashed_password, is_active, is_admin, role,
                     extra_metadata, created_at, updated_at)
  SELECT sark_seed.uuid_for('users', v_r, u.i),
         sark_seed.user_email(v_r, u.i),
         initcap(split_part(sark_seed.user_email(v_r, u.i), '.', 1)) || ' '
           || initcap(split_part(sark_seed.user_email(v_r, u.i), '.', 2)),
         -- bcrypt-shaped: $2b$12$ + 53 characters of its alphabet
         '$2b$12$' || left(translate(encode(decode(md5('pw/' || v_r || '/' || u.i) || md5('salt/' || v_r || '/' || u.i)
                                                   || md5('hash/' || v_r || '/' || u.i), 'hex'), 'base64'),
                                     '+=', '.'), 53),
         u.h1 % 20 <> 0,
         u.i = 1 OR u.h1 % 25 = 1,
         CASE WHEN u.i = 1 OR u.h1 % 25 = 1 THEN 'admin'
              ELSE ('{developer,developer,developer,developer,developer,operator,operator,viewer,security,auditor}'::text[])
                     [1 + u.h2 % 10] END,
         jsonb_build_object(
           'department', ('{Engineering,Platform,Security,Finance,Support,Data,Product}'::text[])[1 + u.h2 % 7],
           'timezone',   ('{UTC,Europe/Berlin,America/New_York,America/Los_Angeles,Asia/Tokyo,Asia/Kolkata}'::text[])[1 + u.h3 % 6],
           'sso_subject', 'okta|00u' || left(md5('sso/' || v_r || '/' || u.i), 17))
         || CASE WHEN u.h3 % 4 = 0
                 THEN jsonb_build_object('preferences', jsonb_build_object('theme', 'dark', 'notifications', u.h1 % 2 = 0))
                 ELSE '{}'::jsonb END,
         sark_seed.anchor() - (u.age * interval '1 microsecond'),
         sark_seed.anchor() - ((u.h3 % (u.age + 1)) * interval '1 microsecond')
    FROM (SELECT i, sark_seed.h(i, v_r * 8 + 4) AS h1, sark_seed.h(i, v_r * 8 + 5) AS h2,
                 sark_seed.h(i, v_r * 8 + 6) AS h3,
                 -- users exist before the servers they own: 730-760 days old
                 63072000000000 + sark_seed.h(i, v_r * 8 + 7) % 2592000000000 AS age
            FROM generate_series(1, v_users) AS g(i) OFFSET 0) u
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'users'; rows := v_n; RETURN NEXT;

  -- teams ------------------------------------------------------------------------------------
  INSERT INTO teams (id, name, description, extra_metadata, created_at, updated_at)
  SELECT sark_seed.uuid_for('teams', v_r, t.i),
         sark_seed.team_name(v_r, t.i),
         CASE WHEN t.h1 % 5 = 0 THEN NULL
              ELSE 'Owns the ' || split_part(sark_seed.team_name(v_r, t.i), '-', 1)
                   || ' MCP servers and their on-call rotation.' END,
         jsonb_build_object('slack_channel', '#team-' || sark_seed.team_name(v_r, t.i),
                            'cost_center', 'CC-' || (1000 + t.h1 % 9000),
                            'oncall', jsonb_build_object('schedule', 'pd-' || left(md5('oncall/' || v_r || '/' || t.i), 7),
                                                         'escalation_minutes', 5 * (1 + t.h1 % 6))),
         sark_seed.anchor() - ((63072000000000 + t.h1 % 2592000000000) * interval '1 microsecond'),
         sark_seed.anchor() - ((t.h1 % 63072000000000) * interval '1 microsecond')
    FROM (SELECT i, sark_seed.h(i, v_r * 8 + 9) AS h1 FROM generate_series(1, v_teams) AS g(i) OFFSET 0) t
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'teams'; rows := v_n; RETURN NEXT;

  -- user_teams: everyone in team 1 + (i-1) % teams (so every team has members), 30% in a second
  INSERT INTO user_teams (user_id, team_id)
  SELECT sark_seed.uuid_for('users', v_r, g.i), sark_seed.uuid_for('teams', v_r, m.team_i)
    FROM generate_series(1, v_users) AS g(i)
   CROSS JOIN LATERAL (
     VALUES (1 + (g.i - 1) % v_teams),
            (CASE WHEN sark_seed.h(g.i, v_r * 8 + 10) % 10 < 3
                  THEN 1 + ((g.i - 1) % v_teams + 1 + sark_seed.h(g.i, v_r * 8 + 11) % (v_teams - 1)) % v_teams
             END)) AS m(team_i)
   WHERE m.team_i IS NOT NULL
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'user_teams'; rows := v_n; RETURN NEXT;

  -- mcp_servers ------------------------------------------------------------------------------
  -- http 55%, stdio 30%, sse 15%; command only for stdio, endpoint only for http/sse.
  INSERT INTO mcp_servers (id, name, description, transport, endpoint, command, mcp_version,
                           capabilities, sensitivity_level, signature, status, health_endpoint,
                           last_health_check, owner_id, team_id, consul_id, tags, extra_metadata,
                           created_at, updated_at)
  SELECT sark_seed.uuid_for('mcp_servers', s.n),
         s.name,
         CASE WHEN s.h1 % 10 = 0 THEN NULL
              ELSE initcap(split_part(s.name, '-', 1)) || ' ' || split_part(s.name, '-', 2)
                   || ' exposing ' || split_part(s.name, '-', 1) || ' operations to agents'
                   || CASE WHEN s.h1 % 3 = 0 THEN ' (read-only replica, ' || s.region || ').' ELSE '.' END END,
         s.transport,
         CASE s.transport
           WHEN 'http' THEN CASE WHEN s.h2 % 5 = 0
                                 THEN 'http://10.' || s.h2 % 256 || '.' || s.h3 % 256 || '.' || (1 + s.h1 % 254) || ':8080/mcp'
                                 ELSE 'https://' || s.name || '.' || s.region || '.mcp.internal.example.com/mcp' END
           WHEN 'sse'  THEN 'https://' || s.name || '.' || s.region || '.mcp.internal.example.com/sse'
         END,
         CASE WHEN s.transport = 'stdio' THEN
           CASE s.h2 % 5
             WHEN 0 THEN 'npx -y @acme/' || s.name || '-mcp'
             WHEN 1 THEN 'uvx ' || s.name || '-mcp --read-only'
             WHEN 2 THEN 'python -m mcp_servers.' || replace(s.name, '-', '_') || ' --log-level info'
             WHEN 3 THEN '/opt/mcp/bin/' || s.name || ' --stdio'
             ELSE 'docker run --rm -i ghcr.io/acme/' || s.name || ':1.' || s.h3 % 20 || '.' || s.h1 % 10
           END
         END,
         ('{2024-11-05,2025-03-26,2025-03-26,2025-06-18,2025-06-18,2025-06-18,2025-06-18,2025-06-18}'::text[])[1 + s.h3 % 8],
         ('[["tools"],["tools"],["tools","resources"],["tools","resources"],["tools","prompts"],'
          '["tools","prompts","resources"],["tools","prompts","resources"],["resources"],["prompts"],'
          '["tools","logging"],["tools","resources","sampling"],[]]'::jsonb) -> (s.h4 % 12)::int,
         s.sensitivity,
         CASE WHEN s.h4 % 10 < 3
              THEN encode(decode(md5('sig/a/' || s.n) || md5('sig/b/' || s.n) || md5('sig/c/' || s.n)
                                 || md5('sig/d/' || s.n), 'hex'), 'base64') END,
         s.status,
         CASE WHEN s.transport = 'http'
              THEN CASE WHEN s.h2 % 5 = 0
                        THEN 'http://10.' || s.h2 % 256 || '.' || s.h3 % 256 || '.' || (1 + s.h1 % 254) || ':8080/healthz'
                        ELSE 'https://' || s.name || '.' || s.region || '.mcp.internal.example.com/healthz' END END,
         CASE WHEN s.status IN ('active', 'unhealthy')
              THEN sark_seed.anchor() - ((s.h5 % least(3600000000, s.age + 1)) * interval '1 microsecond')
              WHEN s.status = 'inactive' AND s.h5 % 2 = 0
              THEN sark_seed.anchor() - ((s.h5 % (s.age + 1)) * interval '1 microsecond') END,
         CASE WHEN s.owner_i IS NOT NULL THEN sark_seed.uuid_for('users', v_r, s.owner_i) END,
         CASE WHEN s.team_i IS NOT NULL THEN sark_seed.uuid_for('teams', v_r, s.team_i) END,
         CASE WHEN s.h5 % 10 < 4 THEN s.name || '-' || left(md5('consul/' || s.n), 8) END,
         jsonb_build_array('env:' || s.env)
           || CASE WHEN s.team_i IS NOT NULL THEN jsonb_build_array('team:' || sark_seed.team_name(v_r, s.team_i))
                   ELSE '[]'::jsonb END
           || CASE s.h6 % 6 WHEN 0 THEN '["pci"]'::jsonb WHEN 1 THEN '["tier:1","customer-facing"]'::jsonb
                            WHEN 2 THEN '["beta"]'::jsonb ELSE '[]'::jsonb END,
         jsonb_build_object(
           'region', s.region,
           'cost_center', 'CC-' || (1000 + s.h6 % 9000),
           'owner_email', CASE WHEN s.owner_i IS NOT NULL THEN sark_seed.user_email(v_r, s.owner_i)
                               ELSE 'mcp-platform@example.com' END,
           'environment', s.env)
         || CASE s.h7 % 5
              WHEN 0 THEN jsonb_build_object('deployment', jsonb_build_object(
                            'cluster', 'k8s-' || s.region, 'namespace', 'mcp-' || split_part(s.name, '-', 1),
                            'replicas', 1 + s.h7 % 5,
                            'image', 'ghcr.io/acme/' || split_part(s.name, '-', 1) || ':1.' || s.h7 % 30,
                            'resources', jsonb_build_object('cpu', '500m', 'memory', '512Mi')))
              WHEN 1 THEN jsonb_build_object('sla', jsonb_build_object('tier', 'gold', 'uptime_target', 99.9,
                                                                       'support_hours', '24x7'),
                                             'runbook_url', 'https://wiki.example.com/runbooks/' || s.name)
              WHEN 2 THEN jsonb_build_object('compliance', jsonb_build_array('soc2', 'iso27001'),
                                             'data_classes', jsonb_build_array('pii'))
              ELSE '{}'::jsonb END,
         sark_seed.anchor() - (s.age * interval '1 microsecond'),
         CASE WHEN s.h7 % 5 = 4 THEN sark_seed.anchor() - (s.age * interval '1 microsecond')
              ELSE sark_seed.anchor() - ((s.h5 % (s.age + 1)) * interval '1 microsecond') END
    FROM (SELECT x.*,
                 ('{http,stdio,sse}'::transporttype[])[1 + width_bucket(x.h1 % 100, '{55,85}'::bigint[])] AS transport,
                 sark_seed.server_status(x.n)::serverstatus AS status,
                 ('{low,medium,high,critical}'::sensitivitylevel[])[1 + width_bucket(x.h3 % 100, '{25,65,90}'::bigint[])] AS sensitivity,
                 ('{us-east-1,us-west-2,eu-west-1,eu-central-1,ap-southeast-2,ap-northeast-1}'::text[])[1 + x.h2 % 6] AS region,
                 ('{prod,prod,prod,staging,staging,dev}'::text[])[1 + x.h4 % 6] AS env,
                 CASE WHEN x.h6 % 10 <> 0 THEN 1 + x.h6 % v_users END AS owner_i,
                 CASE WHEN x.h7 % 20 >= 3 THEN 1 + x.h7 % v_teams END AS team_i
            FROM (SELECT g.n, sark_seed.server_name(g.n) AS name, sark_seed.server_age_us(g.n) AS age,
                         sark_seed.h(g.n, 11) AS h1, sark_seed.h(g.n, 12) AS h2, sark_seed.h(g.n, 13) AS h3,
                         sark_seed.h(g.n, 14) AS h4, sark_seed.h(g.n, 15) AS h5, sark_seed.h(g.n, 16) AS h6,
                         sark_seed.h(g.n, 17) AS h7
                    FROM generate_series(v_r, v_r + servers - 1) AS g(n) OFFSET 0) x
          OFFSET 0) s;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'mcp_servers'; rows := v_n; RETURN NEXT;

  -- mcp_tools --------------------------------------------------------------------------------
  -- Dynamic only because the parameters column's name and the optional columns vary; the JSON
  -- Schemas are 240 templates (one per verb x noun, so a tool's schema matches its name) built
  -- once and picked by index, in the column's own type so nothing is re-parsed per row.
  v_sql := format($q$
    WITH tpl AS MATERIALIZED (
      SELECT array_agg(t.schema::%2$s ORDER BY t.idx) AS arr
        FROM (SELECT (v.vi - 1) * 20 + (o.ni - 1) AS idx,
                     jsonb_build_object(
                       '$schema', 'https://json-schema.org/draft/2020-12/schema',
                       'type', 'object',
                       'title', initcap(v.verb) || ' ' || replace(o.noun, '_', ' ') || ' input',
                       'additionalProperties', false)
                     || CASE
                          WHEN v.verb IN ('list', 'search', 'export') THEN jsonb_build_object(
                            'properties', jsonb_build_object(
                              'query', jsonb_build_object('type', 'string', 'minLength', 1, 'maxLength', 512,
                                         'description', 'Free-text filter applied to ' || replace(o.noun, '_', ' ') || ' fields.'),
                              'limit', jsonb_build_object('type', 'integer', 'minimum', 1, 'maximum', 500, 'default', 50,
                                         'description', 'Maximum number of results to return.'),
                              'cursor', jsonb_build_object('type', 'string', 'description', 'Opaque pagination cursor from a previous call.'),
                              'filters', jsonb_build_object('type', 'object', 'additionalProperties', false,
                                         'properties', jsonb_build_object(
                                           'status', jsonb_build_object('type', 'string', 'enum', jsonb_build_array('open', 'closed', 'pending')),
                                           'created_after', jsonb_build_object('type', 'string', 'format', 'date-time')))),
                            'required', CASE WHEN v.verb = 'search' THEN '["query"]'::jsonb ELSE '[]'::jsonb END)
                          WHEN v.verb IN ('create', 'update') THEN jsonb_build_object(
                            'properties', jsonb_build_object(
                              o.noun || '_id', jsonb_build_object('type', 'string', 'format', 'uuid',
                                         'description', 'Identifier of the ' || replace(o.noun, '_', ' ') || ' to update.'),
                              'data', jsonb_build_object('type', 'object', 'description', 'Fields to set.',
                                         'properties', jsonb_build_object(
                                           'title', jsonb_build_object('type', 'string', 'maxLength', 200),
                                           'labels', jsonb_build_object('type', 'array', 'items', jsonb_build_object('type', 'string'), 'maxItems', 20),
                                           'priority', jsonb_build_object('type', 'integer', 'minimum', 1, 'maximum', 5))),
                              'idempotency_key', jsonb_build_object('type', 'string', 'maxLength', 64)),
                            'required', CASE WHEN v.verb = 'update' THEN jsonb_build_array(o.noun || '_id', 'data')
                                             ELSE '["data"]'::jsonb END)
                          WHEN v.verb IN ('sync', 'run') THEN jsonb_build_object(
                            'properties', jsonb_build_object(
                              'target', jsonb_build_object('type', 'string', 'enum', jsonb_build_array('staging', 'production'),
                                         'description', 'Environment to act on.'),
                              'dry_run', jsonb_build_object('type', 'boolean', 'default', true,
                                         'description', 'Report what would change without changing it.'),
                              'timeout_seconds', jsonb_build_object('type', 'integer', 'minimum', 1, 'maximum', 3600, 'default', 300)),
                            'required', '["target"]'::jsonb)
                          ELSE jsonb_build_object(
                            'properties', jsonb_build_object(
                              o.noun || '_id', jsonb_build_object('type', 'string', 'format', 'uuid',
                                         'description', 'Identifier of the ' || replace(o.noun, '_', ' ') || '.'),
                              'include_archived', jsonb_build_object('type', 'boolean', 'default', false,
                                         'description', 'Also consider archived records.'),
                              'reason', jsonb_build_object('type', 'string', 'maxLength', 500,
                                         'description', 'Why the caller needs this; recorded in the audit log.')),
                            'required', jsonb_build_array(o.noun || '_id'))
                        END AS schema
                FROM unnest('{get,list,search,create,update,delete,sync,export,validate,summarize,approve,run}'::text[])
                       WITH ORDINALITY AS v(verb, vi)
               CROSS JOIN unnest('{invoice,customer,order,ticket,document,repository,issue,deployment,secret,user,report,payment,shipment,contract,metric,alert,query,file,calendar_event,message}'::text[])
                       WITH ORDINALITY AS o(noun, ni)) t
    )
    INSERT INTO mcp_tools (id, server_id, name, description, %1$I, sensitivity_level,
                           requires_approval, signature, extra_metadata, created_at, updated_at%3$s)
    SELECT sark_seed.uuid_for('mcp_tools', t.n, t.k),
           t.server_id,
           t.verb || '_' || t.noun || '_' || t.k,
           replace(('{"Fetch a single {noun} by its identifier.","List {noun} records visible to the caller, newest first.","Full-text search across {noun} records.","Create a new {noun}.","Update fields of an existing {noun}.","Delete a {noun}; irreversible.","Synchronise {noun} records with the upstream system.","Export {noun} records as CSV or JSON.","Check a {noun} against the configured rules.","Summarise a {noun} in a few sentences.","Approve a pending {noun}.","Run the {noun} workflow end to end."}'::text[])[1 + t.vi],
                   '{noun}', replace(t.noun, '_', ' '))
             || CASE WHEN t.h1 %% 3 = 0 THEN ' Served by ' || t.server_name || '.' ELSE '' END,
           tpl.arr[1 + t.vi * 20 + t.ni],
           t.sensitivity,
           CASE WHEN t.sensitivity >= 'high' THEN t.h2 %% 10 < 8 ELSE t.h2 %% 40 = 0 END,
           CASE WHEN t.h3 %% 5 = 0 THEN 'ed25519:' || md5('tsig/' || t.n || '/' || t.k) || md5('tsig2/' || t.n || '/' || t.k) END,
           jsonb_build_object(
             'category', ('{finance,crm,commerce,support,content,engineering,engineering,engineering,security,identity,analytics,finance,logistics,legal,observability,observability,data,content,productivity,communication}'::text[])[1 + t.ni],
             'timeout_ms', 5000 * (1 + t.h1 %% 12),
             'idempotent', t.vi IN (0, 1, 2, 7, 8, 9),
             'version', '1.' || t.h2 %% 10 || '.' || t.h3 %% 20)
           || CASE WHEN t.h1 %% 4 = 0
                   THEN jsonb_build_object('rate_limit', jsonb_build_object('per_minute', 60 * (1 + t.h2 %% 10)))
                   ELSE '{}'::jsonb END,
           sark_seed.anchor() - (t.age * interval '1 microsecond'),
           sark_seed.anchor() - ((t.h4 %% (t.age + 1)) * interval '1 microsecond')%4$s
      FROM (SELECT s.n, s.server_id, s.server_name, g.k,
                   ('{get,list,search,create,update,delete,sync,export,validate,summarize,approve,run}'::text[])[1 + sark_seed.h(s.n, g.k * 64 + 1) %% 12] AS verb,
                   ('{invoice,customer,order,ticket,document,repository,issue,deployment,secret,user,report,payment,shipment,contract,metric,alert,query,file,calendar_event,message}'::text[])[1 + sark_seed.h(s.n, g.k * 64 + 2) %% 20] AS noun,
                   (sark_seed.h(s.n, g.k * 64 + 1) %% 12)::int AS vi,
                   (sark_seed.h(s.n, g.k * 64 + 2) %% 20)::int AS ni,
                   ('{low,medium,high,critical}'::sensitivitylevel[])[1 + width_bucket(sark_seed.h(s.n, g.k * 64 + 3) %% 100, '{30,70,90}'::bigint[])] AS sensitivity,
                   sark_seed.h(s.n, g.k * 64 + 4) AS h1, sark_seed.h(s.n, g.k * 64 + 5) AS h2,
                   sark_seed.h(s.n, g.k * 64 + 6) AS h3, sark_seed.h(s.n, g.k * 64 + 7) AS h4,
                   -- a tool appears within 30 days of its server
                   s.age - sark_seed.h(s.n, g.k * 64 + 8) %% least(s.age + 1, 2592000000000) AS age
              FROM (SELECT g1.n, sark_seed.uuid_for('mcp_servers', g1.n) AS server_id,
                           sark_seed.server_name(g1.n) AS server_name, sark_seed.server_age_us(g1.n) AS age
                      FROM generate_series($1, $1 + $2 - 1) AS g1(n) OFFSET 0) s
             CROSS JOIN generate_series(1, $3) AS g(k)
            OFFSET 0) t
     CROSS JOIN tpl
  $q$,
    v_params, v_ptype,
    CASE WHEN v_has_inv THEN ', invocation_count, last_invoked' ELSE '' END,
    CASE WHEN v_has_inv THEN $x$,
           CASE WHEN t.h4 % 10 < 3 THEN 0 ELSE ((t.h2 % 1000) * (1 + t.h3 % 50))::int END,
           CASE WHEN t.h4 % 10 < 3 THEN NULL
                ELSE sark_seed.anchor() - ((t.h1 % (t.age + 1)) * interval '1 microsecond') END$x$
    ELSE '' END);
  EXECUTE v_sql USING v_r, servers, tools_per_server;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'mcp_tools'; rows := v_n; RETURN NEXT;

  -- policies + policy_versions -----------------------------------------------------------------
  -- Eight per call; policies.current_version_id is filled once the versions exist (drafts keep NULL).
  INSERT INTO policies (id, name, description, policy_type, status, current_version_id, created_at, updated_at)
  SELECT sark_seed.uuid_for('policies', v_r, p.i),
         p.pname || CASE WHEN v_r = 1 THEN '' ELSE '-r' || v_r END,
         p.descr, p.ptype::policytype, p.pstatus::policystatus, NULL,
         sark_seed.anchor() - ((700 - 40 * p.i) * interval '24 hours') - (sark_seed.h(p.i, v_r) % 86400000000) * interval '1 microsecond',
         sark_seed.anchor() - ((30 * (8 - p.i)) * interval '24 hours') - (sark_seed.h(p.i, v_r + 1) % 86400000000) * interval '1 microsecond'
    FROM (VALUES
      (1, 'require-approval-critical-tools', 'Tools marked critical run only after a human approves the call.', 'authorization', 'active'),
      (2, 'deny-decommissioned-servers', 'Refuse every call routed to a decommissioned MCP server.', 'authorization', 'active'),
      (3, 'team-scoped-server-access', 'Users reach only the servers of the teams they belong to.', 'authorization', 'active'),
      (4, 'pii-redaction', 'Mask e-mail addresses and card numbers in tool results.', 'transformation', 'active'),
      (5, 'validate-tool-arguments', 'Reject tool arguments that do not match the tool''s JSON Schema.', 'validation', 'inactive'),
      (6, 'audit-high-sensitivity', 'Forward every high and critical tool call to the SIEM.', 'audit', 'active'),
      (7, 'business-hours-only', 'Writes to production servers only during business hours.', 'authorization', 'draft'),
      (8, 'legacy-ip-allowlist', 'Superseded by team-scoped-server-access.', 'authorization', 'deprecated')
    ) AS p(i, pname, descr, ptype, pstatus)
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'policies'; rows := v_n; RETURN NEXT;

  INSERT INTO policy_versions (id, policy_id, version, content, is_active, tested, created_by, created_at, notes)
  SELECT sark_seed.uuid_for('policy_versions/' || v_r, p.i, v.v),
         sark_seed.uuid_for('policies', v_r, p.i),
         v.v,
         format(E'package sark.%s\n\nimport rego.v1\n\n# version %s\ndefault allow := false\n\n'
                'allow if {\n    input.user.is_active\n    input.tool.sensitivity_level in {"low", "medium"%s}\n}\n'
                '%s',
                replace(p.pname, '-', '_'), v.v, CASE WHEN v.v > 1 THEN ', "high"' ELSE '' END,
                CASE WHEN v.v > 2 THEN E'\ndeny contains msg if {\n    input.server.status == "decommissioned"\n    msg := sprintf("server %q is decommissioned", [input.server.name])\n}\n' ELSE '' END),
         v.v = p.nv AND p.pstatus IN ('active', 'deprecated'),
         v.v < p.nv OR p.pstatus = 'active',
         sark_seed.uuid_for('users', v_r, 1 + sark_seed.h(p.i * 10 + v.v, v_r) % v_users),
         sark_seed.anchor() - ((700 - 40 * p.i - 10 * v.v) * interval '24 hours')
           + (sark_seed.h(p.i * 10 + v.v, v_r + 2) % 86400000000) * interval '1 microsecond',
         CASE v.v WHEN 1 THEN 'Initial version.' WHEN 2 THEN 'Allow high sensitivity for approved teams.'
                  ELSE 'Deny decommissioned servers explicitly.' END
    FROM (VALUES (1, 'require-approval-critical-tools', 'active'), (2, 'deny-decommissioned-servers', 'active'),
                 (3, 'team-scoped-server-access', 'active'), (4, 'pii-redaction', 'active'),
                 (5, 'validate-tool-arguments', 'inactive'), (6, 'audit-high-sensitivity', 'active'),
                 (7, 'business-hours-only', 'draft'), (8, 'legacy-ip-allowlist', 'deprecated')
         ) AS p0(i, pname, pstatus)
   CROSS JOIN LATERAL (SELECT p0.*, 1 + p0.i % 3 AS nv) p
   CROSS JOIN LATERAL generate_series(1, p.nv) AS v(v)
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'policy_versions'; rows := v_n; RETURN NEXT;

  UPDATE policies p
     SET current_version_id = sark_seed.uuid_for('policy_versions/' || v_r, g.i, 1 + g.i % 3)
    FROM generate_series(1, 8) AS g(i)
   WHERE g.i <> 7                               -- business-hours-only is a draft
     AND p.id = sark_seed.uuid_for('policies', v_r, g.i)
     AND p.current_version_id IS NULL;

  -- api_keys (timestamp without time zone, no foreign keys in v1) -----------------------------
  INSERT INTO api_keys (id, user_id, team_id, name, description, key_prefix, key_hash, scopes, rate_limit,
                        is_active, expires_at, last_used_at, last_used_ip, usage_count, created_at,
                        updated_at, revoked_at, revoked_by)
  SELECT sark_seed.uuid_for('api_keys', v_r, k.i),
         sark_seed.uuid_for('users', v_r, k.owner_i),
         CASE WHEN k.h1 % 3 <> 0 THEN sark_seed.uuid_for('teams', v_r, 1 + (k.owner_i - 1) % v_teams) END,
         ('{ci-deploy,local-dev,grafana-agent,backstage-sync,incident-bot,nightly-export,claude-desktop,terraform}'::text[])[1 + k.h1 % 8]
           || '-' || k.i,
         CASE WHEN k.h2 % 4 = 0 THEN NULL ELSE 'Issued for automation; rotate every 90 days.' END,
         'sk_' || to_hex(v_r) || 'x' || to_hex(k.i),
         encode(sha256(convert_to('sark-seed/api_key/' || v_r || '/' || k.i, 'UTF8')), 'hex'),
         CASE k.h2 % 4 WHEN 0 THEN '{server:read}'::varchar[] WHEN 1 THEN '{server:read,tool:invoke}'::varchar[]
                       WHEN 2 THEN '{server:read,server:write,tool:invoke}'::varchar[] ELSE '{admin}'::varchar[] END,
         (ARRAY[100, 1000, 1000, 5000])[1 + k.h3 % 4],
         k.active,
         CASE WHEN k.h3 % 2 = 0 THEN (sark_seed.anchor() + ((k.h1 % 400) - 35) * interval '24 hours') AT TIME ZONE 'UTC' END,
         CASE WHEN k.h2 % 5 <> 0 THEN (sark_seed.anchor() - (k.h3 % 2592000000000) * interval '1 microsecond') AT TIME ZONE 'UTC' END,
         CASE WHEN k.h2 % 5 <> 0 THEN '10.' || k.h1 % 256 || '.' || k.h2 % 256 || '.' || (1 + k.h3 % 254) END,
         CASE WHEN k.h2 % 5 <> 0 THEN (k.h1 % 200000)::int ELSE 0 END,
         (sark_seed.anchor() - (k.age * interval '1 microsecond')) AT TIME ZONE 'UTC',
         (sark_seed.anchor() - ((k.h2 % (k.age + 1)) * interval '1 microsecond')) AT TIME ZONE 'UTC',
         CASE WHEN NOT k.active AND k.h1 % 3 <> 0
              THEN (sark_seed.anchor() - ((k.h3 % (k.age + 1)) * interval '1 microsecond')) AT TIME ZONE 'UTC' END,
         CASE WHEN NOT k.active AND k.h1 % 3 <> 0 THEN sark_seed.uuid_for('users', v_r, 1) END
    FROM (SELECT i, 1 + sark_seed.h(i, v_r * 8 + 12) % v_users AS owner_i,
                 sark_seed.h(i, v_r * 8 + 13) AS h1, sark_seed.h(i, v_r * 8 + 14) AS h2,
                 sark_seed.h(i, v_r * 8 + 15) AS h3, sark_seed.h(i, v_r * 8 + 16) % 100 >= 15 AS active,
                 sark_seed.h(i, v_r * 8 + 17) % 63072000000000 AS age
            FROM generate_series(1, v_keys) AS g(i) OFFSET 0) k
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'api_keys'; rows := v_n; RETURN NEXT;

  -- audit_events -------------------------------------------------------------------------------
  -- Event 1 of every server is its registration (at created_at); event 2 of a decommissioned
  -- server is its decommissioning; the rest follow a realistic mix, dated between the server's
  -- creation and the anchor.
  INSERT INTO audit_events (id, "timestamp", event_type, severity, user_id, user_email, server_id, tool_name,
                            decision, policy_id, ip_address, user_agent, request_id, details, siem_forwarded)
  SELECT sark_seed.uuid_for('audit_events', e.n, e.k), e.ts, e.evt,
         CASE e.evt
           WHEN 'security_violation' THEN CASE WHEN e.h2 % 3 = 0 THEN 'critical' ELSE 'high' END
           WHEN 'authorization_denied' THEN 'medium'
           WHEN 'server_decommissioned' THEN 'medium'
           WHEN 'policy_activated' THEN 'medium'
           ELSE CASE WHEN e.h2 % 20 = 0 THEN 'medium' ELSE 'low' END
         END::severitylevel,
         CASE WHEN e.user_i IS NOT NULL THEN sark_seed.uuid_for('users', v_r, e.user_i) END,
         CASE WHEN e.user_i IS NOT NULL THEN sark_seed.user_email(v_r, e.user_i) END,
         CASE WHEN e.evt NOT IN ('user_login', 'user_logout', 'policy_created', 'policy_updated', 'policy_activated')
              THEN sark_seed.uuid_for('mcp_servers', e.n) END,
         CASE WHEN e.evt IN ('tool_invoked', 'authorization_allowed', 'authorization_denied', 'security_violation')
                   AND e.tool_k IS NOT NULL
              THEN sark_seed.tool_name(e.n, e.tool_k) END,
         CASE e.evt WHEN 'tool_invoked' THEN 'allow' WHEN 'authorization_allowed' THEN 'allow'
                    WHEN 'authorization_denied' THEN 'deny' WHEN 'security_violation' THEN 'deny' END,
         CASE WHEN e.evt IN ('authorization_allowed', 'authorization_denied', 'policy_created', 'policy_updated', 'policy_activated')
              THEN sark_seed.uuid_for('policies', v_r, 1 + e.h3 % 8) END,
         CASE WHEN e.h3 % 20 = 0 THEN '2001:db8:' || to_hex(e.h1 % 65536) || '::' || to_hex(e.h2 % 65536)
              WHEN e.h3 % 20 < 4 THEN '192.168.' || e.h1 % 256 || '.' || (1 + e.h2 % 254)
              ELSE '10.' || e.h1 % 256 || '.' || e.h2 % 256 || '.' || (1 + e.h3 % 254) END,
         ('{"sark-cli/1.4.2","sark-cli/1.3.0","python-httpx/0.27.0","claude-desktop/0.7.1","Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15","Go-http-client/2.0"}'::text[])[1 + e.h4 % 6],
         'req_' || left(md5('req/' || e.n || '/' || e.k), 24),
         jsonb_build_object('source', ('{gateway,api,cli,scheduler}'::text[])[1 + e.h4 % 4],
                            'duration_ms', e.h1 % 2500,
                            'trace_id', md5('trace/' || e.n || '/' || e.k))
         || CASE e.evt
              WHEN 'tool_invoked' THEN jsonb_build_object('result', CASE WHEN e.h2 % 25 = 0 THEN 'error' ELSE 'ok' END,
                                                          'arguments_bytes', e.h3 % 4096)
              WHEN 'authorization_denied' THEN jsonb_build_object('reason',
                   ('{"sensitivity above caller clearance","tool requires approval","server not in caller''s teams","outside business hours"}'::text[])[1 + e.h2 % 4])
              WHEN 'security_violation' THEN jsonb_build_object('rule',
                   ('{prompt_injection_detected,secret_in_arguments,ssrf_blocked,path_traversal}'::text[])[1 + e.h2 % 4], 'blocked', true)
              WHEN 'server_registered' THEN jsonb_build_object('registered_via', 'api', 'transport', e.transport)
              WHEN 'server_updated' THEN jsonb_build_object('changed_fields',
                   CASE WHEN e.h2 % 2 = 0 THEN '["status"]'::jsonb ELSE '["tags","extra_metadata"]'::jsonb END)
              WHEN 'user_login' THEN jsonb_build_object('method', CASE WHEN e.h2 % 3 = 0 THEN 'api_key' ELSE 'oidc' END,
                                                        'mfa', e.h2 % 3 <> 0)
              ELSE '{}'::jsonb END,
         CASE WHEN e.h4 % 4 <> 0 THEN e.ts + ((1000000 + e.h1 % 120000000) * interval '1 microsecond') END
    FROM (SELECT x.*,
                 CASE WHEN x.k = 1 THEN sark_seed.anchor() - (x.age * interval '1 microsecond')
                      ELSE sark_seed.anchor() - ((x.h1 % (x.age + 1)) * interval '1 microsecond') END AS ts,
                 CASE WHEN x.k = 1 THEN 'server_registered'::auditeventtype
                      WHEN x.k = 2 AND x.status = 'decommissioned' THEN 'server_decommissioned'::auditeventtype
                      ELSE ('{tool_invoked,authorization_allowed,authorization_denied,server_updated,user_login,user_logout,security_violation,policy_updated,policy_created,policy_activated}'::auditeventtype[])
                             [1 + width_bucket(x.h5 % 100, '{50,68,76,84,90,93,95,97,98}'::bigint[])]
                 END AS evt,
                 CASE WHEN x.h2 % 50 <> 0 THEN 1 + x.h2 % v_users END AS user_i,
                 CASE WHEN tools_per_server > 0 THEN 1 + x.h3 % tools_per_server END AS tool_k
            FROM (SELECT s.n, s.age, s.status, s.transport, g.k,
                         sark_seed.h(s.n, g.k * 64 + 33) AS h1, sark_seed.h(s.n, g.k * 64 + 34) AS h2,
                         sark_seed.h(s.n, g.k * 64 + 35) AS h3, sark_seed.h(s.n, g.k * 64 + 36) AS h4,
                         sark_seed.h(s.n, g.k * 64 + 37) AS h5
                    FROM (SELECT g1.n, sark_seed.server_age_us(g1.n) AS age, sark_seed.server_status(g1.n) AS status,
                                 ('{http,stdio,sse}'::text[])[1 + width_bucket(sark_seed.h(g1.n, 11) % 100, '{55,85}'::bigint[])] AS transport
                            FROM generate_series(v_r, v_r + servers - 1) AS g1(n) OFFSET 0) s
                   CROSS JOIN generate_series(1, audit_events_per_server) AS g(k)
                  OFFSET 0) x
          OFFSET 0) e;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'audit_events'; rows := v_n; RETURN NEXT;

  -- gateway_audit_events (varchar ids, timestamp without time zone) ----------------------------
  INSERT INTO gateway_audit_events (id, event_type, user_id, agent_id, server_name, tool_name, decision, reason,
                                    "timestamp", gateway_request_id, metadata, created_at)
  SELECT sark_seed.uuid_for('gateway_audit_events', v_r, x.i)::text,
         x.evt,
         CASE WHEN x.h1 % 5 <> 0 THEN sark_seed.uuid_for('users', v_r, 1 + x.h1 % v_users)::text END,
         CASE WHEN x.h1 % 5 < 2 THEN 'agent-' || left(md5('agent/' || x.h2 % 97), 12) END,
         sark_seed.server_name(x.sn),
         CASE WHEN x.tk IS NOT NULL AND x.evt IN ('tool_invocation', 'authorization') THEN sark_seed.tool_name(x.sn, x.tk) END,
         x.decision,
         CASE x.decision WHEN 'allow' THEN 'Policy ' || ('{team-scoped-server-access,require-approval-critical-tools,audit-high-sensitivity}'::text[])[1 + x.h3 % 3] || ' allowed the request'
              ELSE ('{"Tool requires approval","Rate limit exceeded (1000/min)","Server is not active","Caller lacks scope tool:invoke"}'::text[])[1 + x.h3 % 4] END,
         x.ts,
         'gw-req-' || left(md5('gwreq/' || v_r || '/' || x.i), 20),
         jsonb_build_object('latency_ms', x.h2 % 900, 'policy_eval_ms', x.h3 % 40,
                            'client', ('{claude-desktop,cursor,sark-cli,custom-agent}'::text[])[1 + x.h2 % 4]),
         x.ts + ((1000 + x.h1 % 5000000) * interval '1 microsecond')
    FROM (SELECT g.i, sark_seed.h(g.i, v_r * 8 + 18) AS h1, sark_seed.h(g.i, v_r * 8 + 19) AS h2,
                 sark_seed.h(g.i, v_r * 8 + 20) AS h3,
                 v_r + sark_seed.h(g.i, v_r * 8 + 21) % servers AS sn,
                 CASE WHEN tools_per_server > 0 THEN 1 + sark_seed.h(g.i, v_r * 8 + 22) % tools_per_server END AS tk,
                 ('{tool_invocation,tool_invocation,tool_invocation,authorization,authorization,rate_limited,agent_registered}'::text[])
                   [1 + sark_seed.h(g.i, v_r * 8 + 23) % 7] AS evt,
                 CASE WHEN sark_seed.h(g.i, v_r * 8 + 24) % 100 < 82 THEN 'allow' ELSE 'deny' END AS decision,
                 (sark_seed.anchor() - (sark_seed.h(g.i, v_r * 8 + 25) % 7776000000000) * interval '1 microsecond') AT TIME ZONE 'UTC' AS ts
            FROM generate_series(1, v_gw) AS g(i) OFFSET 0) x
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  table_name := 'gateway_audit_events'; rows := v_n; RETURN NEXT;

  -- Fresh statistics, so the migration that follows is planned on the real row counts.
  ANALYZE users, teams, user_teams, mcp_servers, mcp_tools, api_keys, policies, policy_versions,
          audit_events, gateway_audit_events;

  RETURN;
END
$fn$;

COMMENT ON FUNCTION sark_seed.seed_v1(int, int, int) IS
$c$Appends realistic, deterministic SARK v1 data, set-based, and returns the rows added per table.
servers mcp_servers; tools_per_server mcp_tools each; audit_events_per_server audit_events each;
plus max(5, servers/20) users, max(3, servers/50) teams with memberships, max(3, users/10) api_keys,
8 policies with 1-3 versions each, max(10, servers/20) gateway_audit_events. Ends with ANALYZE.
Ids: sark_seed.uuid_for(<table>, n) for servers (n = 1, 2, ... across calls, also the name suffix),
uuid_for('mcp_tools'|'audit_events', n, k) for a server's children, uuid_for(<table>, r, i) for the
rest, where the run tag r is the first server number of the call.
Appendable: a call continues after the highest seeded server number present, so calls never collide;
same arguments on a database in the same state give the same rows (no random(), no now()).
Adapts to the Alembic (parameters_schema) and model (parameters, invocation_count, last_invoked,
json columns) variants. Leaves the schema untouched.$c$;
