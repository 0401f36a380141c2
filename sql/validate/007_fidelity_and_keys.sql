-- 007_fidelity_and_keys.sql
--
-- What:     sark_migration.check_fidelity_and_keys, what validate --full and --data read instead of
--           check_keys (002) + check_fidelity (004): the same checks, with the same SQL (the two
--           families' validation_*_checks_sql), where the key checks read the round trip
--           comparisons instead of a key comparison of their own.
--           Why that is the same answer: the round trip compares every column of each v1 row with
--           the row the inverse mapping rebuilds from v2, by the v1 id, the held (quarantined) rows
--           left out on both sides as in the key comparison. So a v1 row without a rebuilt row
--           (not_rebuilt) is a v1 row without a migrated v2 row (missing_in_v2); a rebuilt row
--           without a v1 row (not_in_v1) is a migrated row whose v1 row is gone (vanished_from_v1);
--           a tool whose rebuilt server_id differs from its v1 server_id is a capability under
--           another resource (other_resource). validate.test.ts holds both derivations to the
--           same check rows on every kind of broken key.
--           Why bother: the key comparison is a hashing pass over all four tables (3-4 s of
--           validate --full at 1,000,000 tools), and the round trips read the same rows anyway.
-- Requires: 002 (check_keys, validation_key_checks_sql), 004 (check_fidelity,
--           validation_fidelity_checks_sql). Where a prerequisite is missing, the view is
--           check_keys and check_fidelity side by side (their stand-ins say what is missing).
-- Runs:     in a transaction; idempotent.

SELECT sark_migration.validation_define_view(
  'check_fidelity_and_keys',
  ARRAY['public.resources', 'public.capabilities', 'public.mcp_servers', 'public.mcp_tools',
        'sark_migration.quarantine', 'sark_migration.id_map',
        'sark_migration.validation_resource_mismatches', 'sark_migration.validation_capability_mismatches',
        'sark_migration.validation_server_roundtrip_mismatches', 'sark_migration.validation_tool_roundtrip_mismatches',
        'sark_migration.validation_key_checks_sql(text,text)', 'sark_migration.validation_fidelity_checks_sql(text,text)',
        'sark_migration.validation_uuid(text)', 'sark_migration.v2_ids(text,uuid[])',
        'sark_migration.row_hash(anyelement,bigint)'],
  format($view$
  WITH shared_sm AS MATERIALIZED (
    SELECT * FROM sark_migration.validation_server_roundtrip_mismatches
  ), shared_tm AS MATERIALIZED (
    SELECT * FROM sark_migration.validation_tool_roundtrip_mismatches
  )
  SELECT * FROM (%s) fidelity
  UNION ALL
  SELECT * FROM (%s) keys
  $view$,
  sark_migration.validation_fidelity_checks_sql('SELECT * FROM shared_sm', 'SELECT * FROM shared_tm'),
  sark_migration.validation_key_checks_sql(
    -- the server keys: the rows missing on either side of the server round trip
    $q$SELECT m.id,
              CASE m.problem WHEN 'not_rebuilt' THEN 'missing_in_v2' ELSE 'vanished_from_v1' END AS problem,
              CASE WHEN m.left_image IS NOT NULL THEN jsonb_build_object('name', m.left_image -> 'name') END AS left_image,
              CASE WHEN m.right_image IS NOT NULL THEN jsonb_build_object('name', m.right_image -> 'name') END AS right_image
       FROM shared_sm m
       WHERE m.problem IN ('not_rebuilt', 'not_in_v1')$q$,
    -- the tool keys: missing on either side, or rebuilt under another server; the v2 resource_id
    -- of such a capability is read from its row, found by its v2 id (v2_ids, as the copy finds it)
    $q$SELECT m.id,
              CASE m.problem WHEN 'not_rebuilt' THEN 'missing_in_v2' WHEN 'not_in_v1' THEN 'vanished_from_v1'
                             ELSE 'other_resource' END AS problem,
              CASE WHEN m.left_image IS NOT NULL
                   THEN jsonb_build_object('server_id', m.left_image -> 'server_id', 'name', m.left_image -> 'name') END AS left_image,
              CASE WHEN m.right_image IS NOT NULL
                   THEN jsonb_build_object('resource_id', c.resource_id, 'name', m.right_image -> 'name') END AS right_image
       FROM shared_tm m
       LEFT JOIN LATERAL (
         SELECT c.resource_id FROM public.capabilities c
          WHERE m.right_image IS NOT NULL
            AND c.id = (sark_migration.v2_ids('capabilities', ARRAY[sark_migration.validation_uuid(m.id)]))[1]) c ON true
       WHERE m.problem <> 'differs'
          OR (m.left_image -> 'server_id') IS DISTINCT FROM (m.right_image -> 'server_id')$q$)),
  'Validation, the fidelity family and the checks read from the keys (data.*, relationships.capability_resource_matches_v1) '
  'in one evaluation: the keys read from the round trip comparisons. validate --full and --data read this view.',
  NULL,
  'SELECT * FROM sark_migration.check_keys UNION ALL SELECT * FROM sark_migration.check_fidelity');
