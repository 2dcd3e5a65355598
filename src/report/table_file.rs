//! A flat Parquet file from plain columns: the shared writer of the check, sign-off and compare
//! result files (one row per rule, criterion or change).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::ReportError;
use crate::error::scrub;

/// One column's values.
pub enum Col {
    /// Text (scrubbed of secrets when written).
    Str(Vec<Option<String>>),
    /// Counts.
    U64(Vec<Option<u64>>),
    /// Measures.
    F64(Vec<Option<f64>>),
}

/// Writes the columns as one zstd-compressed Parquet file.
pub fn write(path: &Path, columns: Vec<(&str, Col)>) -> Result<(), ReportError> {
    let arrays: Vec<(&str, ArrayRef)> = columns
        .into_iter()
        .map(|(name, c)| {
            let a: ArrayRef = match c {
                Col::Str(v) => Arc::new(StringArray::from(
                    v.into_iter()
                        .map(|s| s.map(|s| scrub(&s)))
                        .collect::<Vec<_>>(),
                )),
                Col::U64(v) => Arc::new(UInt64Array::from(v)),
                Col::F64(v) => Arc::new(Float64Array::from(v)),
            };
            (name, a)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(arrays).map_err(|e| ReportError::write(path, e))?;
    write_batch(path, &batch)
}

/// Writes one record batch as a zstd-compressed Parquet file stamped with reckon's version.
pub fn write_batch(path: &Path, batch: &RecordBatch) -> Result<(), ReportError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("reckon {}", env!("CARGO_PKG_VERSION")))
        .build();
    let file = File::create(path).map_err(|e| ReportError::write(path, e))?;
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props))
        .map_err(|e| ReportError::write(path, e))?;
    w.write(batch).map_err(|e| ReportError::write(path, e))?;
    w.close().map_err(|e| ReportError::write(path, e))?;
    Ok(())
}

/// Writes any serializable result as pretty JSON (secrets scrubbed).
pub fn write_json<T: serde::Serialize>(value: &T, path: &Path) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| ReportError::write(path, e))?;
    std::fs::write(path, scrub(&text) + "\n").map_err(|e| ReportError::write(path, e))
}
