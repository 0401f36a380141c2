/**
 * "Does anything still write v1?", asked before decommission drops it. The forward sync trigger
 * advances sark_migration.v1_writes once per application write statement on mcp_servers /
 * mcp_tools (writes the reverse sync makes on behalf of the v2 application are not counted), so
 * the counter moving during a short window is the answer, exact and whatever the session. Who
 * writes is read beside it from pg_stat_activity: sessions whose current or last statement writes
 * a v1 table, sampled through the window (an application that writes between samples is still
 * counted, just not named).
 */
import type { Context } from '../context.ts';

export interface V1Writer {
  pid: number;
  application_name: string;
  usename: string | null;
  client_addr: string | null;
  state: string | null;
  query: string;
}

export interface V1Writes {
  window_ms: number;
  /** v1 write statements of the application during the window (null: no counter, the sync is off) */
  statements: number | null;
  writers: V1Writer[];
}

const WRITES_V1 = String.raw`\m(insert\s+into|update|delete\s+from|truncate(\s+table)?|merge\s+into)\s+(only\s+)?("?public"?\s*\.\s*)?"?mcp_(servers|tools)\M`;

export async function watchV1Writes(ctx: Context, windowMs: number): Promise<V1Writes> {
  const counter = async () => {
    const [row] = await ctx.sql<{ n: number | null }[]>`
      select case when to_regclass('sark_migration.v1_writes') is null then null
                  else (select case when is_called then last_value else 0 end from sark_migration.v1_writes) end as n`;
    return row!.n === null ? null : Number(row!.n);
  };
  const writers = new Map<number, V1Writer>();
  const sample = async () => {
    for (const w of await ctx.sql<V1Writer[]>`
      select a.pid, a.application_name, a.usename::text, a.client_addr::text, a.state, left(a.query, 200) as query
        from pg_stat_activity a
       where a.datname = current_database() and a.pid <> pg_backend_pid()
         and a.query ~* ${WRITES_V1}`) {
      writers.set(w.pid, w);
    }
  };
  const before = await counter();
  const until = performance.now() + windowMs;
  do {
    await sample();
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(100, until - performance.now()))));
  } while (performance.now() < until);
  await sample();
  const after = await counter();
  return {
    window_ms: windowMs,
    statements: before === null || after === null ? null : after - before,
    writers: [...writers.values()].sort((a, b) => a.pid - b.pid),
  };
}

export const describeWriters = (w: V1Writes) =>
  w.writers.length
    ? w.writers.map((x) => `pid ${x.pid} (${x.application_name || 'no application_name'}, ${x.usename ?? '?'}${x.client_addr ? `@${x.client_addr}` : ''})`).join(', ')
    : 'the sessions could not be named (they wrote between samples)';
