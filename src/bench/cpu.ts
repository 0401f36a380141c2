/**
 * CPU seconds the PostgreSQL server spent, read from /proc when the server runs on this machine
 * (the throwaway cluster does). Wall time on a shared 2-core machine depends on what else runs;
 * the CPU a load costs does not, and the busiest single process is its critical path (one
 * backend cannot use two cores). Both are reported next to the wall time of each load.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Sql } from '../db/connect.ts';

const TICKS = 100; // USER_HZ: 100 on every Linux ABI PostgreSQL runs on

export interface CpuSample {
  /** per live server process: pid -> utime + stime (s) */
  processes: Map<number, number>;
  /** CPU of children the postmaster has already reaped (ended backends, workers) + its own */
  reaped: number;
}

export interface CpuUsage {
  /** server CPU seconds over the interval, all processes */
  total_seconds: number;
  /** CPU seconds of the busiest single process: the critical path */
  busiest_process_seconds: number;
}

function stat(pid: number): number[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" of the command name; field 3 (state) is index 0 here
    return text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
  } catch {
    return undefined;
  }
}

/** The postmaster's pid if the server behind `sql` runs on this machine, else undefined. */
export async function localPostmaster(sql: Sql): Promise<number | undefined> {
  if (!existsSync('/proc/self/stat')) return undefined;
  const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const s = stat(row!.pid);
  if (!s) return undefined; // another machine (or container)
  const ppid = s[1]!;
  return readFileSync(`/proc/${ppid}/cmdline`, 'utf8').includes('postgres') ? ppid : undefined;
}

export function sampleCpu(postmaster: number): CpuSample {
  const processes = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s && s[1] === postmaster) processes.set(Number(entry), (s[11]! + s[12]!) / TICKS);
  }
  const pm = stat(postmaster);
  return { processes, reaped: pm ? (pm[11]! + pm[12]! + pm[13]! + pm[14]!) / TICKS : 0 };
}

export function cpuBetween(a: CpuSample, b: CpuSample): CpuUsage {
  let total = b.reaped - a.reaped;
  let busiest = 0;
  for (const [pid, t] of b.processes) {
    const d = t - (a.processes.get(pid) ?? 0);
    total += d;
    busiest = Math.max(busiest, d);
  }
  // A process that ended in between (an idle pooled session timing out) was reaped with its whole
  // lifetime's CPU: what it had spent before `a` is not this interval's.
  for (const [pid, t] of a.processes) if (!b.processes.has(pid)) total -= t;
  return { total_seconds: Math.round(total * 10) / 10, busiest_process_seconds: Math.round(busiest * 10) / 10 };
}

/**
 * Measures `fn`: total server CPU from two samples, and the busiest process from samples taken
 * every 500 ms, so a backend that ends before `fn` returns (an index-build session) still counts.
 */
export async function measureCpu<T>(postmaster: number | undefined, fn: () => Promise<T>): Promise<{ result: T; cpu?: CpuUsage }> {
  if (postmaster === undefined) return { result: await fn() };
  const start = sampleCpu(postmaster);
  const first = new Map(start.processes);
  const last = new Map(start.processes);
  const tick = () => {
    for (const [pid, t] of sampleCpu(postmaster).processes) {
      if (!first.has(pid)) first.set(pid, 0);
      last.set(pid, t);
    }
  };
  const timer = setInterval(tick, 500);
  try {
    const result = await fn();
    tick();
    const end = sampleCpu(postmaster);
    let busiest = 0;
    for (const [pid, t] of last) busiest = Math.max(busiest, t - (first.get(pid) ?? 0));
    const { total_seconds } = cpuBetween(start, end);
    return { result, cpu: { total_seconds, busiest_process_seconds: Math.round(busiest * 10) / 10 } };
  } finally {
    clearInterval(timer);
  }
}
