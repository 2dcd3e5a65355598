-- `reckon profile --pushdown`, PostgreSQL: what SQL computes exactly, per column family. {c} is a
-- column, quoted. Every value comes back as text; a NULL where there is none.
--
-- Text compares under the C collation: byte equality, whatever the column's collation (a
-- nondeterministic ICU collation would merge 'a' and 'A').

-- name: table
SELECT count(*)::text{cols} FROM {table}
-- name: nulls
(count(*) - count({c}))::text
-- name: distinct.int
count(DISTINCT {c})::text
-- name: min.int
min({c})::text
-- name: max.int
max({c})::text
-- name: distinct.date
count(DISTINCT {c})::text
-- name: min.date
-- ISO text (the session's DateStyle): a BC date ends in ' BC' and is left to the stream.
-- Infinities are counted apart, as the profile counts them.
(min({c}) FILTER (WHERE isfinite({c})))::text
-- name: max.date
(max({c}) FILTER (WHERE isfinite({c})))::text
-- name: distinct.text
count(DISTINCT {c} COLLATE "C")::text
-- name: empty.text
count(*) FILTER (WHERE char_length({c}) = 0)::text
-- Lengths in characters (code points), as the profile counts them; the mean is the sum over the
-- non-NULL values.
-- name: lenmin.text
min(char_length({c}))::text
-- name: lenmax.text
max(char_length({c}))::text
-- name: lensum.text
sum(char_length({c}))::text
-- Doubles' extremes without NaN (which the profile counts apart), as text that reads back to the
-- same double (extra_float_digits = 3).
-- Reals are widened to doubles exactly, as reckon reads them.
-- name: min.float
(min({c}) FILTER (WHERE {c} <> 'NaN'))::float8::text
-- name: max.float
(max({c}) FILTER (WHERE {c} <> 'NaN'))::float8::text
-- Text's extremes in code-point order, as reckon orders text, whatever the column's collation:
-- the C collation's byte order, which is code-point order in a UTF8 database (in another
-- encoding, none is given, and the stream's are kept).
-- name: min.text
(CASE WHEN current_setting('server_encoding') = 'UTF8' THEN min({c} COLLATE "C") END)
-- name: max.text
(CASE WHEN current_setting('server_encoding') = 'UTF8' THEN max({c} COLLATE "C") END)
-- Decimals of one declared scale: the extremes' text ('NaN' and 'Infinity' sort past every
-- number, and leave them to the stream), the exact sum and the sample deviation.
-- name: min.decimal
min({c})::text
-- name: max.decimal
max({c})::text
-- name: sum.num
sum({c})::text
-- name: std.num
stddev_samp({c})::text
-- Instants and local date-times as microseconds since 1970-01-01 (UTC, or nominal), exactly:
-- the binary value counts them from 2000-01-01. Infinities are counted apart.
-- name: min.micros.tz
(('x' || encode(timestamptz_send(min({c}) FILTER (WHERE isfinite({c}))), 'hex'))::bit(64)::int8 + 946684800000000)::text
-- name: max.micros.tz
(('x' || encode(timestamptz_send(max({c}) FILTER (WHERE isfinite({c}))), 'hex'))::bit(64)::int8 + 946684800000000)::text
-- name: min.micros.local
(('x' || encode(timestamp_send(min({c}) FILTER (WHERE isfinite({c}))), 'hex'))::bit(64)::int8 + 946684800000000)::text
-- name: max.micros.local
(('x' || encode(timestamp_send(max({c}) FILTER (WHERE isfinite({c}))), 'hex'))::bit(64)::int8 + 946684800000000)::text
-- name: sample
-- A hash of the row's text ({rel} is the table's own name): the same rows on every run of an
-- unchanged table, views included, and after a dump and restore.
(hashtext(ROW({rel}.*)::text) & 2147483647) < {limit}
-- name: distinct.numeric
count(DISTINCT {c}::text)::text
-- name: distinct.float8
count(DISTINCT float8send({c}))::text
-- name: distinct.float4
count(DISTINCT float4send({c}))::text
-- name: distinct.value
count(DISTINCT {c})::text
-- Declared foreign keys of a sampled table, checked over both whole tables: distinct child
-- values, those with no parent, and the child rows holding them; then the most frequent orphans
-- (ties in byte order of their text, as the streamed check orders them). {child_value} and
-- {parent_value} are the columns as compared: integers as numbers, text by its bytes.
-- name: fk.value.int
{c}
-- name: fk.value.text
{c} COLLATE "C"
-- name: fk.pairs
(SELECT {child_value} AS v FROM {child} WHERE {child_col} IS NOT NULL) c LEFT JOIN (SELECT DISTINCT {parent_value} AS v FROM {parent} WHERE {parent_col} IS NOT NULL) p ON c.v = p.v
-- name: fk.check
SELECT count(DISTINCT c.v)::text, (count(DISTINCT c.v) FILTER (WHERE p.v IS NULL))::text, (count(*) FILTER (WHERE p.v IS NULL))::text FROM {pairs}
-- name: fk.orphans
SELECT c.v::text, count(*)::text FROM {pairs} WHERE p.v IS NULL GROUP BY c.v ORDER BY count(*) DESC, c.v::text COLLATE "C" LIMIT {n}
-- The declared primary key of a sampled table: rows, rows holding a NULL in it, and distinct
-- keys among the others, each column compared as reckon compares it (text by its bytes,
-- decimals by their text).
-- name: key.value.plain
{c}
-- name: key.value.text
textsend({c})
-- name: key.value.decimal
{c}::text
-- name: key.check
SELECT count(*)::text, (count(*) FILTER (WHERE {any_null}))::text, (count(DISTINCT ({values})) FILTER (WHERE NOT ({any_null})))::text FROM {table}
