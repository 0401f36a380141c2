/**
 * Durations as operators write them for PostgreSQL ('50ms', '3s', '2min'), validated and turned
 * into milliseconds for flags such as --batch-time and --write-window.
 */
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000 };

export function durationMs(limits: { min: number; max: number }) {
  return z
    .string()
    .regex(/^\d+(ms|s|min)?$/, 'use a duration such as 50ms, 3s or 1min')
    .transform((v) => {
      const [, n, unit] = /^(\d+)(ms|s|min)?$/.exec(v)!;
      return Number(n) * UNIT_MS[unit ?? 'ms']!;
    })
    .refine((ms) => ms >= limits.min && ms <= limits.max, `choose between ${limits.min} ms and ${limits.max / 1000} s`);
}
