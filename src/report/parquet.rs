//! `profile.parquet`: one row per profiled column, every statistic as a typed column.
//!
//! Schema, version 1 (`format_version` column; bump on any incompatible change):
//!
//! | column | type | meaning |
//! |---|---|---|
//! | format_version | uint32 | 1 |
//! | source | utf8 | the source, password redacted |
//! | table_name, column_name | utf8 | where |
//! | ordinal | uint32 | column position, from 0 |
//! | declared_type, kind | utf8 | as declared; as profiled (`int`, `decimal(10,2)`, `text`…) |
//! | sensitive | bool | values masked |
//! | rows, nulls, empty, whitespace_only, padded | uint64 | counts |
//! | distinct | uint64 | distinct non-null values |
//! | distinct_exact | bool | false: HyperLogLog estimate, relative std error in distinct_std_error |
//! | distinct_std_error | float64 | 0 when exact |
//! | is_unique | bool | every value distinct, no NULL |
//! | min_value, max_value | utf8 | typed order, shown in the column's type (exact decimals) |
//! | mean, std | float64 | numeric columns (std also for temporal, in seconds) |
//! | p05, p25, p50, p75, p95 | utf8 | quantiles, shown in the column's type |
//! | quantiles_exact | bool | false: lower bucket edges |
//! | histogram | list<struct<lo: utf8, hi: utf8, count: uint64>> | equal-width bins, min to max |
//! | nan, infinite | uint64 | float specials |
//! | true_count, false_count | uint64 | booleans |
//! | len_min, len_max | uint64 | characters (bytes for binary) |
//! | len_mean | float64 | |
//! | numeric_like | uint64 | text values that are plain decimal numbers |
//! | top_values | list<struct<value: utf8, count: uint64>> | most frequent values |
//! | top_exact | bool | false: counts are lower bounds |
//! | shapes | list<struct<value: utf8, count: uint64>> | most frequent value shapes |
//! | outside_dominant_shapes | uint64 | values outside the dominant shapes |
//! | date_formats | list<struct<value: utf8, count: uint64>> | date-format families |
//! | encoding | list<struct<value: utf8, count: uint64>> | encoding findings by kind |
//! | inconsistent_groups | uint64 | groups of values differing by case/space/accents |
//! | findings | uint32 | findings about this column |
//! | exact_in_sql | utf8 (null) | `--pushdown`: the statistics SQL computed over the whole table (`rows,nulls,distinct…`); null without pushdown |
//! | sampled_rows | uint64 (null) | `--pushdown --sample-rows`: the rows reckon read; everything not in exact_in_sql is theirs |
//!
//! Rows are in table then column order; the file is byte-identical for identical inputs.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    StructBuilder, UInt32Array, UInt64Array, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Fields};

use super::ReportError;
use crate::error::scrub;
use crate::profile::model::{ColumnProfile, HistBin, ValueCount};
use crate::profile::ProfileReport;

fn vc_fields() -> Fields {
    Fields::from(vec![
        Field::new("value", DataType::Utf8, false),
        Field::new("count", DataType::UInt64, false),
    ])
}

fn list_of(rows: &[Vec<ValueCount>]) -> ArrayRef {
    let sb = StructBuilder::new(
        vc_fields(),
        vec![
            Box::new(StringBuilder::new()),
            Box::new(UInt64Builder::new()),
        ],
    );
    let mut lb = ListBuilder::new(sb).with_field(Arc::new(Field::new(
        "item",
        DataType::Struct(vc_fields()),
        false,
    )));
    for row in rows {
        for v in row {
            let s = lb.values();
            if let Some(b) = s.field_builder::<StringBuilder>(0) {
                b.append_value(&v.value);
            }
            if let Some(b) = s.field_builder::<UInt64Builder>(1) {
                b.append_value(v.count);
            }
            s.append(true);
        }
        lb.append(true);
    }
    Arc::new(lb.finish())
}

