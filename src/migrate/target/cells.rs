//! Cells of a batch as each target takes them: COPY text, MySQL values, SQLite values.

use super::*;

pub(super) fn take_rows(batch: &RecordBatch, rows: &[u32]) -> Result<RecordBatch, MigrateError> {
    take_record_batch(batch, &UInt32Array::from(rows.to_vec()))
        .map_err(|e| MigrateError::Internal(e.to_string()))
}

pub(super) fn with_column(
    batch: &RecordBatch,
    name: &str,
    values: Vec<i64>,
) -> Result<RecordBatch, MigrateError> {
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    fields.push(Field::new(name, DataType::Int64, false));
    cols.push(Arc::new(Int64Array::from(values)));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        .map_err(|e| MigrateError::Internal(e.to_string()))
}

/// One column's values, ready to be written.
pub(super) enum Enc {
    Int(ArrayRef),
    UInt(ArrayRef),
    Float(ArrayRef),
    Bool(ArrayRef),
    Text(ArrayRef),
    Bin(ArrayRef),
    Date(ArrayRef),
    Ts(ArrayRef, bool),
    Other(ArrayRef),
}

/// How each column of a batch is written, per dialect.
pub(super) struct Encoders {
    pub(super) cols: Vec<Enc>,
}

pub(super) enum Cell<'a> {
    Null,
    I(i64),
    U(u64),
    F(f64),
    B(bool),
    S(&'a str),
    Bin(&'a [u8]),
    Owned(String),
}

impl Encoders {
    pub(super) fn new(batch: &RecordBatch) -> Result<Encoders, MigrateError> {
        use arrow::compute::cast;
        let mut cols = Vec::new();
        for a in batch.columns() {
            let c = |t: &DataType| cast(a, t).map_err(|e| MigrateError::Internal(e.to_string()));
            cols.push(match a.data_type() {
                DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                    Enc::Int(c(&DataType::Int64)?)
                }
                DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
                    Enc::UInt(c(&DataType::UInt64)?)
                }
                DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                    Enc::Float(c(&DataType::Float64)?)
                }
                DataType::Boolean => Enc::Bool(a.clone()),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    Enc::Text(c(&DataType::Utf8)?)
                }
                DataType::Binary
                | DataType::LargeBinary
                | DataType::FixedSizeBinary(_)
                | DataType::BinaryView => Enc::Bin(c(&DataType::Binary)?),
                DataType::Date32 | DataType::Date64 => Enc::Date(c(&DataType::Date32)?),
                DataType::Timestamp(_, tz) => Enc::Ts(
                    c(&DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))?,
                    tz.is_some(),
                ),
                _ => Enc::Other(c(&DataType::Utf8).unwrap_or_else(|_| a.clone())),
            });
        }
        Ok(Encoders { cols })
    }

    pub(super) fn cell(&self, c: usize, r: usize) -> Cell<'_> {
        use arrow::datatypes::*;
        match &self.cols[c] {
            Enc::Int(a) if a.is_valid(r) => Cell::I(a.as_primitive::<Int64Type>().value(r)),
            Enc::UInt(a) if a.is_valid(r) => Cell::U(a.as_primitive::<UInt64Type>().value(r)),
            Enc::Float(a) if a.is_valid(r) => Cell::F(a.as_primitive::<Float64Type>().value(r)),
            Enc::Bool(a) if a.is_valid(r) => Cell::B(a.as_boolean().value(r)),
            Enc::Text(a) if a.is_valid(r) => Cell::S(a.as_string::<i32>().value(r)),
            Enc::Bin(a) if a.is_valid(r) => Cell::Bin(a.as_binary::<i32>().value(r)),
            Enc::Date(a) if a.is_valid(r) => {
                let d = a.as_primitive::<Date32Type>().value(r);
                let date = DateTime::from_timestamp(d as i64 * 86_400, 0)
                    .map(|t| t.date_naive().format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                Cell::Owned(date)
            }
            Enc::Ts(a, tz) if a.is_valid(r) => {
                let us = a.as_primitive::<TimestampMicrosecondType>().value(r);
                let t = DateTime::from_timestamp_micros(us)
                    .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string())
                    .unwrap_or_default();
                Cell::Owned(if *tz { format!("{t}+00:00") } else { t })
            }
            Enc::Other(a) if a.is_valid(r) => match a.data_type() {
                DataType::Utf8 => Cell::S(a.as_string::<i32>().value(r)),
                _ => Cell::Owned(
                    ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default())
                        .map(|f| f.value(r).to_string())
                        .unwrap_or_default(),
                ),
            },
            _ => Cell::Null,
        }
    }

    /// One row in COPY text format.
    pub(super) fn copy_row(&self, r: usize, out: &mut Vec<u8>) {
        use arrow::datatypes::{Date32Type, TimestampMicrosecondType};
        for c in 0..self.cols.len() {
            if c > 0 {
                out.push(b'\t');
            }
            // Dates and timestamps as PostgreSQL reads them, whatever the year: 'BC' after
            // them for year 0 and before (1 BC is year 0), no sign past 9999.
            match &self.cols[c] {
                Enc::Date(a) if a.is_valid(r) => {
                    let d = a.as_primitive::<Date32Type>().value(r);
                    match DateTime::from_timestamp(d as i64 * 86_400, 0) {
                        Some(t) => pg_datetime(out, t.naive_utc(), false, false),
                        None => out.extend_from_slice(b"out of range"),
                    }
                    continue;
                }
                Enc::Ts(a, tz) if a.is_valid(r) => {
                    let us = a.as_primitive::<TimestampMicrosecondType>().value(r);
                    match DateTime::from_timestamp_micros(us) {
                        Some(t) => pg_datetime(out, t.naive_utc(), true, *tz),
                        None => out.extend_from_slice(b"out of range"),
                    }
                    continue;
                }
                _ => {}
            }
            match self.cell(c, r) {
                Cell::Null => out.extend_from_slice(b"\\N"),
                Cell::I(i) => {
                    let _ = write!(out, "{i}");
                }
                Cell::U(u) => {
                    let _ = write!(out, "{u}");
                }
                Cell::F(f) => out.extend_from_slice(float_text(f).as_bytes()),
                Cell::B(b) => out.push(if b { b't' } else { b'f' }),
                Cell::S(s) => copy_escape(s, out),
                Cell::Owned(s) => copy_escape(&s, out),
                Cell::Bin(b) => {
                    out.extend_from_slice(b"\\\\x");
                    for x in b {
                        let _ = write!(out, "{x:02x}");
                    }
                }
            }
        }
        out.push(b'\n');
    }

    pub(super) fn my_row(&self, r: usize, out: &mut Vec<mysql::Value>) {
        for c in 0..self.cols.len() {
            out.push(match self.cell(c, r) {
                Cell::Null => mysql::Value::NULL,
                Cell::I(i) => mysql::Value::Int(i),
                Cell::U(u) => mysql::Value::UInt(u),
                Cell::F(f) => mysql::Value::Double(f),
                Cell::B(b) => mysql::Value::Int(b as i64),
                Cell::S(s) => mysql::Value::Bytes(s.as_bytes().to_vec()),
                Cell::Owned(s) => {
                    let s = s.strip_suffix("+00:00").unwrap_or(&s);
                    mysql::Value::Bytes(s.as_bytes().to_vec())
                }
                Cell::Bin(b) => mysql::Value::Bytes(b.to_vec()),
            });
        }
    }

    pub(super) fn lite_row(&self, r: usize) -> Vec<rusqlite::types::Value> {
        use rusqlite::types::Value;
        (0..self.cols.len())
            .map(|c| match self.cell(c, r) {
                Cell::Null => Value::Null,
                Cell::I(i) => Value::Integer(i),
                Cell::U(u) => i64::try_from(u).map_or(Value::Text(u.to_string()), Value::Integer),
                Cell::F(f) => Value::Real(f),
                Cell::B(b) => Value::Integer(b as i64),
                Cell::S(s) => Value::Text(s.to_string()),
                Cell::Owned(s) => Value::Text(s),
                Cell::Bin(b) => Value::Blob(b.to_vec()),
            })
            .collect()
    }
}

