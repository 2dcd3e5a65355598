//! A unit's source rows: read whole, filtered (the delta watermark, `--item`), sorted by key,
//! and their keys checked (unique, never NULL).

use super::*;

/// The rows a unit works on, before they are transformed.
pub(super) struct SourceRows {
    /// The source table (or query) read.
    pub(super) meta: TableMeta,
    /// The rows, sorted by key.
    pub(super) all: RecordBatch,
    /// Each row's key as text, in the same order.
    pub(super) keys: Vec<String>,
    /// The watermark once these rows are written.
    pub(super) new_watermark: Option<String>,
    /// On a delta run, the key of every source row (before the watermark filter): keys the
    /// target holds beyond these are gone from the source.
    pub(super) source_keys: Option<SourceKeys>,
}

/// Every key of the source, and what its columns hold (keys compare as text only between
/// columns of one [`key_class`]).
pub(super) struct SourceKeys {
    pub(super) classes: Vec<Option<char>>,
    pub(super) keys: HashSet<String>,
}

/// `i` for integers, `t` for text: the key columns whose text is the value itself, the same
/// whatever the engine (`None`: any other type).
pub(super) fn key_class(t: &DataType) -> Option<char> {
    match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Some('i'),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some('t'),
        _ => None,
    }
}

impl Executor<'_> {
    /// Reads, filters, sorts and checks a unit's source rows (`watermark`: the last completed
    /// run's, for `--delta`).
    pub(super) fn source_rows(
        &mut self,
        u: &UnitRun<'_>,
        watermark: Option<String>,
    ) -> Result<SourceRows, MigrateError> {
        let (unit, name, kind) = (u.unit, u.name.clone(), u.kind);
        // 1. Read the source rows.
        let meta = self.source_meta(unit)?;
        let mut batches = Vec::new();
        let mut invalid: BTreeMap<String, u64> = BTreeMap::new();
        for chunk in self.source.read(&meta)? {
            let chunk = chunk?;
            for d in &chunk.defects {
                let ReadDefect::InvalidUtf8 { column, .. } = d;
                let col = chunk.batch.schema().field(*column).name().clone();
                if unit.reads(&col) {
                    *invalid.entry(col).or_default() += 1;
                }
            }
            batches.push(crate::value::kind::plain_batch(&chunk.batch));
        }
        if let Some((col, n)) = invalid.iter().next() {
            return Err(MigrateError::Unit {
                unit: name,
                reason: format!("{n} value(s) of source column '{col}' are not valid UTF-8; writing them would store a lossy decoding"),
                hint: "convert them in a source query (query = \"SELECT …\") or fix them in the source; `reckon profile` lists them".into(),
            });
        }
        let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| {
            Arc::new(Schema::new(
                meta.columns
                    .iter()
                    .map(|c| Field::new(&c.name, DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            ))
        });
        let mut all =
            concat_batches(&schema, &batches).map_err(|e| MigrateError::Internal(e.to_string()))?;
        drop(batches);
        let key_idx: Vec<usize> = unit
            .spec
            .key
            .iter()
            .map(|k| crate::migrate::column_index(&schema, &name, k, "key"))
            .collect::<Result<_, _>>()?;
        // 2. Delta / item filters.
        // Every source key: a delta run's keys gone from the source, and --keys-from's extras
        // that the source holds again, are told from it.
        let source_keys = match kind {
            _ if kind == "delta" || self.opts.keys.is_some() => Some(SourceKeys {
                classes: key_idx
                    .iter()
                    .map(|&i| key_class(all.column(i).data_type()))
                    .collect(),
                keys: key_texts(&all, &key_idx)?.into_iter().flatten().collect(),
            }),
            _ => None,
        };
        let mut new_watermark = watermark.clone();
        if let Some(col) = &unit.spec.updated_at {
            let i = crate::migrate::column_index(&schema, &name, col, "updated_at")?;
            let a = all.column(i).clone();
            if kind == "delta" {
                if let Some(w) = &watermark {
                    let mask = at_or_after(&a, w).map_err(|e| MigrateError::Unit {
                        unit: name.clone(),
                        reason: format!("cannot compare updated_at with the watermark: {e}"),
                        hint: "updated_at must be a date, timestamp or ISO text column".into(),
                    })?;
                    all = filter_record_batch(&all, &mask)
                        .map_err(|e| MigrateError::Internal(e.to_string()))?;
                }
            }
            let col_now = all.column(i).clone();
            if let Some(m) = max_text(&col_now) {
                if new_watermark.as_deref().is_none_or(|w| m.as_str() > w) {
                    new_watermark = Some(m);
                }
            }
        }
        if let Some((_, item)) = &self.opts.item {
            let want = key_of_parts(&item.split(',').map(str::trim).collect::<Vec<_>>());
            let keys = key_texts(&all, &key_idx)?;
            let mask = BooleanArray::from(
                keys.iter()
                    .map(|k| k.as_deref() == Some(want.as_str()))
                    .collect::<Vec<_>>(),
            );
            all = filter_record_batch(&all, &mask)
                .map_err(|e| MigrateError::Internal(e.to_string()))?;
            if all.num_rows() == 0 {
                return Err(MigrateError::Unit {
                    unit: name,
                    reason: format!("no source row has key {}", show_key(&unit.spec.key, &want)),
                    hint: "give the key as the source shows it: --item UNIT:VALUE (composite: VALUE1,VALUE2)".into(),
                });
            }
        }
        if let Some(wanted) = self.opts.keys.as_ref().and_then(|k| k.get(&name)) {
            let keys = key_texts(&all, &key_idx)?;
            let mask = BooleanArray::from(
                keys.iter()
                    .map(|k| k.as_ref().is_some_and(|k| wanted.contains(k)))
                    .collect::<Vec<_>>(),
            );
            all = filter_record_batch(&all, &mask)
                .map_err(|e| MigrateError::Internal(e.to_string()))?;
            // Every key the diff named is in the source (a key found twice is refused below).
            let found: HashSet<&String> = keys
                .iter()
                .flatten()
                .filter(|k| wanted.contains(*k))
                .collect();
            if found.len() < wanted.len() {
                let mut gone: Vec<String> = wanted
                    .iter()
                    .filter(|k| !found.contains(k))
                    .map(|k| show_key(&unit.spec.key, k))
                    .collect();
                gone.sort();
                return Err(MigrateError::Unit {
                    unit: name,
                    reason: format!(
                        "{} key(s) the diff found have no source row (first: {})",
                        gone.len(),
                        gone[0]
                    ),
                    hint: "the source changed since the diff, or the diff read another source: run `reckon diff` again and repair from its new report".into(),
                });
            }
        }
        // 3. Sort by key; keys must be unique.
        if all.num_rows() > 1 {
            let cols: Vec<SortColumn> = key_idx
                .iter()
                .map(|&i| SortColumn {
                    values: all.column(i).clone(),
                    options: None,
                })
                .collect();
            let idx = lexsort_to_indices(&cols, None)
                .map_err(|e| MigrateError::Internal(e.to_string()))?;
            all =
                take_record_batch(&all, &idx).map_err(|e| MigrateError::Internal(e.to_string()))?;
        }
        let keys = key_texts(&all, &key_idx)?;
        // A NULL in a key part (never the text 'NULL', a value like any other).
        if let Some(r) = keys.iter().position(Option::is_none) {
            return Err(MigrateError::Unit {
                unit: name,
                reason: format!(
                    "a key is NULL ({})",
                    show_row_key(&all, &key_idx, &unit.spec.key, r)
                ),
                hint: "key columns must not be NULL: filter those rows in a source query or choose another key".into(),
            });
        }
        let keys: Vec<String> = keys.into_iter().flatten().collect();
        for w in keys.windows(2) {
            if w[0] == w[1] {
                return Err(MigrateError::Unit {
                    unit: name,
                    reason: format!("key {} occurs more than once in the source", show_key(&unit.spec.key, &w[0])),
                    hint: "a unit's key must identify one row: fix the key columns, or deduplicate in a source query".into(),
                });
            }
        }
        Ok(SourceRows {
            meta,
            all,
            keys,
            new_watermark,
            source_keys,
        })
    }
}

