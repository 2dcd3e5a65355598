//! Parquet files through parquet's Arrow reader: one table per file, named by the file stem.
//!
//! Arrow types come straight from the file (UTC flag and time unit of timestamps, INT96 as
//! nanosecond timestamps, decimal precision and scale). Decoding runs on its own thread, one
//! chunk ahead of the engine, so reading and profiling overlap.

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc::sync_channel;

use arrow::array::{Array, AsArray};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};
use parquet::arrow::ProjectionMask;

use super::{
    Chunk, ChunkStream, ColumnMeta, Part, Source, SourceError, TableMeta, TableName, CHUNK_ROWS,
};

/// A set of Parquet files.
pub struct ParquetSource {
    paths: Vec<PathBuf>,
}

impl ParquetSource {
    /// A source over these files (checked when read).
    pub fn new(paths: Vec<PathBuf>) -> ParquetSource {
        ParquetSource { paths }
    }

    fn builder(path: &PathBuf) -> Result<ParquetRecordBatchReaderBuilder<File>, SourceError> {
        let file = File::open(path).map_err(|e| bad_file(path, e))?;
        guarded(path, || {
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad_file(path, e))
        })
    }
}

/// Runs a step of the Parquet decoder, which panics on some damaged files: the panic becomes
/// this file's error, never a silently shorter table.
fn guarded<T>(
    path: &std::path::Path,
    f: impl FnOnce() -> Result<T, SourceError>,
) -> Result<T, SourceError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the decoder failed".into());
        Err(bad_file(path, format!("the file is damaged ({why})")))
    })
}

/// A file that cannot be read, and why.
fn bad_file(path: &std::path::Path, e: impl std::fmt::Display) -> SourceError {
    SourceError::BadFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// A reader's batches as chunks (no read defects: Parquet strings are valid UTF-8), ending at
/// the first error.
fn chunks(
    mut reader: ParquetRecordBatchReader,
    path: PathBuf,
) -> impl Iterator<Item = Result<Chunk, SourceError>> {
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let next = guarded(&path, || {
            reader.next().transpose().map_err(|e| bad_file(&path, e))
        })
        .transpose()?;
        failed = next.is_err();
        Some(next.map(|batch| Chunk {
            batch,
            defects: Vec::new(),
        }))
    })
}

