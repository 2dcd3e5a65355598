//! `diff_summary.parquet` and `diff_rows.parquet`.
//!
//! `diff_summary.parquet`, version 1 (key-value metadata `reckon.format_version`), one row per
//! table × column × verdict × class:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | source_table, target_table | utf8 | the pair |
//! | column_name | utf8 (null) | source column; null for row-level lines (`missing`, `extra`, rows) |
//! | verdict | utf8 | `match`, `match*`, `mismatch`, `missing`, `extra`, `duplicate-keys-source`, `duplicate-keys-target` |
//! | class | utf8 (null) | the class (`mismatch`) or rule (`match*`) |
//! | count | uint64 | cells (column lines) or rows/keys (row-level lines) |
//!
//! `diff_rows.parquet`, version 1, one row per differing key, in the engine's deterministic
//! order:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | source_table | utf8 | the table |
//! | key | utf8 | `id=42, line=3` (a shape for sensitive key columns) |
//! | key_values | list<utf8 (null)> | the key's values in key order |
//! | status | utf8 | `missing`, `extra` or `changed` |
//! | differing_columns | list<utf8> | columns that differ (`changed` only) |
//! | cells | list<struct<column, verdict, class, source_value, target_value: utf8>> | per differing cell; values are shapes for sensitive columns, null for SQL NULL |
//! | values | list<struct<column, value: utf8>> | a `missing` row's source values or an `extra` row's target values, the key's columns excepted (shapes and nulls as in `cells`); empty for `changed` rows |
//!
//! Both files are byte-identical for identical inputs at any thread count.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, ListBuilder, RecordBatch, StringArray, StringBuilder, StructBuilder, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Fields, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::format::KeyValue;

use crate::diff::model::{DiffReport, DiffRow, FORMAT_VERSION};
use crate::diff::{DiffError, RowSink, TableDiffHead};
use crate::error::scrub;

fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "reckon.format_version".into(),
            FORMAT_VERSION.to_string(),
        )]))
        .build()
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> DiffError {
    DiffError::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Writes `diff_summary.parquet`.
pub fn write_summary(report: &DiffReport, path: &Path) -> Result<(), DiffError> {
    let mut st = Vec::new();
    let mut tt = Vec::new();
    let mut col: Vec<Option<String>> = Vec::new();
    let mut verdict = Vec::new();
    let mut class: Vec<Option<String>> = Vec::new();
    let mut count = Vec::new();
    for t in &report.tables {
        let mut line = |c: Option<&str>, v: &str, k: Option<&str>, n: u64| {
            st.push(t.source_table.clone());
            tt.push(t.target_table.clone());
            col.push(c.map(str::to_string));
            verdict.push(v.to_string());
            class.push(k.map(str::to_string));
            count.push(n);
        };
        line(None, "match", None, t.counts.matched);
        line(None, "match*", None, t.counts.matched_by_rule);
        line(None, "mismatch", None, t.counts.mismatched);
        line(None, "missing", None, t.counts.missing);
        line(None, "extra", None, t.counts.extra);
        line(
            None,
            "duplicate-keys-source",
            None,
            t.counts.duplicate_keys_source,
        );
        line(
            None,
            "duplicate-keys-target",
            None,
            t.counts.duplicate_keys_target,
        );
        for c in &t.columns {
            line(Some(&c.source), "match", None, c.matched);
            for (r, n) in &c.matched_by_rule {
                line(Some(&c.source), "match*", Some(r), *n);
            }
            for (k, n) in &c.mismatched {
                line(Some(&c.source), "mismatch", Some(k), *n);
            }
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("source_table", DataType::Utf8, false),
        Field::new("target_table", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, true),
        Field::new("verdict", DataType::Utf8, false),
        Field::new("class", DataType::Utf8, true),
        Field::new("count", DataType::UInt64, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(st)),
        Arc::new(StringArray::from(tt)),
        Arc::new(StringArray::from(col)),
        Arc::new(StringArray::from(verdict)),
        Arc::new(StringArray::from(class)),
        Arc::new(UInt64Array::from(count)),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| out_err(path, e))?;
    let f = File::create(path).map_err(|e| out_err(path, e))?;
    let mut w = ArrowWriter::try_new(f, schema, Some(props())).map_err(|e| out_err(path, e))?;
    w.write(&batch).map_err(|e| out_err(path, e))?;
    w.close().map_err(|e| out_err(path, e))?;
    Ok(())
}

fn cell_fields() -> Fields {
    Fields::from(vec![
        Field::new("column", DataType::Utf8, false),
        Field::new("verdict", DataType::Utf8, false),
        Field::new("class", DataType::Utf8, false),
        Field::new("source_value", DataType::Utf8, true),
        Field::new("target_value", DataType::Utf8, true),
    ])
}

fn value_fields() -> Fields {
    Fields::from(vec![
        Field::new("column", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, true),
    ])
}

fn rows_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("source_table", DataType::Utf8, false),
        Field::new("key", DataType::Utf8, false),
        Field::new(
            "key_values",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        Field::new("status", DataType::Utf8, false),
        Field::new(
            "differing_columns",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, false))),
            false,
        ),
        Field::new(
            "cells",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(cell_fields()),
                false,
            ))),
            false,
        ),
        Field::new(
            "values",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(value_fields()),
                false,
            ))),
            false,
        ),
    ]))
}

