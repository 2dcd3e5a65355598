-- Columns of every user table and view: schema, table, column, declared type (with typmod),
-- base type name, nullability. Names are cast to text: connectorx reads text, not `name`.
SELECT n.nspname::text AS table_schema,
       cl.relname::text AS table_name,
       a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod)::text AS declared_type,
       t.typname::text AS base_type,
       (NOT a.attnotnull) AS nullable
FROM pg_attribute a
JOIN pg_class cl ON cl.oid = a.attrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
WHERE cl.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY n.nspname, cl.relname, a.attnum
