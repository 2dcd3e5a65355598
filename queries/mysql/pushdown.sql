-- reckon diff --pushdown, MySQL/MariaDB (a '+00:00', utf8mb4 session: session.sql).
-- Sections start with "-- name: <name>". {c} is a column, {t} a text expression, {n} the
-- number of buckets, {table} the table, {where} a condition; a field is NULL when its column is
-- NULL (the row text then says 'Z'). The grammar and why each payload is injective:
-- docs/design/pushdown-sql.md. Zero dates ('0000-00-00', a zero month or day) are their text
-- under their own tag, never a number.

-- name: join
, 
-- name: null
COALESCE({x}, 'Z')
-- name: int
CONCAT('n', {c}, ';')
-- name: int_bool
CONCAT(IF({c} IN (0, 1), 'o', 'n'), {c}, ';')
-- name: numeric
CONCAT('n', IF(LOCATE('.', {c}) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {c})), {c}), ';')
-- name: float_e0
FLOOR(LOG2(ABS({c})))
-- name: float_m0
(ABS({c}) * POW(2, -({e0} DIV 2)) * POW(2, -({e0}) + ({e0} DIV 2)))
-- name: float_fe
({e0} + ({m0} >= 2) - ({m0} < 1))
-- name: float_fm
(CASE WHEN {m0} >= 2 THEN {m0} / 2 WHEN {m0} < 1 THEN {m0} * 2 ELSE {m0} END)
-- A DOUBLE facing PostgreSQL: its IEEE bits, as PostgreSQL's float8send gives them, by exact
-- arithmetic (MariaDB has no bit cast): the exponent from LOG2, corrected by one where LOG2 is
-- off near a power of two; scaling by powers of two is exact, in two steps so that 2^1074 does
-- not overflow. Verified on 60,698 doubles (subnormals, extremes, negatives): memo §1.
-- name: float
CONCAT('f', LPAD(LOWER(HEX((({c} < 0) << 63) | CASE WHEN {c} = 0 THEN 0 WHEN {fe} < -1022 THEN CAST(ABS({c}) * POW(2, 537) * POW(2, 537) AS UNSIGNED) ELSE (({fe} + 1023) << 52) | CAST(({fm} - 1) * POW(2, 52) AS UNSIGNED) END)), 16, '0'), ';')
-- A DOUBLE facing MariaDB: its shortest text, which round-trips (injective on MariaDB).
-- name: double_text
CONCAT('g', CAST({c} AS CHAR), ';')
-- name: text
CONCAT('t', LENGTH(CONVERT({c} USING utf8mb4)), ':', CONVERT({c} USING utf8mb4))
-- name: bytes
CONCAT('b', LOWER(HEX({c})), ';')
-- name: date
IF(MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0, CONCAT('z', CAST({c} AS CHAR), ';'), CONCAT('d', DATEDIFF({c}, '1970-01-01'), ';'))
-- name: instant
IF(MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0, CONCAT('z', CAST({c} AS CHAR), ';'), CONCAT('i', CAST(UNIX_TIMESTAMP({c}) * 1000000 AS SIGNED), ';'))
-- name: local
IF(MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0, CONCAT('z', CAST({c} AS CHAR), ';'), CONCAT('l', TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {c}), ';'))
-- name: time
CONCAT('h', CAST(TIME_TO_SEC({c}) * 1000000 AS SIGNED), ';')
-- name: hash
CAST(CONV(LEFT(SHA2({t}, 256), 16), 16, 10) AS SIGNED)
-- name: bucket
CAST(CONV(LEFT(SHA2({t}, 256), 8), 16, 10) AS UNSIGNED) % {n}
-- name: summary
-- (The LIMIT keeps MariaDB from merging the derived table into the grouping, which computed the
-- hashes over and over: 28 s against 2 s on 1M rows.)
SELECT SQL_BIG_RESULT b, CAST(COUNT(*) AS SIGNED) AS n, CAST(COUNT(h) AS SIGNED) AS m, CAST(SUM(h) AS CHAR) AS s{counts} FROM (SELECT {bucket} AS b, {hash} AS h{cols} FROM {table} WHERE {where} LIMIT 18446744073709551615) r GROUP BY b
-- name: count
CAST(COUNT({c}) AS SIGNED) AS c{i}
-- Column aggregates as a streamed diff computes them (sum, min, max, as text); text in the
-- byte order of its UTF-8.
-- name: agg.clean.dec
{c}
-- name: agg.int
CAST(SUM({c}) AS CHAR), CAST(MIN({c}) AS CHAR), CAST(MAX({c}) AS CHAR)
-- name: agg.dec
CAST(SUM({c}) AS CHAR), CAST(MIN({c}) AS CHAR), CAST(MAX({c}) AS CHAR)
-- name: agg.text
CAST(NULL AS CHAR), CONVERT(MIN(CAST(CONVERT({c} USING utf8mb4) AS BINARY)) USING utf8mb4), CONVERT(MAX(CAST(CONVERT({c} USING utf8mb4) AS BINARY)) USING utf8mb4)
-- name: counts
SELECT {counts} FROM {table} WHERE {where}
-- The smallest and largest key, when it is one integer column (through its index).
-- name: key_range
SELECT CAST(MIN({c}) AS CHAR), CAST(MAX({c}) AS CHAR) FROM {table}
-- name: tuples
SELECT {key_hash} AS k, {hash} AS h, {value} AS v FROM {table} WHERE {where}
-- name: duplicates
SELECT CAST(COUNT(*) AS SIGNED) AS n FROM (SELECT {key_hash} AS k FROM {table} WHERE {where} GROUP BY 1 HAVING COUNT(*) > 1) d
