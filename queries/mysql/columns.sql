-- Columns of every table in the URL's database: schema, table, column, declared type, base type,
-- nullability, character set.
SELECT TABLE_SCHEMA AS table_schema,
       TABLE_NAME AS table_name,
       COLUMN_NAME AS column_name,
       CAST(COLUMN_TYPE AS CHAR) AS declared_type,
       CAST(DATA_TYPE AS CHAR) AS base_type,
       CASE WHEN IS_NULLABLE = 'YES' THEN 1 ELSE 0 END AS nullable,
       CHARACTER_SET_NAME AS charset
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
