/**
 * An application stand-in for the zero-downtime tests: a bounded loop of inserts, updates and
 * deletes, on its own connection (loopback), timing every statement. It never sets a
 * lock_timeout (an application does not), so its latency is exactly how long the migration made
 * it wait. It stops by itself (maxOps / maxMs) or when asked, and never throws: errors are counted.
 *
 * Also the helpers the sync tests share: the mapping installed, a database brought to `syncing`,
 * and "v1 and v2 agree row for row".
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionSettings } from '../../src/config/connection.ts';
import { openSql, type Sql } from '../../src/db/connect.ts';
import type { Context } from '../../src/context.ts';
import { installDefinitions } from '../../src/db/definitions.ts';
import { applySqlFile, sqlFilesIn } from '../../src/db/sqlFiles.ts';
import { schemaUp } from '../../src/schema/migrate.ts';
import { seed } from '../../src/commands/seed.ts';
import { executeData } from '../../src/commands/data.ts';

export interface WriterStats {
  ops: number;
  byKind: Record<string, number>;
  errors: string[];
  maxLatencyMs: number;
  maxLatencyKind: string;
  /** statements per second over the writer's whole run */
  throughput: number;
  latenciesMs: number[];
  startedAt: number;
  stoppedAt: number;
}

export interface Writer {
  stats: WriterStats;
  /** resolves when the loop has ended (by itself or after stop()) */
  done: Promise<WriterStats>;
  stop(): Promise<WriterStats>;
  /** statements/s and max wait over a time window, from the per-statement log */
  window(fromMs: number, toMs: number): { ops: number; throughput: number; maxLatencyMs: number };
}

export interface WriterOptions {
  maxOps?: number;
  maxMs?: number;
  /** pause between statements (0 = full speed) */
  pauseMs?: number;
  /** a fixed rate instead: statement k starts at k / rate seconds (a slow statement is not made up for by a burst) */
  ratePerSecond?: number;
  seed?: number;
  applicationName?: string;
}

export type Op = { kind: string; run: (sql: Sql) => Promise<unknown> };

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A writer of your own: setup returns the function that picks each next statement. */
export function startCustomWriter(conn: ConnectionSettings, o: WriterOptions, setup: (sql: Sql) => Promise<(r: () => number) => Op | undefined>): Writer {
  return startLoop(conn, o, setup);
}

function startLoop(conn: ConnectionSettings, o: WriterOptions, setup: (sql: Sql) => Promise<(r: () => number) => Op | undefined>): Writer {
  const sql = openSql({ ...conn, applicationName: o.applicationName ?? 'sark-test-writer' }, {}, 1);
  const log: { t: number; ms: number }[] = [];
  const stats: WriterStats = { ops: 0, byKind: {}, errors: [], maxLatencyMs: 0, maxLatencyKind: '', throughput: 0, latenciesMs: [], startedAt: performance.now(), stoppedAt: 0 };
  let stopping = false;
  const random = rng(o.seed ?? 42);
  const done = (async () => {
    try {
      const next = await setup(sql);
      stats.startedAt = performance.now();
      let scheduleFrom = stats.startedAt;
      while (!stopping && (o.maxOps === undefined || stats.ops < o.maxOps) && (o.maxMs === undefined || performance.now() - stats.startedAt < o.maxMs)) {
        const op = next(random);
        if (!op) break;
        const t0 = performance.now();
        try {
          await op.run(sql);
        } catch (e) {
          if (stats.errors.length < 50) stats.errors.push(`${op.kind}: ${(e as Error).message}`);
        }
        const ms = performance.now() - t0;
        log.push({ t: t0, ms });
        stats.latenciesMs.push(ms);
        stats.ops += 1;
        stats.byKind[op.kind] = (stats.byKind[op.kind] ?? 0) + 1;
        if (ms > stats.maxLatencyMs) {
          stats.maxLatencyMs = ms;
          stats.maxLatencyKind = op.kind;
        }
        if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
        if (o.ratePerSecond) {
          const due = scheduleFrom + (stats.ops * 1000) / o.ratePerSecond;
          const now = performance.now();
          if (due > now) await new Promise((r) => setTimeout(r, due - now));
          else if (now - due > 1000) scheduleFrom += now - due - 1000; // fell behind: no burst to catch up
        }
      }
    } catch (e) {
      stats.errors.push(`setup: ${(e as Error).message}`);
    } finally {
      stats.stoppedAt = performance.now();
      stats.throughput = stats.ops / Math.max(0.001, (stats.stoppedAt - stats.startedAt) / 1000);
      await sql.end({ timeout: 5 });
    }
    return stats;
  })();
  return {
    stats,
    done,
    async stop() {
      stopping = true;
      return done;
    },
    window(fromMs, toMs) {
      const inWindow = log.filter((e) => e.t >= fromMs && e.t < toMs);
      return {
        ops: inWindow.length,
        throughput: inWindow.length / Math.max(0.001, (toMs - fromMs) / 1000),
        maxLatencyMs: inWindow.reduce((m, e) => Math.max(m, e.ms), 0),
      };
    },
  };
}

