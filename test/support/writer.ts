/**
 * The application stand-ins of the zero-downtime tests: the v1 writer (src/bench/appWriter.ts, the
 * one bench runs too) and, here, the v2 application after the cutover. Also the helpers the sync
 * tests share: the mapping installed, a database brought to `syncing`, and "v1 and v2 agree row
 * for row".
 */
import { randomUUID } from 'node:crypto';
import { startCustomWriter, type Writer, type WriterOptions } from '../../src/bench/appWriter.ts';
import type { ConnectionSettings } from '../../src/config/connection.ts';
import type { Sql } from '../../src/db/connect.ts';
import type { Context } from '../../src/context.ts';
import { installDefinitions } from '../../src/db/definitions.ts';
import { applySqlFile, sqlFilesIn } from '../../src/db/sqlFiles.ts';
import { schemaUp } from '../../src/schema/migrate.ts';
import { seed } from '../../src/commands/seed.ts';
import { executeData } from '../../src/commands/data.ts';

export { startCustomWriter, startV1Writer, type Op, type Writer, type WriterOptions, type WriterStats } from '../../src/bench/appWriter.ts';

/**
 * The v2 application after the cutover: updates of migrated resources and capabilities, v2-native
 * MCP resources (with transport) and capabilities created, changed and deleted.
 */
export function startV2Writer(conn: ConnectionSettings, o: WriterOptions = {}): Writer {
  return startCustomWriter(conn, { applicationName: 'sark-test-v2-writer', ...o }, async (sql) => {
    const migrated = (await sql<{ id: string }[]>`select id from resources where metadata ? '_v1' order by id`).map((r) => r.id);
    const migratedCaps = (await sql<{ id: string }[]>`select id from capabilities where metadata ? '_v1' order by id`).map((r) => r.id);
    const native: string[] = [];
    const nativeCaps: { id: string; resource_id: string }[] = [];
    let n = 0;
    const pick = <T>(r: () => number, a: T[]) => a[Math.floor(r() * a.length)];
    return (r) => {
      n += 1;
      const x = r();
      if (x < 0.3 && migrated.length) {
        const id = pick(r, migrated)!;
        return { kind: 'update_migrated_resource', run: (q) => q`update resources set name = ${`v2 name ${n}`}, metadata = metadata || ${q.json({ v2_region: `r${n % 7}` })}, updated_at = clock_timestamp() where id = ${id}` };
      }
      if (x < 0.45) {
        const id = randomUUID();
        native.push(id);
        const transport = n % 3 === 0 ? 'stdio' : 'http';
        const endpoint = transport === 'stdio' ? `npx native-${n}` : `https://native-${n}.example.com/mcp`;
        return { kind: 'insert_native_resource', run: (q) => q`insert into resources (id, name, protocol, endpoint, sensitivity_level, metadata) values (${id}, ${`native ${n}`}, 'mcp', ${endpoint}, 'high', ${q.json({ transport, status: 'active', team: 'v2' })})` };
      }
      if (x < 0.6) {
        const rid = native.length && r() < 0.5 ? pick(r, native)! : pick(r, migrated);
        if (!rid) return { kind: 'noop', run: (q) => q`select 1` };
        const id = randomUUID();
        nativeCaps.push({ id, resource_id: rid });
        return { kind: 'insert_native_capability', run: (q) => q`insert into capabilities (id, resource_id, name, description, input_schema, sensitivity_level, metadata) values (${id}, ${rid}, ${`cap ${n}`}, 'made in v2', ${q.json({ type: 'object' })}, 'low', ${q.json({ requires_approval: true })})` };
      }
      if (x < 0.75 && migratedCaps.length) {
        const id = pick(r, migratedCaps)!;
        return { kind: 'update_migrated_capability', run: (q) => q`update capabilities set description = ${`v2 description ${n}`} where id = ${id}` };
      }
      if (x < 0.85 && nativeCaps.length) {
        const c = nativeCaps.splice(Math.floor(r() * nativeCaps.length), 1)[0]!;
        return { kind: 'delete_native_capability', run: (q) => q`delete from capabilities where id = ${c.id}` };
      }
      if (x < 0.92 && native.length) {
        const id = native.splice(Math.floor(r() * native.length), 1)[0]!;
        for (let i = nativeCaps.length - 1; i >= 0; i--) if (nativeCaps[i]!.resource_id === id) nativeCaps.splice(i, 1);
        return { kind: 'delete_native_resource', run: (q) => q`delete from resources where id = ${id}` };
      }
      if (migrated.length > 20 && x < 0.96) {
        const id = migrated.splice(Math.floor(r() * migrated.length), 1)[0]!;
        return { kind: 'delete_migrated_resource', run: (q) => q`delete from resources where id = ${id}` };
      }
      return { kind: 'update_native_or_noop', run: (q) => q`update resources set updated_at = clock_timestamp() where id = ${native[0] ?? migrated[0] ?? ''}` };
    };
  });
}

export interface Differences {
  servers_missing_in_v2: number;
  servers_extra_in_v2: number;
  tools_missing_in_v2: number;
  tools_extra_in_v2: number;
  sample: unknown[];
}

