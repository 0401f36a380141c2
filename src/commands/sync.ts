/**
 * `sync --enable | --cutover | --rollback | --disable [--force] | --retry | --status`: the
 * zero-downtime window. v1 and v2 are kept in step by triggers (sql/sync): forward (v1 -> v2) from
 * --enable, both directions from --cutover. Every move checks its preconditions and refuses an
 * unsafe one with exit 1 and the fix; --status is read-only.
 */
import { z } from 'zod';
import { defineCommand } from '../command.ts';
import { withContext } from '../context.ts';
import { ExitCode, usageError } from '../errors.ts';
import { color } from '../output.ts';
import { readSyncState, type SyncState } from '../sync/state.ts';
import { syncCutover, syncDisable, syncEnable, syncRetry, syncRollback, type SyncMove } from '../sync/sync.ts';

const ACTIONS = ['enable', 'cutover', 'rollback', 'disable', 'retry', 'status'] as const;

const Options = z.object({
  enable: z.boolean().default(false),
  cutover: z.boolean().default(false),
  rollback: z.boolean().default(false),
  disable: z.boolean().default(false),
  retry: z.boolean().default(false),
  status: z.boolean().default(false),
  force: z.boolean().default(false),
});

export const syncCommand = defineCommand({
  command: 'sync',
  describe: 'Keep v1 and v2 in step while both are live: --enable | --cutover | --rollback | --disable [--force] | --retry | --status',
  builder: (y) =>
    y
      .option('enable', { type: 'boolean', default: false, describe: 'forward sync on: v1 writes reach v2 (schema-applied/copied -> syncing)' })
      .option('cutover', { type: 'boolean', default: false, describe: 'reverse sync on too: v2 writes reach v1 (syncing -> cutover)' })
      .option('rollback', { type: 'boolean', default: false, describe: 'reverse sync off; v1 already holds every v2 write (cutover -> syncing)' })
      .option('disable', { type: 'boolean', default: false, describe: 'forward sync off (syncing -> copied); refused at cutover unless --force' })
      .option('force', { type: 'boolean', default: false, describe: 'with --disable at cutover: drop both directions' })
      .option('retry', { type: 'boolean', default: false, describe: 're-apply the rows of every open sync failure' })
      .option('status', { type: 'boolean', default: false, describe: 'phase, triggers, failures, rows v1 cannot represent (read-only)' }),
  options: Options,
  run: async (o) => {
    const chosen = ACTIONS.filter((a) => o[a]);
    if (chosen.length !== 1) throw usageError('Choose exactly one of --enable, --cutover, --rollback, --disable, --retry, --status.', 'For example: `sark-migrate sync --status`.');
    if (o.force && !o.disable) throw usageError('--force only goes with --disable.', 'Use `sark-migrate sync --disable --force`.');
    return withContext(o, async (ctx) => {
      if (o.status) {
        const state = await readSyncState(ctx.sql);
        return { result: state, human: () => describeState(state), exitCode: state.failures.open > 0 ? ExitCode.failed : ExitCode.ok,
          reason: `${state.failures.open} sync failure(s) are open: \`sark-migrate sync --retry\` retries them.` };
      }
      const move = o.enable ? await syncEnable(ctx)
        : o.cutover ? await syncCutover(ctx)
        : o.rollback ? await syncRollback(ctx)
        : o.disable ? await syncDisable(ctx, { force: o.force })
        : await syncRetry(ctx);
      const stillFailing = move.move === 'retry' && (move.retried ?? []).some((r) => !r.resolved);
      return { result: move, human: () => describeMove(move), exitCode: stillFailing ? ExitCode.failed : ExitCode.ok,
        reason: 'some retried sync failures failed again: `sark-migrate sync --status` lists them.' };
    });
  },
});

function describeMove(m: SyncMove): string {
  const head = m.changed ? `${m.move}: ${m.from} -> ${m.to}` : `${m.move}: nothing to do (phase ${m.to})`;
  const retried = (m.retried ?? []).map((r) => `  failure #${r.failure_id} (${r.direction} ${r.source_table}, ${r.row_count} rows): ${r.resolved ? 'resolved' : r.message}`);
  return [head, ...retried, ...m.notes.map((n) => `  ${n}`)].join('\n');
}

export function describeState(s: SyncState): string {
  const on = (b: boolean) => (b ? color.green('on') : 'off');
  const when = (d: Date | null) => (d ? ` since ${d.toISOString()}` : '');
  const byTable = (dir: 'forward' | 'reverse') =>
    [...new Set(s.triggers.filter((t) => t.direction === dir).map((t) => t.table_name))]
      .map((table) => `${table} (${s.triggers.filter((t) => t.direction === dir && t.table_name === table).length})`)
      .join(', ');
  const lines = [
    `phase:            ${s.phase}${s.status.counts.v1_servers !== null ? ` (copy completed: ${s.copy_completed ? 'yes' : 'no'})` : ''}`,
    `forward sync:     ${on(s.forward)}${when(s.forward_enabled_at)}${s.forward ? ` — triggers on ${byTable('forward')}` : ''}`,
    `reverse sync:     ${on(s.reverse)}${when(s.cutover_started_at)}${s.reverse ? ` — triggers on ${byTable('reverse')}` : ''}`,
    `lag:              ${s.forward || s.reverse ? s.lag : '-'}`,
    `failures:         ${s.failures.open ? color.red(`${s.failures.open} open`) : '0 open'} (${s.failures.resolved} resolved)`,
    ...s.failures.latest.map((f) => `  #${f.id} ${f.direction} ${f.source_table}, ${f.rows} row(s) [${f.sample_ids.join(', ')}]: ${f.message} (SQLSTATE ${f.sqlstate}, ${f.at.toISOString()})`),
    `unrepresentable:  ${s.unrepresentable.total ? color.yellow(`${s.unrepresentable.total} v2 row(s) are not in v1`) : '0'}`,
    ...s.unrepresentable.by_reason.map((u) => `  ${u.target_table} ${u.reason}: ${u.rows} (${u.sample_ids.join(', ')})`),
    `inferred values:  ${s.inferred}${s.inferred ? ' (v2-native rows written to v1 with an inferred transport: sark_migration.reverse_inferred)' : ''}`,
  ];
  if (s.failures.open) lines.push('', 'Re-apply the failed rows with `sark-migrate sync --retry` (details: SELECT * FROM sark_migration.sync_issues).');
  return lines.join('\n');
}
