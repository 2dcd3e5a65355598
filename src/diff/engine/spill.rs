//! Where things go past the memory budget: kept chunks (in memory, on disk as Arrow IPC, or
//! read again) and tuples (key-hash partitions on disk).

use super::*;

/// A chunk's compared columns, kept until the rows that did not cancel are materialised: in
/// memory, or past `--memory-limit` in an Arrow IPC file of its side.
pub(super) enum Kept {
    Mem(RecordBatch),
    Disk(usize),
    /// Nothing kept: the side reads the same chunks again (files, SQLite).
    Reread,
}

/// One chunk as kept: its columns (prepared, in plan order) and its invalid-UTF-8 values as
/// (column position, row, raw bytes).
pub(super) struct KeptChunk {
    pub(super) data: Kept,
    pub(super) defects: Vec<(usize, usize, Vec<u8>)>,
    /// Rows the chunk had when read (its rows' positions in a second read start after those of
    /// the chunks before it).
    pub(super) read_rows: usize,
    /// Under `--shard`, only the shard's rows are kept: their positions in the chunk as read.
    pub(super) positions: Option<Vec<u32>>,
}

/// The spill files of kept chunks, one per side.
pub(super) struct BatchSpill {
    pub(super) dir: tempfile::TempDir,
    pub(super) writers: [Option<FileWriter<BufWriter<File>>>; 2],
    pub(super) written: [usize; 2],
}

impl BatchSpill {
    pub(super) fn new(dir: &Option<PathBuf>) -> Result<BatchSpill, DiffError> {
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

    pub(super) fn path(&self, side: usize) -> PathBuf {
        self.dir.path().join(format!("side-{side}.arrow"))
    }

    /// Writes a batch to its side's file; returns its index there.
    pub(super) fn write(&mut self, side: usize, batch: &RecordBatch) -> Result<usize, DiffError> {
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

    pub(super) fn finish(&mut self) -> Result<(), DiffError> {
        for w in self.writers.iter_mut().flatten() {
            w.finish().map_err(|e| DiffError::Spill(e.to_string()))?;
        }
        Ok(())
    }

    /// Reads batch `index` of a side back.
    pub(super) fn read(&self, side: usize, index: usize) -> Result<RecordBatch, DiffError> {
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
pub(super) fn tuples_left_on(left: &[Tuple], side: usize) -> bool {
    left.iter()
        .any(|t| usize::from(t.chunk & SIDE_BIT != 0) == side)
}

/// The tuples of both sides on disk, by key-hash partition, once they no longer fit in
/// `--memory-limit`: every tuple of a key lands in the same partition, so each partition cancels
/// (and counts duplicate keys) on its own.
pub(super) struct TupleSpill {
    pub(super) dir: tempfile::TempDir,
    pub(super) files: Vec<[Option<BufWriter<File>>; 2]>,
}

pub(super) const TUPLE_BYTES: usize = 32;

impl TupleSpill {
    pub(super) fn new(dir: &Option<PathBuf>) -> Result<TupleSpill, DiffError> {
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

    pub(super) fn path(&self, p: usize, side: usize) -> PathBuf {
        self.dir.path().join(format!("tuples-{p:02}-{side}"))
    }

    /// Moves the tuples of both sides to their partition files.
    pub(super) fn write(&mut self, tuples: &mut [Vec<Tuple>; 2]) -> Result<(), DiffError> {
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

    pub(super) fn finish(&mut self) -> Result<(), DiffError> {
        use std::io::Write;
        for pair in &mut self.files {
            for w in pair.iter_mut().flatten() {
                w.flush().map_err(|e| DiffError::Spill(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// The tuples of one partition, both sides.
    pub(super) fn read(&self, p: usize) -> Result<[Vec<Tuple>; 2], DiffError> {
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

pub(super) fn partition_of(key_hash: u64) -> usize {
    (key_hash >> 58) as usize
}
