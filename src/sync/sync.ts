/**
 * The phase moves of the zero-downtime window, each with its preconditions:
 *
 *   schema-applied | copied --enable--> syncing --cutover--> cutover
 *   copied <--disable-- syncing <--rollback-- cutover
 *
 * A move to the phase the database is already in does nothing and says so (exit 0); a move whose
 * precondition does not hold is refused with the reason and the command that fixes it (exit 1).
 * The triggers are created and dropped by the action files of sql/sync (one transaction each,
 * under lock_timeout, retried with backoff), so a DBA with psql does exactly the same.
 */
import type { Context } from '../context.ts';
import { installDefinitions } from '../db/definitions.ts';
import { withRunLock } from '../db/lock.ts';
import { guardDrift } from '../db/sqlFiles.ts';
import { refused } from '../errors.ts';
import { syncDirections, type Phase } from '../status/phase.ts';
import { installSyncDefinitions, runSyncAction } from './sql.ts';
import { readSyncState, type SyncState } from './state.ts';

export type SyncMoveName = 'enable' | 'cutover' | 'rollback' | 'disable' | 'retry';

export interface SyncMove {
  move: SyncMoveName;
  from: Phase;
  to: Phase;
  changed: boolean;
  notes: string[];
  retried?: { failure_id: number; direction: string; source_table: string; row_count: number; resolved: boolean; message: string }[];
  state: SyncState;
}

const NOT_MIGRATABLE: Partial<Record<Phase, [string, string]>> = {
  v1: ['The v2 schema is not there yet (phase v1): there is nothing to sync with.', 'Run Phase 1 first: `sark-migrate schema up`.'],
  decommissioned: ['The v1 tables are gone (phase decommissioned): there is nothing to sync any more.', 'Nothing to do; the migration is finished.'],
};

function refuseIfNotMigratable(phase: Phase) {
  const r = NOT_MIGRATABLE[phase];
  if (r) throw refused(r[0], r[1], { phase });
}

/** Writes need the definitions; the mapping is (re)installed only while no trigger uses it. */
async function prepare(ctx: Context, state: SyncState): Promise<void> {
  await guardDrift(ctx.sql, ctx.options.allowDrift);
  if (!state.forward && !state.reverse) await installDefinitions(ctx.sql);
  if (!(await installSyncDefinitions(ctx.sql))) {
    throw refused('The mapping or the v1/v2 tables are missing, so the sync cannot be installed.', 'Run `sark-migrate schema up` and check `sark-migrate status`.');
  }
}

async function finish(ctx: Context, move: SyncMoveName, from: Phase, changed: boolean, notes: string[]): Promise<SyncMove> {
  const state = await readSyncState(ctx.sql);
  if (state.failures.open > 0) notes.push(`${state.failures.open} sync failure(s) are open: see \`sark-migrate sync --status\`, re-apply with \`sync --retry\`.`);
  return { move, from, to: state.phase, changed, notes, state };
}

/** `sync --enable`: forward sync on (v1 writes reach v2 in the writer's transaction). */
export async function syncEnable(ctx: Context): Promise<SyncMove> {
  return withRunLock(ctx.sql, async () => {
    const before = await readSyncState(ctx.sql);
    refuseIfNotMigratable(before.phase);
    const notes: string[] = [];
    if (before.forward) {
      notes.push(before.reverse ? 'Both directions are already on (cutover).' : 'The forward sync is already on.');
      return finish(ctx, 'enable', before.phase, false, notes);
    }
    await prepare(ctx, before);
    await runSyncAction(ctx, 'enableForward');
    notes.push(
      before.copy_completed
        ? 'The copy ran before the sync was on: run `sark-migrate data --execute --batch-size 1000` once more, so that v1 writes made in between reach v2 (it writes only what changed).'
        : 'Now run the copy: `sark-migrate data --execute --batch-size 1000` (with the sync on, no v1 write can fall between sync and copy).',
    );
    return finish(ctx, 'enable', before.phase, true, notes);
  });
}

