//! The row diff, hash first: rows are encoded to be hashed, and only the rows that differ are
//! ever kept encoded.
//!
//! 1. **Hash**: both sides are read at once (one thread each), in lockstep by rows read. Each
//!    chunk's rows are canonically encoded (key columns first) into reused buffers, in parallel;
//!    the key hash is xxh3-64 of the key's encoding (in its pairing form under key rules), the row
//!    hash xxh3-128 of the whole row's. Per row only a 32-byte tuple is kept: (key hash, row hash,
//!    chunk, row). The chunk's compared columns stay in memory while they fit in
//!    `--memory-limit`; past it, a side that reads the same chunks again (files, SQLite) drops
//!    them, and a database side writes them to disk (Arrow IPC).
//! 2. **Cancel**: both sides' tuples are sorted by (key hash, row hash) in parallel and merged: a
//!    pair present m times on one side and n on the other cancels min(m, n) times (equal rows).
//!    Duplicated key hashes per side are counted on the way.
//! 3. **Materialise**: the rows left are encoded again from their chunks (in memory, on disk, or
//!    read a second time, where each row must hash as it did the first time).
//! 4. **Settle**: per key-hash partition (in parallel, in fixed order), the rows left are grouped
//!    by key hash, then by exact key bytes (so a hash collision can never pair two keys): one row
//!    left on each side is a changed row; anything else under a key is missing/extra (duplicated
//!    keys are never paired many-to-many). No key → the whole row is the key: an exact multiset
//!    diff.
//! 5. **Classify**: each cell of a changed row: equal, `match*(rule)` under a declared rule, or
//!    `mismatch(class)` (see `classify`). Rows go to a [`RowSink`] in partition order, sorted by
//!    hashes within it: the same inputs give the same rows in the same order at any thread count,
//!    memory limit or chunking.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, AsArray, LargeStringArray, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use super::aggregate::AggregateAcc;
use super::classify::classify;
use super::model::{CellDiff, ColumnDiff, DiffRow, RowCounts, TableDiff};
use super::plan::{ColumnPlan, Read, TablePlan};
use super::rules::ColumnRules;
use super::DiffError;
use crate::profile::pattern::shape;
use crate::source::{Chunk, ChunkStream, ReadDefect, Source, SourceError};
use crate::value::canonical::{cells, display, encode_column_with, TextAs};

/// Partitions of the pending rows (top bits of the key hash).
const PARTITIONS: usize = 64;
/// Rows encoded per parallel task.
const TASK_ROWS: usize = 8192;

/// What the user sets for a diff.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Bytes of pending rows kept in memory before spilling to disk.
    pub memory_limit: u64,
    /// Differing rows kept as samples per table.
    pub samples: usize,
    /// Where spill files go (default: the system's temporary directory).
    pub spill_dir: Option<PathBuf>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            memory_limit: 1 << 30,
            samples: 20,
            spill_dir: None,
        }
    }
}

/// Receives every differing row, in a deterministic order (ripgrep's sink pattern).
pub trait RowSink {
    /// One differing row of `table`.
    fn row(&mut self, table: &TableDiffHead, row: &DiffRow) -> Result<(), DiffError>;
}

/// What a sink needs to know about the table its rows belong to.
#[derive(Debug, Clone)]
pub struct TableDiffHead {
    /// The source table.
    pub source_table: String,
    /// The target table.
    pub target_table: String,
    /// Key columns (source names), or every column for a keyless diff.
    pub key_columns: Vec<String>,
}

/// A sink that drops rows (no `--out`).
pub struct NullSink;

impl RowSink for NullSink {
    fn row(&mut self, _: &TableDiffHead, _: &DiffRow) -> Result<(), DiffError> {
        Ok(())
    }
}

/// Progress of a table diff: rows read so far on each side.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// One row after the first pass: its hashes and where its values are kept. Rows are
/// materialised (canonically encoded) only when they did not cancel.
#[derive(Clone, Copy)]
struct Tuple {
    row_hash: u128,
    key_hash: u64,
    /// Side (top bit) and chunk index.
    chunk: u32,
    row: u32,
}

const SIDE_BIT: u32 = 1 << 31;

/// A leftover row, encoded, on its way to being settled.
struct Record {
    side: u8,
    key_hash: u64,
    row_hash: u128,
    row: Box<[u8]>,
}

/// A chunk's compared columns, kept until the rows that did not cancel are materialised: in
/// memory, or past `--memory-limit` in an Arrow IPC file of its side.
enum Kept {
    Mem(RecordBatch),
    Disk(usize),
    /// Nothing kept: the side reads the same chunks again (files, SQLite); its row count.
    Reread(usize),
}

/// One chunk as kept: its columns (prepared, in plan order) and its invalid-UTF-8 values as
/// (column position, row, raw bytes).
struct KeptChunk {
    data: Kept,
    defects: Vec<(usize, usize, Vec<u8>)>,
}

/// The spill files of kept chunks, one per side.
struct BatchSpill {
    dir: tempfile::TempDir,
    writers: [Option<FileWriter<BufWriter<File>>>; 2],
    written: [usize; 2],
}

