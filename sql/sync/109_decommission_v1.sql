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
--             * nothing outside this tool depends on the v1 tables (sark_migration.v1_dependents).
--           TAKE AND VERIFY A BACKUP FIRST (sark-migrate backup --out FILE; sark-migrate decommission
--           refuses without a fresh verified one). The enum types of v1 are left in place.
--           Records 'decommissioned' in sark_migration.sync_log.
-- Requires: sql/sync 001 .. 004 installed.
-- Locks:    ACCESS EXCLUSIVE on mcp_servers, mcp_tools, resources, capabilities for the instant of
--           the drops, under lock_timeout (2s here unless the session has one): re-run on "lock timeout".
-- Runs:     in ONE transaction (all or nothing). psql -X -v ON_ERROR_STOP=1 -f sql/sync/109_decommission_v1.sql
BEGIN;
SELECT set_config('lock_timeout', '2s', true) WHERE current_setting('lock_timeout') = '0';

DO $decommission$
DECLARE
  grace   interval := make_interval(days => COALESCE(NULLIF(current_setting('sark_migration.grace_days', true), ''), '30')::int);
  since   timestamptz;
  deps    text;
  g       record;
BEGIN
  IF to_regclass('public.mcp_servers') IS NULL AND to_regclass('public.mcp_tools') IS NULL THEN
    RETURN;                                       -- already decommissioned
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