pub(super) fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        // Shortest text that reads back as the same f64.
        format!("{f:?}")
    }
}

pub(super) fn copy_escape(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// A date (`time`: with its time of day, to the microsecond; `utc`: marked UTC) in PostgreSQL's
/// input form: `0044-03-15 BC`, `10000-01-01`, `2024-05-06 07:08:09.000010+00:00`.
fn pg_datetime(out: &mut Vec<u8>, t: chrono::NaiveDateTime, time: bool, utc: bool) {
    use chrono::{Datelike, Timelike};
    let y = t.year();
    let (year, bc) = if y <= 0 { (1 - y, true) } else { (y, false) };
    let _ = write!(out, "{year:04}-{:02}-{:02}", t.month(), t.day());
    if time {
        let _ = write!(
            out,
            " {:02}:{:02}:{:02}.{:06}",
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond() / 1000
        );
        if utc {
            out.extend_from_slice(b"+00:00");
        }
    }
    if bc {
        out.extend_from_slice(b" BC");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, StringArray};

    #[test]
    fn copy_text_escapes_and_keeps_float_bits() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("f", DataType::Float64, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("a\tb\\c\nd"), None])),
                Arc::new(Float64Array::from(vec![Some(0.1 + 0.2), Some(f64::NAN)])),
            ],
        )
        .unwrap();
        let e = Encoders::new(&b).unwrap();
        let mut out = Vec::new();
        e.copy_row(0, &mut out);
        e.copy_row(1, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\tb\\\\c\\nd\t0.30000000000000004\n\\N\tNaN\n"
        );
    }

    #[test]
    fn upsert_sql_changes_nothing_on_equal_rows() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let b = RecordBatch::new_empty(schema);
        let s = upsert_sql(
            Kind::Postgres,
            "\"t\"",
            &b,
            &["id".into()],
            false,
            "reckon_stage",
        );
        assert!(
            s.contains("ON CONFLICT (\"id\") DO UPDATE SET \"name\" = excluded.\"name\""),
            "{s}"
        );
        assert!(s.contains("IS DISTINCT FROM"), "{s}");
    }

    fn text(t: chrono::NaiveDateTime, time: bool, utc: bool) -> String {
        let mut out = Vec::new();
        pg_datetime(&mut out, t, time, utc);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dates_of_any_year_are_written_as_postgresql_reads_them() {
        let at = |y, m, d| {
            chrono::NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_micro_opt(7, 8, 9, 10)
                .unwrap()
        };
        assert_eq!(text(at(2024, 5, 6), false, false), "2024-05-06");
        assert_eq!(
            text(at(2024, 5, 6), true, true),
            "2024-05-06 07:08:09.000010+00:00"
        );
        // Year 0 is 1 BC; year -43 is 44 BC.
        assert_eq!(text(at(0, 1, 1), false, false), "0001-01-01 BC");
        assert_eq!(
            text(at(-43, 3, 15), true, false),
            "0044-03-15 07:08:09.000010 BC"
        );
        assert_eq!(text(at(10000, 1, 1), false, false), "10000-01-01");
        assert_eq!(text(at(33, 1, 2), false, false), "0033-01-02");
    }
}