/// Streams differing rows into `diff_rows.parquet`, a batch at a time.
pub struct RowsWriter {
    path: PathBuf,
    writer: Option<ArrowWriter<File>>,
    buffer: Vec<(String, String, DiffRow)>,
}

const BATCH: usize = 8192;

impl RowsWriter {
    /// Creates the file.
    pub fn create(path: &Path) -> Result<RowsWriter, DiffError> {
        let f = File::create(path).map_err(|e| out_err(path, e))?;
        let w =
            ArrowWriter::try_new(f, rows_schema(), Some(props())).map_err(|e| out_err(path, e))?;
        Ok(RowsWriter {
            path: path.to_path_buf(),
            writer: Some(w),
            buffer: Vec::new(),
        })
    }

    fn flush(&mut self) -> Result<(), DiffError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.buffer);
        let table = StringArray::from_iter_values(rows.iter().map(|r| r.0.as_str()));
        let key = StringArray::from_iter_values(rows.iter().map(|r| scrub(&r.1)));
        let mut kv = ListBuilder::new(StringBuilder::new());
        let mut status = StringBuilder::new();
        let mut dc = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new(
            "item",
            DataType::Utf8,
            false,
        )));
        let sb = StructBuilder::from_fields(cell_fields(), BATCH);
        let mut cells = ListBuilder::new(sb).with_field(Arc::new(Field::new(
            "item",
            DataType::Struct(cell_fields()),
            false,
        )));
        let vb = StructBuilder::from_fields(value_fields(), BATCH);
        let mut values = ListBuilder::new(vb).with_field(Arc::new(Field::new(
            "item",
            DataType::Struct(value_fields()),
            false,
        )));
        for (_, _, r) in &rows {
            for v in &r.key {
                kv.values().append_option(v.as_deref());
            }
            kv.append(true);
            status.append_value(r.status.as_str());
            for c in &r.cells {
                dc.values().append_value(&c.column);
                let s = cells.values();
                let verdict = c.verdict.to_string();
                let vals = [
                    Some(c.column.as_str()),
                    Some(verdict.as_str()),
                    Some(c.class.as_str()),
                    c.source.as_deref(),
                    c.target.as_deref(),
                ];
                for (i, v) in vals.iter().enumerate() {
                    if let Some(b) = s.field_builder::<StringBuilder>(i) {
                        b.append_option(v.map(scrub));
                    }
                }
                s.append(true);
            }
            dc.append(true);
            cells.append(true);
            for v in &r.values {
                let s = values.values();
                for (i, x) in [Some(v.column.as_str()), v.value.as_deref()]
                    .iter()
                    .enumerate()
                {
                    if let Some(b) = s.field_builder::<StringBuilder>(i) {
                        b.append_option(x.map(scrub));
                    }
                }
                s.append(true);
            }
            values.append(true);
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(table),
            Arc::new(key),
            Arc::new(kv.finish()),
            Arc::new(status.finish()),
            Arc::new(dc.finish()),
            Arc::new(cells.finish()),
            Arc::new(values.finish()),
        ];
        let batch =
            RecordBatch::try_new(rows_schema(), cols).map_err(|e| out_err(&self.path, e))?;
        if let Some(w) = self.writer.as_mut() {
            w.write(&batch).map_err(|e| out_err(&self.path, e))?;
        }
        Ok(())
    }

    /// Writes what is buffered and closes the file.
    pub fn close(mut self) -> Result<(), DiffError> {
        self.flush()?;
        if let Some(w) = self.writer.take() {
            w.close().map_err(|e| out_err(&self.path, e))?;
        }
        Ok(())
    }
}

