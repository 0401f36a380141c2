-- 109_decommission_v1.sql
--
-- What:     Phase 6, the point of no return: drops the sync machinery and the v1 tables
--           public.mcp_tools and public.mcp_servers (with the views of sark_migration that read them:
--           the mapping cannot run any more; data --rollback is no longer possible).
--           Refused, in this transaction and under the locks it takes, unless
--             * the database is in cutover (the reverse sync is on, so v1 holds every v2 write up to
--               this moment),
--             * the grace period since the latest cutover (sark_migration.sync_log) has passed:
--               sark_migration.grace_days, default 30 (SET sark_migration.grace_days = 45 to change),
--             * nothing outside this tool depends on the v1 tables (sark_migration.v1_dependents),
--             * no application writes v1 any more: watched for sark_migration.write_window (default
--               3s) before any lock is taken, by the counter the forward sync trigger advances per
--               application write (sark_migration.v1_writes). SET sark_migration.allow_v1_writes =
--               'on' to drop v1 anyway (those writes then fail: "relation does not exist").
--           TAKE AND VERIFY A BACKUP FIRST (sark-migrate backup --out FILE; sark-migrate decommission
--           refuses without a fresh verified one). The enum types of v1 are left in place.
--           Records 'decommissioned' in sark_migration.sync_log.
-- Requires: sql/sync 001 .. 004 installed.
-- Locks:    ACCESS EXCLUSIVE on mcp_servers, mcp_tools, resources, capabilities for the instant of
--           the drops, under lock_timeout (500ms here unless the session has one): re-run on "lock timeout".
-- Runs:     in ONE transaction (all or nothing). psql -X -v ON_ERROR_STOP=1 -f sql/sync/109_decommission_v1.sql
BEGIN;
SELECT set_config('lock_timeout', '500ms', true) WHERE current_setting('lock_timeout') = '0';

DO $decommission$
DECLARE
  grace   interval := make_interval(days => COALESCE(NULLIF(current_setting('sark_migration.grace_days', true), ''), '30')::int);
  watch   interval := COALESCE(NULLIF(current_setting('sark_migration.write_window', true), ''), '3s')::interval;
  allow   boolean := COALESCE(current_setting('sark_migration.allow_v1_writes', true), '') IN ('on', 'true', '1');
  since   timestamptz;
  deps    text;
  g       record;
  before  bigint;
  after   bigint;
BEGIN
  IF to_regclass('public.mcp_servers') IS NULL AND to_regclass('public.mcp_tools') IS NULL THEN
    RETURN;                                       -- already decommissioned
  END IF;
  -- Before any lock: a sequence is read outside MVCC, so the second read sees writes since the first.
  IF NOT allow AND watch > interval '0' AND to_regclass('sark_migration.v1_writes') IS NOT NULL THEN
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO before FROM sark_migration.v1_writes;
    PERFORM pg_sleep(extract(epoch FROM watch));
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO after FROM sark_migration.v1_writes;
    IF after > before THEN
      RAISE EXCEPTION 'the v1 tables are still being written: % application write statement(s) in the last %', after - before, watch
        USING HINT = 'Move every application off v1 first (pg_stat_activity names the sessions), or SET sark_migration.allow_v1_writes = ''on''.';
    END IF;
  END IF;
  PERFORM sark_migration.lock_tables('{public.mcp_servers,public.mcp_tools,public.resources,public.capabilities}', 'ACCESS EXCLUSIVE');
  IF NOT EXISTS (SELECT 1 FROM sark_migration.sync_triggers WHERE direction = 'reverse') THEN
    RAISE EXCEPTION 'not in cutover (the reverse sync is off): v1 may not hold every v2 write'
      USING HINT = 'Decommission only from cutover (sark-migrate sync --cutover), after the grace period.';
  END IF;
  SELECT max(at) INTO since FROM sark_migration.sync_log WHERE event = 'cutover';
  IF since IS NULL OR since + grace > now() THEN
    RAISE EXCEPTION 'the grace period of % since the cutover (%) has not passed', grace, since
      USING HINT = format('Wait until %s, or set sark_migration.grace_days lower.', since + grace);
  END IF;
  SELECT string_agg(format('%s %s (needs %s)', kind, object, depends_on), '; ') INTO deps FROM sark_migration.v1_dependents;
  IF deps IS NOT NULL THEN
    RAISE EXCEPTION 'objects still depend on the v1 tables: %', deps
      USING HINT = 'SELECT * FROM sark_migration.v1_dependents lists each with its fix.';
  END IF;

  FOR g IN SELECT * FROM sark_migration.sync_triggers LOOP
    EXECUTE format('DROP TRIGGER %I ON public.%I', g.trigger_name, g.table_name);
  END LOOP;
  -- The views of sark_migration over the v1 tables go with them (v1_dependents proved nothing else does).
  DROP TABLE public.mcp_tools, public.mcp_servers CASCADE;
  DROP FUNCTION IF EXISTS sark_migration.forward_sync(), sark_migration.reverse_sync(),
                          sark_migration.apply_resources(uuid[]), sark_migration.apply_capabilities(uuid[]),
                          sark_migration.reverse_apply_resources(text[]), sark_migration.reverse_apply_capabilities(text[]),
                          sark_migration.reverse_delete_vanished(),
                          sark_migration.reverse_upsert_servers(text[]), sark_migration.reverse_upsert_tools(text[]),
                          sark_migration.reverse_image_servers(text[]), sark_migration.reverse_image_tools(text[]),
                          sark_migration.requarantine(text, uuid[]), sark_migration.retry_sync_failures();
  INSERT INTO sark_migration.sync_log (event, detail)
  VALUES ('decommissioned', jsonb_build_object('grace', grace::text, 'cutover_at', since));
END
$decommission$;

COMMIT;
