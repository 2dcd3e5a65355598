-- Columns of one table: name, declared type, NOT NULL flag, position in the primary key (0 = none).
SELECT name, type, "notnull", pk FROM pragma_table_info(?1) ORDER BY cid
