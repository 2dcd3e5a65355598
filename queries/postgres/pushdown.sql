-- reckon diff --pushdown, PostgreSQL (13 or later: trim_scale).
-- Sections start with "-- name: <name>". {c} is a column, {t} a text expression, {n} the
-- number of buckets, {table} the table, {where} a condition; a field is NULL when its column is
-- NULL (the row text then says 'Z'). The grammar and why each payload is injective:
-- docs/design/pushdown-sql.md.

-- Text is length-prefixed by its UTF-8 bytes (the hash reads the row text as UTF-8), whatever
-- the server's encoding.

-- name: join
 || 
-- name: null
COALESCE({x}, 'Z')
-- name: int
'n' || {c}::text || ';'
-- name: int_bool
CASE WHEN {c} IN (0, 1) THEN 'o' ELSE 'n' END || {c}::text || ';'
-- name: numeric
-- (NaN and ±Infinity come out as their names: letters no number has.)
'n' || trim_scale({c})::text || ';'
-- name: float
'f' || encode(float8send({c}::float8), 'hex') || ';'
-- name: bool
'o' || {c}::int::text || ';'
-- name: text
't' || octet_length(convert_to({c}::text, 'UTF8'))::text || ':' || {c}::text
-- name: padded
-- (format('%s', NULL) is '', so NULL is kept apart first.)
CASE WHEN {c} IS NOT NULL THEN 't' || octet_length(convert_to(format('%s', {c}), 'UTF8'))::text || ':' || format('%s', {c}) END
-- name: bytes
'b' || encode({c}, 'hex') || ';'
-- name: date
'd' || CASE WHEN isfinite({c}) THEN ({c} - DATE '1970-01-01')::text ELSE {c}::text END || ';'
-- name: instant
'i' || CASE WHEN isfinite({c}) THEN trim_scale(extract(epoch FROM {c}) * 1000000)::text ELSE {c}::text END || ';'
-- name: local
'l' || CASE WHEN isfinite({c}) THEN trim_scale(extract(epoch FROM {c}) * 1000000)::text ELSE {c}::text END || ';'
-- name: time
'h' || trim_scale(extract(epoch FROM {c}) * 1000000)::text || ';'
-- name: hash
('x' || left(encode(sha256(convert_to({t}, 'UTF8')), 'hex'), 16))::bit(64)::bigint
-- name: bucket
('x' || left(encode(sha256(convert_to({t}, 'UTF8')), 'hex'), 8))::bit(32)::bigint % {n}
-- name: summary
-- (Run with enable_sort off: the planner cannot estimate the buckets, and would sort every row
-- to group them. src/source/sql.rs sets it for pushdown connections.)
-- (OFFSET 0 keeps the planner from pulling the subquery up: it would then compute the row hash once
-- for count(h) and again for sum(h), a third more time on 5M rows.)
SELECT b, count(*)::bigint AS n, count(h)::bigint AS m, sum(h)::text AS s{counts} FROM (SELECT {bucket} AS b, {hash} AS h{cols} FROM {table} WHERE {where} OFFSET 0) r GROUP BY b
-- name: count
count({c})::bigint AS c{i}
-- Column aggregates as a streamed diff computes them (sum, min, max, as text); numbers other
-- than plain decimals (NaN, ±Infinity) are left out, as there; text in byte order.
-- name: agg.clean.dec
CASE WHEN {c}::text IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE {c} END
-- name: agg.int
sum({c})::text, min({c})::text, max({c})::text
-- name: agg.dec
sum({c})::text, min({c})::text, max({c})::text
-- name: agg.text
NULL::text, min({c} COLLATE "C")::text, max({c} COLLATE "C")::text
-- name: agg.bool
(CASE WHEN count({c}) > 0 THEN count(*) FILTER (WHERE {c}) END)::text, bool_and({c})::text, bool_or({c})::text
-- name: agg.date
NULL::text, min({c})::text, max({c})::text
-- name: counts
SELECT {counts} FROM {table} WHERE {where}
-- The smallest and largest key, when it is one integer column (through its index).
-- name: key_range
SELECT min({c})::text, max({c})::text FROM {table}
-- name: tuples
SELECT ({key_hash})::bigint AS k, {hash} AS h, ({value})::bigint AS v FROM {table} WHERE {where}
-- name: duplicates
SELECT count(*)::bigint AS n FROM (SELECT {key_hash} AS k FROM {table} WHERE {where} GROUP BY 1 HAVING count(*) > 1) d

-- PostgreSQL on both sides, every column of one family on both: the types' own extended hash
-- functions (those of hash partitioning) replace the row text, several times cheaper. {seed} is
-- the column's position: the same value in two columns hashes apart. Only hashes over all the
-- value's bytes are used: hashint8extended folds a bigint to 32 bits (so do the timestamp and
-- time hashes, which call it), so 64-bit values are hashed through their text. A float is hashed
-- by its bits when it is zero or NaN (hashfloat8 merges -0 with 0 and every NaN); text under the
-- C collation (a nondeterministic collation would merge 'a' and 'A'); CHAR only faces CHAR (its
-- hash, like the diff's char-pad, leaves out trailing spaces).
-- name: native.null
COALESCE({x}, -{seed})
-- name: native.mix
hashtextextended(({x})::text, {seed})
-- name: native.bucket
((({k}) >> 32) & 4294967295) % {n}
-- A key of one integer column: its bucket needs no key hash of its own (the bucket only splits
-- the rows, so hashint8extended's folding of 64 bits into 32 is harmless here; the key hash,
-- which must tell keys apart, keeps the text). A NULL key has a bucket too.
-- name: native.bucket_int
((COALESCE(hashint8extended({c}::int8, 1), 0) >> 32) & 4294967295) % {n}
-- name: native.int
hashtextextended({c}::text, {seed})
-- name: native.int4
hashint4extended({c}::int4, {seed})
-- name: native.numeric
hash_numeric_extended({c}, {seed})
-- name: native.float
CASE WHEN {c}::float8 = 0 OR {c}::float8 = 'NaN' THEN hashtextextended(encode(float8send({c}::float8), 'hex'), {seed}) ELSE hashfloat8extended({c}::float8, {seed}) END
-- name: native.text
hashtextextended({c}::text COLLATE "C", {seed})
-- name: native.bpchar
hashbpcharextended({c} COLLATE "C", {seed})
-- name: native.bool
hashint4extended({c}::int4, {seed})
-- name: native.bytes
hashtextextended(encode({c}, 'hex'), {seed})
-- name: native.date
CASE WHEN isfinite({c}) THEN hashint4extended({c} - DATE '2000-01-01', {seed}) ELSE hashtextextended({c}::text, {seed}) END
-- Temporal values by their binary form (the 64-bit µs, infinities included), not their text:
-- the same value, several times cheaper than formatting it.
-- name: native.instant
hashtextextended(encode(timestamptz_send({c}), 'hex'), {seed})
-- name: native.local
hashtextextended(encode(timestamp_send({c}), 'hex'), {seed})
-- name: native.time
hashtextextended(encode(time_send({c}), 'hex'), {seed})