/**
 * v1 and v2, row for row, in v1's normalized shape: every v1 row that is not quarantined against
 * the rows v2 stands for (sark_migration.reverse_image_*: the inverse mapping for migrated rows,
 * the native projection for v2-native MCP rows). One snapshot (one statement each side).
 */
export async function differences(sql: Sql): Promise<Differences> {
  return sql.begin('isolation level repeatable read', async (t) => {
    const tx = t as unknown as Sql;
    const [d] = await tx<Omit<Differences, 'sample'>[]>`
      with v1s as (select s.* from sark_migration.v1_servers s
                    where not exists (select 1 from sark_migration.quarantine q where q.source_table = 'mcp_servers' and q.source_id = s.id)),
           -- v2-native rows stand for v1 rows once the reverse sync writes them there (cutover), or
           -- when v1 has their row (written back earlier); before that they live in v2 alone.
           reverse as (select exists (select 1 from pg_trigger where tgname like 'sark_sync_reverse%') as is_on),
           v2s as (select * from sark_migration.reverse_image_servers(array(
                    select r.id from resources r where r.protocol = 'mcp'
                       and ((select is_on from reverse) or sark_migration.is_migrated('resources', r.id, r.metadata)
                            or exists (select 1 from mcp_servers s where s.id = sark_migration.v1_id(r.id)))
                       and not exists (select 1 from sark_migration.reverse_unrepresentable u where u.target_table = 'resources' and u.id = r.id)))),
           v1t as (select t.* from sark_migration.v1_tools t
                    where not exists (select 1 from sark_migration.quarantine q where q.source_table = 'mcp_tools' and q.source_id = t.id)),
           v2t as (select * from sark_migration.reverse_image_tools(array(
                    select c.id from capabilities c
                     where ((select is_on from reverse) or sark_migration.is_migrated('capabilities', c.id, c.metadata)
                            or exists (select 1 from mcp_tools t where t.id = sark_migration.v1_id(c.id)))
                       and not exists (select 1 from sark_migration.reverse_unrepresentable u where u.target_table = 'capabilities' and u.id = c.id))))
      select (select count(*) from (select * from v1s except select * from v2s) x)::int as servers_missing_in_v2,
             (select count(*) from (select * from v2s except select * from v1s) x)::int as servers_extra_in_v2,
             (select count(*) from (select * from v1t except select * from v2t) x)::int as tools_missing_in_v2,
             (select count(*) from (select * from v2t except select * from v1t) x)::int as tools_extra_in_v2`;
    const sample = d!.servers_missing_in_v2 + d!.servers_extra_in_v2 + d!.tools_missing_in_v2 + d!.tools_extra_in_v2 > 0
      ? await tx`
          (select 'v1 only' as side, to_jsonb(x) as row from (select s.* from sark_migration.v1_servers s except select * from sark_migration.reverse_image_servers(array(select id from resources where protocol = 'mcp'))) x limit 3)
          union all
          (select 'v2 only', to_jsonb(x) from (select * from sark_migration.reverse_image_servers(array(select id from resources where protocol = 'mcp')) except select s.* from sark_migration.v1_servers s) x limit 3)
          union all
          (select 'v1 only', to_jsonb(x) from (select t.* from sark_migration.v1_tools t except select * from sark_migration.reverse_image_tools(array(select id from capabilities))) x limit 3)
          union all
          (select 'v2 only', to_jsonb(x) from (select * from sark_migration.reverse_image_tools(array(select id from capabilities)) except select t.* from sark_migration.v1_tools t) x limit 3)`
      : [];
    return { ...d!, sample: [...sample] };
  }) as Promise<Differences>;
}

/** The inverse mapping's own proof (migrated rows only): v1 EXCEPT rebuilt and back, per table. */
export async function inverseDifferences(sql: Sql): Promise<number> {
  const [r] = await sql<{ n: number }[]>`select count(*)::int as n from sark_migration.inverse_differences`;
  return r!.n;
}

export const NO_DIFFERENCES = { servers_missing_in_v2: 0, servers_extra_in_v2: 0, tools_missing_in_v2: 0, tools_extra_in_v2: 0 };

// ---------------------------------------------------------------------------------------------
// Bringing a test database to a phase.
// ---------------------------------------------------------------------------------------------

/**
 * The definitions (tool, mapping, validate) installed, as a writing command installs them. While
 * the mapping's files still sat in sql/data, they were applied from there.
 */
export async function ensureMapping(sql: Sql): Promise<void> {
  if (sqlFilesIn('mapping').length > 0) return installDefinitions(sql);
  for (const file of sqlFilesIn('data').filter((f) => /\/00\d_[^/]*\.sql$/.test(f))) await applySqlFile(sql, file, false);
}

/** v1 at 005 (the template) -> seeded -> schema up -> mapping -> data --execute (sync on by default). */
export async function migrate(ctx: Context, o: { servers: number; tools: number; dirty?: boolean; batchSize?: number; sync?: boolean }) {
  await seed(ctx, { servers: o.servers, toolsPerServer: o.tools, dirty: o.dirty ?? false });
  await schemaUp(ctx, {});
  await ensureMapping(ctx.sql);
  return executeData(ctx, { batchSize: o.batchSize, sync: o.sync ?? true });
}
