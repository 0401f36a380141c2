/**
 * The loads `bench` compares, each on the same v1 data into the same empty v2 tables. A load is a
 * loader under an index strategy:
 *
 *   loader  insert  the bare INSERT … SELECT of the mapping's images, one statement per table:
 *                   the floor, what moving the rows costs without batching, bookkeeping and
 *                   conflict handling
 *           copy    the real Phase 2 copy (copyData, as `data --execute` runs it)
 *
 *   index   A       every index of sql/optimize/indexes in place before the load (created on the
 *                   empty tables) + the GIN pending-list merger on a second connection
 *                   (src/optimize/load.ts loadWithIndexesInPlace)
 *           A0      every index in place, nothing else
 *           B       drop those indexes, load, then CREATE INDEX CONCURRENTLY each (what a live
 *                   database would need), with the build session's maintenance_work_mem and
 *                   parallel workers
 *
 * The index strategies are compared with the insert loader, so the answer does not depend on the
 * copy's own machinery; the floor of the copy is insert:A, the same statement shape under the same
 * index strategy as copy:A.
 */
import type { Context } from '../context.ts';
import { log } from '../output.ts';
import type { BuildResult, BuildSettings } from '../optimize/indexes.ts';
import { ensureIndexes } from '../optimize/indexes.ts';
import { buildSecondaryIndexes, dropSecondaryIndexes, loadWithIndexesInPlace, loadedTableIndexes, type MergerStats } from '../optimize/load.ts';
import type { CpuUsage } from './cpu.ts';
import { runCopy } from './hooks.ts';

export const LOADS = ['insert:B', 'insert:A0', 'insert:A', 'copy:A', 'copy:A0', 'copy:B'] as const;
export type LoadName = (typeof LOADS)[number];
export const DEFAULT_LOADS: LoadName[] = ['insert:B', 'insert:A0', 'insert:A', 'copy:A'];

export interface LoadRun {
  name: LoadName;
  description: string;
  /** until the tables are loaded and fully indexed */
  seconds: number;
  /** until the last row is in (for B: before the index builds; for A: before the final merge) */
  load_seconds: number;
  build_seconds: number;
  resources: number;
  capabilities: number;
  /** server CPU (when the server runs on this machine): independent of what else the machine runs */
  cpu?: CpuUsage;
  merger?: MergerStats;
  builds?: BuildResult[];
}

const LOADERS = { insert: 'bare INSERT … SELECT', copy: 'copy (copyData)' } as const;
const INDEXING = { A: 'indexes in place + GIN merger', A0: 'indexes in place', B: 'indexes dropped, built after, concurrently' } as const;

export const describeLoad = (name: LoadName) => {
  const [loader, indexing] = name.split(':') as [keyof typeof LOADERS, keyof typeof INDEXING];
  return `${LOADERS[loader]}, ${INDEXING[indexing]}`;
};

/** Empties the v2 tables and flushes dirty buffers, so each load starts from the same state. */
export async function resetV2(ctx: Context): Promise<void> {
  await ctx.sql`truncate public.capabilities, public.resources`;
  await ctx.sql`checkpoint`.catch((e) => log.debug(`checkpoint skipped: ${(e as Error).message}`));
}

export async function runLoad(ctx: Context, name: LoadName, opts: { batchSize?: number; jobs: number; build: BuildSettings }): Promise<LoadRun> {
  const [loader, indexing] = name.split(':') as ['insert' | 'copy', 'A' | 'A0' | 'B'];
  const load = () => (loader === 'insert' ? insertAll(ctx) : runCopy(ctx, opts));
  // The bare INSERT is one statement per table, one lane; the copy runs in opts.jobs lanes.
  const lanes = loader === 'insert' ? 1 : opts.jobs;
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const base = { name, description: describeLoad(name) };
  if (indexing === 'A') {
    // Exactly what `data --execute` does with empty tables (src/optimize/load.ts).
    const { result, merger, built } = await loadWithIndexesInPlace(ctx, load, { lanes, build: opts.build });
    const s = elapsed();
    return { ...base, seconds: s, load_seconds: s - merger.final_seconds, build_seconds: merger.final_seconds, resources: result.resources, capabilities: result.capabilities, merger, builds: built };
  }
  if (indexing === 'A0') {
    // Every defined index exists before the rows arrive (instant on empty tables).
    await ensureIndexes(ctx, loadedTableIndexes(), opts.build);
    const r = await load();
    const s = elapsed();
    return { ...base, seconds: s, load_seconds: s, build_seconds: 0, resources: r.resources, capabilities: r.capabilities };
  }
  await dropSecondaryIndexes(ctx);
  const r = await load();
  const loaded = elapsed();
  const builds = await buildSecondaryIndexes(ctx, opts.build);
  const s = elapsed();
  return { ...base, seconds: s, load_seconds: loaded, build_seconds: s - loaded, resources: r.resources, capabilities: r.capabilities, builds };
}

/** The floor: one INSERT … SELECT per table, from the same projection the copy writes. */
async function insertAll(ctx: Context): Promise<{ resources: number; capabilities: number }> {
  // The context's pool, so the session settings are the copy's: only the statement differs.
  const r = await ctx.sql`
    insert into public.resources (id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at)
    select id, name, protocol, endpoint, sensitivity_level, metadata, created_at, updated_at from sark_migration.resource_image`;
  const c = await ctx.sql`
    insert into public.capabilities (id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata)
    select id, resource_id, name, description, input_schema, output_schema, sensitivity_level, metadata from sark_migration.capability_image`;
  return { resources: r.count, capabilities: c.count };
}