fn bin_fields() -> Fields {
    Fields::from(vec![
        Field::new("lo", DataType::Utf8, false),
        Field::new("hi", DataType::Utf8, false),
        Field::new("count", DataType::UInt64, false),
    ])
}

/// The histograms, a list of bins a row.
fn bins_of(rows: &[&[HistBin]]) -> ArrayRef {
    let sb = StructBuilder::new(
        bin_fields(),
        vec![
            Box::new(StringBuilder::new()),
            Box::new(StringBuilder::new()),
            Box::new(UInt64Builder::new()),
        ],
    );
    let mut lb = ListBuilder::new(sb).with_field(Arc::new(Field::new(
        "item",
        DataType::Struct(bin_fields()),
        false,
    )));
    for row in rows {
        for bin in *row {
            let s = lb.values();
            if let Some(b) = s.field_builder::<StringBuilder>(0) {
                b.append_value(&bin.lo);
            }
            if let Some(b) = s.field_builder::<StringBuilder>(1) {
                b.append_value(&bin.hi);
            }
            if let Some(b) = s.field_builder::<UInt64Builder>(2) {
                b.append_value(bin.count);
            }
            s.append(true);
        }
        lb.append(true);
    }
    Arc::new(lb.finish())
}

/// Writes `profile.parquet`.
pub fn write(report: &ProfileReport, path: &Path) -> Result<(), ReportError> {
    let mut cols: Vec<(&str, &ColumnProfile)> = Vec::new();
    // Per column: what SQL computed, and the sample's rows, under --pushdown.
    let mut pushed: Vec<(Option<String>, Option<u64>)> = Vec::new();
    let tables: Vec<String> = report.tables.iter().map(|t| t.table.to_string()).collect();
    for (ti, t) in report.tables.iter().enumerate() {
        for c in &t.columns {
            cols.push((tables[ti].as_str(), c));
            pushed.push(match &t.pushdown {
                None => (None, None),
                Some(p) => (
                    Some(
                        p.exact_in_sql
                            .iter()
                            .find(|e| e.column == c.name)
                            .map(|e| e.stats.join(","))
                            .unwrap_or_default(),
                    ),
                    p.sample.as_ref().map(|s| s.rows),
                ),
            });
        }
    }
    let n = cols.len();
    let u64s = |f: &dyn Fn(&ColumnProfile) -> Option<u64>| -> ArrayRef {
        Arc::new(UInt64Array::from(
            cols.iter().map(|(_, c)| f(c)).collect::<Vec<_>>(),
        ))
    };
    let f64s = |f: &dyn Fn(&ColumnProfile) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(
            cols.iter().map(|(_, c)| f(c)).collect::<Vec<_>>(),
        ))
    };
    let strs = |f: &dyn Fn(&ColumnProfile) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            cols.iter()
                .map(|(_, c)| f(c).map(|s| scrub(&s)))
                .collect::<Vec<_>>(),
        ))
    };
    let bools = |f: &dyn Fn(&ColumnProfile) -> bool| -> ArrayRef {
        Arc::new(BooleanArray::from(
            cols.iter().map(|(_, c)| f(c)).collect::<Vec<_>>(),
        ))
    };
    let q = |i: usize| strs(&move |c: &ColumnProfile| c.quantiles.get(i).map(|x| x.value.clone()));
    let findings_per_col: Vec<u32> = cols
        .iter()
        .map(|(t, c)| {
            report
                .findings
                .iter()
                .filter(|f| {
                    f.table.to_string() == *t && f.column.as_deref() == Some(c.name.as_str())
                })
                .count() as u32
        })
        .collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("format_version", Arc::new(UInt32Array::from(vec![1u32; n]))),
        (
            "source",
            Arc::new(StringArray::from(vec![scrub(&report.source); n])),
        ),
        (
            "table_name",
            Arc::new(StringArray::from(
                cols.iter().map(|(t, _)| t.to_string()).collect::<Vec<_>>(),
            )),
        ),
        ("column_name", strs(&|c| Some(c.name.clone()))),
        (
            "ordinal",
            Arc::new(UInt32Array::from(
                cols.iter()
                    .map(|(_, c)| c.ordinal as u32)
                    .collect::<Vec<_>>(),
            )),
        ),
        ("declared_type", strs(&|c| Some(c.declared_type.clone()))),
        ("kind", strs(&|c| Some(c.kind.clone()))),
        ("sensitive", bools(&|c| c.sensitive)),
        ("rows", u64s(&|c| Some(c.rows))),
        ("nulls", u64s(&|c| Some(c.nulls))),
        ("empty", u64s(&|c| Some(c.empty))),
        ("whitespace_only", u64s(&|c| Some(c.whitespace_only))),
        ("padded", u64s(&|c| Some(c.padded))),
        ("distinct", u64s(&|c| Some(c.distinct))),
        ("distinct_exact", bools(&|c| c.distinct_exact)),
        ("distinct_std_error", f64s(&|c| Some(c.distinct_std_error))),
        ("is_unique", bools(&|c| c.unique)),
        ("min_value", strs(&|c| c.min.clone())),
        ("max_value", strs(&|c| c.max.clone())),
        ("mean", f64s(&|c| c.mean)),
        ("std", f64s(&|c| c.std)),
        ("p05", q(0)),
        ("p25", q(1)),
        ("p50", q(2)),
        ("p75", q(3)),
        ("p95", q(4)),
        ("quantiles_exact", bools(&|c| c.quantiles_exact)),
        (
            "histogram",
            bins_of(
                &cols
                    .iter()
                    .map(|(_, c)| c.histogram.as_slice())
                    .collect::<Vec<_>>(),
            ),
        ),
        ("nan", u64s(&|c| Some(c.nan))),
        ("infinite", u64s(&|c| Some(c.infinite))),
        ("true_count", u64s(&|c| c.true_count)),
        ("false_count", u64s(&|c| c.false_count)),
        ("len_min", u64s(&|c| c.len_min)),
        ("len_max", u64s(&|c| c.len_max)),
        ("len_mean", f64s(&|c| c.len_mean)),
        ("numeric_like", u64s(&|c| Some(c.numeric_like))),
        (
            "top_values",
            list_of(
                &cols
                    .iter()
                    .map(|(_, c)| {
                        c.top_values
                            .iter()
                            .map(|v| ValueCount {
                                value: scrub(&v.value),
                                ..v.clone()
                            })
                            .collect()
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        ("top_exact", bools(&|c| c.top_exact)),
        (
            "shapes",
            list_of(
                &cols
                    .iter()
                    .map(|(_, c)| c.shapes.clone())
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "outside_dominant_shapes",
            u64s(&|c| Some(c.outside_dominant_shapes)),
        ),
        (
            "date_formats",
            list_of(
                &cols
                    .iter()
                    .map(|(_, c)| c.date_formats.clone())
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "encoding",
            list_of(
                &cols
                    .iter()
                    .map(|(_, c)| {
                        c.encoding
                            .iter()
                            .map(|e| ValueCount {
                                value: e.kind.clone(),
                                count: e.count,
                                share: 0.0,
                            })
                            .collect()
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "inconsistent_groups",
            u64s(&|c| Some(c.inconsistent.len() as u64)),
        ),
        ("findings", Arc::new(UInt32Array::from(findings_per_col))),
        (
            "exact_in_sql",
            Arc::new(StringArray::from(
                pushed.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
            )),
        ),
        (
            "sampled_rows",
            Arc::new(UInt64Array::from(
                pushed.iter().map(|p| p.1).collect::<Vec<_>>(),
            )),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).map_err(|e| ReportError::write(path, e))?;
    super::table_file::write_batch(path, &batch)
}
