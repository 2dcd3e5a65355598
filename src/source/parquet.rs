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

    /// The row groups of a file as parts; with `dictionaries`, the text columns of a row group
    /// whose data pages are all dictionary-encoded come as dictionary arrays.
    fn parts(
        &mut self,
        table: &TableMeta,
        dictionaries: bool,
    ) -> Result<Option<Vec<Part>>, SourceError> {
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
            let meta = match dictionaries {
                true => dictionary_text(&meta, g).unwrap_or_else(|| meta.clone()),
                false => meta.clone(),
            };
            let path = path.clone();
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
}

/// The reader metadata of row group `g` with its text columns read as `Dictionary(Int32, …)`
/// arrays, where the column chunk says (in its page encoding statistics) that every data page
/// is dictionary-encoded; `None` when no column is. A chunk whose pages fall back to plain
/// encoding part-way is read plain: the reader would otherwise build a dictionary for it by
/// hashing every value. Only flat schemas (one leaf column per field) are considered.
fn dictionary_text(meta: &ArrowReaderMetadata, g: usize) -> Option<ArrowReaderMetadata> {
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::basic::{ConvertedType, Encoding, PageType};
    let schema = meta.schema();
    let group = meta.metadata().row_group(g);
    if group.num_columns() != schema.fields().len() {
        return None;
    }
    let all_dictionary = |c: usize| {
        let stats = group.column(c).page_encoding_stats();
        let data = stats.into_iter().flatten().filter(|s| {
            matches!(s.page_type, PageType::DATA_PAGE | PageType::DATA_PAGE_V2) && s.count > 0
        });
        let mut any = false;
        for s in data {
            if !matches!(
                s.encoding,
                Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY
            ) {
                return false;
            }
            any = true;
        }
        any
    };
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(c, f)| {
            // Text the file itself says is UTF-8: the reader decodes the dictionary of any
            // other byte array (JSON, say) as binary, whatever the Arrow type asked for.
            let utf8 = group.column(c).column_descr().converted_type() == ConvertedType::UTF8;
            let text = utf8 && matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8);
            if text && all_dictionary(c) {
                changed = true;
                let dt = DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(f.data_type().clone()),
                );
                f.as_ref().clone().with_data_type(dt)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    if !changed {
        return None;
    }
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    let options = ArrowReaderOptions::new().with_schema(std::sync::Arc::new(schema));
    ArrowReaderMetadata::try_new(meta.metadata().clone(), options).ok()
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
        self.parts(table, false)
    }

    fn read_parts_with_dictionaries(
        &mut self,
        table: &TableMeta,
    ) -> Result<Option<Vec<Part>>, SourceError> {
        self.parts(table, true)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::DataType;
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use super::*;

    #[test]
    fn text_of_dictionary_pages_only_comes_as_dictionaries_and_reads_the_same() {
        // `low` has 7 values: dictionary pages throughout. `high` has a value a row and a
        // dictionary page of at most 1 kB: it falls back to plain pages within each row group,
        // and must be read plain (and the same).
        let n = 20_000usize;
        let batch = RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from_iter_values(0..n as i64)) as ArrayRef,
            ),
            (
                "low",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("s{}", i % 7)),
                )),
            ),
            (
                "high",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("value-{i}")),
                )),
            ),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let props = WriterProperties::builder()
            .set_max_row_group_size(5_000)
            .set_dictionary_page_size_limit(1024)
            .build();
        let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), Some(props))
            .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let mut src = ParquetSource::new(vec![path]);
        let meta = src.tables().unwrap().remove(0);
        let read = |parts: Vec<Part>| -> Vec<RecordBatch> {
            parts
                .into_iter()
                .flat_map(|p| (p.read)().unwrap())
                .map(|c| c.batch)
                .collect()
        };
        let plain = read(src.read_parts(&meta).unwrap().unwrap());
        let dict = read(src.read_parts_with_dictionaries(&meta).unwrap().unwrap());
        assert_eq!(plain.len(), 4, "a chunk a row group");
        assert_eq!(plain.len(), dict.len());
        for (p, d) in plain.iter().zip(&dict) {
            assert_eq!(p.column(1).data_type(), &DataType::Utf8);
            assert!(
                matches!(d.column(1).data_type(), DataType::Dictionary(k, v)
                    if **k == DataType::Int32 && **v == DataType::Utf8),
                "{}",
                d.column(1).data_type()
            );
            assert_eq!(
                d.column(2).data_type(),
                &DataType::Utf8,
                "fell back to plain"
            );
            let low = arrow::compute::cast(d.column(1), &DataType::Utf8).unwrap();
            assert_eq!(&low, p.column(1));
            assert_eq!(d.column(0), p.column(0));
            assert_eq!(d.column(2), p.column(2));
        }
    }

    #[test]
    fn json_text_of_dictionary_pages_is_read_plain() {
        use parquet::data_type::{ByteArray, ByteArrayType};
        use parquet::file::writer::SerializedFileWriter;
        use parquet::schema::parser::parse_message_type;

        // A JSON column (an Arrow string to the reader) whose pages are all dictionary-encoded:
        // the reader decodes its dictionary as binary, so it must not be asked for one.
        let schema =
            Arc::new(parse_message_type("message m { required binary j (JSON); }").unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.parquet");
        let mut w = SerializedFileWriter::new(
            File::create(&path).unwrap(),
            schema,
            Arc::new(WriterProperties::builder().build()),
        )
        .unwrap();
        let mut group = w.next_row_group().unwrap();
        let mut col = group.next_column().unwrap().unwrap();
        let values: Vec<ByteArray> = (0..100)
            .map(|i| ByteArray::from(format!("{{\"k\":{}}}", i % 3).as_str()))
            .collect();
        col.typed::<ByteArrayType>()
            .write_batch(&values, None, None)
            .unwrap();
        col.close().unwrap();
        group.close().unwrap();
        w.close().unwrap();
        let mut src = ParquetSource::new(vec![path]);
        let meta = src.tables().unwrap().remove(0);
        let parts = src.read_parts_with_dictionaries(&meta).unwrap().unwrap();
        let chunks: Vec<Chunk> = parts
            .into_iter()
            .flat_map(|p| (p.read)().unwrap())
            .collect();
        let col = chunks[0].batch.column(0);
        assert_eq!(col.data_type(), &DataType::Utf8);
        assert_eq!(col.as_string::<i32>().value(4), "{\"k\":1}");
    }
}
