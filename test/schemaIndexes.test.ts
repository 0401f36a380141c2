/**
 * Phase 1 never holds the audit log's writes for an index build: migration 007 only adds nullable
 * columns to audit_events, and `schema up` then builds their six indexes CONCURRENTLY from
 * sql/optimize/indexes/011-016. A monitor watches every lock taken on audit_events meanwhile.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../src/context.ts';
import { openSql } from '../src/db/connect.ts';
import { MIGRATIONS_DIR } from '../src/db/sqlFiles.ts';
import { indexDefinitions } from '../src/optimize/files.ts';
import { indexState } from '../src/optimize/indexes.ts';
import { schemaUp } from '../src/schema/migrate.ts';
import { freshDatabase, type TestDatabase } from './support/db.ts';

/** Under SARK's own names (its downgrade drops them by name), plus resource_protocol, indexed too. */
const AUDIT_INDEXES = ['principal_org', 'resource_protocol', 'capability', 'correlation', 'source_node', 'target_node'].map((c) => `ix_audit_events_${c}`);

let db: TestDatabase;
let ctx: Context;

beforeAll(async () => {
  db = await freshDatabase('v1');
  ctx = await db.context();
  // An audit log large enough that each index build takes a while to scan it.
  await db.sql`
    insert into audit_events (id, event_type, severity, user_email, tool_name, details)
    select gen_random_uuid(), 'tool_invoked', 'low', 'u' || (g % 1000) || '@example.com', 'tool_' || (g % 500), '{}'
      from generate_series(1, 300000) g`;
  await db.sql`vacuum analyze audit_events`;
});
afterAll(async () => {
  await ctx?.close();
  await db?.drop();
});

describe('schema up and the audit log', () => {
  it('migration 007 builds no index on audit_events in its transaction; the index files define the six', () => {
    const file = readdirSync(MIGRATIONS_DIR).find((f) => f.startsWith('007_'))!;
    const up = readFileSync(join(MIGRATIONS_DIR, file), 'utf8').split(/^--\s*Down Migration/im)[0]!;
    expect(up.split('\n').filter((l) => /^\s*CREATE\s+(UNIQUE\s+)?INDEX\b.*\baudit_events\b/i.test(l))).toEqual([]);
    const defs = indexDefinitions().filter((d) => d.migration === '007');
    expect(defs.map((d) => d.name).sort()).toEqual([...AUDIT_INDEXES].sort());
    for (const d of defs) expect(d.table).toBe('audit_events');
  });

  it('builds them concurrently after 007: never a SHARE lock on audit_events, and an audit writer keeps writing', async () => {
    const monitor = openSql(db.conn, {}, 1);
    const writer = openSql(db.conn, { lock_timeout: '0' }, 1);
    const modes = new Set<string>();
    const latencies: number[] = [];
    let stop = false;
    try {
      const watch = (async () => {
        while (!stop) {
          for (const r of await monitor<{ mode: string }[]>`
            select l.mode from pg_locks l where l.relation = 'public.audit_events'::regclass and l.granted and l.pid <> pg_backend_pid()`) modes.add(r.mode);
        }
      })();
      const write = (async () => {
        while (!stop) {
          const t = performance.now();
          await writer`insert into audit_events (id, event_type, severity, details) values (gen_random_uuid(), 'tool_invoked', 'low', '{}')`;
          latencies.push(performance.now() - t);
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await schemaUp(ctx, {});
      stop = true;
      await Promise.all([watch, write]);
    } finally {
      stop = true;
      await monitor.end();
      await writer.end();
    }
    for (const name of AUDIT_INDEXES) expect(await indexState(db.sql, name), name).toMatchObject({ exists: true, valid: true });
    // CREATE INDEX CONCURRENTLY's lock was seen (the monitor saw the builds); a plain build's never.
    expect(modes.has('ShareUpdateExclusiveLock')).toBe(true);
    expect(modes.has('ShareLock')).toBe(false);
    expect(latencies.length).toBeGreaterThan(20);
  });

  it('a re-run rebuilds an index that is missing or INVALID, and leaves the rest alone', async () => {
    const count = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from pg_indexes where tablename = 'audit_events'`)[0]!.n;
    const indexes = await count();
    await db.sql.unsafe('drop index concurrently ix_audit_events_source_node');
    // What a failed concurrent build leaves behind.
    await db.sql`update pg_index set indisvalid = false where indexrelid = 'ix_audit_events_target_node'::regclass`;
    const before = await indexState(db.sql, 'ix_audit_events_principal_org');
    await schemaUp(ctx, {});
    for (const name of AUDIT_INDEXES) expect(await indexState(db.sql, name), name).toMatchObject({ exists: true, valid: true });
    expect((await indexState(db.sql, 'ix_audit_events_principal_org')).regclass).toBe(before.regclass);
    expect(await count()).toBe(indexes); // the same set again: nothing duplicated
  });
});
