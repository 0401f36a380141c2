/**
 * A snapshot of the public schema as the catalog describes it: every relation, column (type,
 * default, nullability), constraint, index, view definition, enum label and trigger. Two snapshots
 * are equal exactly when the schemas are, which is what "up -> down -> up is identical" means.
 */
import type { Sql } from '../../src/db/connect.ts';

export async function catalogSnapshot(sql: Sql, schema = 'public'): Promise<string[]> {
  const rows = await sql<{ line: string }[]>`
    select 'relation ' || c.relname || ' ' || c.relkind::text as line
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relkind in ('r','v','m','S','p')
    union all
    select 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || case when a.attnotnull then ' not null' else '' end
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where n.nspname = ${schema} and a.attnum > 0 and not a.attisdropped and c.relkind in ('r','v','m','p')
    union all
    select 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || case when k.convalidated then '' else ' NOT VALID' end
      from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema}
    union all
    select 'index ' || pg_get_indexdef(i.indexrelid) || case when i.indisvalid then '' else ' INVALID' end
      from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema}
    union all
    select 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid)
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and c.relkind in ('v','m')
    union all
    select 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' order by e.enumsortorder)
      from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
     where n.nspname = ${schema}
     group by t.typname
    union all
    select 'trigger ' || c.relname || ' ' || t.tgname
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and not t.tgisinternal
    order by 1`;
  // The node-pg-migrate ledger is bookkeeping, not the schema being compared.
  return rows.map((r) => r.line).filter((l) => !/\bpgmigrations/.test(l));
}
