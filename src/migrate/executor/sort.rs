//! A unit's rows in key order, whatever the source can do: chunks are gathered into runs of
//! bounded size, each run is sorted by key (with `lexsort_to_indices`, as a unit read whole is,
//! so its batches are the same rows) and spilled to an Arrow IPC file in the temporary
//! directory; the runs are then merged by key (arrow's row format orders as lexsort does). A
//! source that fits in one run is sorted in memory and never spilled. Memory stays bounded by a
//! run, whatever the unit's size; the files go with the stream.

use std::fs::File;
use std::io::{BufReader, BufWriter};

use arrow::compute::{interleave_record_batch, lexsort_to_indices, take_record_batch, SortColumn};
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::row::{RowConverter, Rows, SortField};

use super::*;
use crate::source::{Chunk, ChunkStream, SourceError};

/// Bytes of Arrow data (as `get_array_memory_size` counts them) in one run before it is sorted
/// and spilled. Sorting a run holds it about three times (the chunks, their concatenation, the
/// sorted copy), so a unit's read stays near 400 MB whatever its size. `RECKON_SORT_RUN_BYTES`
/// sets another size (tests make many small runs).
const RUN_BYTES: usize = 128 << 20;

fn run_bytes() -> usize {
    std::env::var("RECKON_SORT_RUN_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RUN_BYTES)
}
/// Rows per chunk of the sorted stream, and per batch of a spilled run.
const CHUNK_ROWS: usize = 8192;

/// The rows of `stream` in ascending order of the key columns `key`. `check` sees every chunk
/// as it is read (and may refuse it); the chunks coming out carry no defects.
pub(super) fn sorted_by_key(
    stream: ChunkStream,
    key: &[String],
    unit: &str,
    check: &dyn Fn(&Chunk) -> Result<(), MigrateError>,
) -> Result<ChunkStream, MigrateError> {
    sorted_in_runs(stream, key, unit, check, run_bytes())
}

/// [`sorted_by_key`] with runs of `limit` bytes.
fn sorted_in_runs(
    stream: ChunkStream,
    key: &[String],
    unit: &str,
    check: &dyn Fn(&Chunk) -> Result<(), MigrateError>,
    limit: usize,
) -> Result<ChunkStream, MigrateError> {
    let internal = |e: arrow::error::ArrowError| MigrateError::Internal(e.to_string());
    let mut pending: Vec<RecordBatch> = Vec::new();
    let mut bytes = 0usize;
    let mut runs: Vec<tempfile::NamedTempFile> = Vec::new();
    let mut key_idx: Option<Vec<usize>> = None;
    for chunk in stream {
        let chunk = chunk?;
        check(&chunk)?;
        if chunk.batch.num_rows() == 0 {
            continue;
        }
        let batch = crate::value::kind::plain_batch(&chunk.batch);
        if key_idx.is_none() {
            key_idx = Some(
                key.iter()
                    .map(|k| crate::migrate::column_index(&batch.schema(), unit, k, "key"))
                    .collect::<Result<_, _>>()?,
            );
        }
        bytes += batch.get_array_memory_size();
        pending.push(batch);
        if bytes >= limit {
            let idx = key_idx.as_deref().unwrap_or_default();
            let run = sort_run(std::mem::take(&mut pending), idx).map_err(internal)?;
            runs.push(spill(&run, unit)?);
            bytes = 0;
        }
    }
    let Some(key_idx) = key_idx else {
        return Ok(Box::new(std::iter::empty()));
    };
    let last = sort_run(pending, &key_idx).map_err(internal)?;
    if runs.is_empty() {
        // One run: sorted in memory, handed out a chunk at a time.
        let n = last.num_rows();
        let chunks = (0..n).step_by(CHUNK_ROWS).map(move |at| {
            Ok(Chunk {
                batch: last.slice(at, CHUNK_ROWS.min(n - at)),
                defects: Vec::new(),
            })
        });
        return Ok(Box::new(chunks.collect::<Vec<_>>().into_iter()));
    }
    if last.num_rows() > 0 {
        runs.push(spill(&last, unit)?);
    }
    drop(last);
    let merge = Merge::open(runs, key_idx).map_err(|e| MigrateError::Unit {
        unit: unit.to_string(),
        reason: format!("cannot read back the sorted rows: {e}"),
        hint: "check the free space of the temporary directory (TMPDIR)".into(),
    })?;
    Ok(Box::new(merge))
}

/// The batches as one, sorted by the key columns.
fn sort_run(
    batches: Vec<RecordBatch>,
    key: &[usize],
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let Some(first) = batches.first() else {
        return Ok(RecordBatch::new_empty(Arc::new(Schema::empty())));
    };
    let all = concat_batches(&first.schema(), &batches)?;
    drop(batches);
    if all.num_rows() < 2 {
        return Ok(all);
    }
    let cols: Vec<SortColumn> = key
        .iter()
        .map(|&i| SortColumn {
            values: all.column(i).clone(),
            options: None,
        })
        .collect();
    let idx = lexsort_to_indices(&cols, None)?;
    take_record_batch(&all, &idx)
}

/// A sorted run written to a temporary Arrow IPC file, in batches of [`CHUNK_ROWS`].
fn spill(run: &RecordBatch, unit: &str) -> Result<tempfile::NamedTempFile, MigrateError> {
    let fail = |e: String| MigrateError::Unit {
        unit: unit.to_string(),
        reason: format!("cannot spill sorted rows to the temporary directory: {e}"),
        hint: "check the free space of the temporary directory (TMPDIR)".into(),
    };
    let file = tempfile::NamedTempFile::new().map_err(|e| fail(e.to_string()))?;
    let out = BufWriter::new(file.reopen().map_err(|e| fail(e.to_string()))?);
    let mut w = FileWriter::try_new(out, &run.schema()).map_err(|e| fail(e.to_string()))?;
    let n = run.num_rows();
    for at in (0..n).step_by(CHUNK_ROWS) {
        w.write(&run.slice(at, CHUNK_ROWS.min(n - at)))
            .map_err(|e| fail(e.to_string()))?;
    }
    w.finish().map_err(|e| fail(e.to_string()))?;
    Ok(file)
}

/// One spilled run being merged: its reader, its current batch and that batch's key rows.
struct Run {
    reader: FileReader<BufReader<File>>,
    batch: RecordBatch,
    rows: Rows,
    at: usize,
}

/// The k-way merge of sorted runs, through a binary heap of the runs not yet done (so a unit of
/// many runs costs log k comparisons a row, not k). Ties (a key in two runs: the source repeats
/// it) come out run by run, next to each other, where the unit's key check refuses them.
struct Merge {
    runs: Vec<Option<Run>>,
    /// The runs not done, as a heap ordered by their current row (ties: the lower run first).
    heap: Vec<usize>,
    key: Vec<usize>,
    converter: RowConverter,
    /// Stands for a run that is done, in the list of batches rows are taken from.
    empty: RecordBatch,
    /// The files, removed when the merge ends.
    _files: Vec<tempfile::NamedTempFile>,
}

impl Merge {
    fn open(files: Vec<tempfile::NamedTempFile>, key: Vec<usize>) -> Result<Merge, String> {
        let mut runs = Vec::with_capacity(files.len());
        let mut converter = None;
        let mut empty = None;
        for f in &files {
            let reader =
                FileReader::try_new(BufReader::new(f.reopen().map_err(|e| e.to_string())?), None)
                    .map_err(|e| e.to_string())?;
            if converter.is_none() {
                let schema = reader.schema();
                let fields = key
                    .iter()
                    .map(|&i| SortField::new(schema.field(i).data_type().clone()))
                    .collect();
                converter = Some(RowConverter::new(fields).map_err(|e| e.to_string())?);
                empty = Some(RecordBatch::new_empty(schema));
            }
            let conv = converter.as_ref().expect("made above");
            runs.push(Run::next(reader, conv, &key)?);
        }
        let heap: Vec<usize> = (0..runs.len()).filter(|&i| runs[i].is_some()).collect();
        let mut m = Merge {
            runs,
            heap,
            key,
            converter: converter.ok_or("no run to merge")?,
            empty: empty.ok_or("no run to merge")?,
            _files: files,
        };
        for i in (0..m.heap.len() / 2).rev() {
            m.sift_down(i);
        }
        Ok(m)
    }

    /// Whether run `a`'s current row comes before run `b`'s.
    fn before(&self, a: usize, b: usize) -> bool {
        match (&self.runs[a], &self.runs[b]) {
            (Some(x), Some(y)) => match x.rows.row(x.at).cmp(&y.rows.row(y.at)) {
                std::cmp::Ordering::Equal => a < b,
                o => o.is_lt(),
            },
            _ => false,
        }
    }

    /// Moves the heap's entry at `i` down to its place.
    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut first = i;
            if l < self.heap.len() && self.before(self.heap[l], self.heap[first]) {
                first = l;
            }
            if r < self.heap.len() && self.before(self.heap[r], self.heap[first]) {
                first = r;
            }
            if first == i {
                return;
            }
            self.heap.swap(i, first);
            i = first;
        }
    }

    /// Up to [`CHUNK_ROWS`] rows in key order; `None` once every run is done. A chunk ends
    /// early where a run's batch ends (its rows are taken before the next batch is read).
    fn chunk(&mut self) -> Result<Option<RecordBatch>, String> {
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(CHUNK_ROWS);
        let mut ended = None;
        while picks.len() < CHUNK_ROWS {
            let Some(&b) = self.heap.first() else { break };
            let run = self.runs[b].as_mut().expect("in the heap");
            picks.push((b, run.at));
            run.at += 1;
            if run.at == run.batch.num_rows() {
                // Its rows are taken before its next batch is read: the chunk ends here.
                ended = Some(b);
                break;
            }
            self.sift_down(0);
        }
        if picks.is_empty() {
            return Ok(None);
        }
        let batches: Vec<&RecordBatch> = self
            .runs
            .iter()
            .map(|r| r.as_ref().map_or(&self.empty, |r| &r.batch))
            .collect();
        let out = interleave_record_batch(&batches, &picks).map_err(|e| e.to_string())?;
        if let Some(b) = ended {
            // `b` is still the heap's first entry.
            let run = self.runs[b].take().expect("ended");
            self.runs[b] = Run::next(run.reader, &self.converter, &self.key)?;
            if self.runs[b].is_none() {
                let last = self.heap.len() - 1;
                self.heap.swap(0, last);
                self.heap.pop();
            }
            self.sift_down(0);
        }
        Ok(Some(out))
    }
}

