/**
 * `data --dry-run`: the exact plan, computed in SQL (sark_migration.plan, plan_sample, findings),
 * inside a transaction that is rolled back — nothing is created or written.
 */
import type { Context } from '../context.ts';
import type { Sql } from '../db/connect.ts';
import { withDefinitionsReadOnly } from '../db/definitions.ts';
import { working } from '../output.ts';

export interface PlanRow {
  target_table: string;
  would_insert: number;
  would_update: number;
  overwrite_preexisting: number;
  unchanged: number;
  quarantined: number;
  would_delete: number;
  kept_vanished: number;
  stale: number;
}

export interface FindingSummary {
  finding: string;
  severity: string;
  action: string;
  source_table: string | null;
  rows: number;
  sample_ids: string[];
  message: string;
}

export interface DataPlan {
  plan: PlanRow[];
  findings: FindingSummary[];
  samples: { target_table: string; change: string; source_id: string; v2_row: unknown }[];
}

export async function planData(ctx: Context, samples = 3): Promise<DataPlan> {
  return withDefinitionsReadOnly(ctx, async (tx) => ({
    plan: await working('the plan: every v1 row mapped and compared with v2', () => tx<PlanRow[]>`select * from sark_migration.plan order by target_table desc`),
    findings: await working('the dirty-data findings', () => summarizeFindings(tx)),
    samples: await working('sample rows', () => tx`select * from sark_migration.plan_sample(${samples}::int)`),
  }));
}

/** One line per kind of finding: how many rows, a few ids, and the first message as an example. */
export async function summarizeFindings(tx: Sql): Promise<FindingSummary[]> {
  return tx<FindingSummary[]>`
    select finding, severity, action, source_table, count(*)::int as rows,
           coalesce((array_agg(source_id::text order by source_id) filter (where source_id is not null))[1:5], '{}') as sample_ids,
           min(message) as message
      from sark_migration.findings
     group by finding, severity, action, source_table
     order by case severity when 'critical' then 0 when 'error' then 1 when 'warning' then 2 else 3 end, finding`;
}
