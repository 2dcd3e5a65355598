-- reckon migrate: the ledger and the id map, created in the target on the first real run.
-- {ledger} and {idmap} are replaced by the quoted table names. Never row values, never credentials.
CREATE TABLE IF NOT EXISTS {ledger} (
    plan varchar(190) NOT NULL,
    unit varchar(190) NOT NULL,
    run bigint NOT NULL,
    batch bigint NOT NULL,
    kind text NOT NULL,
    ordinal bigint NOT NULL,
    unit_checksum text NOT NULL,
    plan_checksum text NOT NULL,
    status text NOT NULL,
    rows_read bigint NOT NULL,
    rows_written bigint NOT NULL,
    first_key text,
    last_key text,
    key_hash text,
    source_hash text,
    target_hash text,
    watermark text,
    started_at text NOT NULL,
    finished_at text NOT NULL,
    seconds double NOT NULL,
    error_class text,
    error text,
    PRIMARY KEY (plan, unit, run, batch)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE TABLE IF NOT EXISTS {idmap} (
    plan varchar(190) NOT NULL,
    unit varchar(190) NOT NULL,
    old_key varchar(300) NOT NULL,
    new_id bigint NOT NULL,
    PRIMARY KEY (plan, unit, old_key)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
