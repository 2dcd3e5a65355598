-- Columns of every user table and view: schema, table, column, declared type (with typmod),
-- base type name, nullability. Names are cast to text: connectorx reads text, not `name`.
-- A column of a domain is declared as the domain's base type (with the domain's typmod): a
-- domain over integer compares as an integer.
SELECT n.nspname::text AS table_schema,
       cl.relname::text AS table_name,
       a.attname::text AS column_name,
       format_type(t.oid, CASE WHEN d.typtype = 'd' THEN d.typtypmod ELSE a.atttypmod END)::text
           AS declared_type,
       t.typname::text AS base_type,
       (NOT a.attnotnull) AS nullable
FROM pg_attribute a
JOIN pg_class cl ON cl.oid = a.attrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
JOIN pg_type d ON d.oid = a.atttypid
JOIN pg_type t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END
WHERE cl.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY n.nspname, cl.relname, a.attnum
