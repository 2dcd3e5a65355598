-- Columns of one table or view: name, declared type, NOT NULL flag, position in the primary key
-- (0 = none). table_xinfo, not table_info: generated (computed) columns are columns too
-- (hidden 2 = virtual, 3 = stored); hidden 1 (virtual-table internals) is left out.
SELECT name, type, "notnull", pk FROM pragma_table_xinfo(?1) WHERE hidden IN (0, 2, 3) ORDER BY cid