impl BatchSpill {
    fn new(dir: &Option<PathBuf>) -> Result<BatchSpill, DiffError> {
        let d = match dir {
            Some(p) => tempfile::Builder::new()
                .prefix("reckon-spill")
                .tempdir_in(p),
            None => tempfile::Builder::new().prefix("reckon-spill").tempdir(),
        }
        .map_err(|e| DiffError::Spill(e.to_string()))?;
        Ok(BatchSpill {
            dir: d,
            writers: [None, None],
            written: [0, 0],
        })
    }

    fn path(&self, side: usize) -> PathBuf {
        self.dir.path().join(format!("side-{side}.arrow"))
    }

    /// Writes a batch to its side's file; returns its index there.
    fn write(&mut self, side: usize, batch: &RecordBatch) -> Result<usize, DiffError> {
        let err = |e: &dyn std::fmt::Display| DiffError::Spill(e.to_string());
        if self.writers[side].is_none() {
            let f = File::create(self.path(side)).map_err(|e| err(&e))?;
            self.writers[side] =
                Some(FileWriter::try_new(BufWriter::new(f), &batch.schema()).map_err(|e| err(&e))?);
        }
        if let Some(w) = self.writers[side].as_mut() {
            w.write(batch).map_err(|e| err(&e))?;
        }
        self.written[side] += 1;
        Ok(self.written[side] - 1)
    }

    fn finish(&mut self) -> Result<(), DiffError> {
        for w in self.writers.iter_mut().flatten() {
            w.finish().map_err(|e| DiffError::Spill(e.to_string()))?;
        }
        Ok(())
    }

    /// Reads batch `index` of a side back.
    fn read(&self, side: usize, index: usize) -> Result<RecordBatch, DiffError> {
        let err = |e: &dyn std::fmt::Display| DiffError::Spill(e.to_string());
        let f = File::open(self.path(side)).map_err(|e| err(&e))?;
        let mut r = FileReader::try_new(std::io::BufReader::new(f), None).map_err(|e| err(&e))?;
        r.set_index(index).map_err(|e| err(&e))?;
        match r.next() {
            Some(b) => b.map_err(|e| err(&e)),
            None => Err(DiffError::Spill(format!(
                "spilled batch {index} of side {side} is missing"
            ))),
        }
    }
}

/// Whether any row left is on `side`.
fn tuples_left_on(left: &[Tuple], side: usize) -> bool {
    left.iter()
        .any(|t| usize::from(t.chunk & SIDE_BIT != 0) == side)
}

/// The tuples of both sides on disk, by key-hash partition, once they no longer fit in
/// `--memory-limit`: every tuple of a key lands in the same partition, so each partition cancels
/// (and counts duplicate keys) on its own.
struct TupleSpill {
    dir: tempfile::TempDir,
    files: Vec<[Option<BufWriter<File>>; 2]>,
}

const TUPLE_BYTES: usize = 32;

impl TupleSpill {
    fn new(dir: &Option<PathBuf>) -> Result<TupleSpill, DiffError> {
        let d = match dir {
            Some(p) => tempfile::Builder::new()
                .prefix("reckon-tuples")
                .tempdir_in(p),
            None => tempfile::Builder::new().prefix("reckon-tuples").tempdir(),
        }
        .map_err(|e| DiffError::Spill(e.to_string()))?;
        Ok(TupleSpill {
            dir: d,
            files: (0..PARTITIONS).map(|_| [None, None]).collect(),
        })
    }

    fn path(&self, p: usize, side: usize) -> PathBuf {
        self.dir.path().join(format!("tuples-{p:02}-{side}"))
    }

