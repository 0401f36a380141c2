import { afterEach, describe, expect, it } from 'vitest';
import { schemaDown, schemaUp } from '../src/schema/migrate.ts';
import { readSchemaState } from '../src/schema/state.ts';
import { buildAlembicV1, buildWithoutLedger, applyFixture } from './support/alembic.ts';
import { catalogSnapshot } from './support/catalog.ts';
import { freshDatabase, runCli, type TestDatabase } from './support/db.ts';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

/** auditeventtype keeps the v2 labels after a down: PostgreSQL cannot drop enum values. */
const withoutAuditEnum = (lines: string[]) => lines.filter((l) => !l.startsWith('enum auditeventtype'));

describe('schema up / down', () => {
  it('builds v2 from nothing, returns to exactly v1 with down --to 005, and up again gives the identical v2 schema', async () => {
    db = await freshDatabase('empty');
    const ctx = await db.context();
    await schemaUp(ctx, { to: '005' });
    const v1 = await catalogSnapshot(db.sql);
    expect(v1.some((l) => l.startsWith('relation mcp_servers'))).toBe(true);

    const up1 = await schemaUp(ctx, {});
    expect(up1.applied).toEqual(['006_protocol_adapters', '007_federation']);
    const v2 = await catalogSnapshot(db.sql);
    expect(v2.some((l) => l.startsWith('relation resources'))).toBe(true);

    const down = await schemaDown(ctx, { to: '005' });
    expect(down.reverted).toEqual(['007_federation', '006_protocol_adapters']);
    expect(withoutAuditEnum(await catalogSnapshot(db.sql))).toEqual(withoutAuditEnum(v1));

    await schemaUp(ctx, {});
    expect(await catalogSnapshot(db.sql)).toEqual(v2);
  });

  it('keeps alembic_version equal to the newest applied migration', async () => {
    db = await freshDatabase('v1');
    const ctx = await db.context();
    expect((await readSchemaState(db.sql)).alembicVersion).toBe('005_gateway_audit');
    await schemaUp(ctx, {});
    expect((await readSchemaState(db.sql)).alembicVersion).toBe('007_federation');
    await schemaDown(ctx, { to: '006' });
    expect((await readSchemaState(db.sql)).alembicVersion).toBe('006_protocol_adapters');
  });

  it('is a no-op when already at head', async () => {
    db = await freshDatabase('v1');
    const ctx = await db.context();
    await schemaUp(ctx, {});
    const again = await schemaUp(ctx, {});
    expect(again.applied).toEqual([]);
    expect(again.adopted).toEqual([]);
  });
});

describe('adopting a database SARK\'s Alembic built', () => {
  it('at 005_gateway_audit: records 001-005 without running them, applies 006-007, sets alembic_version', async () => {
    db = await freshDatabase('empty');
    await buildAlembicV1(db.sql);
    const before = await catalogSnapshot(db.sql);
    const ctx = await db.context();
    const change = await schemaUp(ctx, {});
    expect(change.adopted).toEqual(['001_initial', '002_api_keys', '003_policies', '004_audit_events', '005_gateway_audit']);
    expect(change.applied).toEqual(['006_protocol_adapters', '007_federation']);
    const state = await readSchemaState(db.sql);
    expect(state.applied).toHaveLength(7);
    expect(state.alembicVersion).toBe('007_federation');

    await schemaDown(ctx, { to: '005' });
    expect((await readSchemaState(db.sql)).alembicVersion).toBe('005_gateway_audit');
    expect(withoutAuditEnum(await catalogSnapshot(db.sql))).toEqual(withoutAuditEnum(before));
  });

  it('at 007_federation (v2 tables made by SARK itself): adopted as at 007, nothing re-created', async () => {
    db = await freshDatabase('empty');
    await buildAlembicV1(db.sql);
    await applyFixture(db.sql, 'alembic_v2_007_schema.sql');
    const ctx = await db.context();
    const change = await schemaUp(ctx, {});
    expect(change.adopted).toHaveLength(7);
    expect(change.applied).toEqual([]);
    expect((await readSchemaState(db.sql)).alembicVersion).toBe('007_federation');
  });

  it('refuses v1 tables with neither ledger, and adopts them with --baseline 005', async () => {
    db = await freshDatabase('empty');
    await buildWithoutLedger(db.sql, '005');
    const refused = runCli(['schema', 'up', '--database-url', db.url]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/neither an alembic_version nor a sark-migrate ledger/);
    expect(refused.stderr).toMatch(/--baseline 005/);
    expect((await readSchemaState(db.sql)).v2Tables).toBe(false);

    const adopted = runCli(['schema', 'up', '--baseline', '005', '--json', '--database-url', db.url]);
    expect(adopted.status).toBe(0);
    expect(adopted.json().adopted).toHaveLength(5);
    expect((await readSchemaState(db.sql)).alembicVersion).toBe('007_federation');
  });

  it('refuses an Alembic revision it does not know', async () => {
    db = await freshDatabase('empty');
    await buildWithoutLedger(db.sql, '004');
    await db.sql`create table alembic_version (version_num varchar(32) primary key)`;
    await db.sql`insert into alembic_version values ('004_audit_events')`;
    const r = runCli(['schema', 'up', '--database-url', db.url]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/alembic_version is 004_audit_events/);
  });
});

describe('the runner guards itself', () => {
  it('refuses to run while another session holds the migration lock, naming the holder', async () => {
    // A run on another database of the same cluster holds the same advisory key there, first.
    const elsewhere = await freshDatabase('empty');
    const other = await elsewhere.sql.reserve();
    db = await freshDatabase('v1');
    const holder = await db.sql.reserve();
    try {
      await other`select pg_advisory_lock(${0x5341524b}, 2)`;
      const [me] = await holder<{ pid: number }[]>`select pg_backend_pid() as pid`;
      await holder`select pg_advisory_lock(${0x5341524b}, 2)`;
      const r = runCli(['schema', 'up', '--database-url', db.url]);
      expect(r.status).toBe(1);
      // Named by pid: the holder on THIS database, never the one on the other database.
      expect(r.stderr).toMatch(new RegExp(`holds the migration lock on this database: pid ${me!.pid} \\(`));
    } finally {
      await holder`select pg_advisory_unlock_all()`;
      holder.release();
      await other`select pg_advisory_unlock_all()`;
      other.release();
      await elsewhere.drop();
    }
  });

  it('reports an applied file edited since as drift and refuses, unless --allow-drift', async () => {
    db = await freshDatabase('v1');
    await schemaUp(await db.context(), {});
    await db.sql`update sark_migration.applied_files set sha256 = 'edited' where path = 'migrations/006_protocol_adapters.sql'`;
    const status = runCli(['schema', 'status', '--json', '--database-url', db.url]);
    expect(status.status).toBe(1);
    expect(status.json().drift.map((d: { path: string }) => d.path)).toEqual(['migrations/006_protocol_adapters.sql']);

    const refused = runCli(['schema', 'up', '--database-url', db.url]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/edited since: migrations\/006_protocol_adapters.sql/);
    expect(runCli(['schema', 'up', '--allow-drift', '--database-url', db.url]).status).toBe(0);
  });
});
