//! MariaDB/MySQL's bulk path: `LOAD DATA LOCAL INFILE` from memory (the driver answers the
//! server's file request with the batch, tab-separated), for a batch going straight into a table
//! that held no row when the unit's transaction began.
//!
//! The values are the ones the `INSERT` path binds ([`Encoders::my_row`]), written as text.
//! Because the server reads a `LOCAL` file as if `IGNORE` were given (an error on a row, a
//! duplicate key, a value the column cannot hold, becomes a warning and the row is skipped or
//! cut), any warning, or a row count other than the batch's, fails the batch, naming the
//! server's first warnings; the unit's transaction then rolls back. A batch holding bytes goes
//! through `INSERT` (the file's character set would apply to them).

use std::io::Write as _;

use mysql::prelude::Queryable;

use super::*;

/// Loads `batch` into `table` (quoted); `Ok(None)` when the batch holds a binary column.
pub(super) fn my_load(
    tx: &mut mysql::Conn,
    table: &str,
    batch: &RecordBatch,
    display: &str,
) -> Result<Option<u64>, MigrateError> {
    let enc = Encoders::new(batch)?;
    if enc.cols.iter().any(|c| matches!(c, Enc::Bin(_))) {
        return Ok(None);
    }
    let mut data: Vec<u8> = Vec::with_capacity(batch.num_rows() * 64);
    let mut row = Vec::with_capacity(batch.num_columns());
    for r in 0..batch.num_rows() {
        row.clear();
        enc.my_row(r, &mut row);
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                data.push(b'\t');
            }
            field(v, &mut data);
        }
        data.push(b'\n');
    }
    let cols = col_list(batch, Kind::Mysql);
    tx.set_local_infile_handler(Some(mysql::LocalInfileHandler::new(move |_, w| {
        w.write_all(&data)
    })));
    let sql = format!(
        "LOAD DATA LOCAL INFILE 'reckon-batch' INTO TABLE {table} CHARACTER SET utf8mb4 \
         FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({cols})"
    );
    let loaded = tx.query_drop(&sql);
    let (rows, warnings) = (tx.affected_rows(), tx.warnings());
    tx.set_local_infile_handler(None);
    loaded.map_err(|e| werr(display, e))?;
    if warnings > 0 || rows != batch.num_rows() as u64 {
        let shown: Vec<(String, u32, String)> = tx
            .query("SHOW WARNINGS LIMIT 3")
            .map_err(|e| werr(display, e))?;
        let first: Vec<String> = shown
            .into_iter()
            .map(|(level, code, msg)| format!("{level} {code}: {msg}"))
            .collect();
        return Err(werr(
            display,
            format!(
                "the server took {rows} of {} rows with {warnings} warning(s): {}",
                batch.num_rows(),
                first.join("; ")
            ),
        ));
    }
    Ok(Some(rows))
}

/// One value in the file: `\N` for NULL, text with `\`, tab, line breaks and NUL escaped.
fn field(v: &mysql::Value, out: &mut Vec<u8>) {
    match v {
        mysql::Value::NULL => out.extend_from_slice(b"\\N"),
        mysql::Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        mysql::Value::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        mysql::Value::Double(f) => out.extend_from_slice(float_text(*f).as_bytes()),
        mysql::Value::Float(f) => out.extend_from_slice(float_text(*f as f64).as_bytes()),
        mysql::Value::Bytes(b) => {
            for &c in b {
                match c {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    0 => out.extend_from_slice(b"\\0"),
                    c => out.push(c),
                }
            }
        }
        other => {
            // my_row gives none of these; as SQL text without its quotes, should one come.
            let s = other.as_sql(false);
            out.extend_from_slice(s.trim_matches('\'').as_bytes());
        }
    }
}
