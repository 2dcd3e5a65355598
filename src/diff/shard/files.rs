//! `shard_keys.bin`, the key hash of each row a shard wrote to `diff_rows.parquet` (by which
//! `reckon merge` interleaves shards), and the digests that tie a shard's files to its state.

use crate::diff::{DiffError, DiffRow, RowSink, TableDiffHead};

/// The file beside `diff_rows.parquet` holding each row's key hash.
pub const KEYS_FILE: &str = "shard_keys.bin";

/// A row sink that also writes each row's key hash to `shard_keys.bin`.
pub struct KeyedRows<'a> {
    /// Where the rows go.
    pub rows: &'a mut dyn RowSink,
    /// Where their key hashes go.
    pub keys: &'a mut KeyFile,
}

impl RowSink for KeyedRows<'_> {
    fn row(&mut self, table: &TableDiffHead, row: &DiffRow) -> Result<(), DiffError> {
        self.keys.push(row.key_hash)?;
        self.rows.row(table, row)
    }
}

/// `shard_keys.bin` being written.
pub struct KeyFile {
    path: std::path::PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    rows: u64,
}

impl KeyFile {
    /// Creates the file.
    pub fn create(path: &std::path::Path) -> Result<KeyFile, DiffError> {
        let f = std::fs::File::create(path).map_err(|e| out_err(path, e))?;
        Ok(KeyFile {
            path: path.to_path_buf(),
            out: std::io::BufWriter::new(f),
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn push(&mut self, key_hash: u64) -> Result<(), DiffError> {
        use std::io::Write;
        self.rows += 1;
        self.out
            .write_all(&key_hash.to_le_bytes())
            .map_err(|e| out_err(&self.path, e))
    }

    /// Writes what is buffered and closes the file.
    pub fn close(mut self) -> Result<(), DiffError> {
        use std::io::Write;
        self.out.flush().map_err(|e| out_err(&self.path, e))
    }
}

fn out_err(path: &std::path::Path, e: impl std::fmt::Display) -> DiffError {
    DiffError::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Reads `shard_keys.bin` back, key hash by key hash.
pub struct KeyReader {
    input: std::io::BufReader<std::fs::File>,
}

impl KeyReader {
    /// Opens the file.
    pub fn open(path: &std::path::Path) -> std::io::Result<KeyReader> {
        Ok(KeyReader {
            input: std::io::BufReader::new(std::fs::File::open(path)?),
        })
    }

    /// The next key hash; `None` at the end.
    pub fn next_hash(&mut self) -> std::io::Result<Option<u64>> {
        use std::io::Read;
        let mut b = [0u8; 8];
        match self.input.read_exact(&mut b) {
            Ok(()) => Ok(Some(u64::from_le_bytes(b))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// xxh3-128 of a file's bytes, in hex, read in blocks.
pub fn file_digest(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:032x}", h.digest128()))
}