/** Column types of the v1 variant in this database (json or jsonb; parameters or parameters_schema). */
async function v1Columns(sql: Sql) {
  const rows = await sql<{ table_name: string; column_name: string; type: string }[]>`
    select c.relname::text as table_name, a.attname::text as column_name, format_type(a.atttypid, null) as type
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relname in ('mcp_servers', 'mcp_tools') and a.attnum > 0 and not a.attisdropped`;
  const type = (t: string, c: string) => rows.find((r) => r.table_name === t && r.column_name === c)?.type;
  return {
    json: (t: string, c: string) => type(t, c) ?? 'jsonb',
    parameters: type('mcp_tools', 'parameters') ? 'parameters' : 'parameters_schema',
  };
}

/**
 * The v1 application: updates (single and multi-row), inserts of a server with tools in one
 * statement, deletes of tools and of servers (cascading to their tools).
 */
export function startV1Writer(conn: ConnectionSettings, o: WriterOptions = {}): Writer {
  return startLoop(conn, o, async (sql) => {
    const cols = await v1Columns(sql);
    const servers = new IdSet((await sql<{ id: string }[]>`select id from mcp_servers order by id`).map((r) => r.id));
    const tools = new IdSet([]);
    const toolsOf = new Map<string, string[]>();
    for (const t of await sql<{ id: string; server_id: string }[]>`select id, server_id from mcp_tools order by id`) {
      tools.add(t.id);
      toolsOf.set(t.server_id, [...(toolsOf.get(t.server_id) ?? []), t.id]);
    }
    let n = 0;
    return (r) => {
      n += 1;
      const x = r();
      const s = servers.pick(r);
      const t = tools.pick(r);
      if (x < 0.3 && s) {
        return { kind: 'update_server', run: (q) => q`update mcp_servers set description = ${`touched by the writer, op ${n}`}, updated_at = clock_timestamp() where id = ${s}` };
      }
      if (x < 0.4 && s) {
        const ids = [s, servers.pick(r)!, servers.pick(r)!];
        return { kind: 'update_servers_multi', run: (q) => q`update mcp_servers set tags = ${JSON.stringify([`op:${n}`])}::text::${q.unsafe(cols.json('mcp_servers', 'tags'))} where id = any(${ids}::uuid[])` };
      }
      if (x < 0.6) {
        const id = randomUUID();
        const toolIds = [randomUUID(), randomUUID()];
        servers.add(id);
        for (const tid of toolIds) tools.add(tid);
        toolsOf.set(id, [...toolIds]);
        return {
          kind: 'insert_server_with_tools',
          run: (q) => q`
            with s as (
              insert into mcp_servers (id, name, transport, endpoint, mcp_version, capabilities, sensitivity_level, status, tags, extra_metadata, created_at, updated_at)
              values (${id}, ${`writer server ${n}`}, 'http', ${`https://writer-${n}.example.com/mcp`}, '2025-06-18',
                      '["tools"]'::text::${q.unsafe(cols.json('mcp_servers', 'capabilities'))}, 'medium', 'active',
                      '[]'::text::${q.unsafe(cols.json('mcp_servers', 'tags'))},
                      ${JSON.stringify({ writer_op: n })}::text::${q.unsafe(cols.json('mcp_servers', 'extra_metadata'))},
                      clock_timestamp(), clock_timestamp())
              returning id)
            insert into mcp_tools (id, server_id, name, description, ${q.unsafe(cols.parameters)}, sensitivity_level, requires_approval, extra_metadata, created_at, updated_at)
            select t.id, s.id, 'tool ' || t.k, 'a writer tool', '{"type":"object"}'::text::${q.unsafe(cols.json('mcp_tools', cols.parameters))},
                   'low', false, '{}'::text::${q.unsafe(cols.json('mcp_tools', 'extra_metadata'))}, clock_timestamp(), clock_timestamp()
              from s, unnest(${toolIds}::uuid[]) with ordinality as t(id, k)`,
        };
      }
      if (x < 0.8 && t) {
        return { kind: 'update_tool', run: (q) => q`update mcp_tools set description = ${`tool touched, op ${n}`}, updated_at = clock_timestamp() where id = ${t}` };
      }
      if (x < 0.9 && t) {
        tools.delete(t);
        return { kind: 'delete_tool', run: (q) => q`delete from mcp_tools where id = ${t}` };
      }
      if (s && servers.size > 20) {
        servers.delete(s);
        for (const tid of toolsOf.get(s) ?? []) tools.delete(tid);
        toolsOf.delete(s);
        return { kind: 'delete_server', run: (q) => q`delete from mcp_servers where id = ${s}` };
      }
      return { kind: 'update_server', run: (q) => q`update mcp_servers set updated_at = clock_timestamp() where id = ${s!}` };
    };
  });
}

/** Ids with O(1) add, delete and random pick (a writer over a million rows must not scan them). */
class IdSet {
  private ids: string[] = [];
  private at = new Map<string, number>();
  constructor(initial: string[]) {
    for (const id of initial) this.add(id);
  }
  get size() {
    return this.ids.length;
  }
  add(id: string) {
    if (this.at.has(id)) return;
    this.at.set(id, this.ids.length);
    this.ids.push(id);
  }
  delete(id: string) {
    const i = this.at.get(id);
    if (i === undefined) return;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[i] = last;
      this.at.set(last, i);
    }
    this.at.delete(id);
  }
  pick(r: () => number): string | undefined {
    return this.ids[Math.floor(r() * this.ids.length)];
  }
}

/**
 * The v2 application after the cutover: updates of migrated resources and capabilities, v2-native
 * MCP resources (with transport) and capabilities created, changed and deleted.
 */
export function startV2Writer(conn: ConnectionSettings, o: WriterOptions = {}): Writer {
  return startLoop(conn, { applicationName: 'sark-test-v2-writer', ...o }, async (sql) => {
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
           v2s as (select * from sark_migration.reverse_image_servers(array(
                    select r.id from resources r where r.protocol = 'mcp'
                       and not exists (select 1 from sark_migration.reverse_unrepresentable u where u.target_table = 'resources' and u.id = r.id)))),
           v1t as (select t.* from sark_migration.v1_tools t
                    where not exists (select 1 from sark_migration.quarantine q where q.source_table = 'mcp_tools' and q.source_id = t.id)),
           v2t as (select * from sark_migration.reverse_image_tools(array(
                    select c.id from capabilities c
                     where not exists (select 1 from sark_migration.reverse_unrepresentable u where u.target_table = 'capabilities' and u.id = c.id))))
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
