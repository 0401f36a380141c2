/**
 * `decommission --confirm`: the point of no return. The v1 tables and the sync machinery are
 * dropped by sql/sync/109_decommission_v1.sql, which re-checks the phase, the grace period and the
 * dependents itself under the locks it takes. Before that, this module checks what only the tool
 * can see (the backup on disk) and explains exactly what would be dropped. Every refusal is exit 1
 * with the reason and the fix.
 */
import { resolve } from 'node:path';
import { checkBackup, latestVerifiedBackup, type BackupCheck } from '../backup/archive.ts';
import type { Context } from '../context.ts';
import { withRunLock } from '../db/lock.ts';
import { guardDrift } from '../db/sqlFiles.ts';
import { refused } from '../errors.ts';
import type { Phase } from '../status/phase.ts';
import { runSyncAction } from './sql.ts';
import { readSyncState } from './state.ts';
import { describeWriters, watchV1Writes, type V1Writes } from './v1Writes.ts';

const DEFAULT_WRITE_WINDOW_MS = 3000;

export interface DecommissionOptions {
  confirm: boolean;
  graceDays: number;
  /** a backup archive (or a directory of them); the newest verified one must be fresh */
  backup?: string;
  /** "fresh": taken after the cutover began and at most this many hours ago */
  backupMaxAgeHours: number;
  /** how long to watch for application writes to v1 before dropping it (ms; default 3000) */
  writeWindowMs?: number;
  /** drop v1 even while the application still writes it (its writes will then fail) */
  allowV1Writes?: boolean;
}

export interface Blocker {
  check: 'phase' | 'grace_period' | 'dependents' | 'backup' | 'v1_writes';
  message: string;
  fix: string;
}

export interface DecommissionPlan {
  phase: Phase;
  cutover_started_at: Date | null;
  grace_days: number;
  grace_ends_at: Date | null;
  backup: BackupCheck | null;
  dependents: { kind: string; object: string; depends_on: string; fix: string }[];
  /** application writes to v1 seen while watching (null: not watched, e.g. not in cutover) */
  v1_writes: V1Writes | null;
  would_drop: { triggers: string[]; tables: { table: string; rows: number }[]; views: string[]; functions: string[] };
  blockers: Blocker[];
}

export interface DecommissionResult extends DecommissionPlan {
  dropped: boolean;
}

/** The sync functions 109 drops with the tables (they name the v1 tables). */
const SYNC_FUNCTIONS = [
  'forward_sync()', 'reverse_sync()', 'apply_resources(uuid[])', 'apply_capabilities(uuid[])',
  'reverse_apply_resources(text[])', 'reverse_apply_capabilities(text[])', 'reverse_delete_vanished()', 'reverse_upsert_servers(text[])',
  'reverse_upsert_tools(text[])', 'reverse_image_servers(text[])', 'reverse_image_tools(text[])',
  'requarantine(text, uuid[])', 'retry_sync_failures()',
].map((f) => `sark_migration.${f}`);