/// Rows whose value is at or after the watermark (compared in the column's own type).
fn at_or_after(a: &ArrayRef, watermark: &str) -> Result<BooleanArray, String> {
    let w: ArrayRef = Arc::new(StringArray::from(vec![watermark]));
    let w = cast(&w, a.data_type()).map_err(|e| e.to_string())?;
    if w.is_null(0) {
        return Err(format!("the watermark does not read as {}", a.data_type()));
    }
    let mask = gt_eq(a, &arrow::array::Scalar::new(w)).map_err(|e| e.to_string())?;
    // NULL updated_at: never changed since the watermark is unknown; include them.
    Ok(mask.iter().map(|v| Some(v.unwrap_or(true))).collect())
}

/// The largest value, in the column's own order, as text (the watermark).
pub(super) fn max_text(a: &ArrayRef) -> Option<String> {
    let opts = arrow::compute::SortOptions {
        descending: true,
        nulls_first: false,
    };
    let idx = arrow::compute::sort_to_indices(a, Some(opts), Some(1)).ok()?;
    let top = cast(
        &arrow::compute::take(a.as_ref(), &idx, None).ok()?,
        &DataType::Utf8,
    )
    .ok()?;
    let s = top.as_any().downcast_ref::<StringArray>()?;
    (!s.is_empty() && s.is_valid(0)).then(|| s.value(0).to_string())
}
