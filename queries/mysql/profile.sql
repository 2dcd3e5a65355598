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
-- Lengths in characters (code points), as the profile counts them; the mean is the sum over the
-- non-NULL values.
-- name: lenmin.text
CAST(MIN(CHAR_LENGTH({c})) AS CHAR)
-- name: lenmax.text
CAST(MAX(CHAR_LENGTH({c})) AS CHAR)
-- name: lensum.text
CAST(SUM(CHAR_LENGTH({c})) AS CHAR)
-- Decimals (one scale per column: by value is by text), doubles (MariaDB stores no -0 and no
-- NaN: by value is by bits), dates, date-times, times and short binary strings (by bytes; not
-- BLOBs, which DISTINCT compares on their first max_sort_length bytes only).
-- name: distinct.value
CAST(COUNT(DISTINCT {c}) AS CHAR)
-- Doubles' extremes (MariaDB stores no NaN), as text that reads back to the same double.
-- name: min.float
CAST(MIN({c}) AS CHAR)
-- name: max.float
CAST(MAX({c}) AS CHAR)
-- TEXT types and BLOBs by their SHA-256 (DISTINCT would compare their first max_sort_length
-- bytes only).
-- name: distinct.blobtext
CAST(COUNT(DISTINCT SHA2({c}, 256)) AS CHAR)
-- name: distinct.blob
CAST(COUNT(DISTINCT SHA2({c}, 256)) AS CHAR)
-- Text's extremes in code-point order (UTF-8 byte order), as reckon orders text: not the
-- collation's order, which ignores case, accents or trailing spaces.
-- name: min.text
CONVERT(MIN(CAST(CONVERT({c} USING utf8mb4) AS BINARY)) USING utf8mb4)
-- name: max.text
CONVERT(MAX(CAST(CONVERT({c} USING utf8mb4) AS BINARY)) USING utf8mb4)
-- Decimals (one scale per column): the extremes' text, the exact sum and the sample deviation
-- (the double at full precision: STDDEV_SAMP's own text keeps four decimals).
-- name: min.decimal
CAST(MIN({c}) AS CHAR)
-- name: max.decimal
CAST(MAX({c}) AS CHAR)
-- name: sum.num
CAST(SUM({c}) AS CHAR)
-- name: std.num
CAST(CAST(STDDEV_SAMP({c}) AS DOUBLE) AS CHAR)
-- Date-times as microseconds since 1970-01-01 (TIMESTAMPs in UTC: the session's time zone);
-- a zero date has none, and leaves the extremes to the stream.
-- name: min.micros.tz
CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', MIN({c})) AS CHAR)
-- name: max.micros.tz
CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', MAX({c})) AS CHAR)
-- name: min.micros.local
CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', MIN({c})) AS CHAR)
-- name: max.micros.local
CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', MAX({c})) AS CHAR)
-- name: sample
RAND(1) < {fraction}
-- Declared foreign keys of a sampled table, checked over both whole tables: distinct child
-- values, those with no parent, and the child rows holding them; then the most frequent orphans
-- (ties in byte order of their text, as the streamed check orders them). {child_value} and
-- {parent_value} are the columns as compared: integers as numbers, text by its bytes (the
-- collation would merge 'a' and 'A').
-- name: fk.value.int
{c}
-- name: fk.value.text
CAST({c} AS BINARY)
-- name: fk.pairs
(SELECT {child_value} AS v FROM {child} WHERE {child_col} IS NOT NULL) c LEFT JOIN (SELECT DISTINCT {parent_value} AS v FROM {parent} WHERE {parent_col} IS NOT NULL) p ON c.v = p.v
-- name: fk.check
SELECT CAST(COUNT(DISTINCT c.v) AS CHAR), CAST(COUNT(DISTINCT CASE WHEN p.v IS NULL THEN c.v END) AS CHAR), CAST(COALESCE(SUM(p.v IS NULL), 0) AS CHAR) FROM {pairs}
-- name: fk.orphans
SELECT CAST(c.v AS CHAR), CAST(COUNT(*) AS CHAR) FROM {pairs} WHERE p.v IS NULL GROUP BY c.v ORDER BY COUNT(*) DESC, CAST(CAST(c.v AS CHAR) AS BINARY) LIMIT {n}
-- The declared primary key of a sampled table: rows, rows holding a NULL in it, and distinct
-- keys among the others (COUNT(DISTINCT a, b) leaves out rows with a NULL), each column
-- compared as reckon compares it (text by its bytes).
-- name: key.value.plain
{c}
-- name: key.value.text
CAST({c} AS BINARY)
-- name: key.value.decimal
{c}
-- name: key.check
SELECT CAST(COUNT(*) AS CHAR), CAST(COALESCE(SUM({any_null}), 0) AS CHAR), CAST(COUNT(DISTINCT {values}) AS CHAR) FROM {table}
