-- Declared foreign keys of one table, one row per column pair.
SELECT "id", "seq", "table", "from", "to" FROM pragma_foreign_key_list(?1) ORDER BY "id", "seq"