/** Why `sync --cutover` would be refused now (reason, fix), or undefined. */
export function cutoverBlockers(s: SyncState): [string, string] | undefined {
  if (s.phase !== 'syncing') {
    return [
      `The forward sync is not on (phase ${s.phase}): a cutover now would leave v1 writes out of v2.`,
      'Run `sark-migrate sync --enable`, then `sark-migrate data --execute --batch-size 1000`, then `sync --cutover`.',
    ];
  }
  if (!s.copy_completed) {
    return [
      'The copy has not completed (its newest run is unfinished or missing): v2 does not hold every v1 row yet.',
      'Run `sark-migrate data --execute --batch-size 1000` to its end, then `sync --cutover`.',
    ];
  }
  if (!s.copy_after_sync) {
    return [
      'The newest copy ran before the forward sync was enabled: v1 writes made between the copy and the sync are not in v2.',
      'Run `sark-migrate data --execute --batch-size 1000` once more (it writes only what changed), then `sync --cutover`.',
    ];
  }
  if (s.failures.open_forward > 0) {
    return [
      `${s.failures.open_forward} forward sync failure(s) are open: v2 is missing some v1 writes.`,
      'Re-apply them with `sark-migrate sync --retry` (details in `sync --status`), then `sync --cutover`.',
    ];
  }
  return undefined;
}

/** `sync --cutover`: reverse sync on as well (blue-green: both application versions write). */
export async function syncCutover(ctx: Context): Promise<SyncMove> {
  return withRunLock(ctx.sql, async () => {
    const before = await readSyncState(ctx.sql);
    refuseIfNotMigratable(before.phase);
    if (before.phase === 'cutover') return finish(ctx, 'cutover', before.phase, false, ['The database is already in cutover.']);
    const blocker = cutoverBlockers(before);
    if (blocker) throw refused(blocker[0], blocker[1], { phase: before.phase });
    await prepare(ctx, before);
    await runSyncAction(ctx, 'enableReverse');
    const notes = ['v2 writes now flow back to v1 in the writer\'s transaction; `sync --rollback` returns to v1 → v2 only, losing nothing.'];
    const quarantined = before.status.counts.quarantined ?? 0;
    if (quarantined > 0) notes.push(`${quarantined} quarantine entries: those v1 rows are not in v2 (see sark_migration.quarantine).`);
    return finish(ctx, 'cutover', before.phase, true, notes);
  });
}

/** `sync --rollback`: reverse sync off; v1 already holds every v2 write. */
export async function syncRollback(ctx: Context): Promise<SyncMove> {
  return withRunLock(ctx.sql, async () => {
    const before = await readSyncState(ctx.sql);
    refuseIfNotMigratable(before.phase);
    if (before.phase === 'syncing') return finish(ctx, 'rollback', before.phase, false, ['Not in cutover: the reverse sync is already off.']);
    if (before.phase !== 'cutover') {
      throw refused(
        `There is no cutover to roll back (phase ${before.phase}).`,
        'To undo the copy instead: `sark-migrate sync --disable` (if syncing), then `sark-migrate data --rollback`.',
        { phase: before.phase },
      );
    }
    await guardDrift(ctx.sql, ctx.options.allowDrift);
    await runSyncAction(ctx, 'disableReverse');
    // Honest: "every write" only when nothing was left out; otherwise how many, why, and where.
    const left = before.unrepresentable;
    const notes =
      left.total === 0
        ? ['The reverse sync is off. v1 holds every v2 write made during the cutover; point the application back at v1.']
        : [
            `The reverse sync is off. v1 holds the v2 writes made during the cutover except ${left.total} row(s) v1 cannot represent, which exist in v2 only: ` +
              `${left.by_reason.map((r) => `${r.rows} ${r.target_table} (${r.reason})`).join(', ')}. ` +
              'They are listed in sark_migration.reverse_unrepresentable; decide on them before pointing the application back at v1.',
          ];
    return finish(ctx, 'rollback', before.phase, true, notes);
  });
}

