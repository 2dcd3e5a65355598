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
min({c})::text
-- name: max.date
max({c})::text
-- name: distinct.text
count(DISTINCT {c} COLLATE "C")::text
-- name: empty.text
count(*) FILTER (WHERE char_length({c}) = 0)::text
-- name: sample
-- A hash of the row's text ({rel} is the table's own name): the same rows on every run of an
-- unchanged table, views included, and after a dump and restore.
(hashtext(ROW({rel}.*)::text) & 2147483647) < {limit}
-- name: distinct.numeric
count(DISTINCT {c}::text)::text
-- name: distinct.float8
count(DISTINCT float8send({c}))::text
-- name: distinct.value
count(DISTINCT {c})::text