/// The table name of a file: its stem.
pub fn table_name(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Refuses a set of files where two share a stem: both would be the same table, and one would
/// be read in place of the other.
pub fn check_unique_stems(paths: &[PathBuf]) -> Result<(), SourceError> {
    let mut seen: std::collections::BTreeMap<String, &PathBuf> = std::collections::BTreeMap::new();
    for p in paths {
        if let Some(first) = seen.insert(table_name(p), p) {
            return Err(SourceError::BadSpec {
                spec: format!("{} and {}", first.display(), p.display()),
                reason: format!(
                    "two files would both be table '{}' (one table per file, named by its stem)",
                    table_name(p)
                ),
            });
        }
    }
    Ok(())
}

/// The file holding `table` among `paths` (file sources: one table per file, named by its stem).
pub fn file_for(
    paths: &[PathBuf],
    table: &TableMeta,
    source_name: String,
) -> Result<PathBuf, SourceError> {
    paths
        .iter()
        .find(|p| table_name(p) == table.name.name)
        .cloned()
        .ok_or_else(|| SourceError::UnknownTable {
            table: table.name.to_string(),
            source_name,
            available: paths.iter().map(|p| table_name(p)).collect(),
        })
}

impl Source for ParquetSource {
    fn rereadable(&self) -> bool {
        true
    }

    fn display(&self) -> String {
        match self.paths.as_slice() {
            [one] => one.display().to_string(),
            many => format!("{} Parquet files", many.len()),
        }
    }

    fn tables(&mut self) -> Result<Vec<TableMeta>, SourceError> {
        check_unique_stems(&self.paths)?;
        self.paths
            .iter()
            .map(|p| {
                let b = Self::builder(p)?;
                Ok(TableMeta {
                    name: TableName {
                        schema: None,
                        name: table_name(p),
                    },
                    columns: b
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| ColumnMeta {
                            name: f.name().clone(),
                            declared_type: f.data_type().to_string(),
                            nullable: Some(f.is_nullable()),
                            storage_classes: None,
                        })
                        .collect(),
                    primary_key: Vec::new(),
                    foreign_keys: Vec::new(),
                    query: None,
                })
            })
            .collect()
    }

    fn describe_query(&mut self, _sql: &str) -> Result<TableMeta, SourceError> {
        Err(SourceError::BadSpec {
            spec: self.display(),
            reason: "--query needs a database source; files are profiled whole".into(),
        })
    }

    fn read(&mut self, table: &TableMeta) -> Result<ChunkStream, SourceError> {
        let path = file_for(&self.paths, table, self.display())?;
        let reader = Self::builder(&path)?
            .with_batch_size(CHUNK_ROWS)
            .build()
            .map_err(|e| bad_file(&path, e))?;
        Ok(stream_batches(reader, path))
    }

    fn read_parts(&mut self, table: &TableMeta) -> Result<Option<Vec<Part>>, SourceError> {
        let path = file_for(&self.paths, table, self.display())?;
        let file = File::open(&path).map_err(|e| bad_file(&path, e))?;
        // The footer is read once; each row group opens the file again and decodes on its own.
        let meta = guarded(&path, || {
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
                .map_err(|e| bad_file(&path, e))
        })?;
        let groups = meta.metadata().num_row_groups();
        let mut parts = Vec::with_capacity(groups);
        for g in 0..groups {
            let rows = meta.metadata().row_group(g).num_rows().max(0) as u64;
            let (meta, path) = (meta.clone(), path.clone());
            parts.push(Part {
                rows,
                read: Box::new(move || {
                    let file = File::open(&path).map_err(|e| bad_file(&path, e))?;
                    let reader = guarded(&path, || {
                        ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta)
                            .with_row_groups(vec![g])
                            .with_batch_size(CHUNK_ROWS)
                            .build()
                            .map_err(|e| bad_file(&path, e))
                    })?;
                    chunks(reader, path).collect()
                }),
            });
        }
        Ok(Some(parts))
    }

    fn read_rows(&mut self, table: &TableMeta, rows: &[u64]) -> Result<ChunkStream, SourceError> {
        let path = file_for(&self.paths, table, self.display())?;
        // Skip and select runs: the pages are still read, but the values skipped are never
        // materialised.
        let mut selectors = Vec::new();
        let mut at = 0u64;
        for &r in rows {
            if r < at {
                continue;
            }
            if r > at {
                selectors.push(RowSelector::skip((r - at) as usize));
            }
            selectors.push(RowSelector::select(1));
            at = r + 1;
        }
        let reader = Self::builder(&path)?
            .with_batch_size(CHUNK_ROWS)
            .with_row_selection(RowSelection::from(selectors))
            .build()
            .map_err(|e| bad_file(&path, e))?;
        Ok(stream_batches(reader, path))
    }

    /// A file whose one integer key column holds no NULL and ascends strictly (checked by
    /// reading that column alone) is read in file order; any other, `None`.
    fn read_in_key_order(
        &mut self,
        table: &TableMeta,
        key: &[String],
    ) -> Result<Option<ChunkStream>, SourceError> {
        let [key] = key else {
            return Ok(None);
        };
        let path = file_for(&self.paths, table, self.display())?;
        let builder = Self::builder(&path)?;
        let Some(i) = builder
            .schema()
            .fields()
            .iter()
            .position(|f| f.name() == key && f.data_type().is_integer())
        else {
            return Ok(None);
        };
        let mask = ProjectionMask::roots(builder.parquet_schema(), [i]);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(CHUNK_ROWS)
            .build()
            .map_err(|e| bad_file(&path, e))?;
        let mut last: Option<i128> = None;
        for chunk in chunks(reader, path.clone()) {
            let chunk = chunk?;
            let col = arrow::compute::cast(
                chunk.batch.column(0),
                &arrow::datatypes::DataType::Decimal128(38, 0),
            )
            .map_err(|e| bad_file(&path, e))?;
            let col = col.as_primitive::<arrow::datatypes::Decimal128Type>();
            if col.null_count() > 0 {
                return Ok(None);
            }
            for v in col.values().iter() {
                if last.is_some_and(|l| l >= *v) {
                    return Ok(None);
                }
                last = Some(*v);
            }
        }
        self.read(table).map(Some)
    }

    fn estimate_rows(&mut self, table: &TableMeta) -> Option<u64> {
        let path = file_for(&self.paths, table, String::new()).ok()?;
        Self::builder(&path)
            .ok()
            .map(|b| b.metadata().file_metadata().num_rows() as u64)
    }
}

/// Decodes batches on their own thread, one chunk ahead of the reader.
fn stream_batches(reader: ParquetRecordBatchReader, path: PathBuf) -> ChunkStream {
    let (tx, rx) = sync_channel(2);
    std::thread::spawn(move || {
        for item in chunks(reader, path) {
            let stop = item.is_err();
            if tx.send(item).is_err() || stop {
                break;
            }
        }
    });
    Box::new(rx.into_iter())
}