/** `sync --disable [--force]`: forward sync off. At cutover only with force (both directions go). */
export async function syncDisable(ctx: Context, opts: { force?: boolean } = {}): Promise<SyncMove> {
  return withRunLock(ctx.sql, async () => {
    const before = await readSyncState(ctx.sql);
    if (!before.forward && !before.reverse) return finish(ctx, 'disable', before.phase, false, ['The sync is already off.']);
    if (before.reverse && !opts.force) {
      throw refused(
        'The database is in cutover: disabling the sync now would stop v2 writes from flowing to v1 (and v1 writes to v2), so a rollback to v1 would lose them.',
        'Roll the cutover back first with `sark-migrate sync --rollback`, then `sync --disable`; or pass --force to drop both directions anyway.',
        { phase: before.phase },
      );
    }
    await guardDrift(ctx.sql, ctx.options.allowDrift);
    await runSyncAction(ctx, 'disableForward', opts.force ? { 'sark_migration.force': 'on' } : {});
    const notes = ['v1 writes no longer reach v2. `sark-migrate data --execute` brings v2 up to date again (it enables the sync first).'];
    if (before.reverse) notes.push('Forced at cutover: v2 writes no longer reach v1 either.');
    return finish(ctx, 'disable', before.phase, true, notes);
  });
}

/** `sync --retry`: re-applies the ids of every open sync failure. */
export async function syncRetry(ctx: Context): Promise<SyncMove> {
  return withRunLock(ctx.sql, async () => {
    const before = await readSyncState(ctx.sql);
    refuseIfNotMigratable(before.phase);
    if (before.failures.open === 0) return finish(ctx, 'retry', before.phase, false, ['No sync failure is open.']);
    const retried = await ctx.sql<NonNullable<SyncMove['retried']>>`select * from sark_migration.retry_sync_failures()`;
    const move = await finish(ctx, 'retry', before.phase, retried.some((r) => r.resolved), []);
    return { ...move, retried: [...retried] };
  });
}

/**
 * For `data --execute`: the sync definitions in place and, unless opted out, the forward sync on
 * BEFORE the copy starts. Refuses at cutover: the copy would overwrite v2 writes with v1 images
 * and its writes would be echoed to v1 by the reverse sync.
 */
export async function prepareSyncForCopy(ctx: Context, enable: boolean): Promise<{ syncing: boolean; enabled_now: boolean }> {
  const state = await syncDirections(ctx.sql);
  if (state.reverse) {
    throw refused(
      'The database is in cutover: a copy now would overwrite writes the v2 application made with older v1 images.',
      'Nothing needs copying at cutover (both directions are synced). To copy again, first `sark-migrate sync --rollback`.',
      { phase: 'cutover' },
    );
  }
  await installSyncDefinitions(ctx.sql);
  if (enable && !state.forward) {
    await runSyncAction(ctx, 'enableForward');
    return { syncing: true, enabled_now: true };
  }
  return { syncing: state.forward, enabled_now: false };
}

/**
 * What `data --rollback` does about the sync first (its --dry-run says the same): with the forward
 * sync on, it turns it off (a trigger would otherwise write the rows back, or fail on them), which
 * leaves v1 as it is; at cutover it refuses, because the v2 application is live and a rollback of
 * its data is `sync --rollback` first.
 */
export async function syncBeforeRollback(ctx: Context): Promise<'none' | 'disable_forward'> {
  const state = await readSyncState(ctx.sql);
  if (state.reverse) {
    throw refused(
      `The database is in cutover (the v2 application writes, and its writes flow back to v1): removing the migrated rows now would remove them from under it, and the reverse sync would delete them from v1.`,
      'Roll the cutover back first with `sark-migrate sync --rollback` (v1 then holds every v2 write), then `data --rollback`, which turns the forward sync off itself.',
      { phase: state.phase },
    );
  }
  return state.forward ? 'disable_forward' : 'none';
}

/** `data --rollback`'s first step when the forward sync is on: the triggers go (under lock_timeout, retried). */
export async function disableForwardForRollback(ctx: Context): Promise<void> {
  await guardDrift(ctx.sql, ctx.options.allowDrift);
  await runSyncAction(ctx, 'disableForward');
}
