SET TIME ZONE 'UTC';
SET datestyle = 'ISO, YMD';
SET extra_float_digits = 3;
SET intervalstyle = 'postgres';
SET default_transaction_read_only = on;
SET default_transaction_isolation = 'repeatable read'
