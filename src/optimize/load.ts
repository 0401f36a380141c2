/**
 * The load strategy for the v1 -> v2 copy: every index in place (created while the tables are
 * still empty, which is instant), and the GIN pending lists merged beside the inserting: by the
 * other lanes when the copy runs in two or more (src/data/copy.ts, --jobs), by a second connection
 * (this merger) when it runs in one. The same path serves a first load into empty tables and a
 * re-run into full ones.
 *
 * Why, measured by `bench` on the same 100,000 servers / 1,000,000 tools (bare INSERT … SELECT
 * loader, 2 cores, quiet machine; CPU = server CPU seconds, busiest = busiest single process):
 *   B      drop the indexes, load, CREATE INDEX CONCURRENTLY   46.9-50.9 s wall   48 s CPU   busiest 30 s
 *   A0     every index in place                               47.0-50.8 s wall   49 s CPU   busiest 48 s
 *   A      every index in place + this merger                 34.4-36.9 s wall   53 s CPU   busiest 31 s
 *   A, two lanes (no merger beside them)                      25.5-28.3 s wall   45 s CPU   busiest 22 s
 * (CPU figures of runs before 2026-11-24 counted pooled sessions that ended during a load with
 * their whole lifetime; B's "79-100 s" was that error.)
 * Plain CREATE INDEX instead of CONCURRENTLY does not change the answer: ix_capabilities_metadata_gin
 * alone takes 17 s either way (19 s concurrently), after a 16-18 s load, and plain builds would
 * block the forward sync's writes.
 * B is the textbook answer for a first load, but here the cost is not the B-trees: it is the two
 * jsonb_ops GIN indexes (some 26 keys and values per capability row). B spends no more CPU than A,
 * but in the wrong order: PostgreSQL 15 builds a GIN index in a single process (no parallel GIN
 * build before 18), and only once the load is over, so one core idles through the 17 s build.
 * With the index in place, fastupdate appends new entries to the pending list, which is cheap;
 * merging that list into the tree, the expensive part, is what this merger does on the other
 * core while the copy runs on the first (an inserting session that finds the merge lock taken
 * skips its own cleanup and goes on). So no index is ever missing (the schema check of validate
 * holds throughout, and no failed build can leave an INVALID index), and nothing is left to
 * build afterwards.
 *
 * Lanes go further on the same idea. Two inserting sessions on disjoint key ranges: when one fills
 * a pending list and stops to merge it, the other finds the merge taken and goes on inserting, so
 * both cores stay busy on useful work. Two lanes plus this merger: 30.0-32.2 s (three processes
 * on two cores); three lanes: 31.0 s; two lanes alone, as above.
 *
 * The merger needs to own the indexes (gin_clean_pending_list's rule, as for VACUUM); without that
 * privilege it stops with a warning and the copy goes on, merging inline as PostgreSQL does.
 */
import { openSession, type Context } from '../context.ts';
import { formatDuration, log } from '../output.ts';
import { indexDefinitions, type IndexDefinition } from './files.ts';
import { dropIndexConcurrently, ensureIndexes, openMaintenance, DEFAULT_BUILD, type BuildResult, type BuildSettings } from './indexes.ts';

/** The tables the copy loads. */
export const LOADED_TABLES = ['resources', 'capabilities'] as const;

export interface MergerStats {
  indexes: string[];
  rounds: number;
  pages_merged: number;
  /** time spent in the final merge, after the copy returned */
  final_seconds: number;
  error?: string;
}

export interface MergerOptions {
  tables?: readonly string[];
  /**
   * Merge while `fn` runs (default). Off when the copy runs in two or more lanes: an inserting lane
   * that fills a pending list merges it while the other lanes go on inserting, and a third process
   * on two cores only slows them (bench: 27-28 s without it, 30-32 s with it). The final merge runs
   * either way, so the indexes end up as merged as a load with the merger leaves them.
   */
  background?: boolean;
  /** pause between rounds that found nothing to merge */
  idleMs?: number;
  maintenanceWorkMem?: string;
}

