//! Pass 1: a chunk's compared columns prepared, canonically encoded into reused buffers and
//! hashed (key hash in its pairing form, row hash), and the encodings of chosen rows.

use super::*;

/// One row after the first pass: its hashes and where its values are kept. Rows are
/// materialised (canonically encoded) only when they did not cancel.
#[derive(Clone, Copy)]
pub(super) struct Tuple {
    pub(super) row_hash: u128,
    pub(super) key_hash: u64,
    /// Side (top bit) and chunk index.
    pub(super) chunk: u32,
    pub(super) row: u32,
}

pub(super) const SIDE_BIT: u32 = 1 << 31;

/// A chunk's compared columns, prepared and in plan order, and its invalid-UTF-8 values as
/// (column position, row, bytes).
pub(super) type Prepared = (RecordBatch, Vec<(usize, usize, Vec<u8>)>);

pub(super) fn prepared(
    cols: &mut SideCols,
    chunk: &Chunk,
    table: &str,
) -> Result<Prepared, DiffError> {
    let idx = cols.resolve(&chunk.batch, table)?;
    let arrays: Vec<ArrayRef> = idx
        .iter()
        .zip(&cols.reads)
        .map(|(&i, r)| prepare(chunk.batch.column(i), r))
        .collect();
    let defects: Vec<(usize, usize, Vec<u8>)> = chunk
        .defects
        .iter()
        .filter_map(|d| {
            let ReadDefect::InvalidUtf8 { column, row, bytes } = d;
            idx.iter()
                .position(|i| i == column)
                .map(|pos| (pos, *row, bytes.clone()))
        })
        .collect();
    let n = chunk.batch.num_rows();
    let fields: Vec<Field> = arrays
        .iter()
        .enumerate()
        .map(|(i, a)| Field::new(format!("c{i}"), a.data_type().clone(), true))
        .collect();
    let batch = RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        arrays,
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(n)),
    )
    .map_err(|e| DiffError::Spill(e.to_string()))?;
    Ok((batch, defects))
}

/// One side's column reads, resolved against its batches.
#[derive(Clone)]
pub(super) struct SideCols {
    pub(super) names: Vec<String>,
    pub(super) reads: Vec<Read>,
    pub(super) index: Option<Vec<usize>>,
}

impl SideCols {
    pub(super) fn resolve(
        &mut self,
        batch: &RecordBatch,
        table: &str,
    ) -> Result<Vec<usize>, DiffError> {
        if let Some(i) = &self.index {
            return Ok(i.clone());
        }
        let schema = batch.schema();
        let mut idx = Vec::new();
        for n in &self.names {
            let i = schema
                .index_of(n)
                .ok()
                .or_else(|| {
                    schema
                        .fields()
                        .iter()
                        .position(|f| f.name().eq_ignore_ascii_case(n))
                })
                .ok_or_else(|| DiffError::UnknownColumn {
                    table: table.to_string(),
                    column: n.clone(),
                    side: "read".into(),
                    field: "columns".into(),
                    available: schema.fields().iter().map(|f| f.name().clone()).collect(),
                })?;
            idx.push(i);
        }
        self.index = Some(idx.clone());
        Ok(idx)
    }
}

pub(super) fn prepare(array: &ArrayRef, read: &Read) -> ArrayRef {
    if read.float32 && read.text_as == TextAs::Decimal && array.data_type() == &DataType::Float64 {
        // Values that came from a float32: narrowing is exact, and the width decides the
        // shortest round-trip text (0.3, not 0.30000001192092896).
        if let Ok(a) = arrow::compute::cast(array, &DataType::Float32) {
            return a;
        }
    }
    if read.char_pad {
        fn unpad(s: Option<&str>) -> Option<&str> {
            s.map(|s| s.trim_end_matches(' '))
        }
        match array.data_type() {
            DataType::Utf8 => {
                let a: StringArray = array.as_string::<i32>().iter().map(unpad).collect();
                return Arc::new(a);
            }
            DataType::LargeUtf8 => {
                let a: LargeStringArray = array.as_string::<i64>().iter().map(unpad).collect();
                return Arc::new(a);
            }
            _ => {}
        }
    }
    if read.as_instant {
        if let DataType::Timestamp(u, None) = array.data_type() {
            // A fixed offset: arrow parses zone names only with its chrono-tz feature.
            if let Ok(a) =
                arrow::compute::cast(array, &DataType::Timestamp(*u, Some("+00:00".into())))
            {
                return a;
            }
        }
    }
    array.clone()
}