impl Run {
    /// The run's first batch, or `None`.
    fn next(
        mut reader: FileReader<BufReader<File>>,
        conv: &RowConverter,
        key: &[usize],
    ) -> Result<Option<Run>, String> {
        loop {
            let Some(batch) = reader.next() else {
                return Ok(None);
            };
            let batch = batch.map_err(|e| e.to_string())?;
            if batch.num_rows() == 0 {
                continue;
            }
            let cols: Vec<ArrayRef> = key.iter().map(|&i| batch.column(i).clone()).collect();
            let rows = conv.convert_columns(&cols).map_err(|e| e.to_string())?;
            return Ok(Some(Run {
                reader,
                batch,
                rows,
                at: 0,
            }));
        }
    }
}

impl Iterator for Merge {
    type Item = Result<Chunk, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.chunk() {
            Ok(Some(batch)) => Some(Ok(Chunk {
                batch,
                defects: Vec::new(),
            })),
            Ok(None) => None,
            Err(e) => Some(Err(SourceError::BadFile {
                path: "the unit's sorted rows, in the temporary directory".into(),
                reason: e,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    /// `n` rows of (k text, n int, v int) in a scrambled order, in chunks of `size`; keys repeat
    /// only where `dup` says.
    fn chunks(n: usize, size: usize, dup: Option<usize>) -> Vec<RecordBatch> {
        let texts = ["NULL", "", "a\u{1f}b", "Zürich", "z", "a", "\u{0}"];
        let rows: Vec<(Option<String>, i64, i64)> = (0..n)
            .map(|i| {
                let j = (i * 7919) % n;
                let j = if Some(i) == dup { (7919 % n) % n } else { j };
                let k = (j % 11 != 3).then(|| texts[j % texts.len()].to_string());
                (k, (j / texts.len()) as i64 - 40, i as i64)
            })
            .collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
            Field::new("v", DataType::Int64, false),
        ]));
        rows.chunks(size)
            .map(|c| {
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(
                            c.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
                        )),
                        Arc::new(Int64Array::from(c.iter().map(|r| r.1).collect::<Vec<_>>())),
                        Arc::new(Int64Array::from(c.iter().map(|r| r.2).collect::<Vec<_>>())),
                    ],
                )
                .unwrap()
            })
            .collect()
    }

    fn stream(batches: Vec<RecordBatch>) -> ChunkStream {
        Box::new(batches.into_iter().map(|batch| {
            Ok(Chunk {
                batch,
                defects: Vec::new(),
            })
        }))
    }

    /// The rows sorted whole, as a unit read whole is.
    fn whole(batches: &[RecordBatch]) -> RecordBatch {
        sort_run(batches.to_vec(), &[0, 1]).unwrap()
    }

    fn sorted(batches: &[RecordBatch], limit: usize) -> (RecordBatch, usize) {
        let key = ["k".to_string(), "n".to_string()];
        let out: Vec<RecordBatch> =
            sorted_in_runs(stream(batches.to_vec()), &key, "u", &|_| Ok(()), limit)
                .unwrap()
                .map(|c| c.unwrap().batch)
                .collect();
        assert!(out.iter().all(|b| b.num_rows() <= CHUNK_ROWS));
        let n = out.len();
        (concat_batches(&batches[0].schema(), &out).unwrap(), n)
    }

    #[test]
    fn runs_spilled_and_merged_give_the_rows_sorted_whole() {
        let input = chunks(20_000, 997, None);
        let want = whole(&input);
        // Every chunk a run of its own (21 runs), a few runs, and one run kept in memory.
        for limit in [1, 200_000, usize::MAX] {
            let (got, _) = sorted(&input, limit);
            assert_eq!(got, want, "runs of {limit} bytes");
        }
        // The same order as arrow's lexsort, NULL keys first.
        let k = want
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert!(k.is_null(0));
        // Chunks end where a run's spilled batch ends: never more than CHUNK_ROWS.
        let (_, pieces) = sorted(&chunks(40_000, 5_000, None), 1);
        assert!(pieces >= 40_000 / CHUNK_ROWS, "{pieces}");
    }

    #[test]
    fn a_key_in_two_runs_comes_out_twice_next_to_itself() {
        let input = chunks(5_000, 100, Some(4_321));
        let (got, _) = sorted(&input, 1);
        // Equal keys may come in either order (the unit refuses them anyway): the keys, in
        // order, are the whole sort's, so the two are next to each other.
        let want = whole(&input);
        assert_eq!(got.num_rows(), 5_000);
        assert_eq!(got.column(0), want.column(0));
        assert_eq!(got.column(1), want.column(1));
    }

    #[test]
    fn a_refused_chunk_stops_the_read_and_no_rows_means_no_chunks() {
        let key = ["k".to_string(), "n".to_string()];
        let refuse = |c: &Chunk| {
            if c.batch.num_rows() == 100 {
                Err(MigrateError::Internal("refused".into()))
            } else {
                Ok(())
            }
        };
        let r = sorted_in_runs(stream(chunks(500, 100, None)), &key, "u", &refuse, 1);
        assert!(r.is_err());
        let empty = sorted_in_runs(stream(Vec::new()), &key, "u", &|_| Ok(()), 1).unwrap();
        assert_eq!(empty.count(), 0);
    }
}