impl RowSink for RowsWriter {
    fn row(&mut self, table: &TableDiffHead, row: &DiffRow) -> Result<(), DiffError> {
        self.buffer.push((
            table.source_table.clone(),
            row.key_text.clone(),
            row.clone(),
        ));
        if self.buffer.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }
}

/// Reads `diff_rows.parquet` back, row by row in file order (for `reckon merge`): each row with
/// the source table it belongs to.
pub struct RowsReader {
    path: PathBuf,
    batches: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    rows: std::vec::IntoIter<(String, DiffRow)>,
}

impl RowsReader {
    /// Opens a file `RowsWriter` wrote.
    pub fn open(path: &Path) -> Result<RowsReader, DiffError> {
        let f = File::open(path).map_err(|e| out_err(path, e))?;
        let batches = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.with_batch_size(BATCH).build())
            .map_err(|e| out_err(path, e))?;
        Ok(RowsReader {
            path: path.to_path_buf(),
            batches,
            rows: Vec::new().into_iter(),
        })
    }

    fn decode(&self, batch: &RecordBatch) -> Result<Vec<(String, DiffRow)>, DiffError> {
        use arrow::array::{Array, AsArray};
        let bad = |what: &str| out_err(&self.path, format!("not a reckon diff_rows file: {what}"));
        let text = |name: &str| -> Result<&StringArray, DiffError> {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_string_opt::<i32>())
                .ok_or_else(|| bad(name))
        };
        let list = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_list_opt::<i32>())
                .ok_or_else(|| bad(name))
        };
        let (table, key, status) = (text("source_table")?, text("key")?, text("status")?);
        let (kv, cells) = (list("key_values")?, list("cells")?);
        // Files written before rows carried their values have no `values`.
        let row_values = batch.column_by_name("values").map(|_| list("values"));
        let row_values = row_values.transpose()?;
        let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
        let mut out = Vec::with_capacity(batch.num_rows());
        for r in 0..batch.num_rows() {
            let values = kv.value(r);
            let values = values
                .as_string_opt::<i32>()
                .ok_or_else(|| bad("key_values"))?;
            let cs = cells.value(r);
            let cs = cs.as_struct_opt().ok_or_else(|| bad("cells"))?;
            let field = |i: usize| {
                cs.column(i)
                    .as_string_opt::<i32>()
                    .ok_or_else(|| bad("cells"))
            };
            let (col, verdict, class, sv, tv) =
                (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?);
            let cells = (0..cs.len())
                .map(|i| {
                    Ok(crate::diff::model::CellDiff {
                        column: col.value(i).to_string(),
                        verdict: verdict.value(i).parse().map_err(|e: String| bad(&e))?,
                        class: class.value(i).to_string(),
                        source: opt(sv, i),
                        target: opt(tv, i),
                    })
                })
                .collect::<Result<Vec<_>, DiffError>>()?;
            let mut row_vals = Vec::new();
            if let Some(rv) = row_values {
                let vs = rv.value(r);
                let vs = vs.as_struct_opt().ok_or_else(|| bad("values"))?;
                let field = |i: usize| {
                    vs.column(i)
                        .as_string_opt::<i32>()
                        .ok_or_else(|| bad("values"))
                };
                let (col, val) = (field(0)?, field(1)?);
                row_vals = (0..vs.len())
                    .map(|i| crate::diff::RowValue {
                        column: col.value(i).to_string(),
                        value: opt(val, i),
                    })
                    .collect();
            }
            out.push((
                table.value(r).to_string(),
                DiffRow {
                    key: (0..values.len()).map(|i| opt(values, i)).collect(),
                    key_text: key.value(r).to_string(),
                    status: status.value(r).parse().map_err(|e: String| bad(&e))?,
                    cells,
                    values: row_vals,
                    key_hash: 0,
                },
            ));
        }
        Ok(out)
    }
}

impl Iterator for RowsReader {
    type Item = Result<(String, DiffRow), DiffError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.rows.next() {
                return Some(Ok(r));
            }
            let batch = match self.batches.next()? {
                Ok(b) => b,
                Err(e) => return Some(Err(out_err(&self.path, e))),
            };
            match self.decode(&batch) {
                Ok(rows) => self.rows = rows.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