thread_local! {
    /// Row buffers reused by every chunk a thread hashes: no allocation per row or per value.
    static ROW_BUFFERS: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Encodes `rows` rows of prepared columns (canonical form, column by column) into `bufs`,
/// which are cleared first; invalid UTF-8 values come from `invalid` (column, row, bytes).
pub(super) fn encode_into(
    arrays: &[ArrayRef],
    reads: &[Read],
    invalid: &[(usize, usize, Vec<u8>)],
    bufs: &mut [Vec<u8>],
) {
    for b in bufs.iter_mut() {
        b.clear();
    }
    for (c, a) in arrays.iter().enumerate() {
        let bad: Vec<(usize, &[u8])> = invalid
            .iter()
            .filter(|(col, _, _)| *col == c)
            .map(|(_, r, b)| (*r, b.as_slice()))
            .collect();
        let r = &reads[c];
        encode_column_with(a, r.text_as, r.int_as_bool, &bad, bufs);
    }
}

/// The key and row hashes of every row of one chunk (prepared columns, in plan order), computed
/// in parallel tasks over reused buffers.
pub(super) fn hash_chunk(
    arrays: &[ArrayRef],
    invalid: &[(usize, usize, Vec<u8>)],
    reads: &[Read],
    pairing: &Pairing,
) -> (Vec<u64>, Vec<u128>) {
    let n = arrays.first().map_or(0, |a| a.len());
    let starts: Vec<usize> = (0..n).step_by(TASK_ROWS).collect();
    let parts: Vec<(Vec<u64>, Vec<u128>)> = starts
        .par_iter()
        .map(|&off| {
            let len = TASK_ROWS.min(n - off);
            let sliced: Vec<ArrayRef> = arrays.iter().map(|a| a.slice(off, len)).collect();
            let bad: Vec<(usize, usize, Vec<u8>)> = invalid
                .iter()
                .filter(|(_, r, _)| *r >= off && *r < off + len)
                .map(|(c, r, b)| (*c, r - off, b.clone()))
                .collect();
            ROW_BUFFERS.with(|cell| {
                let mut bufs = cell.borrow_mut();
                if bufs.len() < len {
                    bufs.resize_with(len, || Vec::with_capacity(128));
                }
                let rows = &mut bufs[..len];
                encode_into(&sliced, reads, &bad, rows);
                let kh = rows.iter().map(|r| xxh3_64(&pairing.key(r))).collect();
                let rh = rows.iter().map(|r| xxh3_128(r)).collect();
                (kh, rh)
            })
        })
        .collect();
    let mut kh = Vec::with_capacity(n);
    let mut rh = Vec::with_capacity(n);
    for (k, r) in parts {
        kh.extend(k);
        rh.extend(r);
    }
    (kh, rh)
}

/// The canonical encodings of some rows of a kept chunk.
pub(super) fn encode_rows(
    batch: &RecordBatch,
    defects: &[(usize, usize, Vec<u8>)],
    reads: &[Read],
    rows: &[u32],
) -> Result<Vec<Vec<u8>>, DiffError> {
    let idx = arrow::array::UInt32Array::from(rows.to_vec());
    let arrays: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|a| arrow::compute::take(a.as_ref(), &idx, None))
        .collect::<Result<_, _>>()
        .map_err(|e| DiffError::Spill(e.to_string()))?;
    let bad: Vec<(usize, usize, Vec<u8>)> = defects
        .iter()
        .filter_map(|(c, r, b)| {
            rows.iter()
                .position(|x| *x as usize == *r)
                .map(|p| (*c, p, b.clone()))
        })
        .collect();
    let mut out = vec![Vec::new(); rows.len()];
    encode_into(&arrays, reads, &bad, &mut out);
    Ok(out)
}

pub(super) fn key_prefix(row: &[u8], key_len: usize) -> &[u8] {
    let mut i = 0;
    for _ in 0..key_len {
        if i + 5 > row.len() {
            break;
        }
        let len = u32::from_le_bytes([row[i + 1], row[i + 2], row[i + 3], row[i + 4]]) as usize;
        i = (i + 5 + len).min(row.len());
    }
    &row[..i]
}

/// How rows are paired: by their first `key_len` values (0: the whole row, a multiset diff), each
/// value in its pairing form when its column declares a pairing rule (`trim`, `signed-zero`…), so
/// that `'A1 '` and `'A1'` are one key under `trim` and the row is then `match*(trim)`.
#[derive(Clone)]
pub(super) struct Pairing {
    pub(super) key_len: usize,
    /// Per paired column, its rules when they change pairing; empty when none does.
    pub(super) rules: Vec<Option<ColumnRules>>,
}

impl Pairing {
    pub(super) fn new(plan: &TablePlan) -> Pairing {
        let n = if plan.key_len == 0 {
            plan.columns.len()
        } else {
            plan.key_len
        };
        let rules: Vec<Option<ColumnRules>> = plan.columns[..n]
            .iter()
            .map(|c| c.rules.pairs_by_rule().then(|| c.rules.clone()))
            .collect();
        Pairing {
            key_len: plan.key_len,
            rules: if rules.iter().any(Option::is_some) {
                rules
            } else {
                Vec::new()
            },
        }
    }

    /// The bytes rows are paired by.
    pub(super) fn key<'r>(&self, row: &'r [u8]) -> Cow<'r, [u8]> {
        let raw = if self.key_len == 0 {
            row
        } else {
            key_prefix(row, self.key_len)
        };
        if self.rules.is_empty() {
            return Cow::Borrowed(raw);
        }
        let mut out = Vec::with_capacity(raw.len());
        for (v, r) in cells(raw).into_iter().zip(&self.rules) {
            match r {
                Some(r) => r.push_pairing_form(v, &mut out),
                None => out.extend_from_slice(v),
            }
        }
        Cow::Owned(out)
    }
}