    /// Moves the tuples of both sides to their partition files.
    fn write(&mut self, tuples: &mut [Vec<Tuple>; 2]) -> Result<(), DiffError> {
        use std::io::Write;
        let err = |e: std::io::Error| DiffError::Spill(e.to_string());
        for (side, list) in tuples.iter_mut().enumerate() {
            for t in list.drain(..) {
                let p = partition_of(t.key_hash);
                if self.files[p][side].is_none() {
                    let f = File::create(self.path(p, side)).map_err(err)?;
                    self.files[p][side] = Some(BufWriter::new(f));
                }
                let mut b = [0u8; TUPLE_BYTES];
                b[..16].copy_from_slice(&t.row_hash.to_le_bytes());
                b[16..24].copy_from_slice(&t.key_hash.to_le_bytes());
                b[24..28].copy_from_slice(&t.chunk.to_le_bytes());
                b[28..].copy_from_slice(&t.row.to_le_bytes());
                if let Some(w) = self.files[p][side].as_mut() {
                    w.write_all(&b).map_err(err)?;
                }
            }
            list.shrink_to_fit();
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), DiffError> {
        use std::io::Write;
        for pair in &mut self.files {
            for w in pair.iter_mut().flatten() {
                w.flush().map_err(|e| DiffError::Spill(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// The tuples of one partition, both sides.
    fn read(&self, p: usize) -> Result<[Vec<Tuple>; 2], DiffError> {
        let mut out: [Vec<Tuple>; 2] = Default::default();
        for (side, list) in out.iter_mut().enumerate() {
            let path = self.path(p, side);
            if !path.exists() {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| DiffError::Spill(e.to_string()))?;
            list.extend(bytes.chunks_exact(TUPLE_BYTES).map(|b| {
                let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
                Tuple {
                    row_hash: u128::from_le_bytes(b[..16].try_into().unwrap_or([0; 16])),
                    key_hash: u64::from_le_bytes(b[16..24].try_into().unwrap_or([0; 8])),
                    chunk: u32_at(24),
                    row: u32_at(28),
                }
            }));
        }
        Ok(out)
    }
}

fn partition_of(key_hash: u64) -> usize {
    (key_hash >> 58) as usize
}

/// Cancels equal rows: both sides sorted by (key hash, row hash) in parallel, then merged; a
/// (key hash, row hash) present m times on one side and n on the other cancels min(m, n) times.
/// Returns the cancelled pairs, the duplicated key hashes per side (keyed diffs), and the rows
/// left.
fn cancel(tuples: [Vec<Tuple>; 2], keyed: bool) -> (u64, [u64; 2], Vec<Tuple>) {
    let [mut a, mut b] = tuples;
    // Equal (key hash, row hash) means equal rows: which of them cancel does not matter.
    let order = |t: &Tuple| (t.key_hash, t.row_hash);
    rayon::join(
        || a.par_sort_unstable_by_key(order),
        || b.par_sort_unstable_by_key(order),
    );
    let dups_of = |v: &[Tuple]| -> u64 {
        if !keyed {
            return 0;
        }
        let mut n = 0;
        let mut i = 0;
        while i < v.len() {
            let mut j = i + 1;
            while j < v.len() && v[j].key_hash == v[i].key_hash {
                j += 1;
            }
            n += u64::from(j - i > 1);
            i = j;
        }
        n
    };
    let (da, db) = rayon::join(|| dups_of(&a), || dups_of(&b));
    let key = |t: &Tuple| (t.key_hash, t.row_hash);
    let run = |v: &[Tuple], i: usize| -> usize {
        let k = key(&v[i]);
        let mut j = i + 1;
        while j < v.len() && key(&v[j]) == k {
            j += 1;
        }
        j - i
    };
    let mut matched = 0u64;
    let mut left = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match key(&a[i]).cmp(&key(&b[j])) {
            std::cmp::Ordering::Less => {
                left.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                left.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (ra, rb) = (run(&a, i), run(&b, j));
                let m = ra.min(rb);
                matched += m as u64;
                left.extend_from_slice(&a[i + m..i + ra]);
                left.extend_from_slice(&b[j + m..j + rb]);
                i += ra;
                j += rb;
            }
        }
    }
    left.extend_from_slice(&a[i..]);
    left.extend_from_slice(&b[j..]);
    (matched, [da, db], left)
}

/// Encodes the rows that did not cancel, from the chunks that keep them (in parallel, chunk by
/// chunk), into the settle partitions. A side that keeps nothing is read again, chunk by chunk,
/// and each row taken from it must hash as it did the first time.
fn materialise(
    leftover: Vec<Tuple>,
    kept: &[Vec<KeptChunk>; 2],
    spill: Option<&BatchSpill>,
    sides: &mut [SideCols; 2],
    reread: [Option<(ChunkStream, String)>; 2],
) -> Result<Vec<Vec<Record>>, DiffError> {
    let mut by_chunk: BTreeMap<u32, Vec<Tuple>> = BTreeMap::new();
    for t in leftover {
        by_chunk.entry(t.chunk).or_default().push(t);
    }
    let mut parts: Vec<Vec<Record>> = (0..PARTITIONS).map(|_| Vec::new()).collect();
    let mut place = |recs: Vec<Record>| {
        for r in recs {
            parts[partition_of(r.key_hash)].push(r);
        }
    };
    type Groups = Vec<(u32, Vec<Tuple>)>;
    let (again, groups): (Groups, Groups) = by_chunk.into_iter().partition(|(tag, _)| {
        let side = usize::from(tag & SIDE_BIT != 0);
        matches!(kept[side][(tag & !SIDE_BIT) as usize].data, Kept::Reread(_))
    });
    let reads = [sides[0].reads.clone(), sides[1].reads.clone()];
    let encoded: Vec<Result<Vec<Record>, DiffError>> = groups
        .into_par_iter()
        .map(|(tag, ts)| {
            let side = usize::from(tag & SIDE_BIT != 0);
            let k = &kept[side][(tag & !SIDE_BIT) as usize];
            let batch = match &k.data {
                Kept::Mem(b) => b.clone(),
                Kept::Disk(at) => match spill {
                    Some(sp) => sp.read(side, *at)?,
                    None => return Err(DiffError::Spill("a spilled chunk has no file".into())),
                },
                Kept::Reread(_) => unreachable!("partitioned out above"),
            };
            records(side, &batch, &k.defects, &reads[side], &ts)
        })
        .collect();
    for recs in encoded {
        place(recs?);
    }
    // Sides read again: one pass each, only the chunks that hold rows left.
    let mut wanted: [BTreeMap<usize, Vec<Tuple>>; 2] = Default::default();
    for (tag, ts) in again {
        let side = usize::from(tag & SIDE_BIT != 0);
        wanted[side].insert((tag & !SIDE_BIT) as usize, ts);
    }
    // Both sides are read again at once, each on its own thread.
    let [w0, w1] = wanted;
    let [r0, r1] = reread;
    let (c0, c1) = {
        let [s0, s1] = sides;
        let (k0, k1) = (&kept[0], &kept[1]);
        let (reads0, reads1) = (&reads[0], &reads[1]);
        std::thread::scope(|scope| {
            let h = scope.spawn(move || reread_side(0, r0, w0, k0, s0, reads0));
            let b = reread_side(1, r1, w1, k1, s1, reads1);
            (
                h.join()
                    .unwrap_or_else(|_| Err(DiffError::Spill("a reader thread failed".into()))),
                b,
            )
        })
    };
    place(c0?);
    place(c1?);
    Ok(parts)
}

/// Reads one side again and takes the rows left from the chunks that hold them; each must hash
/// as it did on the first read.
fn reread_side(
    side: usize,
    stream: Option<(ChunkStream, String)>,
    mut wanted: BTreeMap<usize, Vec<Tuple>>,
    kept: &[KeptChunk],
    cols: &mut SideCols,
    reads: &[Read],
) -> Result<Vec<Record>, DiffError> {
    let mut out = Vec::new();
    let Some((stream, table)) = stream else {
        return Ok(out);
    };
    if wanted.is_empty() {
        return Ok(out);
    }
    let changed = || DiffError::Changed {
        side: if side == 0 { "source" } else { "target" }.into(),
        table: table.clone(),
    };
    for (ci, chunk) in stream.enumerate() {
        let chunk = chunk?;
        let expect = match kept.get(ci).map(|k| &k.data) {
            Some(Kept::Reread(n)) => *n,
            _ => return Err(changed()),
        };
        if chunk.batch.num_rows() != expect {
            return Err(changed());
        }
        let Some(ts) = wanted.remove(&ci) else {
            continue;
        };
        let (batch, defects) = prepared(cols, &chunk, &table)?;
        let recs = records(side, &batch, &defects, reads, &ts)?;
        if recs
            .iter()
            .zip(&ts)
            .any(|(r, t)| xxh3_128(&r.row) != t.row_hash)
        {
            return Err(changed());
        }
        out.extend(recs);
        if wanted.is_empty() {
            break;
        }
    }
    if wanted.is_empty() {
        Ok(out)
    } else {
        Err(changed())
    }
}

/// The records of some rows of a chunk.
fn records(
    side: usize,
    batch: &RecordBatch,
    defects: &[(usize, usize, Vec<u8>)],
    reads: &[Read],
    ts: &[Tuple],
) -> Result<Vec<Record>, DiffError> {
    let rows: Vec<u32> = ts.iter().map(|t| t.row).collect();
    let enc = encode_rows(batch, defects, reads, &rows)?;
    Ok(ts
        .iter()
        .zip(enc)
        .map(|(t, row)| Record {
            side: side as u8,
            key_hash: t.key_hash,
            row_hash: t.row_hash,
            row: row.into_boxed_slice(),
        })
        .collect())
}

/// A chunk's compared columns, prepared and in plan order, and its invalid-UTF-8 values as
/// (column position, row, bytes).
type Prepared = (RecordBatch, Vec<(usize, usize, Vec<u8>)>);

fn prepared(cols: &mut SideCols, chunk: &Chunk, table: &str) -> Result<Prepared, DiffError> {
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
struct SideCols {
    names: Vec<String>,
    reads: Vec<Read>,
    index: Option<Vec<usize>>,
}

impl SideCols {
    fn resolve(&mut self, batch: &RecordBatch, table: &str) -> Result<Vec<usize>, DiffError> {
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

fn prepare(array: &ArrayRef, read: &Read) -> ArrayRef {
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
fn encode_into(
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
fn hash_chunk(
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
fn encode_rows(
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

/// Reads a stream on its own thread into a small bounded channel.
fn spawn_reader<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    stream: crate::source::ChunkStream,
) -> Receiver<Result<Chunk, SourceError>> {
    let (tx, rx) = sync_channel(2);
    scope.spawn(move || {
        for c in stream {
            let stop = c.is_err();
            if tx.send(c).is_err() || stop {
                break;
            }
        }
    });
    rx
}

enum Item {
    Changed(Box<[u8]>, Box<[u8]>),
    Missing(Box<[u8]>),
    Extra(Box<[u8]>),
}

#[derive(Default)]
struct PartOut {
    rows: Vec<DiffRow>,
    matched: u64,
    matched_by_rule: u64,
    mismatched: u64,
    missing: u64,
    extra: u64,
    /// Per column: rule → cells, class → cells.
    rules: Vec<BTreeMap<String, u64>>,
    classes: Vec<BTreeMap<String, u64>>,
}

fn key_prefix(row: &[u8], key_len: usize) -> &[u8] {
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
struct Pairing {
    key_len: usize,
    /// Per paired column, its rules when they change pairing; empty when none does.
    rules: Vec<Option<ColumnRules>>,
}

impl Pairing {
    fn new(plan: &TablePlan) -> Pairing {
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
    fn key<'r>(&self, row: &'r [u8]) -> Cow<'r, [u8]> {
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

/// Multiset matching of one partition's leftover rows.
fn settle(mut recs: Vec<Record>, pairing: &Pairing) -> (u64, Vec<Item>) {
    let key_len = pairing.key_len;
    recs.sort_unstable_by(|a, b| {
        (a.key_hash, a.row_hash, a.side, &a.row).cmp(&(b.key_hash, b.row_hash, b.side, &b.row))
    });
    let mut matched = 0;
    let mut items = Vec::new();
    let mut i = 0;
    while i < recs.len() {
        let kh = recs[i].key_hash;
        let mut j = i;
        while j < recs.len() && recs[j].key_hash == kh {
            j += 1;
        }
        // Within one key hash: cancel equal rows (multiset), keep the rest.
        let mut left: [Vec<Box<[u8]>>; 2] = [Vec::new(), Vec::new()];
        let mut a = i;
        while a < j {
            let rh = recs[a].row_hash;
            let mut b = a;
            let mut count = [0usize; 2];
            while b < j && recs[b].row_hash == rh {
                count[recs[b].side as usize] += 1;
                b += 1;
            }
            let both = count[0].min(count[1]);
            matched += both as u64;
            let mut used = [0usize; 2];
            for r in recs[a..b].iter_mut() {
                let s = r.side as usize;
                used[s] += 1;
                if used[s] > both {
                    left[s].push(std::mem::take(&mut r.row));
                }
            }
            a = b;
        }
        if key_len == 0 && pairing.rules.is_empty() {
            items.extend(left[0].drain(..).map(Item::Missing));
            items.extend(left[1].drain(..).map(Item::Extra));
        } else {
            let mut keys: Vec<Cow<[u8]>> = left.iter().flatten().map(|r| pairing.key(r)).collect();
            keys.sort_unstable();
            keys.dedup();
            let keys: Vec<Vec<u8>> = keys.into_iter().map(Cow::into_owned).collect();
            for k in keys {
                let pick = |s: usize| -> Vec<Box<[u8]>> {
                    left[s]
                        .iter()
                        .filter(|r| pairing.key(r).as_ref() == k.as_slice())
                        .cloned()
                        .collect()
                };
                let (mut s, mut t) = (pick(0), pick(1));
                if key_len == 0 {
                    // A keyless diff under pairing rules: rows equal under the rules pair one
                    // to one (in their sorted order), the rest are missing or extra.
                    let both = s.len().min(t.len());
                    let (rest_s, rest_t) = (s.split_off(both), t.split_off(both));
                    items.extend(s.into_iter().zip(t).map(|(a, b)| Item::Changed(a, b)));
                    items.extend(rest_s.into_iter().map(Item::Missing));
                    items.extend(rest_t.into_iter().map(Item::Extra));
                } else if s.len() == 1 && t.len() == 1 {
                    items.push(Item::Changed(s.remove(0), t.remove(0)));
                } else {
                    items.extend(s.into_iter().map(Item::Missing));
                    items.extend(t.into_iter().map(Item::Extra));
                }
            }
        }
        i = j;
    }
    (matched, items)
}

fn show(v: &[u8], sensitive: bool) -> Option<String> {
    display(v).map(|s| if sensitive { shape(&s) } else { s })
}

fn key_of(row: &[u8], plan: &TablePlan) -> (Vec<Option<String>>, String) {
    let cs = cells(row);
    let n = if plan.key_len == 0 {
        plan.columns.len()
    } else {
        plan.key_len
    };
    let values: Vec<Option<String>> = cs
        .iter()
        .take(n)
        .zip(&plan.columns)
        .map(|(c, p)| show(c, p.sensitive))
        .collect();
    let text = plan
        .columns
        .iter()
        .zip(&values)
        .map(|(p, v)| format!("{}={}", p.source, v.as_deref().unwrap_or("NULL")))
        .collect::<Vec<_>>()
        .join(", ");
    (values, text)
}

fn row_of(row: &[u8], plan: &TablePlan, status: &str, cells: Vec<CellDiff>) -> DiffRow {
    let (key, key_text) = key_of(row, plan);
    DiffRow {
        key,
        key_text,
        status: status.into(),
        cells,
    }
}

fn classify_items(items: Vec<Item>, plan: &TablePlan, out: &mut PartOut) {
    let ncols = plan.columns.len();
    out.rules = vec![BTreeMap::new(); ncols];
    out.classes = vec![BTreeMap::new(); ncols];
    for item in items {
        match item {
            Item::Missing(r) => {
                out.missing += 1;
                out.rows.push(row_of(&r, plan, "missing", Vec::new()));
            }
            Item::Extra(r) => {
                out.extra += 1;
                out.rows.push(row_of(&r, plan, "extra", Vec::new()));
            }
            Item::Changed(a, b) => {
                let (ca, cb) = (cells(&a), cells(&b));
                let mut diffs = Vec::new();
                let mut any_mismatch = false;
                for (c, p) in plan.columns.iter().enumerate() {
                    let (x, y) = (
                        ca.get(c).copied().unwrap_or(&[]),
                        cb.get(c).copied().unwrap_or(&[]),
                    );
                    if x == y {
                        continue;
                    }
                    let (verdict, class) = match p.rules.matching(x, y) {
                        Some(rule) => {
                            *out.rules[c].entry(rule.clone()).or_default() += 1;
                            ("match*", rule)
                        }
                        None => {
                            any_mismatch = true;
                            let k = classify(x, y).name().to_string();
                            *out.classes[c].entry(k.clone()).or_default() += 1;
                            ("mismatch", k)
                        }
                    };
                    diffs.push(CellDiff {
                        column: p.source.clone(),
                        verdict: verdict.into(),
                        class,
                        source: show(x, p.sensitive),
                        target: show(y, p.sensitive),
                    });
                }
                if any_mismatch {
                    out.mismatched += 1;
                    out.rows.push(row_of(&a, plan, "changed", diffs));
                } else if diffs.is_empty() {
                    out.matched += 1;
                } else {
                    out.matched_by_rule += 1;
                }
            }
        }
    }
}

/// Diffs one planned table pair.
pub fn diff_table(
    source: &mut dyn Source,
    target: &mut dyn Source,
    plan: &TablePlan,
    opts: &DiffOptions,
    sink: &mut dyn RowSink,
    progress: Progress<'_>,
) -> Result<TableDiff, DiffError> {
    let started = Instant::now();
    let head = TableDiffHead {
        source_table: plan.source.name.to_string(),
        target_table: plan.target.name.to_string(),
        key_columns: if plan.key_len == 0 {
            plan.columns.iter().map(|c| c.source.clone()).collect()
        } else {
            plan.columns[..plan.key_len]
                .iter()
                .map(|c| c.source.clone())
                .collect()
        },
    };
    let mut sides = [
        SideCols {
            names: plan.columns.iter().map(|c| c.source.clone()).collect(),
            reads: plan.columns.iter().map(|c| c.source_read).collect(),
            index: None,
        },
        SideCols {
            names: plan.columns.iter().map(|c| c.target.clone()).collect(),
            reads: plan.columns.iter().map(|c| c.target_read).collect(),
            index: None,
        },
    ];
    let table_names = [head.source_table.clone(), head.target_table.clone()];
    let pairing = Pairing::new(plan);
    let mut aggs: [Vec<AggregateAcc>; 2] = [
        vec![AggregateAcc::default(); plan.columns.len()],
        vec![AggregateAcc::default(); plan.columns.len()],
    ];
    let mut tuples: [Vec<Tuple>; 2] = Default::default();
    let mut kept: [Vec<KeptChunk>; 2] = Default::default();
    let mut kept_bytes = 0usize;
    let mut spill: Option<BatchSpill> = None;
    let mut tuple_spill: Option<TupleSpill> = None;
    // Kept chunks and tuples get three quarters of `--memory-limit`: the rest is for the chunks
    // being read and encoded.
    let budget = opts.memory_limit / 4 * 3;
    let mut counts = RowCounts::default();
    let mut side_hashes = [0u128; 2];
    // Chunks are kept in memory while they fit. Past `--memory-limit`, a side that reads the same
    // chunks twice (files, SQLite) keeps nothing and reads its few rows left again; a database
    // side writes its chunks to disk.
    let rereadable = [source.rereadable(), target.rereadable()];
    let mut keep = [true, true];
    let mut over_limit = false;
    let streams = [source.read(&plan.source)?, target.read(&plan.target)?];
    // Pass 1: every row of both sides to (key hash, row hash, where it is kept).
    std::thread::scope(|scope| -> Result<(), DiffError> {
        let [s0, s1] = streams;
        let rx = [spawn_reader(scope, s0), spawn_reader(scope, s1)];
        let mut done = [false, false];
        let mut read = [0u64, 0u64];
        while !(done[0] && done[1]) {
            // Lockstep: take from the side that has read fewer rows.
            let side = if done[0] {
                1
            } else if done[1] || read[0] <= read[1] {
                0
            } else {
                1
            };
            let chunk = match rx[side].recv() {
                Ok(c) => c?,
                Err(_) => {
                    done[side] = true;
                    continue;
                }
            };
            let (batch, defects) = prepared(&mut sides[side], &chunk, &table_names[side])?;
            let reads = sides[side].reads.clone();
            let arrays: Vec<ArrayRef> = batch.columns().to_vec();
            let ((kh, rh), chunk_aggs) = rayon::join(
                || hash_chunk(&arrays, &defects, &reads, &pairing),
                || {
                    arrays
                        .par_iter()
                        .zip(reads.par_iter())
                        .map(|(a, r)| {
                            let mut acc = AggregateAcc::default();
                            acc.update(a, r);
                            acc
                        })
                        .collect::<Vec<_>>()
                },
            );
            for (acc, a) in aggs[side].iter_mut().zip(chunk_aggs) {
                acc.merge(a);
            }
            let n = kh.len();
            read[side] += n as u64;
            let chunk_no = u32::try_from(kept[side].len())
                .ok()
                .filter(|c| c & SIDE_BIT == 0)
                .ok_or_else(|| DiffError::Spill("more than 2^31 chunks on one side".into()))?;
            let tag = chunk_no | if side == 1 { SIDE_BIT } else { 0 };
            tuples[side].reserve(n);
            for (i, (k, r)) in kh.into_iter().zip(rh).enumerate() {
                side_hashes[side] = side_hashes[side].wrapping_add(r);
                tuples[side].push(Tuple {
                    row_hash: r,
                    key_hash: k,
                    chunk: tag,
                    row: i as u32,
                });
            }
            if keep[side] {
                kept_bytes += batch.get_array_memory_size();
                kept[side].push(KeptChunk {
                    data: Kept::Mem(batch),
                    defects,
                });
            } else {
                kept[side].push(KeptChunk {
                    data: Kept::Reread(n),
                    defects: Vec::new(),
                });
            }
            // Past the memory limit the kept chunks leave memory (the tuples stay): dropped, to
            // be read again, or written to disk.
            let tuple_bytes = (tuples[0].len() + tuples[1].len()) * std::mem::size_of::<Tuple>();
            if (kept_bytes + tuple_bytes) as u64 > budget && kept_bytes > 0 {
                over_limit = true;
                for (s, list) in kept.iter_mut().enumerate() {
                    if rereadable[s] {
                        keep[s] = false;
                        for k in list.iter_mut() {
                            if let Kept::Mem(b) = &k.data {
                                k.data = Kept::Reread(b.num_rows());
                                k.defects = Vec::new();
                            }
                        }
                        continue;
                    }
                    if spill.is_none() {
                        spill = Some(BatchSpill::new(&opts.spill_dir)?);
                    }
                    if let Some(sp) = spill.as_mut() {
                        for k in list.iter_mut() {
                            if let Kept::Mem(b) = &k.data {
                                let at = sp.write(s, b)?;
                                k.data = Kept::Disk(at);
                            }
                        }
                    }
                }
                kept_bytes = 0;
            }
            // Tuples past half the limit go to their partitions on disk.
            if (tuple_bytes as u64).saturating_mul(2) > budget {
                over_limit = true;
                if tuple_spill.is_none() {
                    tuple_spill = Some(TupleSpill::new(&opts.spill_dir)?);
                }
                if let Some(ts) = tuple_spill.as_mut() {
                    ts.write(&mut tuples)?;
                }
            }
            progress(read[0], read[1]);
        }
        counts.source_rows = read[0];
        counts.target_rows = read[1];
        Ok(())
    })?;
    if let Some(sp) = spill.as_mut() {
        sp.finish()?;
    }
    // Pass 2: equal (key hash, row hash) pairs cancel as a multiset, per radix partition.
    let keyed = plan.key_len > 0;
    let (matched, dups, leftover) = match tuple_spill.as_mut() {
        None => cancel(std::mem::take(&mut tuples), keyed),
        Some(ts) => {
            ts.write(&mut tuples)?;
            ts.finish()?;
            let (mut matched, mut dups, mut left) = (0u64, [0u64; 2], Vec::new());
            for p in 0..PARTITIONS {
                let (m, d, l) = cancel(ts.read(p)?, keyed);
                matched += m;
                dups[0] += d[0];
                dups[1] += d[1];
                left.extend(l);
            }
            (matched, dups, left)
        }
    };
    counts.matched += matched;
    counts.duplicate_keys_source = dups[0];
    counts.duplicate_keys_target = dups[1];
    // Pass 3: only the rows that did not cancel are encoded, from their kept chunks.
    let needs = |side: usize| {
        kept[side].iter().any(|k| matches!(k.data, Kept::Reread(_)))
            && tuples_left_on(&leftover, side)
    };
    let reread = [
        needs(0)
            .then(|| {
                source
                    .read(&plan.source)
                    .map(|s| (s, head.source_table.clone()))
            })
            .transpose()?,
        needs(1)
            .then(|| {
                target
                    .read(&plan.target)
                    .map(|s| (s, head.target_table.clone()))
            })
            .transpose()?,
    ];
    let mut parts = materialise(leftover, &kept, spill.as_ref(), &mut sides, reread)?;
    let ncols = plan.columns.len();
    let mut rules: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); ncols];
    let mut classes: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); ncols];
    let mut samples = Vec::new();
    let window = (rayon::current_num_threads() * 2).max(2);
    let mut p0 = 0;
    while p0 < PARTITIONS {
        let p1 = (p0 + window).min(PARTITIONS);
        let mine: Vec<(usize, Vec<Record>)> = (p0..p1)
            .map(|p| (p, std::mem::take(&mut parts[p])))
            .collect();
        let outs: Vec<Result<PartOut, DiffError>> = mine
            .into_par_iter()
            .map(|(_, recs)| {
                let (matched, items) = settle(recs, &pairing);
                let mut out = PartOut {
                    matched,
                    ..PartOut::default()
                };
                classify_items(items, plan, &mut out);
                Ok(out)
            })
            .collect();
        for o in outs {
            let o = o?;
            counts.matched += o.matched;
            counts.matched_by_rule += o.matched_by_rule;
            counts.mismatched += o.mismatched;
            counts.missing += o.missing;
            counts.extra += o.extra;
            for c in 0..ncols {
                for (k, v) in &o.rules[c] {
                    *rules[c].entry(k.clone()).or_default() += v;
                }
                for (k, v) in &o.classes[c] {
                    *classes[c].entry(k.clone()).or_default() += v;
                }
            }
            for r in o.rows {
                sink.row(&head, &r)?;
                if samples.len() < opts.samples {
                    samples.push(r);
                }
            }
        }
        p0 = p1;
    }
    let paired = counts.matched + counts.matched_by_rule + counts.mismatched;
    let columns: Vec<ColumnDiff> = plan
        .columns
        .iter()
        .enumerate()
        .map(|(c, p)| column_diff(c, p, plan, paired, &rules[c], &classes[c], &aggs))
        .collect();
    let mut all_rules = BTreeMap::new();
    let mut all_classes = BTreeMap::new();
    for c in 0..ncols {
        for (k, v) in &rules[c] {
            *all_rules.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &classes[c] {
            *all_classes.entry(k.clone()).or_default() += v;
        }
    }
    let schema_error = plan.schema.iter().any(|f| f.severity == "error");
    let verdict = if counts.mismatched + counts.missing + counts.extra > 0 || schema_error {
        "mismatch"
    } else if counts.matched_by_rule > 0 {
        "match*"
    } else {
        "match"
    };
    Ok(TableDiff {
        error: None,
        source_table: head.source_table,
        target_table: head.target_table,
        key: plan.columns[..plan.key_len]
            .iter()
            .map(|c| c.source.clone())
            .collect(),
        key_origin: plan.key_origin.clone(),
        verdict: verdict.into(),
        counts,
        rules: all_rules,
        classes: all_classes,
        schema: plan.schema.clone(),
        columns,
        samples,
        spilled: over_limit,
        seconds: started.elapsed().as_secs_f64(),
        side_hashes,
    })
}

fn column_diff(
    c: usize,
    p: &ColumnPlan,
    plan: &TablePlan,
    paired: u64,
    rules: &BTreeMap<String, u64>,
    classes: &BTreeMap<String, u64>,
    aggs: &[Vec<AggregateAcc>; 2],
) -> ColumnDiff {
    let differing: u64 = rules.values().sum::<u64>() + classes.values().sum::<u64>();
    ColumnDiff {
        source: p.source.clone(),
        target: p.target.clone(),
        source_type: p.source_type.clone(),
        target_type: p.target_type.clone(),
        key: c < plan.key_len,
        sensitive: p.sensitive,
        rules: p.rules.0.iter().map(|r| r.name()).collect(),
        compared: paired,
        matched: paired.saturating_sub(differing),
        matched_by_rule: rules.clone(),
        mismatched: classes.clone(),
        source_aggregate: aggs[0][c].finish(p.sensitive),
        target_aggregate: aggs[1][c].finish(p.sensitive),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_key() -> Pairing {
        Pairing {
            key_len: 1,
            rules: Vec::new(),
        }
    }

    fn rec(side: u8, key: u8, val: u8) -> Record {
        let mut row = Vec::new();
        for (t, v) in [(3u8, key), (3u8, val)] {
            row.push(t);
            row.extend_from_slice(&1u32.to_le_bytes());
            row.push(v);
        }
        Record {
            side,
            key_hash: xxh3_64(&row[..6]),
            row_hash: xxh3_128(&row),
            row: row.into(),
        }
    }

    fn kinds(items: &[Item]) -> Vec<&'static str> {
        items
            .iter()
            .map(|i| match i {
                Item::Changed(..) => "changed",
                Item::Missing(_) => "missing",
                Item::Extra(_) => "extra",
            })
            .collect()
    }

    #[test]
    fn duplicates_are_a_multiset_never_paired_many_to_many() {
        // (1,'a'),(1,'a') vs (1,'a'): one missing duplicate.
        let (m, items) = settle(
            vec![rec(0, 1, b'a'), rec(0, 1, b'a'), rec(1, 1, b'a')],
            &by_key(),
        );
        assert_eq!((m, kinds(&items)), (1, vec!["missing"]));
        // (1,'A'),(1,'B') vs (1,'B'),(1,'A'): a multiset match.
        let (m, items) = settle(
            vec![
                rec(0, 1, b'A'),
                rec(0, 1, b'B'),
                rec(1, 1, b'B'),
                rec(1, 1, b'A'),
            ],
            &by_key(),
        );
        assert_eq!((m, items.len()), (2, 0));
        // (1,'A'),(1,'B') vs (1,'C'),(1,'D'): never paired.
        let (_, items) = settle(
            vec![
                rec(0, 1, b'A'),
                rec(0, 1, b'B'),
                rec(1, 1, b'C'),
                rec(1, 1, b'D'),
            ],
            &by_key(),
        );
        assert_eq!(kinds(&items), vec!["missing", "missing", "extra", "extra"]);
        // One row each side under a key: changed.
        let (_, items) = settle(vec![rec(0, 2, b'x'), rec(1, 2, b'y')], &by_key());
        assert_eq!(kinds(&items), vec!["changed"]);
    }

    #[test]
    fn a_key_hash_collision_never_pairs_two_keys() {
        let mut a = rec(0, 1, b'x');
        let mut b = rec(1, 2, b'y');
        a.key_hash = 7;
        b.key_hash = 7;
        let (_, items) = settle(vec![a, b], &by_key());
        assert_eq!(kinds(&items), vec!["missing", "extra"]);
    }
}