/** Runs `fn` (the copy) while a second connection keeps merging the GIN pending lists of the tables. */
export async function withGinMerger<T>(ctx: Context, fn: () => Promise<T>, opts: MergerOptions = {}): Promise<{ result: T; merger: MergerStats }> {
  const m = openSession(ctx, { maintenance_work_mem: opts.maintenanceWorkMem ?? '256MB', statement_timeout: '0' });
  const stats: MergerStats = { indexes: [], rounds: 0, pages_merged: 0, final_seconds: 0 };
  const idleMs = opts.idleMs ?? 100;
  try {
    stats.indexes = (
      await m<{ ix: string }[]>`
        select i.indexrelid::regclass::text as ix
          from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam
         where am.amname = 'gin' and i.indisvalid and i.indisready
           and i.indrelid = any (select to_regclass(t) from unnest(${[...(opts.tables ?? LOADED_TABLES)]}::text[]) t)
         order by 1`
    ).map((r) => r.ix);
    const mergeOnce = async () => {
      let pages = 0;
      for (const ix of stats.indexes) {
        const [r] = await m<{ n: number | null }[]>`select gin_clean_pending_list(${ix}::regclass) as n`;
        pages += Number(r?.n ?? 0);
      }
      stats.pages_merged += pages;
      stats.rounds++;
      return pages;
    };
    let stop = false;
    let wake: (() => void) | undefined;
    const loop = (async () => {
      while (!stop && opts.background !== false && stats.indexes.length > 0 && !stats.error) {
        try {
          if ((await mergeOnce()) === 0 && !stop) await new Promise<void>((r) => ((wake = r), setTimeout(r, idleMs)));
        } catch (e) {
          stats.error = (e as Error).message;
          log.warn(`GIN merger stopped (${stats.error}); the copy goes on and merges inline`);
        }
      }
    })();
    let result: T;
    try {
      result = await fn();
    } finally {
      stop = true;
      wake?.();
      await loop;
    }
    if (!stats.error && stats.indexes.length > 0) {
      const t = performance.now();
      await mergeOnce().catch((e) => void (stats.error = (e as Error).message));
      stats.final_seconds = (performance.now() - t) / 1000;
      log.debug(`GIN merger: ${stats.pages_merged} pending-list pages merged in ${stats.rounds} rounds (final ${formatDuration(stats.final_seconds * 1000)})`);
    }
    return { result, merger: stats };
  } finally {
    await m.end({ timeout: 5 });
  }
}

/**
 * Every index sql/optimize/indexes defines on the loaded tables: the secondary indexes of migration
 * 006 (0NN) and the recommended ones (1NN). Primary keys and the foreign key stay as they are.
 */
export function loadedTableIndexes(): IndexDefinition[] {
  return indexDefinitions().filter((d) => (LOADED_TABLES as readonly string[]).includes(d.table));
}

/**
 * The load strategy in one call, for `data --execute`: when the v2 tables are still empty, every
 * defined index is created first (concurrently, instant on empty tables) so the copy maintains
 * them all and nothing is left to build afterwards; then `copy` runs beside the GIN merger (a
 * copy in two or more lanes merges for itself; the final merge runs either way).
 * An index that cannot be created now (a lock or an old snapshot outlasting the retries) is not a
 * reason to stop the copy: it is reported, and `optimize --optimize` builds it later.
 */
export async function loadWithIndexesInPlace<T>(
  ctx: Context,
  copy: () => Promise<T>,
  opts: { lanes?: number; build?: BuildSettings } = {},
): Promise<{ result: T; merger: MergerStats; built: BuildResult[] }> {
  const [row] = await ctx.sql<{ empty: boolean }[]>`
    select not exists (select 1 from public.resources) and not exists (select 1 from public.capabilities) as empty`;
  const built = row!.empty ? await createWhileEmpty(ctx, opts.build ?? DEFAULT_BUILD) : [];
  const { result, merger } = await withGinMerger(ctx, copy, { background: (opts.lanes ?? 1) < 2 });
  return { result, merger, built };
}

async function createWhileEmpty(ctx: Context, settings: BuildSettings): Promise<BuildResult[]> {
  const built = await ensureIndexes(ctx, loadedTableIndexes(), settings, (def, e) =>
    log.warn(`${def.name} was not created before the load (${e.message}); the copy goes on without it, \`sark-migrate optimize --optimize\` builds it afterwards`),
  );
  return built.filter((b) => b.action !== 'present');
}

/** Strategy B, for comparison: drop the defined indexes of the loaded tables (concurrently) before a load. */
export async function dropSecondaryIndexes(ctx: Context): Promise<void> {
  const maint = openMaintenance(ctx);
  try {
    for (const d of loadedTableIndexes()) await dropIndexConcurrently(maint, d.name);
  } finally {
    await maint.end({ timeout: 5 });
  }
}

/** Strategy B, for comparison: build them again after the load, concurrently, as a live database needs. */
export async function buildSecondaryIndexes(ctx: Context, settings: BuildSettings = DEFAULT_BUILD): Promise<BuildResult[]> {
  return ensureIndexes(ctx, loadedTableIndexes(), settings);
}
