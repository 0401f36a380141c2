/**
 * A phase refuses to start without the privileges it needs, naming the GRANT that gives them,
 * instead of failing half-way on "permission denied". The requirements are those preflight
 * reports (sql/preflight/007_privileges.sql): one definition for both.
 */
import type { Context } from '../context.ts';
import { prerequisiteMissing } from '../errors.ts';
import { preflightQuery } from './queries.ts';

export type Phase = 'backup' | 'schema' | 'data' | 'sync' | 'validate';

export async function requirePrivileges(ctx: Context, phases: Phase[], action: string): Promise<void> {
  const rows = await preflightQuery(ctx.sql, '007_privileges.sql');
  const missing = rows.filter((r) => (phases as string[]).includes(r.phase) && r.required && r.granted === false);
  if (missing.length === 0) return;
  const [me] = await ctx.sql<{ role: string }[]>`select current_user as role`;
  throw prerequisiteMissing(
    `The role ${me!.role} lacks what ${action} needs: ${missing.map((m) => `${m.requirement}`).join('; ')}.`,
    `As a superuser or the owner, run: ${missing.map((m) => m.fix).join(' ')} Then run ${action} again (\`sark-migrate preflight\` lists every phase's privileges).`,
  );
}
