-- reckon diff --pushdown, SQLite. Sections start with "-- name: <name>"; the placeholders and
-- the row text's grammar are those of queries/postgres/pushdown.sql (docs/design/pushdown-sql.md).
--
-- SQLite types values, not columns: a column is pushed down only when every value of it has one
-- storage class (INTEGER, REAL, TEXT or BLOB, besides NULL), which is also what the streamed read
-- needs to give it one Arrow type. Each field still checks its value's class: a value of another
-- class (written after the classes were counted) gives '?', which no other engine writes, so its
-- bucket differs and the engine decides.
--
-- SQLite has no SHA-256 and no exact 128-bit sum: reckon registers them on every connection it
-- opens (src/source/sqlite_pushdown.rs): reckon_hash(t) (the first 8 bytes of SHA-256 of t's
-- bytes, big-endian, signed), reckon_bucket(t) (the first 4, unsigned), reckon_sum(x) (the exact
-- sum of integers, as text) and reckon_f64bits(x) (a REAL's 64 bits, 16 lower-case hex digits,
-- as PostgreSQL's float8send).

-- name: join
 || 
-- name: null
COALESCE({x}, 'Z')
-- name: int
CASE typeof({c}) WHEN 'integer' THEN 'n' || {c} || ';' WHEN 'null' THEN NULL ELSE '?' END
-- name: int_bool
CASE typeof({c}) WHEN 'integer' THEN CASE WHEN {c} IN (0, 1) THEN 'o' ELSE 'n' END || {c} || ';' WHEN 'null' THEN NULL ELSE '?' END
-- name: float
CASE typeof({c}) WHEN 'real' THEN 'f' || reckon_f64bits({c}) || ';' WHEN 'null' THEN NULL ELSE '?' END
-- name: text
-- (length() of a BLOB counts bytes; the text's own bytes follow, valid UTF-8 or not.)
CASE typeof({c}) WHEN 'text' THEN 't' || length(CAST({c} AS BLOB)) || ':' || {c} WHEN 'null' THEN NULL ELSE '?' END
-- name: bytes
CASE typeof({c}) WHEN 'blob' THEN 'b' || lower(hex({c})) || ';' WHEN 'null' THEN NULL ELSE '?' END
-- name: hash
reckon_hash({t})
-- name: bucket
reckon_bucket({t}) % {n}
-- name: summary
-- (The LIMIT keeps SQLite from flattening the subquery, which would call reckon_hash once per
-- aggregate that reads h.)
SELECT b, count(*) AS n, count(h) AS m, reckon_sum(h) AS s{counts} FROM (SELECT {bucket} AS b, {hash} AS h{cols} FROM {table} WHERE {where} LIMIT -1) r GROUP BY b
-- name: count
count({c}) AS c{i}
-- Column aggregates as a streamed diff computes them: integers' exact sum (SQLite's own sum()
-- fails past 64 bits), and text in byte order whatever the column's declared collation.
-- name: agg.int
reckon_sum({c}), CAST(min({c}) AS TEXT), CAST(max({c}) AS TEXT)
-- name: agg.text
NULL, min({c} COLLATE BINARY), max({c} COLLATE BINARY)
-- name: counts
SELECT {counts} FROM {table} WHERE {where}
-- The smallest and largest key, when it is one integer column (through its index).
-- name: key_range
SELECT CAST(min({c}) AS TEXT), CAST(max({c}) AS TEXT) FROM {table}
-- name: tuples
SELECT {key_hash} AS k, {hash} AS h, {value} AS v FROM {table} WHERE {where}
-- name: duplicates
SELECT count(*) AS n FROM (SELECT {key_hash} AS k FROM {table} WHERE {where} GROUP BY 1 HAVING count(*) > 1) d
