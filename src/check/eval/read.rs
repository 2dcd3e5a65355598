//! Reading a table's rule columns chunk by chunk, through the canonical encoding.

use super::*;

/// One chunk's values of the requested columns, in canonical form.
pub(super) struct View {
    pub(super) rows: usize,
    /// Per requested column, per row: the canonical encoding.
    pub(super) values: Vec<Vec<Vec<u8>>>,
}

impl View {
    pub(super) fn get(&self, col: usize, row: usize) -> &[u8] {
        &self.values[col][row]
    }
}

/// How a column is read: decimals declared as such are exact numbers; a 32-bit float (which a
/// reader may deliver widened) is the decimal of its shortest round trip at its width, so that
/// float32 0.3 is 0.3 against a rule's bound, as it is in a diff (`true`: narrow it first).
pub(super) fn text_as(meta: &TableMeta, column: &str) -> (TextAs, bool) {
    let decl = find_column(&meta.columns, column)
        .map(|c| c.declared_type.to_ascii_lowercase())
        .unwrap_or_default();
    if decl.contains("numeric") || decl.contains("decimal") {
        (TextAs::Decimal, false)
    } else if meta.query.is_none()
        && crate::diff::schema::logical(&decl) == crate::diff::schema::Logical::Float(32)
    {
        (TextAs::Decimal, true)
    } else {
        (TextAs::Text, false)
    }
}

/// Reads `columns` of a table chunk by chunk (only those columns where the source can).
pub(super) fn scan(
    src: &mut dyn Source,
    meta: &TableMeta,
    columns: &[String],
    mut f: impl FnMut(&View),
) -> Result<(), CheckError> {
    let mut narrowed = meta.clone();
    if meta.query.is_none() {
        narrowed.columns = columns
            .iter()
            .filter_map(|c| find_column(&meta.columns, c).cloned())
            .collect();
    }
    let as_text: Vec<(TextAs, bool)> = columns.iter().map(|c| text_as(meta, c)).collect();
    let mut view = View {
        rows: 0,
        values: vec![Vec::new(); columns.len()],
    };
    for chunk in src.read(&narrowed)? {
        let chunk = chunk?;
        let batch = &chunk.batch;
        let rows = batch.num_rows();
        view.rows = rows;
        for (k, (c, (t, narrow))) in columns.iter().zip(&as_text).enumerate() {
            let idx = batch.schema().index_of(c).map_err(|_| CheckError::Eval {
                rule: format!("read of {}", meta.name),
                reason: format!("column '{c}' missing from what the source returned"),
            })?;
            let invalid: Vec<(usize, &[u8])> = chunk
                .defects
                .iter()
                .map(|d| match d {
                    ReadDefect::InvalidUtf8 { column, row, bytes } => (*column, *row, bytes),
                })
                .filter(|(col, _, _)| *col == idx)
                .map(|(_, r, b)| (r, b.as_slice()))
                .collect();
            // The row buffers are reused from chunk to chunk (cleared, capacity kept).
            let enc = &mut view.values[k];
            enc.truncate(rows);
            enc.iter_mut().for_each(Vec::clear);
            enc.resize_with(rows, Vec::new);
            let mut array = batch.column(idx).clone();
            // Narrowed only when no value changes (an SQLite REAL is 64 bits whatever its name).
            if *narrow && array.data_type() == &arrow::datatypes::DataType::Float64 {
                let f = array.as_primitive::<arrow::datatypes::Float64Type>();
                let lossless = f
                    .iter()
                    .flatten()
                    .all(|v| v.is_nan() || f64::from(v as f32) == v);
                if lossless {
                    if let Ok(a) =
                        arrow::compute::cast(&array, &arrow::datatypes::DataType::Float32)
                    {
                        array = a;
                    }
                }
            }
            encode_column_with(&array, *t, false, &invalid, enc);
        }
        f(&view);
    }
    Ok(())
}

/// The hash of a row's values in `cols`; `None` when one is NULL. `buf` is reused across rows.
pub(super) fn tuple_hash(
    view: &View,
    cols: &[usize],
    row: usize,
    buf: &mut Vec<u8>,
) -> Option<u128> {
    buf.clear();
    for &c in cols {
        let v = view.get(c, row);
        if split(v).0 == tag::NULL {
            return None;
        }
        buf.extend_from_slice(v);
    }
    Some(xxh3_128(buf))
}
