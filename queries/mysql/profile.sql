-- `reckon profile --pushdown`, MySQL/MariaDB: what SQL computes exactly, per column family. {c} is
-- a column, quoted. Every value comes back as text; a NULL where there is none.
--
-- Text compares by its bytes (CAST … AS BINARY): the column's collation would merge 'a' and 'A',
-- and under PAD SPACE 'a' and 'a '. Emptiness is a length of 0 ('' = ' ' under PAD SPACE).

-- name: table
SELECT CAST(COUNT(*) AS CHAR){cols} FROM {table}
-- name: nulls
CAST(COUNT(*) - COUNT({c}) AS CHAR)
-- name: distinct.int
CAST(COUNT(DISTINCT {c}) AS CHAR)
-- name: min.int
CAST(MIN({c}) AS CHAR)
-- name: max.int
CAST(MAX({c}) AS CHAR)
-- name: distinct.text
CAST(COUNT(DISTINCT CAST({c} AS BINARY)) AS CHAR)
-- name: empty.text
CAST(SUM(CASE WHEN CHAR_LENGTH({c}) = 0 THEN 1 ELSE 0 END) AS CHAR)
-- name: sample
RAND(1) < {fraction}
