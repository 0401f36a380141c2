/**
 * The dirty-data part of preflight: sark_migration.findings, summarised per finding with a count
 * and sample ids. The view is one of the tool's definitions, so it is evaluated the read-only way
 * (withDefinitionsReadOnly: installed inside a transaction that is rolled back). It needs
 * public.resources / public.capabilities; on a v1-only database — the usual case before a
 * migration — those are created empty inside the same rolled-back transaction from migration 006
 * (new tables only: no lock on anything that exists), so the answer is the one the real
 * migration will get, and nothing remains afterwards.
 */
import { readFileSync } from 'node:fs';
import type { Context } from '../context.ts';
import { DEFINITION_FOLDERS, withDefinitionsReadOnly } from '../db/definitions.ts';
import { projectPath, sqlFilesIn } from '../db/sqlFiles.ts';
import { summarizeFindings, type FindingSummary } from '../data/plan.ts';

export interface FindingsResult {
  status: 'evaluated' | 'skipped' | 'failed';
  /** Why it was skipped or failed; how it was evaluated otherwise. */
  reason: string;
  /** The v2 tables did not exist and were created empty inside the rolled-back transaction. */
  scaffolded_v2: boolean;
  total_rows: number;
  by_finding: FindingSummary[];
}

const CREATES_FINDINGS = /create\s+(or\s+replace\s+)?view\s+sark_migration\.findings\b/i;

/** The definition file that creates sark_migration.findings, if this version ships one. */
export function findingsDefinition(): string | undefined {
  for (const folder of DEFINITION_FOLDERS) {
    for (const file of sqlFilesIn(folder)) if (CREATES_FINDINGS.test(readFileSync(file, 'utf8'))) return projectPath(file);
  }
  return undefined;
}

export async function evaluateFindings(ctx: Context, opts: { v1Tables: boolean; v2Tables: boolean; inRecovery: boolean }): Promise<FindingsResult> {
  const skipped = (reason: string): FindingsResult => ({ status: 'skipped', reason, scaffolded_v2: false, total_rows: 0, by_finding: [] });
  const definition = findingsDefinition();
  if (!definition) {
    return skipped(`this version's definitions (sql/${DEFINITION_FOLDERS.join(', sql/')}) do not create sark_migration.findings yet`);
  }
  if (!opts.v1Tables) return skipped('there are no v1 tables to scan');
  if (opts.inRecovery) return skipped('a read-only standby cannot install the definitions, even in a rolled-back transaction');
  const scaffold = !opts.v2Tables;
  try {
    const byFinding = await withDefinitionsReadOnly(ctx, (tx) => summarizeFindings(tx), { scaffoldV2: scaffold });
    return {
      status: 'evaluated',
      reason: `${definition}, evaluated in a transaction that was rolled back${scaffold ? ' (v2 tables created empty inside it)' : ''}`,
      scaffolded_v2: scaffold,
      total_rows: byFinding.reduce((n, f) => n + f.rows, 0),
      by_finding: byFinding,
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { status: 'failed', reason: message, scaffolded_v2: scaffold, total_rows: 0, by_finding: [] };
  }
}