export async function planDecommission(ctx: Context, o: Omit<DecommissionOptions, 'confirm'>): Promise<DecommissionPlan> {
  const state = await readSyncState(ctx.sql);
  const blockers: Blocker[] = [];
  const plan: DecommissionPlan = {
    phase: state.phase,
    cutover_started_at: state.cutover_started_at,
    grace_days: o.graceDays,
    grace_ends_at: null,
    backup: null,
    dependents: [],
    v1_writes: null,
    would_drop: { triggers: state.triggers.map((t) => `${t.trigger_name} ON public.${t.table_name}`), tables: [], views: [], functions: [] },
    blockers,
  };
  if (state.phase === 'decommissioned') return plan;
  if (state.phase !== 'cutover') {
    blockers.push({
      check: 'phase',
      message: `Decommission is only possible from cutover, and the database is in phase ${state.phase}: v1 may not hold every v2 write.`,
      fix: state.phase === 'syncing' ? 'Cut over first (`sark-migrate sync --cutover`), run both applications through the grace period, then decommission.' : 'Finish the migration first: `sark-migrate run`, then `sync --cutover`.',
    });
  }
  if (state.cutover_started_at) {
    const [g] = await ctx.sql<{ ends: Date; passed: boolean }[]>`
      select ${state.cutover_started_at}::timestamptz + make_interval(days => ${o.graceDays}::int) as ends,
             now() >= ${state.cutover_started_at}::timestamptz + make_interval(days => ${o.graceDays}::int) as passed`;
    plan.grace_ends_at = g!.ends;
    if (!g!.passed) {
      blockers.push({
        check: 'grace_period',
        message: `The grace period of ${o.graceDays} day(s) since the cutover (${state.cutover_started_at.toISOString()}) has not passed; it ends ${g!.ends.toISOString()}.`,
        fix: `Wait until ${g!.ends.toISOString()} (a rollback to v1 stays possible until then), or choose a shorter --grace-days.`,
      });
    }
  }
  const hasV1 = state.status.counts.v1_servers !== null;
  if (hasV1) {
    plan.dependents = [...(await ctx.sql<DecommissionPlan['dependents']>`select kind, object, depends_on, fix from sark_migration.v1_dependents order by 1, 2`.catch(() => []))];
    if (plan.dependents.length) {
      blockers.push({
        check: 'dependents',
        message: `${plan.dependents.length} object(s) outside sark-migrate still depend on the v1 tables: ${plan.dependents.map((d) => `${d.kind} ${d.object}`).join(', ')}.`,
        fix: plan.dependents.map((d) => `${d.fix};`).join(' '),
      });
    }
    plan.would_drop.tables = [
      { table: 'public.mcp_tools', rows: state.status.counts.v1_tools ?? 0 },
      { table: 'public.mcp_servers', rows: state.status.counts.v1_servers ?? 0 },
    ];
    plan.would_drop.views = (await ctx.sql<{ name: string }[]>`
      with recursive dep(oid) as (
        select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relname in ('mcp_servers', 'mcp_tools')
        union
        select rw.ev_class from dep
          join pg_depend d on d.refobjid = dep.oid and d.refclassid = 'pg_class'::regclass and d.classid = 'pg_rewrite'::regclass
          join pg_rewrite rw on rw.oid = d.objid
         where rw.ev_class <> dep.oid)
      select format('%I.%I', n.nspname, c.relname) as name
        from dep join pg_class c on c.oid = dep.oid join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('v', 'm') order by 1`).map((r) => r.name);
    plan.would_drop.functions = (await ctx.sql<{ name: string }[]>`
      select f as name from unnest(${SYNC_FUNCTIONS}::text[]) f where to_regprocedure(f) is not null`).map((r) => r.name);
  }

  if (state.phase === 'cutover' && !o.allowV1Writes) {
    // Dropping a table an application still writes breaks it at once ("relation does not exist").
    plan.v1_writes = await watchV1Writes(ctx, o.writeWindowMs ?? DEFAULT_WRITE_WINDOW_MS);
    const n = plan.v1_writes.statements ?? 0;
    if (n > 0) {
      blockers.push({
        check: 'v1_writes',
        message: `The v1 tables are still being written: ${n} application write statement(s) in the last ${(plan.v1_writes.window_ms / 1000).toFixed(1)} s, by ${describeWriters(plan.v1_writes)}; dropping them would make those writes fail.`,
        fix: 'Move every application off v1 first (SELECT pid, application_name, query FROM pg_stat_activity names them), then decommission; or pass --allow-v1-writes to drop v1 anyway.',
      });
    }
  }

  if (!o.backup) {
    blockers.push({
      check: 'backup',
      message: 'No backup was named: decommission drops the v1 tables for good, so a fresh, verified backup must exist first.',
      fix: 'Take one now with `sark-migrate backup --out FILE`, then pass `--backup FILE`.',
    });
  } else {
    const latest = await latestVerifiedBackup(o.backup, { database: ctx.conn.database });
    if (!latest) {
      const check = await checkBackup(o.backup).catch(() => null);
      plan.backup = check;
      blockers.push({
        check: 'backup',
        message: `No verified backup of database ${ctx.conn.database} at ${resolve(o.backup)}${check?.problems.length ? `: ${check.problems.join('; ')}` : ''}.`,
        fix: 'Take one with `sark-migrate backup --out FILE` (it verifies the archive and writes FILE.json), then pass `--backup FILE`.',
      });
    } else {
      plan.backup = latest;
      const created = new Date(latest.created_at!);
      const tooOld = (latest.age_seconds ?? Infinity) > o.backupMaxAgeHours * 3600;
      const beforeCutover = state.cutover_started_at !== null && created < state.cutover_started_at;
      if (tooOld || beforeCutover) {
        blockers.push({
          check: 'backup',
          message: `The newest verified backup (${latest.archive}, taken ${latest.created_at}) is not fresh: it is ${beforeCutover ? 'older than the cutover, so it lacks the writes made since' : `older than ${o.backupMaxAgeHours} h`}.`,
          fix: 'Take a fresh one with `sark-migrate backup --out FILE` and pass `--backup FILE`.',
        });
      }
    }
  }
  return plan;
}

export async function decommission(ctx: Context, o: DecommissionOptions): Promise<DecommissionResult> {
  return withRunLock(ctx.sql, async () => {
    const plan = await planDecommission(ctx, o);
    if (plan.phase === 'decommissioned') return { ...plan, dropped: false };
    if (plan.blockers.length) {
      throw refused(
        `Decommission refused: ${plan.blockers.map((b) => b.message).join(' ')}`,
        plan.blockers.map((b) => b.fix).join(' '),
        { plan },
      );
    }
    if (!o.confirm) {
      const w = plan.would_drop;
      throw refused(
        `Decommission drops, for good: ${w.tables.map((t) => `${t.table} (${t.rows} rows)`).join(', ')}; the sync triggers ${w.triggers.join(', ')}; ` +
          `${w.views.length} view(s) of sark_migration that read them (${w.views.join(', ')}); and ${w.functions.length} sync function(s). ` +
          'Every check passed (phase cutover, grace period over, no dependents, fresh verified backup).',
        'Re-run with --confirm to drop them.',
        { plan },
      );
    }
    await guardDrift(ctx.sql, ctx.options.allowDrift);
    // 109 watches for v1 writes itself (for psql users); this run has just watched, or was told not to.
    await runSyncAction(ctx, 'decommission', {
      'sark_migration.grace_days': String(o.graceDays),
      'sark_migration.write_window': '0',
      ...(o.allowV1Writes ? { 'sark_migration.allow_v1_writes': 'on' } : {}),
    });
    return { ...plan, phase: (await readSyncState(ctx.sql)).phase, dropped: true };
  });
}
