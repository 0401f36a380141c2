-- 005_duplicate_indexes.sql: indexes of schema public made redundant by another index of the
-- same table and method: identical (same columns, expressions, operator classes, predicate),
-- or a leading prefix of it (a B-tree on (a) next to one on (a, b)). A unique index is never
-- reported as redundant (it enforces something); one covered by an INVALID index is not either.
-- Requires: nothing. Read-only.
WITH x AS (
  SELECT i.indexrelid, i.indrelid, c.relam, i.indisunique, i.indisvalid,
         i.indkey::int2[] AS keys,
         i.indclass::oid[] AS opclasses,
         i.indnkeyatts AS nkeys,
         coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
         coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public'
)
SELECT t.relname                        AS table_name,
       a.indexrelid::regclass::text     AS redundant_index,
       b.indexrelid::regclass::text     AS covered_by,
       CASE WHEN a.keys = b.keys AND a.opclasses = b.opclasses THEN 'identical' ELSE 'prefix' END AS kind,
       pg_relation_size(a.indexrelid)   AS redundant_bytes
FROM x a
JOIN x b ON b.indrelid = a.indrelid AND b.relam = a.relam AND b.indexrelid <> a.indexrelid
JOIN pg_class t ON t.oid = a.indrelid
JOIN pg_am am ON am.oid = a.relam
WHERE NOT a.indisunique
  AND b.indisvalid
  AND a.exprs = b.exprs AND a.pred = b.pred
  AND a.nkeys <= b.nkeys
  AND a.keys[0:a.nkeys - 1] = b.keys[0:a.nkeys - 1]
  AND a.opclasses[0:a.nkeys - 1] = b.opclasses[0:a.nkeys - 1]
  -- only B-trees serve a prefix of their keys; other methods must match exactly
  AND (am.amname = 'btree' OR a.nkeys = b.nkeys)
  -- of two identical indexes report one (the higher oid) as redundant
  AND NOT (a.keys = b.keys AND a.opclasses = b.opclasses AND a.nkeys = b.nkeys AND a.indexrelid < b.indexrelid)
ORDER BY t.relname, a.indexrelid::regclass::text;
