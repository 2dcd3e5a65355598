//! The SQL a target runs: ledger rows, upserts, multi-row inserts.

use super::*;

pub(super) fn ledger_values(r: &LedgerRow) -> Vec<Val> {
    let t = |s: &str| Val::T(Some(s.to_string()));
    vec![
        t(&r.plan),
        t(&r.unit),
        Val::I(r.run),
        Val::I(r.batch),
        t(&r.kind),
        Val::I(r.ordinal),
        t(&r.unit_checksum),
        t(&r.plan_checksum),
        t(&r.status),
        Val::I(r.rows_read),
        Val::I(r.rows_written),
        Val::T(r.first_key.clone()),
        Val::T(r.last_key.clone()),
        Val::T(r.key_hash.clone()),
        Val::T(r.source_hash.clone()),
        Val::T(r.target_hash.clone()),
        Val::T(r.watermark.clone()),
        t(&r.started_at),
        t(&r.finished_at),
        Val::F(r.seconds),
        Val::T(r.error_class.clone()),
        Val::T(r.error.clone()),
    ]
}

pub(super) fn ledger_from_text(r: &[Option<String>]) -> Result<LedgerRow, MigrateError> {
    let s = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
    let o = |i: usize| r.get(i).cloned().flatten();
    let n = |i: usize| s(i).parse::<i64>().unwrap_or(0);
    Ok(LedgerRow {
        plan: s(0),
        unit: s(1),
        run: n(2),
        batch: n(3),
        kind: s(4),
        ordinal: n(5),
        unit_checksum: s(6),
        plan_checksum: s(7),
        status: s(8),
        rows_read: n(9),
        rows_written: n(10),
        first_key: o(11),
        last_key: o(12),
        key_hash: o(13),
        source_hash: o(14),
        target_hash: o(15),
        watermark: o(16),
        started_at: s(17),
        finished_at: s(18),
        seconds: s(19).parse().unwrap_or(0.0),
        error_class: o(20),
        error: o(21),
    })
}

pub(super) fn ledger_upsert(kind: Kind, ledger: &str) -> String {
    let cols = LEDGER_COLUMNS.join(", ");
    let marks: Vec<String> = (1..=LEDGER_COLUMNS.len())
        .map(|i| {
            if kind == Kind::Postgres {
                format!("${i}")
            } else {
                "?".into()
            }
        })
        .collect();
    let rest = &LEDGER_COLUMNS[4..];
    match kind {
        Kind::Mysql => format!(
            "INSERT INTO {ledger} ({cols}) VALUES ({}) ON DUPLICATE KEY UPDATE {}",
            marks.join(", "),
            rest.iter().map(|c| format!("{c} = VALUES({c})")).collect::<Vec<_>>().join(", ")
        ),
        _ => format!(
            "INSERT INTO {ledger} ({cols}) VALUES ({}) ON CONFLICT (plan, unit, run, batch) DO UPDATE SET {}",
            marks.join(", "),
            rest.iter().map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub(super) fn col_list(batch: &RecordBatch, kind: Kind) -> String {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| q(f.name(), kind))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The batch's column names, in order.
fn field_names(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// The upsert from the staging table (PostgreSQL) or one row of parameters (SQLite).
pub(super) fn upsert_sql(
    kind: Kind,
    table: &str,
    batch: &RecordBatch,
    conflict: &[String],
    overriding: bool,
    stage: &str,
) -> String {
    let names = field_names(batch);
    let cols = col_list(batch, kind);
    let others: Vec<&String> = names.iter().filter(|n| !conflict.contains(n)).collect();
    let conflict_list = conflict
        .iter()
        .map(|c| q(c, kind))
        .collect::<Vec<_>>()
        .join(", ");
    let action = if others.is_empty() {
        "DO NOTHING".to_string()
    } else {
        let set = others
            .iter()
            .map(|c| {
                let c = q(c, kind);
                format!("{c} = excluded.{c}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let cond = match kind {
            Kind::Postgres => format!(
                "({}) IS DISTINCT FROM ({})",
                others
                    .iter()
                    .map(|c| format!("{table}.{}::text", q(c, kind)))
                    .collect::<Vec<_>>()
                    .join(", "),
                others
                    .iter()
                    .map(|c| format!("excluded.{}::text", q(c, kind)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => others
                .iter()
                .map(|c| {
                    let c = q(c, kind);
                    format!("{table}.{c} IS NOT excluded.{c}")
                })
                .collect::<Vec<_>>()
                .join(" OR "),
        };
        format!("DO UPDATE SET {set} WHERE {cond}")
    };
    match kind {
        Kind::Postgres => format!(
            "INSERT INTO {table} ({cols}) {}SELECT {cols} FROM {stage} ON CONFLICT ({conflict_list}) {action}",
            if overriding { "OVERRIDING SYSTEM VALUE " } else { "" }
        ),
        _ => format!(
            "INSERT INTO {table} ({cols}) VALUES ({}) ON CONFLICT ({conflict_list}) {action}",
            vec!["?"; names.len()].join(", ")
        ),
    }
}

pub(super) fn rows_per_statement(columns: usize) -> usize {
    (60_000 / columns.max(1)).clamp(1, 2_000)
}

pub(super) fn my_insert(
    table: &str,
    batch: &RecordBatch,
    conflict: Option<&[String]>,
) -> Result<(String, Vec<mysql::Value>), MigrateError> {
    let names = field_names(batch);
    let cols = col_list(batch, Kind::Mysql);
    let row = format!("({})", vec!["?"; names.len()].join(", "));
    let mut sql = format!(
        "INSERT INTO {table} ({cols}) VALUES {}",
        vec![row.as_str(); batch.num_rows()].join(", ")
    );
    if let Some(conflict) = conflict {
        let others: Vec<&String> = names.iter().filter(|n| !conflict.contains(n)).collect();
        let set = if others.is_empty() {
            let k = q(&conflict[0], Kind::Mysql);
            format!("{k} = {k}")
        } else {
            others
                .iter()
                .map(|c| {
                    let c = q(c, Kind::Mysql);
                    format!("{c} = VALUES({c})")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        sql.push_str(&format!(" ON DUPLICATE KEY UPDATE {set}"));
    }
    let enc = Encoders::new(batch)?;
    let mut params = Vec::with_capacity(batch.num_rows() * names.len());
    for r in 0..batch.num_rows() {
        enc.my_row(r, &mut params);
    }
    Ok((sql, params))
}

pub(super) fn my_upsert(
    tx: &mut mysql::Conn,
    table: &str,
    batch: &RecordBatch,
    conflict: &[String],
    display: &str,
) -> Result<u64, MigrateError> {
    use mysql::prelude::Queryable;
    let per = rows_per_statement(batch.num_columns());
    let mut written = 0;
    let mut r0 = 0;
    while r0 < batch.num_rows() {
        let n = per.min(batch.num_rows() - r0);
        let (sql, params) = my_insert(table, &batch.slice(r0, n), Some(conflict))?;
        tx.exec_drop(&sql, params).map_err(|e| werr(display, e))?;
        written += tx.affected_rows();
        r0 += n;
    }
    Ok(written)
}
